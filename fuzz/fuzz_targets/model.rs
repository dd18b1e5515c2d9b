//! Fuzz target: any bytes, read as a model's TOML text, must parse, check and (when valid) run a
//! short bounded simulation without a panic, a hang or a runaway allocation.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

/// Hard bound on the events of one run.
const MAX_EVENTS: u64 = 20_000;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = surge::experiment::guard::try_text(text, Path::new("."), MAX_EVENTS);
    }
});
