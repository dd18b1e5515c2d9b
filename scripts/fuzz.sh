#!/usr/bin/env bash
# Fuzz the model reader and a short bounded run for SECONDS (default 300) on one core.
# Needs a nightly toolchain and cargo-fuzz:
#   rustup toolchain install nightly --profile minimal && cargo install cargo-fuzz
# The corpus is seeded from models/*.toml, tests/bad-models/*.toml and the saved regressions.
# Inputs that crash are copied to tests/fuzz-regressions/, which `cargo test` replays
# (tests/it/fuzz_regressions.rs): fix the crash, keep the file.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-300}"
corpus=fuzz/corpus/model
mkdir -p "$corpus" fuzz/artifacts/model tests/fuzz-regressions
cp models/*.toml tests/bad-models/*.toml "$corpus"/
cp tests/fuzz-regressions/* "$corpus"/ 2>/dev/null || true
# Relative files named by a model (traces, samples) are looked up from tests/bad-models.
status=0
(cd fuzz && cargo +nightly fuzz run model "corpus/model" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=4096 -print_final_stats=1) || status=$?
for f in fuzz/artifacts/model/*; do
    [ -e "$f" ] || continue
    cp "$f" tests/fuzz-regressions/
    echo "saved $f to tests/fuzz-regressions/"
done
exit "$status"
