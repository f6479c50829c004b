//! Time window: the outcomes of the last `buckets × bucket_ms`, in `buckets` buckets.
//!
//! Bucket `i` holds bucket-epoch `E` (= `now / bucket_ms`) with `E mod buckets = i`, in four
//! words:
//!
//! ```text
//! slot 4i:     bucket epoch, low 32 bits          (which E the bucket holds)
//! slot 4i+1..3 | count (18) | E mod 2^11 (11) | window epoch (3) |   successes, failures, slow
//! ```
//!
//! Each count word carries its own tag, so an outcome is one CAS on its count word and a
//! bucket rotates word by word with no lock: a writer that finds an older tag starts the
//! word afresh. The epoch word tells apart tags 2^11 epochs apart; it only moves forward.
//! A bucket counts up to 2^18 − 1 outcomes of each kind; once one count is there, it takes no
//! more (see [`bucket_full`] and docs/state-machine.md#limits).
//!
//! A rate rule can only hold while the window holds a *rate-marked* outcome (a failure with
//! the failure-rate rule on, a slow call with the slow-rate rule on). The hint word keeps the
//! newest bucket that got one, so an outcome that is not rate-marked (the common success) skips
//! the walk over the buckets when that bucket has aged out: one CAS and three loads. The
//! protocol that keeps this exact under races is at [`note_marked`].
//!
//! Where the target has 64-bit atomics, the lifetime `successes` counter is derived from the
//! successes words, so that CAS is a success's only read-modify-write: every count a reset
//! takes out of a successes word is first added to `folded` (see [`successes`]).

use super::{Marks, Window, newer};
use crate::config::Compiled;
use crate::state::EPOCH_MOD;
use crate::sync::{
    AtomicCounter, AtomicU32, HEAD_COUNTS_SUCCESSES, Ordering, head_from, head_into,
};
use crate::transition::Stats;

const TAG_BITS: u32 = 14; // window epoch (3) + bucket epoch (11)
const TAG_MASK: u32 = (1 << TAG_BITS) - 1;
const COUNT_MAX: u32 = (1 << (32 - TAG_BITS)) - 1;

const fn tag(epoch: u32, bucket_epoch: u64) -> u32 {
    epoch | ((bucket_epoch as u32 & 0x7FF) << 3)
}

/// Adds one to a count word for (`epoch`, `e`), unless the bucket is `full`. A word with
/// another tag is from an older bucket epoch or window epoch and starts afresh, unless the
/// bucket's epoch word has moved past `e` (this outcome is older than what the bucket keeps
/// now: dropped) or `epoch` is stale. "Newer" is decided only by the 32-bit epoch word,
/// never by the 11-bit tag.
///
/// `None` if dropped; else whether the count went up (not `full`, not at [`COUNT_MAX`]). A
/// successes word passes `folded`, which takes the count of a word started afresh.
fn bump(
    word: &AtomicU32,
    bucket_epoch: &AtomicU32,
    epoch: u32,
    e: u64,
    live_epoch: &impl Fn() -> u32,
    folded: Option<&AtomicCounter>,
    full: bool,
) -> Option<bool> {
    let want = tag(epoch, e);
    let add = u32::from(!full);
    let mut cur = word.load(Ordering::Acquire);
    loop {
        let have = cur & TAG_MASK;
        let next = if have == want {
            want | (((cur >> TAG_BITS) + add).min(COUNT_MAX) << TAG_BITS)
        } else {
            // Acquire: pairs with the rotation's Release (see `claim_bucket`).
            if bucket_epoch.load(Ordering::Acquire) != e as u32 {
                return None;
            }
            if have & (EPOCH_MOD - 1) != epoch && live_epoch() != epoch {
                return None;
            }
            want | (add << TAG_BITS)
        };
        // AcqRel: a writer that sees this count (and its tag) must also see the epoch word it
        // was written under; otherwise a late writer could read an old epoch word and start
        // the word afresh over a newer epoch's counts (loom_time_bucket_rotation_counts_once).
        // Written even when the bucket is full or the count at its cap: `note_marked` relies
        // on this RMW.
        match word.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {
                if have != want {
                    fold(folded, cur);
                }
                return Some(add == 1 && next != cur);
            }
            Err(actual) => cur = actual,
        }
    }
}

/// Whether one of the count `words` of a bucket (successes, failures, slow) holding tag `want`
/// has reached [`COUNT_MAX`]. Such a bucket takes no more outcomes: if one count
/// stopped while the others went on, the bucket's rates would drift toward the kinds still
/// counting (a false trip, or a missed one). It keeps the figures of its first outcomes until
/// it is reused. Relaxed loads: the figures are only as exact as the cap; racing outcomes may
/// pass it by a few (lifetime counters stay exact).
///
/// `words` may leave out the successes word when the caller bumps it: [`bump`] stops at the
/// cap by itself.
#[inline]
fn bucket_full(words: &[AtomicU32], want: u32) -> bool {
    // A word at the cap with this tag is exactly this value: one compare each.
    let at_cap = want | (COUNT_MAX << TAG_BITS);
    words.iter().any(|w| w.load(Ordering::Relaxed) == at_cap)
}

/// Adds the count of successes word value `old`, just replaced, to `folded`.
#[inline]
fn fold(folded: Option<&AtomicCounter>, old: u32) {
    let count = old >> TAG_BITS;
    if let Some(folded) = folded
        && HEAD_COUNTS_SUCCESSES
        && count > 0
    {
        // Release: a reader that sees this fold also sees the reset before it, so it never
        // reads the count twice (see `successes`).
        #[allow(clippy::useless_conversion)] // u32 counters on targets without 64-bit atomics
        folded.fetch_add(count.into(), Ordering::Release);
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
fn claim_bucket(bucket: &[AtomicU32], folded: &AtomicCounter, epoch: u32, e: u64) -> bool {
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
        for (i, count) in bucket[1..4].iter().enumerate() {
            let mut v = count.load(Ordering::Acquire);
            // Stop as soon as another thread finished this rotation (the epoch word moved).
            while v != fresh && word.load(Ordering::Acquire) == cur {
                // AcqRel: as in `bump`.
                match count.compare_exchange_weak(v, fresh, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => {
                        fold((i == 0).then_some(folded), v);
                        break;
                    }
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

/// Hint word: `bucket epoch (28) | valid | window epoch (3)`, 0 = no rate-marked outcome yet.
const HINT_VALID: u32 = 1 << 3;
const HINT_E_MOD: u32 = 1 << 28;

const fn hint_of(epoch: u32, e: u64) -> u32 {
    epoch | HINT_VALID | ((e as u32 & (HINT_E_MOD - 1)) << 4)
}

/// Bucket epochs from hint `hint` (of window epoch `epoch`) to `e`, or `None` if the hint is of
/// another window epoch (or unset): then this window epoch has no rate-marked outcome. A hint
/// ahead of `e` (a `now` that went back) reads as a distance of 2^27 or more.
#[inline]
fn hint_distance(hint: u32, epoch: u32, e: u64) -> Option<u32> {
    if hint & HINT_VALID == 0 || hint & (EPOCH_MOD - 1) != epoch {
        return None;
    }
    Some((e as u32).wrapping_sub(hint >> 4) & (HINT_E_MOD - 1))
}

/// Whether the window ending at bucket epoch `e` may hold a rate-marked outcome. Errs on the
/// side of yes: a hint 2^27 or more buckets away either way counts as present.
#[inline]
fn may_hold_marked(hint: &AtomicU32, cfg: &Compiled, epoch: u32, e: u64) -> bool {
    if cfg.failure_rate == 0 && cfg.slow_rate == 0 {
        return false;
    }
    // Relaxed: ordered by the count-word RMW before it (see `note_marked`).
    match hint_distance(hint.load(Ordering::Relaxed), epoch, e) {
        None => false,
        Some(d) => d < cfg.size || d >= HINT_E_MOD / 2,
    }
}

/// Notes a rate-marked outcome in bucket epoch `e`, after its count words are written and
/// before its figures are read with [`stats_synced`].
///
/// Why this is exact. An outcome `A` that is not rate-marked does: its CAS on a count word,
/// then a load of the hint, and reads the figures only if the hint says so. A rate-marked
/// outcome `F` does: its count words, this update of the hint, then an RMW-read of every word
/// `A` could have written, then its figures. The RMWs on `A`'s word are totally ordered: if
/// `F`'s comes after `A`'s, `F` reads `A`'s count; if before, `A`'s CAS acquires `F`'s
/// release, so `A` sees the hint and `F`'s counts. Either way one of them checks the rules
/// with both (loom_time_success_racing_first_failure_trips). Two rate-marked outcomes are
/// ordered the same way, by their RMW-reads of the same words
/// (loom_time_failure_racing_slow_success_trips).
fn note_marked(hint: &AtomicU32, epoch: u32, e: u64) {
    let mut cur = hint.load(Ordering::Relaxed);
    loop {
        let keep = match hint_distance(cur, epoch, e) {
            // Already as new as `e`, or newer.
            Some(d) => d == 0 || d >= HINT_E_MOD / 2,
            // A newer window epoch's hint stays (this outcome is stale anyway).
            None => cur & HINT_VALID != 0 && newer(cur & (EPOCH_MOD - 1), epoch, EPOCH_MOD),
        };
        if keep {
            return;
        }
        // Relaxed: published by the release RMW-reads that follow in `stats_synced`.
        match hint.compare_exchange_weak(
            cur,
            hint_of(epoch, e),
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            Ok(_) => return,
            Err(actual) => cur = actual,
        }
    }
}

/// The buckets storage of `words` words can hold: `cfg.size`, within `1..=` four words a
/// bucket (at most [`MAX_BUCKETS`](crate::limits::MAX_BUCKETS)). Only memory written by
/// something else holds a count out of that range; 0 means "no room at all" (fewer than
/// four words), and every function then leaves the window alone.
#[inline]
pub(crate) const fn buckets(cfg: &Compiled, words: usize) -> u32 {
    let cap = if words / 4 >= crate::limits::MAX_BUCKETS as usize {
        crate::limits::MAX_BUCKETS
    } else {
        (words / 4) as u32
    };
    super::within(cfg.size, cap)
}

/// The bucket epoch of `now` and the first slot of its bucket, of `nb ≥ 1` buckets. A bucket
/// width of 0 (memory written by something else) reads as 1 ms.
#[inline]
fn bucket_of(cfg: &Compiled, nb: u32, now: u64) -> (u64, usize) {
    let width = if cfg.bucket_ms == 0 { 1 } else { cfg.bucket_ms };
    let e = now / u64::from(width);
    (e, (e % u64::from(nb)) as usize * 4)
}

/// [`bump`] on the successes word of the bucket at `base`: `None` if dropped, else whether
/// the window counted the success as a lifetime success itself (see [`successes`]).
#[inline]
fn bump_success<const S: usize>(
    w: &Window<S>,
    base: usize,
    epoch: u32,
    e: u64,
    live_epoch: &impl Fn() -> u32,
    full: bool,
) -> Option<bool> {
    let counted = bump(
        &w.slots[base + 1],
        &w.slots[base],
        epoch,
        e,
        live_epoch,
        Some(&w.carry),
        full,
    )?;
    Some(counted && HEAD_COUNTS_SUCCESSES)
}

/// Puts one outcome of window epoch `epoch` in its bucket. `None` if it is left out (its
/// bucket has moved on, or `epoch` is stale); else whether the window counted it as a
/// lifetime success itself (see [`successes`]) and the window figures when the rate rules
/// need checking after it (`None` when they cannot hold).
pub(crate) fn record<const S: usize>(
    w: &Window<S>,
    cfg: &Compiled,
    epoch: u32,
    marks: Marks,
    now: u64,
    live_epoch: &impl Fn() -> u32,
) -> Option<(bool, Option<Stats>)> {
    let slots = &w.slots;
    let nb = buckets(cfg, S);
    if nb == 0 {
        return None;
    }
    let (e, base) = bucket_of(cfg, nb, now);
    let bucket_epoch = &slots[base];
    if !claim_bucket(&slots[base..base + 4], &w.carry, epoch, e) {
        return None;
    }
    // Decided once per outcome, so a slow one counts in both words or in neither.
    let full = bucket_full(&slots[base + 1..base + 4], tag(epoch, e));
    let mark = |word: &AtomicU32| bump(word, bucket_epoch, epoch, e, live_epoch, None, full);
    let counted = if marks.failure {
        mark(&slots[base + 2])?;
        false
    } else {
        bump_success(w, base, epoch, e, live_epoch, full)?
    };
    if marks.slow {
        mark(&slots[base + 3]);
    }
    let rate_marked = (marks.failure && cfg.failure_rate > 0) || (marks.slow && cfg.slow_rate > 0);
    if rate_marked {
        note_marked(&w.counts, epoch, e);
        return Some((counted, Some(stats_synced(slots, cfg, epoch, now))));
    }
    let check = may_hold_marked(&w.counts, cfg, epoch, e);
    Some((counted, check.then(|| stats(slots, cfg, epoch, now))))
}

/// The common case of [`record`]: a plain success whose bucket is already current. `None` if
/// it is not (nothing written: the caller takes [`record`]); else whether the window counted
/// the success itself and whether the rules need checking.
#[inline]
pub(crate) fn success<const S: usize>(
    w: &Window<S>,
    cfg: &Compiled,
    epoch: u32,
    now: u64,
    live_epoch: &impl Fn() -> u32,
) -> Option<(bool, bool)> {
    let nb = buckets(cfg, S);
    if nb == 0 {
        return None;
    }
    let (e, base) = bucket_of(cfg, nb, now);
    // Acquire: pairs with the rotation's Release, as in `bump`.
    if w.slots[base].load(Ordering::Acquire) != e as u32 {
        return None;
    }
    let full = bucket_full(&w.slots[base + 2..base + 4], tag(epoch, e));
    let counted = bump_success(w, base, epoch, e, live_epoch, full)?;
    Some((counted, may_hold_marked(&w.counts, cfg, epoch, e)))
}

/// Successes counted by the successes words so far: `folded` plus what the words hold now,
/// whatever their tags (a stale word's count is folded when it is reset, not before).
///
/// A read racing a reset may miss the count in flight (reset, not yet folded), never count
/// it twice; the highest figure read is kept in `head`, so a later read never goes back.
pub(crate) fn successes<const S: usize>(w: &Window<S>, cfg: &Compiled) -> u64 {
    if !HEAD_COUNTS_SUCCESSES {
        return 0;
    }
    // Acquire: pairs with `fold`'s Release, so a count already folded is reset below.
    #[allow(clippy::useless_conversion)] // u32 on targets without 64-bit atomics
    let folded = u64::from(w.carry.load(Ordering::Acquire));
    let live: u64 = (0..buckets(cfg, S) as usize)
        .map(|b| u64::from(w.slots[b * 4 + 1].load(Ordering::Relaxed) >> TAG_BITS))
        .sum();
    let total = folded + live;
    // Relaxed: a plain maximum; nothing else is read through it.
    let before = head_from(w.head.fetch_max(head_into(total), Ordering::Relaxed));
    before.max(total)
}

/// The window figures at `now`, for snapshots and for outcomes that are not rate-marked.
pub(crate) fn stats(slots: &[AtomicU32], cfg: &Compiled, epoch: u32, now: u64) -> Stats {
    walk(slots, cfg, epoch, now, false)
}

/// The window figures for a rate-marked outcome: first an RMW-read of every word an outcome
/// that is not rate-marked writes (see [`note_marked`]).
fn stats_synced(slots: &[AtomicU32], cfg: &Compiled, epoch: u32, now: u64) -> Stats {
    walk(slots, cfg, epoch, now, true)
}

fn walk(slots: &[AtomicU32], cfg: &Compiled, epoch: u32, now: u64, synced: bool) -> Stats {
    let mut s = Stats::default();
    let nb = buckets(cfg, slots.len());
    if nb == 0 {
        return s;
    }
    let (e, base) = bucket_of(cfg, nb, now);
    let buckets = nb as usize;
    // Walk back from the current epoch `e` (bucket `e mod buckets`) through the window's
    // epochs: one division, not one per bucket.
    let mut i = base / 4;
    for back in 0..buckets as u64 {
        let bucket = &slots[i * 4..i * 4 + 4];
        i = if i == 0 { buckets - 1 } else { i - 1 };
        if synced {
            // AcqRel RMW-reads, values unused: see `note_marked`. Every bucket, in the window
            // or not: the word is what a concurrent outcome may have written.
            bucket[1].fetch_add(0, Ordering::AcqRel);
            if cfg.failure_rate == 0 {
                bucket[2].fetch_add(0, Ordering::AcqRel); // failures are not rate-marked then
            }
        }
        if back > e {
            continue; // before time zero
        }
        let be = e - back;
        // Acquire: the count words read next are at least as new as the rotation to `be`.
        if bucket[0].load(Ordering::Acquire) != be as u32 {
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
        let (successes, failures) = (read(&bucket[1]), read(&bucket[2]));
        s.calls += successes + failures;
        s.failures += failures;
        s.slow += read(&bucket[3]).min(successes + failures);
    }
    s
}

/// Zeroes every count word of an older window epoch (see `Window::clear`), folding the
/// successes words' counts, and forgets the hint.
pub(crate) fn clear<const S: usize>(w: &Window<S>, cfg: &Compiled, epoch: u32) {
    for b in 0..buckets(cfg, S) as usize {
        for (i, word) in w.slots[b * 4 + 1..b * 4 + 4].iter().enumerate() {
            // Keep the bucket-epoch bits: with a zero count, what they say does not matter.
            let old = super::reset_word(word, epoch, EPOCH_MOD - 1, |old| {
                (old & (TAG_MASK & !(EPOCH_MOD - 1))) | epoch
            });
            if let Some(old) = old {
                fold((i == 0).then_some(&w.carry), old);
            }
        }
    }
    super::reset_word(&w.counts, epoch, EPOCH_MOD - 1, |_| epoch);
}
