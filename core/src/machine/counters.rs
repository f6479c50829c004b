//! Lifetime counters: monotonic, one relaxed `fetch_add` each.
//!
//! `Relaxed` throughout: counters order nothing else, and each increment is a single RMW, so
//! none is lost or doubled under any interleaving (invariant 4).

use crate::state::State;
use crate::sync::{AtomicCounter, AtomicU32, Ordering, const_unless_loom};

/// `repr(C)`: the two counters bumped on a hot path of their own (every rejection; every
/// success of a consecutive-only window) first, furthest from the words every call reads
/// (see the `Breaker` layout).
#[repr(C)]
pub(crate) struct Counters {
    pub(crate) rejected: AtomicCounter,
    pub(crate) successes: AtomicCounter,
    pub(crate) failures: AtomicCounter,
    pub(crate) ignored: AtomicCounter,
    pub(crate) slow: AtomicCounter,
    pub(crate) transitions: [AtomicU32; 6],
}

impl Counters {
    const_unless_loom! {
    pub(crate) fn new() -> Self {
        Counters {
            successes: AtomicCounter::new(0),
            failures: AtomicCounter::new(0),
            ignored: AtomicCounter::new(0),
            slow: AtomicCounter::new(0),
            rejected: AtomicCounter::new(0),
            transitions: [
                AtomicU32::new(0),
                AtomicU32::new(0),
                AtomicU32::new(0),
                AtomicU32::new(0),
                AtomicU32::new(0),
                AtomicU32::new(0),
            ],
        }
    }
    }

    #[inline]
    pub(crate) fn bump(counter: &AtomicCounter) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn entered(&self, state: State) {
        self.transitions[state as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn read(counter: &AtomicCounter) -> u64 {
        #[allow(clippy::useless_conversion)] // u32 on targets without 64-bit atomics
        u64::from(counter.load(Ordering::Relaxed))
    }
}
