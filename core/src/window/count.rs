//! Count window: the last `n` outcomes.
//!
//! ```text
//! head:   | filled (11) | pos (10) | lap (6) | epoch (3) |   claim cursor
//! counts: | spare (7) | slow (11) | failures (11) | epoch (3) |
//! cell:   | lap (6) | slow | failure |                one byte per position, 4 per slot
//! ```
//!
//! A call claims the next position with one CAS on `head`. Only marked outcomes (failures,
//! slow calls) write their cell and `counts`, so a plain success costs that one CAS, plus one
//! more only when a marked outcome leaves the window.
//!
//! When position `p` is claimed in lap `L`, the outcome claimed at `p` in lap `L − 1` leaves.
//! If it was marked, exactly one of two threads takes it out of `counts`: the claimer of
//! `(L, p)`, if it finds the cell written, or the marked writer itself, which re-reads `head`
//! with an RMW after writing its cell. RMWs on `head` are totally ordered, so at least one of
//! the two sees the other; a CAS on the cell makes sure only one of them subtracts.
//! `counts` is raised before the cell is written, so it never underflows; it may briefly
//! count an outcome that is leaving, so readers clamp it to `filled`.

use super::{Marks, Window, newer};
use crate::config::Compiled;
use crate::state::EPOCH_MOD;
use crate::sync::{AtomicU32, Ordering};
use crate::transition::Stats;

const EPOCH_MASK: u32 = EPOCH_MOD - 1;
const LAP_MOD: u32 = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Head(u32);

impl Head {
    const fn epoch(self) -> u32 {
        self.0 & EPOCH_MASK
    }
    const fn lap(self) -> u32 {
        (self.0 >> 3) & (LAP_MOD - 1)
    }
    const fn pos(self) -> u32 {
        (self.0 >> 9) & 0x3FF
    }
    const fn filled(self) -> u32 {
        self.0 >> 19
    }
    const fn pack(epoch: u32, lap: u32, pos: u32, filled: u32) -> Head {
        Head((epoch & EPOCH_MASK) | ((lap & (LAP_MOD - 1)) << 3) | (pos << 9) | (filled << 19))
    }
    /// The next claim position.
    const fn advance(self, n: u32) -> Head {
        let (lap, pos) = if self.pos() + 1 == n {
            (self.lap() + 1, 0)
        } else {
            (self.lap(), self.pos() + 1)
        };
        let filled = if self.filled() < n {
            self.filled() + 1
        } else {
            n
        };
        Head::pack(self.epoch(), lap, pos, filled)
    }
    /// A fresh window of `epoch`. Skipping a lap makes every old cell look two laps old, so
    /// none of them is ever taken for an outcome that is leaving.
    const fn cleared(self, epoch: u32) -> Head {
        Head::pack(epoch, self.lap() + 2, 0, 0)
    }
    /// Positions from `(lap, pos)` to this head, in the wrapping space of 64 laps.
    const fn distance_from(self, lap: u32, pos: u32, n: u32) -> u32 {
        let span = LAP_MOD * n;
        let here = self.lap() * n + self.pos();
        let there = lap * n + pos;
        (here + span - there) % span
    }
}

#[derive(Clone, Copy)]
struct Counts(u32);

impl Counts {
    const fn epoch(self) -> u32 {
        self.0 & EPOCH_MASK
    }
    const fn failures(self) -> u32 {
        (self.0 >> 3) & 0x7FF
    }
    const fn slow(self) -> u32 {
        (self.0 >> 14) & 0x7FF
    }
    const fn pack(epoch: u32, failures: u32, slow: u32) -> Counts {
        Counts(epoch | (failures << 3) | (slow << 14))
    }
}

/// Adds (`sign = 1`) or removes (`sign = -1`) `marks` from `counts`. `false` if `epoch` is
/// stale (the window was cleared since).
fn adjust(
    word: &AtomicU32,
    epoch: u32,
    marks: u32,
    add: bool,
    live_epoch: &impl Fn() -> u32,
) -> bool {
    let mut cur = Counts(word.load(Ordering::Relaxed));
    loop {
        let (f, s) = if cur.epoch() == epoch {
            (cur.failures(), cur.slow())
        } else if !add || newer(cur.epoch(), epoch, EPOCH_MOD) || live_epoch() != epoch {
            // Removing from a window that was cleared: it is gone already.
            return false;
        } else {
            (0, 0)
        };
        let (df, ds) = (marks & 1, marks >> 1);
        let next = if add {
            Counts::pack(epoch, f + df, s + ds)
        } else {
            debug_assert!(f >= df && s >= ds, "count window underflow");
            Counts::pack(epoch, f.saturating_sub(df), s.saturating_sub(ds))
        };
        // AcqRel: orders this change against the cell CAS that makes it visible (see the
        // module docs); the cell is read only after `counts` was raised.
        match word.compare_exchange_weak(cur.0, next.0, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => return true,
            Err(actual) => cur = Counts(actual),
        }
    }
}

fn cell(slots: &[AtomicU32], pos: u32) -> (&AtomicU32, u32) {
    (&slots[(pos / 4) as usize], (pos % 4) * 8)
}

const fn pack_cell(lap: u32, marks: u32) -> u32 {
    ((lap & (LAP_MOD - 1)) << 2) | marks
}

/// Replaces the cell at `pos` by `f(old cell)`; `f` returns `None` to leave it alone.
/// Returns the cell value the successful CAS replaced (`None` if `f` declined).
fn update_cell(slots: &[AtomicU32], pos: u32, f: impl Fn(u32) -> Option<u32>) -> Option<u32> {
    let (word, shift) = cell(slots, pos);
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

/// Claims the next position; `None` if `epoch` is stale.
fn claim<const S: usize>(
    w: &Window<S>,
    n: u32,
    epoch: u32,
    live_epoch: &impl Fn() -> u32,
) -> Option<Head> {
    let mut cur = Head(w.head.load(Ordering::Acquire));
    loop {
        let next = if cur.epoch() == epoch {
            cur.advance(n)
        } else if newer(cur.epoch(), epoch, EPOCH_MOD) || live_epoch() != epoch {
            return None;
        } else {
            cur.cleared(epoch).advance(n)
        };
        // AcqRel: the claim orders against the marked writer's re-read of `head` (module docs).
        match w
            .head
            .compare_exchange_weak(cur.0, next.0, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                return Some(if cur.epoch() == epoch {
                    cur
                } else {
                    cur.cleared(epoch)
                });
            }
            Err(actual) => cur = Head(actual),
        }
    }
}

pub(crate) fn record<const S: usize>(
    w: &Window<S>,
    cfg: &Compiled,
    epoch: u32,
    marks: Marks,
    live_epoch: &impl Fn() -> u32,
) -> Option<Stats> {
    let n = cfg.size;
    let claimed = claim(w, n, epoch, live_epoch)?;
    let (lap, pos) = (claimed.lap(), claimed.pos());
    let leaving = claimed.filled() == n;
    let prev_lap = (lap + LAP_MOD - 1) % LAP_MOD;
    let mine = marks.bits();

    if mine == 0 {
        // A plain success: take out the marked outcome it pushes out, if that one is written.
        if leaving {
            let taken = update_cell(&w.slots, pos, |c| {
                (c >> 2 == prev_lap && c & 3 != 0).then(|| pack_cell(prev_lap, 0))
            });
            if let Some(old) = taken {
                adjust(&w.counts, epoch, old & 3, false, live_epoch);
            }
        }
        return Some(stats_after(w, epoch, claimed.advance(n).filled()));
    }

    if !adjust(&w.counts, epoch, mine, true, live_epoch) {
        return None;
    }
    // Every decision below comes from the value the successful CAS replaced, never from a
    // read that a failed CAS attempt made.
    let installed = update_cell(&w.slots, pos, |c| {
        (!newer(c >> 2, lap, LAP_MOD)).then_some(pack_cell(lap, mine))
    });
    let Some(old) = installed else {
        // A later lap wrote here: this outcome has left the window already.
        adjust(&w.counts, epoch, mine, false, live_epoch);
        return None;
    };
    if leaving && old >> 2 == prev_lap && old & 3 != 0 {
        adjust(&w.counts, epoch, old & 3, false, live_epoch);
    }
    // An RMW, not a load: it reads the latest `head`, so either it sees the claim that
    // pushes this outcome out, or that claimer sees this cell (module docs).
    let now_head = Head(w.head.fetch_add(0, Ordering::AcqRel));
    if now_head.epoch() != epoch {
        return None;
    }
    if now_head.distance_from(lap, pos, n) > n {
        let mine_cell = pack_cell(lap, mine);
        if update_cell(&w.slots, pos, |c| {
            (c == mine_cell).then_some(pack_cell(lap, 0))
        })
        .is_some()
        {
            adjust(&w.counts, epoch, mine, false, live_epoch);
        }
        return None;
    }
    Some(stats_after(w, epoch, now_head.filled()))
}

fn stats_after<const S: usize>(w: &Window<S>, epoch: u32, filled: u32) -> Stats {
    let counts = Counts(w.counts.load(Ordering::Acquire));
    let (f, s) = if counts.epoch() == epoch {
        (counts.failures(), counts.slow())
    } else {
        (0, 0)
    };
    Stats {
        calls: filled,
        failures: f.min(filled),
        slow: s.min(filled),
        consecutive: 0,
    }
}

pub(crate) fn stats<const S: usize>(w: &Window<S>, epoch: u32) -> Stats {
    let head = Head(w.head.load(Ordering::Acquire));
    let filled = if head.epoch() == epoch {
        head.filled()
    } else {
        0
    };
    stats_after(w, epoch, filled)
}

/// Resets `head` and `counts` for `epoch` (see `Window::clear`).
pub(crate) fn clear<const S: usize>(w: &Window<S>, epoch: u32) {
    super::reset_word(&w.head, epoch, EPOCH_MASK, |old| Head(old).cleared(epoch).0);
    super::reset_word(&w.counts, epoch, EPOCH_MASK, |_| {
        Counts::pack(epoch, 0, 0).0
    });
}
