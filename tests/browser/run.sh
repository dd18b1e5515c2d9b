#!/usr/bin/env bash
# Every kind of report surge writes, opened in a real headless browser (tests/browser/check.py):
# run (one replication, and replicated with --assert checks, one failing), sweep (one key and
# two), crashpoint, fit, merge, plot, compare and `surge report`, on tests/browser/small.toml and
# tests/fit-data/. Installs Debian's chromium when it is missing (needs root).
#
#   tests/browser/run.sh            # the reports above, in a temporary folder
#   tests/browser/run.sh --night    # also the built-in election night (`surge report`, minutes),
#                                   # keeping its screenshots as docs/report-ircc-2016*.png
#
# SURGE names the binary (default target/release/surge, built if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
night=0
[[ "${1:-}" == "--night" ]] && night=1

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium >/dev/null
fi
surge=${SURGE:-target/release/surge}
[[ -x "$surge" ]] || cargo build --release --quiet
model=tests/browser/small.toml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$surge" run "$model" --out "$work/run" --quiet
# A replicated run with checks, one of which fails: exit code 1, the report still written.
set +e
"$surge" run "$model" --reps 3 --out "$work/run-reps" --quiet \
  --assert 'outage.crashed==true' --assert 'slo.success_rate>=0.99' --assert 'tiers.app.utilization<1'
rc=$?
set -e
[[ $rc == 1 ]] || { echo "FAILED: run --assert with a failing check exited $rc, not 1"; exit 1; }
"$surge" sweep "$model" --vary tier.app.instances=1,2,3 --reps 2 --out "$work/sweep" --quiet
"$surge" sweep "$model" --vary tier.app.instances=1,2 --vary surge.peak=2,3 --reps 2 \
  --out "$work/heatmap" --quiet
"$surge" crashpoint "$model" --vary tier.app.instances=1..3 --reps 4 --out "$work/crashpoint" --quiet
for i in 0 1; do
  "$surge" sweep "$model" --vary tier.app.instances=1,2,3 --reps 2 --shard "$i/2" \
    --out "$work/shards" --quiet
done
"$surge" merge "$work/shards" --out "$work/merge" --quiet
cp -r "$work/run" "$work/plot"
rm "$work/plot/report.html" "$work/plot/report.md"
"$surge" plot "$work/plot" >/dev/null
"$surge" fit tests/fit-data/k6.csv --out "$work/fit" --quiet
"$surge" compare "$model" --variant "two:tier.app.instances=2" --reps 2 --out "$work/compare" --quiet
"$surge" report "$model" --budget 5m --out "$work/report" --quiet --assert 'outage.crashed==true'

reports=()
for d in run run-reps sweep heatmap crashpoint merge plot fit compare report; do
  reports+=("$work/$d/report.html")
done
grep -q 'FAILED' "$work/run-reps/report.html" || { echo "FAILED: the failing check is not in report.html"; exit 1; }

keep=()
if [[ $night == 1 ]]; then
  "$surge" report --out "$work/ircc-2016" --quiet
  reports+=("$work/ircc-2016/report.html")
  keep=(--keep "$work/shots")
fi
python3 tests/browser/check.py "${keep[@]}" "${reports[@]}"
if [[ $night == 1 ]]; then
  size=$(stat -c %s "$work/ircc-2016/report.html")
  echo "built-in night: report.html is $size bytes"
  (( size < 2000000 )) || { echo "FAILED: the built-in night's report.html is over 2 MB"; exit 1; }
  cp "$work/shots/ircc-2016-desktop.png" docs/report-ircc-2016.png
  cp "$work/shots/ircc-2016-phone.png" docs/report-ircc-2016-phone.png
  echo "kept docs/report-ircc-2016.png and docs/report-ircc-2016-phone.png"
fi
