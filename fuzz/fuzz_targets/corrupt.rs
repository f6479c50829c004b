//! Any bit pattern is a state: bytes → a config and operations, with some operations turned
//! into byte writes into the live breaker's memory. Nothing may panic or hang, every figure
//! stays in range, and a reset makes the breaker itself again. The driver lives in
//! `cbreaker_conformance::corrupt` (also run on stable by `tests/tests/corruption.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = cbreaker_conformance::corrupt::run(data) {
        panic!("{e}");
    }
});
