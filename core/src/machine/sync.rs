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

// The count window's claim cursor: 64-bit where the target has 64-bit atomics, so the one
// CAS that claims a position also counts the success (see `window/count.rs`); 32-bit on
// ARMv7-M and RV32. Loom checks the 64-bit layout, and the 32-bit one firmware runs under
// `--cfg cbreaker_head32` (`make test-loom` runs both).
#[cfg(all(test, loom, cbreaker_head32))]
pub(crate) use loom::sync::atomic::AtomicU32 as AtomicHead;
#[cfg(all(test, loom, not(cbreaker_head32)))]
pub(crate) use loom::sync::atomic::AtomicU64 as AtomicHead;
#[cfg(all(not(all(test, loom)), not(target_has_atomic = "64")))]
pub(crate) use portable_atomic::AtomicU32 as AtomicHead;
#[cfg(all(not(all(test, loom)), target_has_atomic = "64"))]
pub(crate) use portable_atomic::AtomicU64 as AtomicHead;

/// Whether [`AtomicHead`] is 64-bit, with room for the success count.
pub(crate) const HEAD_COUNTS_SUCCESSES: bool = cfg!(any(
    all(not(all(test, loom)), target_has_atomic = "64"),
    all(test, loom, not(cbreaker_head32))
));

/// [`AtomicHead`]'s value type, widened to `u64` and back (the top half is dropped on
/// 32-bit heads, where it is never used).
#[cfg(any(
    all(not(all(test, loom)), target_has_atomic = "64"),
    all(test, loom, not(cbreaker_head32))
))]
pub(crate) type HeadRepr = u64;
#[cfg(not(any(
    all(not(all(test, loom)), target_has_atomic = "64"),
    all(test, loom, not(cbreaker_head32))
)))]
pub(crate) type HeadRepr = u32;

#[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
pub(crate) fn head_from(v: HeadRepr) -> u64 {
    u64::from(v)
}

#[allow(clippy::unnecessary_cast)]
pub(crate) fn head_into(v: u64) -> HeadRepr {
    v as HeadRepr
}

pub(crate) use core::sync::atomic::Ordering;

/// Defines a constructor that is a `const fn` in normal builds, so a breaker can be built in a
/// `static`, and a plain `fn` under loom, whose atomics have no `const fn new`.
macro_rules! const_unless_loom {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($args:tt)*) -> $ret:ty $body:block) => {
        #[cfg(not(all(test, loom)))]
        $(#[$meta])*
        $vis const fn $name($($args)*) -> $ret $body
        #[cfg(all(test, loom))]
        $(#[$meta])*
        $vis fn $name($($args)*) -> $ret $body
    };
}
pub(crate) use const_unless_loom;
