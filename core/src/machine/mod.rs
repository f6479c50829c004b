//! The state machine: the breaker, its packed state word, the deadline anchor, the lifetime
//! counters, the windows, time, and the one file that picks the atomic types. Everything here
//! is `no_std`, allocation-free and model-checked under loom (`tests/`).

pub(crate) mod adoption;
pub(crate) mod anchor;
pub(crate) mod breaker;
pub(crate) mod config;
pub(crate) mod counters;
pub(crate) mod permit;
pub(crate) mod snapshot;
pub(crate) mod state;
pub(crate) mod step;
pub(crate) mod sync;
pub(crate) mod time;
pub(crate) mod transition;
pub(crate) mod window;

#[cfg(test)]
mod tests;
