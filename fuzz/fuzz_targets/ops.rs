//! Bytes → a config (valid or not) and an operation sequence, run on the core and on the
//! reference model side by side: they must agree after every operation, and nothing may
//! panic. The decoding and the comparison live in `cbreaker_conformance::ops` (also run on
//! stable by `tests/tests/model.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cbreaker_conformance::ops::fuzz_one(data);
});
