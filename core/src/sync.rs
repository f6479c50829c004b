//! The only place the crate picks an atomic implementation.
//!
//! Normal builds: `portable-atomic` with native instructions and no lock-based fallback (see
//! the workspace Cargo.toml). `--cfg loom` test builds: loom's model-checked atomics.
//! Every other module writes `use crate::sync::{...}`.

#[cfg(all(test, loom))]
pub(crate) use loom::sync::atomic::AtomicU32;
#[cfg(not(all(test, loom)))]
pub(crate) use portable_atomic::AtomicU32;

#[cfg(all(test, loom))]
pub(crate) use loom::sync::atomic::AtomicU64 as AtomicCounter;
#[cfg(all(not(all(test, loom)), not(target_has_atomic = "64")))]
pub(crate) use portable_atomic::AtomicU32 as AtomicCounter;
/// Lifetime counters: 64-bit where the target has native 64-bit atomics, else 32-bit
/// (wrapping; documented in docs/state-machine.md#limits).
#[cfg(all(not(all(test, loom)), target_has_atomic = "64"))]
pub(crate) use portable_atomic::AtomicU64 as AtomicCounter;

pub(crate) use core::sync::atomic::Ordering;
