//! Time window: the outcomes of the last `buckets × bucket_ms`, in `buckets` buckets.
//!
//! Bucket `i` holds bucket-epoch `E` (= `now / bucket_ms`) with `E mod buckets = i`, in four
//! words:
//!
//! ```text
//! slot 4i:     bucket epoch, low 32 bits          (which E the bucket holds)
//! slot 4i+1..3 | count (18) | E mod 2^11 (11) | window epoch (3) |   calls, failures, slow
//! ```
//!
//! Each count word carries its own tag, so a success is one CAS on the calls word and a
//! bucket rotates word by word with no lock: a writer that finds an older tag starts the
//! word afresh. The epoch word tells apart tags 2^11 epochs apart; it only moves forward.
//! Counts saturate at 2^18 − 1 per bucket (see docs/state-machine.md#limits).

use super::{Marks, newer};
use crate::config::Compiled;
use crate::state::EPOCH_MOD;
use crate::sync::{AtomicU32, Ordering};
use crate::transition::Stats;

const TAG_BITS: u32 = 14; // window epoch (3) + bucket epoch (11)
const TAG_MASK: u32 = (1 << TAG_BITS) - 1;
const COUNT_MAX: u32 = (1 << (32 - TAG_BITS)) - 1;

const fn tag(epoch: u32, bucket_epoch: u64) -> u32 {
    epoch | ((bucket_epoch as u32 & 0x7FF) << 3)
}

/// Adds one to a count word for (`epoch`, `e`). `false` when the word holds a newer bucket
/// epoch (this outcome is older than what the bucket keeps now) or `epoch` is stale.
fn bump(word: &AtomicU32, epoch: u32, e: u64, live_epoch: &impl Fn() -> u32) -> bool {
    let want = tag(epoch, e);
    let mut cur = word.load(Ordering::Relaxed);
    loop {
        let have = cur & TAG_MASK;
        let next = if have == want {
            want | (((cur >> TAG_BITS) + 1).min(COUNT_MAX) << TAG_BITS)
        } else {
            let (we, be) = (have & (EPOCH_MOD - 1), have >> 3);
            if we == epoch && newer(be, (e as u32) & 0x7FF, 1 << 11) {
                return false;
            }
            if we != epoch && live_epoch() != epoch {
                return false;
            }
            want | (1 << TAG_BITS)
        };
        // Relaxed: counts are read with their tag in one load, and decide nothing alone; the
        // trip they may cause is published by the CAS on the state word.
        match word.compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return true,
            Err(actual) => cur = actual,
        }
    }
}

/// Moves a bucket's epoch word forward to `e`; `false` if it already holds a newer epoch.
fn claim_bucket(word: &AtomicU32, e: u64) -> bool {
    let e32 = e as u32;
    let mut cur = word.load(Ordering::Relaxed);
    loop {
        if cur == e32 {
            return true;
        }
        if (cur.wrapping_sub(e32) as i32) > 0 {
            return false;
        }
        match word.compare_exchange_weak(cur, e32, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return true,
            Err(actual) => cur = actual,
        }
    }
}

pub(crate) fn record(
    slots: &[AtomicU32],
    cfg: &Compiled,
    epoch: u32,
    marks: Marks,
    now: u64,
    live_epoch: &impl Fn() -> u32,
) -> Option<Stats> {
    let e = now / u64::from(cfg.bucket_ms);
    let base = (e % u64::from(cfg.size)) as usize * 4;
    if !claim_bucket(&slots[base], e) || !bump(&slots[base + 1], epoch, e, live_epoch) {
        return None;
    }
    if marks.failure {
        bump(&slots[base + 2], epoch, e, live_epoch);
    }
    if marks.slow {
        bump(&slots[base + 3], epoch, e, live_epoch);
    }
    Some(stats(slots, cfg, epoch, now))
}

pub(crate) fn stats(slots: &[AtomicU32], cfg: &Compiled, epoch: u32, now: u64) -> Stats {
    let e = now / u64::from(cfg.bucket_ms);
    let b = u64::from(cfg.size);
    let mut s = Stats::default();
    for i in 0..cfg.size as usize {
        // The newest bucket epoch at or before `e` that maps to bucket `i`.
        let back = (e + b - i as u64) % b;
        if back > e {
            continue; // before time zero
        }
        let be = e - back;
        if slots[i * 4].load(Ordering::Relaxed) != be as u32 {
            continue;
        }
        let want = tag(epoch, be);
        let read = |w: &AtomicU32| {
            let v = w.load(Ordering::Relaxed);
            if v & TAG_MASK == want {
                v >> TAG_BITS
            } else {
                0
            }
        };
        let calls = read(&slots[i * 4 + 1]);
        s.calls += calls;
        s.failures += read(&slots[i * 4 + 2]).min(calls);
        s.slow += read(&slots[i * 4 + 3]).min(calls);
    }
    s
}

/// Zeroes every count word of an older window epoch (see `Window::clear`).
pub(crate) fn clear(slots: &[AtomicU32], cfg: &Compiled, epoch: u32) {
    for b in 0..cfg.size as usize {
        for word in &slots[b * 4 + 1..b * 4 + 4] {
            // Keep the bucket-epoch bits: with a zero count, what they say does not matter.
            super::reset_word(word, epoch, EPOCH_MOD - 1, |old| {
                (old & (TAG_MASK & !(EPOCH_MOD - 1))) | epoch
            });
        }
    }
}
