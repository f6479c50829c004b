//! In-crate tests: unit tests of the state machine, and the loom models (`--cfg loom`).

#[cfg(not(loom))]
mod unit;
