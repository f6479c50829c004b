//! The closed-state window: what the trip rule looks at.
//!
//! Three shapes share one block of storage (`[AtomicU32; SLOTS]`, no heap):
//! - [`count`]: the last `n` outcomes, one byte per outcome;
//! - [`time`]: the outcomes of the last `duration`, four words per bucket;
//! - no window at all (consecutive only).
//!
//! Every word carries the window epoch from the state word. Clearing the window is a bump of
//! that epoch (one CAS on the state word); each window word resets itself the next time a
//! writer of the new epoch touches it, and readers treat a word of another epoch as empty.

pub(crate) mod count;
mod count_codec;
pub(crate) mod run;
pub(crate) mod time;

use crate::config::{Compiled, Kind};
use crate::sync::HEAD_COUNTS_SUCCESSES;
use crate::sync::{AtomicCounter, AtomicHead, AtomicU32, Ordering};
use crate::time::{Clock, LazyNow};
use crate::transition::Stats;

/// What one outcome puts in the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Marks {
    pub(crate) failure: bool,
    pub(crate) slow: bool,
}

impl Marks {
    pub(crate) const fn bits(self) -> u32 {
        (self.failure as u32) | ((self.slow as u32) << 1)
    }
}

/// `size` read within `1..=cap` (only memory written by something else holds one outside),
/// or 0 when there is no room at all (`cap` 0): the window's functions then leave it alone.
pub(crate) const fn within(size: u32, cap: u32) -> u32 {
    if size > cap {
        cap
    } else if size == 0 && cap > 0 {
        1
    } else {
        size
    }
}

/// `a` is newer than `b` in a wrapping space of `modulus` (a power of two).
#[inline]
pub(crate) const fn newer(a: u32, b: u32, modulus: u32) -> bool {
    let d = a.wrapping_sub(b) & (modulus - 1);
    d != 0 && d < modulus / 2
}

/// Replaces `word` by `fresh(word)` unless its epoch field (`word & mask`, the low bits,
/// wrapping at `mask + 1`) is already `epoch` or newer, and returns the value it replaced.
/// Used by clears; a CAS loop, so a concurrent writer is never overwritten.
pub(crate) fn reset_word(
    word: &AtomicU32,
    epoch: u32,
    mask: u32,
    fresh: impl Fn(u32) -> u32,
) -> Option<u32> {
    let mut cur = word.load(Ordering::Relaxed);
    loop {
        let e = cur & mask;
        if e == epoch || newer(e, epoch, mask + 1) {
            return None;
        }
        // Relaxed: the clear publishes nothing; writers and readers check the epoch field
        // of this very word. (A time window's fold of the replaced count is ordered on its
        // own: see `time::fold`.)
        match word.compare_exchange_weak(cur, fresh(cur), Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return Some(cur),
            Err(actual) => cur = actual,
        }
    }
}

/// `repr(C)`: `run`, read by every call, first; `head`, written by every count-window call,
/// last (see the `Breaker` layout).
#[repr(C)]
pub(crate) struct Window<const SLOTS: usize> {
    /// The run of consecutive failures (every kind).
    pub(crate) run: AtomicU32,
    /// Count window: failures and slow calls in the window. Time window: the newest bucket
    /// holding a rate-marked outcome (see `time.rs`).
    pub(crate) counts: AtomicU32,
    pub(crate) slots: [AtomicU32; SLOTS],
    /// Count window: wraps of the head's success count. Time window: successes folded out of
    /// bucket words as they were reset.
    pub(crate) carry: AtomicCounter,
    /// Count window: claim cursor (and success count). Time window: the highest successes
    /// figure read so far, so reads never go back (see `time::successes`).
    pub(crate) head: AtomicHead,
}

impl<const SLOTS: usize> Window<SLOTS> {
    #[cfg(not(all(test, loom)))]
    pub(crate) const fn new() -> Self {
        Window {
            head: AtomicHead::new(0),
            carry: AtomicCounter::new(0),
            counts: AtomicU32::new(0),
            run: AtomicU32::new(0),
            slots: [const { AtomicU32::new(0) }; SLOTS],
        }
    }

    #[cfg(all(test, loom))]
    pub(crate) fn new() -> Self {
        Window {
            head: AtomicHead::new(0),
            carry: AtomicCounter::new(0),
            counts: AtomicU32::new(0),
            run: AtomicU32::new(0),
            slots: core::array::from_fn(|_| AtomicU32::new(0)),
        }
    }

    /// Puts one success or failure of window epoch `epoch` in the window. Returns whether the
    /// window counted a success itself (the count window's head, see `count.rs`; then the
    /// lifetime counter must not), and the window figures when this outcome could have made
    /// the trip rule hold (`None` otherwise, or when `epoch` is stale).
    #[inline]
    pub(crate) fn record<C: Clock>(
        &self,
        cfg: &Compiled,
        epoch: u32,
        marks: Marks,
        success: bool,
        now: &mut LazyNow<C>,
        live_epoch: &impl Fn() -> u32,
    ) -> (bool, Option<Stats>) {
        // The run is kept whatever the config: `consecutive_failures` is a metric too. A
        // success on a zero run only loads the word.
        let Some(consecutive) = run::record(&self.run, epoch, marks.failure, live_epoch) else {
            return (false, None);
        };
        let (counted, stats) = match cfg.kind() {
            Kind::Count => {
                // Figures come back for a success only when it filled the window up to
                // `minimum_calls`: no other success can make a rate rule hold.
                let (claimed, stats) = count::record(self, cfg, epoch, marks, success, live_epoch);
                (claimed && success && HEAD_COUNTS_SUCCESSES, stats)
            }
            Kind::Time => match time::record(self, cfg, epoch, marks, now.get().0, live_epoch) {
                Some((counted, stats)) => (counted && success, stats),
                None => return (false, None),
            },
            Kind::Consecutive => (false, None),
        };
        // A failure is always worth checking (the consecutive rule); anything else only with
        // the figures the window handed back.
        let stats = match stats {
            Some(stats) => stats,
            None if marks.failure => Stats::default(),
            None => return (counted, None),
        };
        (
            counted,
            Some(Stats {
                consecutive,
                ..stats
            }),
        )
    }

    /// The fast path of [`Window::record`] for a plain success in a count window whose run of
    /// failures is zero: claims the position (counting the success in the head where it has
    /// room) and returns whether the trip rules need checking (it filled the window up to
    /// `minimum_calls`). `None` when there is a run to reset or
    /// `epoch` is stale: then nothing was written, and the caller takes the general path.
    #[inline]
    pub(crate) fn count_success_fast(
        &self,
        cfg: &Compiled,
        epoch: u32,
        live_epoch: &impl Fn() -> u32,
    ) -> Option<bool> {
        if self.run.load(Ordering::Relaxed) != epoch {
            return None; // a run to reset, or a word of another epoch
        }
        count::success(self, cfg, epoch, live_epoch)
    }

    /// The fast path of [`Window::record`] for a plain success in a time window whose run of
    /// failures is zero and whose bucket is current: one CAS. Returns whether the window
    /// counted the success itself (then the lifetime counter must not) and whether the trip
    /// rules need checking; `None` (nothing written) sends the caller to the general path.
    #[inline]
    pub(crate) fn time_success_fast(
        &self,
        cfg: &Compiled,
        epoch: u32,
        now: u64,
        live_epoch: &impl Fn() -> u32,
    ) -> Option<(bool, bool)> {
        if self.run.load(Ordering::Relaxed) != epoch {
            return None;
        }
        time::success(self, cfg, epoch, now, live_epoch)
    }

    /// Successes the window counted itself (see [`Window::record`]).
    pub(crate) fn successes(&self, cfg: &Compiled) -> u64 {
        match cfg.kind() {
            Kind::Count => count::successes(self),
            Kind::Time => time::successes(self, cfg),
            Kind::Consecutive => 0,
        }
    }

    /// Empties the window for `epoch`, right after the transition into `closed` that bumped
    /// it. Writers reset stale words lazily too; doing it here as well means a word nobody
    /// writes for 8 clears can never come back to life when the 3-bit epoch wraps.
    pub(crate) fn clear(&self, cfg: &Compiled, epoch: u32) {
        run::clear(&self.run, epoch);
        match cfg.kind() {
            Kind::Count => count::clear(self, count::size::<SLOTS>(cfg), epoch),
            Kind::Time => time::clear(self, cfg, epoch),
            Kind::Consecutive => {}
        }
    }

    /// Whether the window's words hold something no operation writes (see
    /// `count::damaged`); a time window's words are all in range by construction.
    #[cfg_attr(all(test, loom), allow(dead_code))] // see `record_general`
    pub(crate) fn damaged(&self, cfg: &Compiled, epoch: u32) -> bool {
        match cfg.kind() {
            Kind::Count => count::damaged(self, count::size::<SLOTS>(cfg), epoch),
            Kind::Time | Kind::Consecutive => false,
        }
    }

    /// The window figures at `now`, for snapshots.
    pub(crate) fn stats(&self, cfg: &Compiled, epoch: u32, now: u64) -> Stats {
        let consecutive = run::read(&self.run, epoch);
        let stats = match cfg.kind() {
            Kind::Count => count::stats(self, count::size::<SLOTS>(cfg), epoch),
            Kind::Time => time::stats(&self.slots, cfg, epoch, now),
            Kind::Consecutive => Stats::default(),
        };
        Stats {
            consecutive,
            ..stats
        }
    }
}
