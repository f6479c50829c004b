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

use super::Marks;
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

/// Adds one to a count word for (`epoch`, `e`). A word with another tag is from an older
/// bucket epoch or window epoch and starts afresh, unless the bucket's epoch word has moved
/// past `e` (this outcome is older than what the bucket keeps now: dropped) or `epoch` is
/// stale. "Newer" is decided only by the 32-bit epoch word, never by the 11-bit tag.
fn bump(
    word: &AtomicU32,
    bucket_epoch: &AtomicU32,
    epoch: u32,
    e: u64,
    live_epoch: &impl Fn() -> u32,
) -> bool {
    let want = tag(epoch, e);
    let mut cur = word.load(Ordering::Acquire);
    loop {
        let have = cur & TAG_MASK;
        let next = if have == want {
            want | (((cur >> TAG_BITS) + 1).min(COUNT_MAX) << TAG_BITS)
        } else {
            // Acquire: pairs with the rotation's Release (see `claim_bucket`).
            if bucket_epoch.load(Ordering::Acquire) != e as u32 {
                return false;
            }
            if have & (EPOCH_MOD - 1) != epoch && live_epoch() != epoch {
                return false;
            }
            want | (1 << TAG_BITS)
        };
        // AcqRel: a writer that sees this count (and its tag) must also see the epoch word it
        // was written under; otherwise a late writer could read an old epoch word and start
        // the word afresh over a newer epoch's counts (loom_time_bucket_rotation_counts_once).
        match word.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return true,
            Err(actual) => cur = actual,
        }
    }
}

/// How far ahead (in bucket epochs) a bucket may be and still count as newer than an
/// outcome: a `now` that went back up to this far is left out of the window. Beyond it, the
/// bucket is taken for stale: a bucket idle for close to 2^32 epochs wraps around the 32-bit
/// compare and must never block the window, so idle stays exact up to 2^32 − 2^24 epochs.
const AHEAD_MAX: u32 = 1 << 24;

/// Whether bucket epoch `have` is newer than `e` (see [`AHEAD_MAX`]).
fn ahead(have: u32, e: u64) -> bool {
    let d = have.wrapping_sub(e as u32);
    d != 0 && d <= AHEAD_MAX
}

/// Makes bucket `b` hold epoch `e`; `false` if it holds a newer epoch (see [`ahead`]; a
/// fresh word reads 0, which looks ahead only within 2^24 epochs of the 2^32 wrap).
///
/// Rotating is: reset the three count words, then move the epoch word. A count word's 11-bit
/// tag alone cannot tell epoch `e` from `e − 2048k`, so every word is reset before the epoch
/// word says `e`; after that, a tag that matches is this rotation's.
fn claim_bucket(bucket: &[AtomicU32], epoch: u32, e: u64) -> bool {
    let word = &bucket[0];
    let fresh = tag(epoch, e);
    let mut cur = word.load(Ordering::Acquire);
    loop {
        if cur == e as u32 {
            return true;
        }
        if ahead(cur, e) {
            return false;
        }
        for count in &bucket[1..4] {
            let mut v = count.load(Ordering::Acquire);
            // Stop as soon as another thread finished this rotation (the epoch word moved).
            while v != fresh && word.load(Ordering::Acquire) == cur {
                // AcqRel: as in `bump`.
                match count.compare_exchange_weak(v, fresh, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => break,
                    Err(actual) => v = actual,
                }
            }
        }
        // Release: a writer that Acquires the new epoch word sees the reset count words.
        match word.compare_exchange(cur, e as u32, Ordering::AcqRel, Ordering::Acquire) {
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
    let bucket_epoch = &slots[base];
    if !claim_bucket(&slots[base..base + 4], epoch, e)
        || !bump(&slots[base + 1], bucket_epoch, epoch, e, live_epoch)
    {
        return None;
    }
    if marks.failure {
        bump(&slots[base + 2], bucket_epoch, epoch, e, live_epoch);
    }
    if marks.slow {
        bump(&slots[base + 3], bucket_epoch, epoch, e, live_epoch);
    }
    Some(stats(slots, cfg, epoch, now))
}

pub(crate) fn stats(slots: &[AtomicU32], cfg: &Compiled, epoch: u32, now: u64) -> Stats {
    let e = now / u64::from(cfg.bucket_ms);
    let buckets = cfg.size as usize;
    let mut s = Stats::default();
    // Walk back from the current epoch `e` (bucket `e mod buckets`) through the window's
    // epochs: one division, not one per bucket (this runs on every time-window outcome).
    let mut i = (e % buckets as u64) as usize;
    for back in 0..buckets as u64 {
        if back > e {
            break; // before time zero
        }
        let be = e - back;
        if slots[i * 4].load(Ordering::Relaxed) == be as u32 {
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
        i = if i == 0 { buckets - 1 } else { i - 1 };
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
