//! The anchor: one timestamp per generation (the deadline while open, the start of the
//! generation while half-open), kept in two 32-bit words so 32-bit targets stay lock-free.
//!
//! ```text
//! hi: | generation tag (12) | time bits 32..52 (20) |      lo: | time bits 0..32 (32) |
//! ```
//!
//! The thread whose CAS on the state word started generation `g` publishes the anchor right
//! after, with [`Anchor::publish`]. A reader that finds no anchor tagged `g` (the publisher
//! has not got there yet, or died, e.g. a process sharing the breaker) publishes one from its
//! own `now`: nobody waits on anybody, so a lost publisher can never wedge the breaker. In a
//! single thread the publisher always comes first, so the anchor is exact.

use crate::state::GEN_MOD;
use crate::sync::{AtomicU32, Ordering, const_unless_loom};
use crate::transition::TIME_MASK;

const TAG_SHIFT: u32 = 20;

pub(crate) struct Anchor {
    hi: AtomicU32,
    lo: AtomicU32,
}

impl Anchor {
    const_unless_loom! {
    pub(crate) fn new() -> Self {
        Anchor { hi: AtomicU32::new(0), lo: AtomicU32::new(0) }
    }
    }

    /// The anchor of generation `generation`, if published.
    pub(crate) fn read(&self, generation: u32) -> Option<u64> {
        loop {
            // Acquire: pairs with the Release CAS on `hi` in `publish`, so `lo` below is at
            // least as new as the `lo` written before that `hi`.
            let hi = self.hi.load(Ordering::Acquire);
            if hi >> TAG_SHIFT != generation {
                return None;
            }
            let lo = self.lo.load(Ordering::Acquire);
            // Re-read `hi`: if it changed, `lo` may belong to another generation.
            if self.hi.load(Ordering::Acquire) == hi {
                return Some((u64::from(hi & ((1 << TAG_SHIFT) - 1)) << 32) | u64::from(lo));
            }
        }
    }

    /// Publishes `time` as the anchor of `generation`, unless one is published already or
    /// the breaker has left that generation (`current` returns the live generation).
    pub(crate) fn publish(&self, generation: u32, time: u64, current: impl Fn() -> u32) {
        debug_assert!(generation < GEN_MOD);
        let time = time & TIME_MASK;
        let new_hi = (generation << TAG_SHIFT) | (time >> 32) as u32;
        let new_lo = time as u32;
        loop {
            let hi = self.hi.load(Ordering::Acquire);
            if hi >> TAG_SHIFT == generation || current() != generation {
                return;
            }
            let lo = self.lo.load(Ordering::Acquire);
            // Release (both): a reader that Acquires the new `hi` also sees this `lo`. A failed
            // CAS means another publisher moved first; re-read and decide again.
            if self
                .lo
                .compare_exchange(lo, new_lo, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                continue;
            }
            if self
                .hi
                .compare_exchange(hi, new_hi, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return;
            }
        }
    }

    /// The anchor of `generation`, publishing `fallback` first if there is none yet.
    pub(crate) fn read_or_publish(
        &self,
        generation: u32,
        fallback: u64,
        current: impl Fn() -> u32,
    ) -> u64 {
        if let Some(t) = self.read(generation) {
            return t;
        }
        self.publish(generation, fallback, &current);
        self.read(generation).unwrap_or(fallback & TIME_MASK)
    }
}
