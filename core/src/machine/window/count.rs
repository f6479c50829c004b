//! Count window: the last `n` outcomes.
//!
//! ```text
//! head:   | successes (21) | lap (14) | gen (10) | parity | span (5) | pos (10) | epoch (3) |
//!         32-bit targets:              lap (7)  | gen (6)  | (unused) | ...
//! counts: | slow (11) | failures (11) | gen (10) |
//! cell:   | lap mod 32 (5) | pending | slow | failure |    one byte per position, 4 per slot
//! ```
//!
//! A call claims the next position with one CAS on `head`. Only marked outcomes (failures,
//! slow calls) write their cell and `counts`, so a plain success costs that one CAS, plus one
//! more only when a marked outcome leaves the window.
//!
//! Where the target has 64-bit atomics the head is 64 bits, and the claim of a success also
//! adds one to its top bits: that CAS is the success's only read-modify-write, and the
//! lifetime `successes` counter is derived from it. The top bits wrap every 2^21 successes;
//! the claimer that wraps them bumps `carry` afterwards and flips `parity` in the same CAS, so
//! a reader that sees the wrap before the carry can tell (see [`successes`]).
//!
//! `gen` counts the window's clears (`counts` carries it too). The window epoch, 3 bits,
//! comes round again after 8 clears; a thread held up inside `record` after its claim tells
//! its window from the current one by `gen`, across up to 511 clears.
//!
//! When position `p` is claimed in lap `L`, the outcome claimed at `p` in lap `L − 1` leaves.
//! A marked writer raises `counts`, writes its cell as *pending*, re-reads `head` with an RMW
//! and settles the cell: kept, if no later claim at `p` has happened, else taken out. (When
//! the cell it replaces holds a counted outcome with the same marks, the replacing CAS hands
//! that count over instead: no raise, no take-out.) RMWs on `head` are totally ordered, so
//! either the writer sees the claim that pushes it out, or that claimer sees its cell. Two
//! rules make every count come out exactly once:
//! - a pending cell's count belongs to its writer: others may unmark the cell (a later claim
//!   at `p`), never subtract it; the writer's settling CAS then fails, and it subtracts;
//! - a settled cell's count belongs to whoever unmarks it, with one CAS: the next claim at
//!   `p`, or a later one if that claimer is held up ([`classify`] reads the cell's lap against
//!   the claimer's, and `span` tells cells of this window from those of before its clear).
//!
//! A cell keeps its lap modulo 32 only, so whoever replaces a cell re-reads `head` between
//! loading the cell and its CAS: the writer, to see that its outcome is still in the window
//! (so a later claim's cell can only land after that load, and the CAS then fails); anyone
//! unmarking an older cell, to see that it is less than 16 laps behind `head` and in the same
//! window (else it leaves the cell to a later claimer). `counts` is raised before the cell is
//! written, so it never underflows; it may briefly count an outcome that is leaving, so
//! readers clamp it to `filled`. The head's lap wraps after 2^14 laps: a writer held up that
//! long may find its outcome still in the window and keep it a little early or late, still
//! counted exactly once (docs/state-machine.md#limits).

use super::count_codec::{
    AHEAD_AGE, Counts, Found, GEN_MOD, Head, MARKS, PARITY, PENDING, SPAN_MAX, SUCC_BITS, classify,
    pack_cell,
};
use super::{Marks, Window, newer};
use crate::config::Compiled;
use crate::counters::Counters;
use crate::state::EPOCH_MOD;
use crate::sync::{AtomicHead, AtomicU32, HEAD_COUNTS_SUCCESSES, Ordering, head_from, head_into};
use crate::transition::Stats;

impl Head {
    #[inline]
    fn load(word: &AtomicHead, order: Ordering) -> Head {
        Head(head_from(word.load(order)))
    }
    /// The latest value: an RMW, so it is ordered against every claim (module docs).
    #[inline]
    fn latest(word: &AtomicHead) -> Head {
        // AcqRel: the re-read orders against the claims on `head` (module docs).
        Head(head_from(word.fetch_add(0, Ordering::AcqRel)))
    }
}

impl Counts {
    #[inline]
    fn load(word: &AtomicU32) -> Counts {
        // Acquire: pairs with the AcqRel changes in `adjust` and the reset in `clear`.
        Counts(word.load(Ordering::Acquire))
    }
}

/// Successes counted by the head so far (0 where the head has no room for them).
pub(crate) fn successes<const S: usize>(w: &Window<S>) -> u64 {
    if !HEAD_COUNTS_SUCCESSES {
        return 0;
    }
    loop {
        // Acquire on all three: the carry bump is ordered after the wrapping CAS.
        let c1 = Counters::read(&w.carry);
        let head = Head::load(&w.head, Ordering::Acquire);
        if Counters::read(&w.carry) != c1 {
            continue;
        }
        // The parity in the head flips with every wrap; if it is ahead of the carry, the
        // wrapping claimer has not bumped the carry yet.
        let pending = u64::from((head.0 & PARITY != 0) != (c1 & 1 == 1));
        return ((c1 + pending) << SUCC_BITS) | u64::from(head.successes());
    }
}

/// Adds or removes `marks` in `counts` for the window of clear `gen_`. `false` if that window
/// was cleared since. Adding to a word of an earlier clear starts it afresh (the clear that
/// left it has not reset it yet).
fn adjust(word: &AtomicU32, gen_: u32, marks: u32, add: bool) -> bool {
    let mut cur = Counts(word.load(Ordering::Relaxed));
    loop {
        let (f, s) = if cur.gen_() == gen_ {
            (cur.failures(), cur.slow())
        } else if !add || newer(cur.gen_(), gen_, GEN_MOD) {
            // Removing from a window that was cleared: it is gone already.
            return false;
        } else {
            (0, 0)
        };
        let (df, ds) = (marks & 1, marks >> 1);
        let next = if add {
            Counts::pack(gen_, f + df, s + ds)
        } else {
            // Debug builds check the accounting; not under the fuzzers, whose `corrupt` target
            // writes `counts` itself (memory written by something else saturates instead).
            #[cfg(not(fuzzing))]
            debug_assert!(f >= df && s >= ds, "count window underflow");
            Counts::pack(gen_, f.saturating_sub(df), s.saturating_sub(ds))
        };
        // AcqRel: orders this change against the cell CAS that makes it visible (see the
        // module docs); the cell is read only after `counts` was raised.
        match word.compare_exchange_weak(cur.0, next.0, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => return true,
            Err(actual) => cur = Counts(actual),
        }
    }
}

/// The word and bit shift of position `pos`. Total over any `pos`: a position past the
/// storage (only memory written by something else holds one) wraps into it, and storage of
/// no words has no cell.
#[inline]
fn cell(slots: &[AtomicU32], pos: u32) -> Option<(&AtomicU32, u32)> {
    let i = (pos / 4) as usize;
    let word = match slots.get(i) {
        Some(word) => word,
        None => slots.get(i.checked_rem(slots.len())?)?,
    };
    Some((word, (pos % 4) * 8))
}

/// Replaces the cell at `pos` by `f(old cell)`; `f` returns `None` to leave it alone.
/// Returns the cell value the successful CAS replaced (`None` if `f` declined).
fn update_cell(slots: &[AtomicU32], pos: u32, f: impl Fn(u32) -> Option<u32>) -> Option<u32> {
    let (word, shift) = cell(slots, pos)?;
    let mut cur = word.load(Ordering::Acquire);
    loop {
        let old = (cur >> shift) & 0xFF;
        let new = f(old)?;
        let next = (cur & !(0xFF << shift)) | (new << shift);
        // AcqRel: Release publishes the cell after `counts` was raised; Acquire makes the
        // consumer's later `counts` decrement come after that raise.
        match word.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Some(old),
            Err(actual) => cur = actual,
        }
    }
}

/// Unmarks the cell at `pos` if it holds a marked outcome older than a claim in lap `lap` of
/// the window of clear `gen_` that had run `span` laps (see [`classify`]); returns the value
/// unmarked, for the caller to take out of `counts` if it was counted.
///
/// A cell's lap is kept modulo 32, so its age reads right only to a claimer less than
/// [`AHEAD_AGE`] laps behind `head`. So `head` is re-read (an RMW) after the cell is loaded
/// and before it is replaced: a claimer that fell that far behind, or whose window was
/// cleared meanwhile, leaves the cell to a later claimer.
fn unmark_older<const S: usize>(
    w: &Window<S>,
    pos: u32,
    lap: u32,
    span: u32,
    gen_: u32,
) -> Option<u32> {
    update_cell(&w.slots, pos, |c| {
        if c & MARKS == 0 || classify(c, lap, span) == Found::Ahead {
            return None;
        }
        let head = Head::latest(&w.head);
        (head.gen_() == gen_ && head.laps_since(lap) < AHEAD_AGE).then_some(c & !(MARKS | PENDING))
    })
}

/// Claims the next position (counting the success in the head when `success`); `None` if
/// `epoch` is stale.
#[inline]
fn claim<const S: usize>(
    w: &Window<S>,
    n: u32,
    epoch: u32,
    success: bool,
    live_epoch: &impl Fn() -> u32,
) -> Option<Head> {
    let mut cur = Head::load(&w.head, Ordering::Acquire);
    loop {
        let base = if cur.epoch() == epoch {
            cur
        } else if newer(cur.epoch(), epoch, EPOCH_MOD) || live_epoch() != epoch {
            return None;
        } else {
            cur.cleared(epoch)
        };
        let next = base.advance(n, success);
        // AcqRel: the claim orders against the marked writer's re-read of `head` (module docs).
        match w.head.compare_exchange_weak(
            head_into(cur.0),
            head_into(next.0),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => {
                if next.0 & PARITY != base.0 & PARITY {
                    // This claim wrapped the success count: carry it (see `successes`).
                    Counters::bump(&w.carry);
                }
                return Some(base);
            }
            Err(actual) => cur = Head(head_from(actual)),
        }
    }
}

/// The window size this breaker can hold: `cfg.size`, within `1..=` its storage (4 outcomes
/// a slot, at most [`MAX_COUNT_WINDOW`](crate::limits::MAX_COUNT_WINDOW)). Only memory
/// written by something else holds a size out of that range; 0 means "no room at all" (a
/// breaker of no slots), and every function then leaves the window alone.
#[inline]
pub(crate) const fn size<const S: usize>(cfg: &Compiled) -> u32 {
    let cap = if S >= crate::limits::MAX_COUNT_WINDOW as usize / 4 {
        crate::limits::MAX_COUNT_WINDOW
    } else {
        S as u32 * 4
    };
    super::within(cfg.size, cap)
}

#[inline]
pub(crate) fn record<const S: usize>(
    w: &Window<S>,
    cfg: &Compiled,
    epoch: u32,
    marks: Marks,
    success: bool,
    live_epoch: &impl Fn() -> u32,
) -> (bool, Option<Stats>) {
    let n = size::<S>(cfg);
    if n == 0 {
        return (false, None);
    }
    let Some(claimed) = claim(w, n, epoch, success, live_epoch) else {
        return (false, None);
    };
    (true, after_claim(w, cfg, marks, claimed))
}

/// The closed success fast path: claim (counting the success in the head when it has
/// room) and take care of the cell it pushes out. Returns whether this success filled the
/// window up to `minimum_calls` (the only way a success can make a rate rule hold), `None` if
/// `epoch` is stale.
#[inline]
pub(crate) fn success<const S: usize>(
    w: &Window<S>,
    cfg: &Compiled,
    epoch: u32,
    live_epoch: &impl Fn() -> u32,
) -> Option<bool> {
    let n = size::<S>(cfg);
    if n == 0 {
        return None;
    }
    let claimed = claim(w, n, epoch, true, live_epoch)?;
    let marked = cell(&w.slots, claimed.pos())
        .is_some_and(|(word, shift)| (word.load(Ordering::Acquire) >> shift) & MARKS != 0);
    if marked {
        // A marked cell here: leaving, or left behind by a clear. Rare.
        after_claim(
            w,
            cfg,
            Marks {
                failure: false,
                slow: false,
            },
            claimed,
        );
    }
    Some(reaches_minimum(cfg, n, claimed))
}

/// Whether the claim made at `claimed` brought the window of size `n` up to
/// `minimum_calls` (0 counts as 1).
#[inline]
const fn reaches_minimum(cfg: &Compiled, n: u32, claimed: Head) -> bool {
    let minimum = if cfg.minimum_calls == 0 {
        1
    } else {
        cfg.minimum_calls
    };
    claimed.filled(n) + 1 == minimum
}

/// Everything after the claim: the cell, `counts`, and the figures for the trip rule.
///
/// A marked outcome is counted in `counts` first (or takes over the count of the same-marked
/// outcome its cell replaces), then written to its cell as pending, and settled by its writer
/// once the writer has re-read `head`: kept (the outcome is still in the window) or taken
/// out. Only the writer takes a pending outcome out of `counts`; a settled one is taken out
/// by whoever unmarks it, with one CAS, so exactly once.
#[inline]
fn after_claim<const S: usize>(
    w: &Window<S>,
    cfg: &Compiled,
    marks: Marks,
    claimed: Head,
) -> Option<Stats> {
    let n = size::<S>(cfg);
    // The claim's window: its clear count tells it apart from every window after a clear,
    // however long this thread is held up (across fewer than `GEN_MOD / 2` clears).
    let (lap, pos, span, g) = (claimed.lap(), claimed.pos(), claimed.span(), claimed.gen_());
    let mine = marks.bits();
    let (word, shift) = cell(&w.slots, pos)?;
    let take_out = |old: u32| {
        if old & MARKS != 0 && classify(old, lap, span) == Found::Counted {
            adjust(&w.counts, g, old & MARKS, false);
        }
    };

    if mine == 0 {
        // A plain success: unmark the outcome it pushes out (or one a clear left behind, or
        // a late writer's). Rare; the common case is the one load in `update_cell`.
        if let Some(old) = unmark_older(w, pos, lap, span, g) {
            take_out(old);
        }
        // Rates only fall when a success enters, unless it fills the window up to
        // `minimum_calls`: only then are the figures worth reading.
        return reaches_minimum(cfg, n, claimed)
            .then(|| stats_after(w, g, claimed.advance(n, false).filled(n)));
    }

    // Write the cell as pending, unless a later claim at this position has pushed this
    // outcome out already. That is decided from `head`, read with an RMW (so it is the
    // latest) after the cell was loaded: a later claim at `pos` comes after that RMW, so its
    // writer's cell can only land after the load, and then the CAS fails. So a late writer
    // never overwrites a newer cell.
    //
    // `counts` is raised before the cell is written, except when the cell holds a counted
    // outcome with the same marks (a failure pushing out a failure, the common case in an
    // outage): then the CAS that replaces it hands its count over to this pending cell, the
    // raise and the take-out fused into one step, two RMWs fewer.
    let pending = pack_cell(lap, mine, true);
    let mut raised = false;
    let (replaced, handed_over) = loop {
        let cur = word.load(Ordering::Acquire);
        let c = (cur >> shift) & 0xFF;
        let found = (c & MARKS != 0).then(|| classify(c, lap, span));
        if found == Some(Found::Ahead) {
            // A later claim's outcome holds the cell: this one is out of the window already.
            // (Checked on the cell too, not only on `head`, whose lap wraps: a writer held up
            // for 2^14 laps must not take a newer cell for an older one.)
            if raised {
                adjust(&w.counts, g, mine, false);
            }
            return None;
        }
        let hand_over = !raised && c & MARKS == mine && found == Some(Found::Counted);
        if !hand_over && !raised {
            if !adjust(&w.counts, g, mine, true) {
                return None; // cleared meanwhile
            }
            raised = true;
            continue; // the cell may have changed meanwhile: load it again
        }
        let head = Head::latest(&w.head);
        if head.gen_() != g {
            return None; // cleared meanwhile: `counts` was reset with it
        }
        if head.distance_from(lap, pos, n) > u64::from(n) {
            if raised {
                adjust(&w.counts, g, mine, false);
            }
            return None;
        }
        let next = (cur & !(0xFF << shift)) | (pending << shift);
        // AcqRel: as in `update_cell`.
        if word
            .compare_exchange(cur, next, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            break ((cur >> shift) & 0xFF, hand_over);
        }
    };
    // What this cell replaced: the outcome leaving, or an older one nobody had unmarked yet.
    // A handed-over count is this cell's now.
    if !handed_over {
        take_out(replaced);
    }
    // Settle. An RMW, not a load: it reads the latest `head`, so either it sees the claim
    // that pushes this outcome out, or that claimer sees this cell (module docs).
    let now_head = Head::latest(&w.head);
    // Cleared under us: leave no marked cell behind (`counts` went with the clear).
    let cleared = now_head.gen_() != g;
    let out = cleared || now_head.distance_from(lap, pos, n) > u64::from(n);
    let settled = pack_cell(lap, if out { 0 } else { mine }, false);
    // If the CAS fails, a later claimer unmarked the pending cell, leaving its count to us.
    let kept = update_cell(&w.slots, pos, |c| (c == pending).then_some(settled)).is_some();
    if cleared {
        return None;
    }
    if out || !kept {
        adjust(&w.counts, g, mine, false);
        return None;
    }
    Some(stats_after(w, g, now_head.filled(n)))
}

fn stats_after<const S: usize>(w: &Window<S>, gen_: u32, filled: u32) -> Stats {
    let (f, s) = Counts::load(&w.counts).of(gen_);
    Stats {
        calls: filled,
        failures: f.min(filled),
        slow: s.min(filled),
        consecutive: 0,
    }
}

/// Whether `head` holds something no operation writes (only memory written by something
/// else does): a span past [`SPAN_MAX`], or a position at or past `n` in the current window.
/// (`counts` may legitimately run ahead of the window by one outcome per writer in flight,
/// so no value of it proves damage; reads cap it at the window's fill.)
#[cfg_attr(all(test, loom), allow(dead_code))] // see `record_general`
pub(crate) fn damaged<const S: usize>(w: &Window<S>, n: u32, epoch: u32) -> bool {
    let head = Head::load(&w.head, Ordering::Relaxed);
    head.span() > SPAN_MAX || (head.epoch() == epoch && head.pos() >= n && n > 0)
}

pub(crate) fn stats<const S: usize>(w: &Window<S>, n: u32, epoch: u32) -> Stats {
    let head = Head::load(&w.head, Ordering::Acquire);
    if head.epoch() != epoch {
        return Stats::default(); // not cleared for `epoch` yet: empty
    }
    stats_after(w, head.gen_(), head.filled(n))
}

/// Resets `head` and `counts` for `epoch` (see `Window::clear`), then unmarks the cells left
/// from before. (The first lap after a clear unmarks them too, as it passes; this sweep keeps
/// clears that come faster than one lap from leaving cells old enough to read as new.)
pub(crate) fn clear<const S: usize>(w: &Window<S>, n: u32, epoch: u32) {
    let mut cur = Head::load(&w.head, Ordering::Relaxed);
    while cur.epoch() != epoch && !newer(cur.epoch(), epoch, EPOCH_MOD) {
        // Relaxed: as in `reset_word`; the success count and parity are kept.
        match w.head.compare_exchange_weak(
            head_into(cur.0),
            head_into(cur.cleared(epoch).0),
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            Ok(_) => break,
            Err(actual) => cur = Head(head_from(actual)),
        }
    }
    // An RMW: orders what follows after the head reset and every cell written before it.
    let head = Head::latest(&w.head);
    if head.epoch() != epoch {
        return; // a newer clear does the rest
    }
    let g = head.gen_();
    // Unless a writer of the new window has started `counts` afresh already.
    super::reset_word(&w.counts, g, GEN_MOD - 1, |_| Counts::pack(g, 0, 0).0);
    if head.span() == SPAN_MAX {
        return; // the first lap unmarked everything long ago
    }
    // Ages from the clear's own lap, as its first lap sees them (span 0): every older cell
    // is uncounted; the new window's cells read as that lap or ahead of it.
    let start = head.lap().wrapping_sub(head.span());
    for pos in 0..n {
        unmark_older(w, pos, start, 0, g);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::super::count_codec::EPOCH_MASK;
    use super::*;
    use crate::Config;

    const FAILURE: Marks = Marks {
        failure: true,
        slow: false,
    };
    const SUCCESS: Marks = Marks {
        failure: false,
        slow: false,
    };

    /// Records one outcome in the window of `epoch`, as the breaker does.
    fn put(w: &Window<4>, cfg: &Compiled, epoch: u32, marks: Marks) {
        let (claimed, _) = record(w, cfg, epoch, marks, !marks.failure, &|| epoch);
        assert!(claimed);
    }

    /// Eight clears bring the 3-bit window epoch round again; a thread held up inside
    /// `record` across them must still tell its window from the current one.
    #[test]
    fn outcome_held_up_across_eight_clears_leaves_the_current_window_alone() {
        let cfg = Config {
            failure_rate_threshold: 0,
            ..Config::count(1)
        }
        .compile(4)
        .unwrap();
        let w = Window::<4>::new();
        for _ in 0..16 {
            put(&w, &cfg, 0, SUCCESS); // a window 15 laps old: every older cell counts
        }
        // Two threads claim in epoch 0 and are held up before they look at the cell.
        let success = claim(&w, 1, 0, true, &|| 0).unwrap();
        let failure = claim(&w, 1, 0, false, &|| 0).unwrap();
        for epoch in 1..=8 {
            clear(&w, 1, epoch & EPOCH_MASK);
        }
        put(&w, &cfg, 0, FAILURE); // epoch 0 again: a new window with one failure
        assert_eq!(stats(&w, 1, 0).failures, 1);

        // The held success would read the new failure as the one it pushed out.
        after_claim(&w, &cfg, SUCCESS, success);
        assert_eq!(stats(&w, 1, 0).failures, 1, "taken out by a stale claim");
        // The held failure belongs to a window cleared long ago.
        assert_eq!(after_claim(&w, &cfg, FAILURE, failure), None);
        assert_eq!(
            stats(&w, 1, 0).failures,
            1,
            "landed in a window it never was in"
        );

        put(&w, &cfg, 0, SUCCESS);
        assert_eq!(stats(&w, 1, 0).failures, 0);
    }
}
