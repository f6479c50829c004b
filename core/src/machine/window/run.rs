//! The run of consecutive failures: one word, `epoch (3) | run (29)`.
//!
//! A success on a run that is already zero writes nothing, so the consecutive-only window
//! costs no read-modify-write on the success path.

use super::newer;
use crate::state::EPOCH_MOD;
use crate::sync::{AtomicU32, Ordering};

const EPOCH_MASK: u32 = EPOCH_MOD - 1;
const RUN_MAX: u32 = u32::MAX >> 3;

/// Records one outcome; returns the run after it, or `None` if `epoch` is stale.
#[inline]
pub(crate) fn record(
    word: &AtomicU32,
    epoch: u32,
    failure: bool,
    live_epoch: &impl Fn() -> u32,
) -> Option<u32> {
    let mut cur = word.load(Ordering::Relaxed);
    loop {
        let (e, run) = (cur & EPOCH_MASK, cur >> 3);
        if e != epoch && (newer(e, epoch, EPOCH_MOD) || live_epoch() != epoch) {
            return None;
        }
        let run = if e == epoch { run } else { 0 };
        let next_run = if failure { (run + 1).min(RUN_MAX) } else { 0 };
        if !failure && run == 0 {
            return Some(0);
        }
        // Relaxed: the run is a counter; the trip it may cause is published by the CAS on
        // the state word, which carries its own ordering.
        match word.compare_exchange_weak(
            cur,
            epoch | (next_run << 3),
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            Ok(_) => return Some(next_run),
            Err(actual) => cur = actual,
        }
    }
}

pub(crate) fn read(word: &AtomicU32, epoch: u32) -> u32 {
    let cur = word.load(Ordering::Relaxed);
    if cur & EPOCH_MASK == epoch {
        cur >> 3
    } else {
        0
    }
}

/// Resets the run for `epoch` unless a newer epoch already owns the word.
pub(crate) fn clear(word: &AtomicU32, epoch: u32) {
    super::reset_word(word, epoch, EPOCH_MASK, |_| epoch);
}
