//! The count window's words as plain numbers: the head, `counts` and the cells, packed and
//! unpacked by pure `const fn`s, and [`classify`], which reads a cell against a claim. No
//! atomics here; the protocol that reads and writes these words is `count.rs` (whose module
//! docs give the layout and the rules).

use crate::state::EPOCH_MOD;
use crate::sync::HEAD_COUNTS_SUCCESSES;

pub(super) const EPOCH_MASK: u32 = EPOCH_MOD - 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Head(pub(super) u64);

pub(super) const POS_SHIFT: u32 = 3;
pub(super) const SPAN_SHIFT: u32 = 13;
pub(super) const PARITY: u64 = 1 << 18;
/// The clear count: one more with every clear. A thread held up inside `record` tells by it
/// that the window was cleared under it, across fewer than `GEN_MOD / 2` clears (the window
/// epoch alone tells only across 8).
pub(super) const GEN_SHIFT: u32 = 19;
pub(super) const GEN_BITS: u32 = if HEAD_COUNTS_SUCCESSES { 10 } else { 6 };
pub(super) const GEN_MOD: u32 = 1 << GEN_BITS;
pub(super) const GEN_MASK: u64 = (GEN_MOD as u64 - 1) << GEN_SHIFT;
/// A writer held up inside `record` judges by lap whether its outcome is still in the window.
pub(super) const LAP_SHIFT: u32 = GEN_SHIFT + GEN_BITS;
pub(super) const LAP_BITS: u32 = if HEAD_COUNTS_SUCCESSES { 14 } else { 7 };
pub(super) const LAP_MOD: u32 = 1 << LAP_BITS;
pub(super) const LAP_MASK: u64 = (LAP_MOD as u64 - 1) << LAP_SHIFT;
/// The success count: the rest of a 64-bit head, 21 bits (see `count::successes`).
pub(super) const SUCC_SHIFT: u32 = LAP_SHIFT + LAP_BITS;
pub(super) const SUCC_BITS: u32 = 64 - SUCC_SHIFT;
/// Every field but the success count and its parity.
pub(super) const CURSOR: u64 = (1 << SUCC_SHIFT) - 1 - PARITY;
/// A cell keeps its lap modulo 32. A cell 1 to 15 laps behind a claim is older than it; 0 or 16
/// and more behind reads as the claimer's own lap or ahead of it (the claimer fell behind).
pub(super) const CELL_LAP_MOD: u32 = 32;
pub(super) const AHEAD_AGE: u32 = CELL_LAP_MOD / 2;
/// Full laps a head remembers since its clear: every older cell it can tell apart.
pub(super) const SPAN_MAX: u32 = AHEAD_AGE - 1;
/// Cell bits: the outcome's marks, and whether its writer is still settling it.
pub(super) const MARKS: u32 = 0b011;
pub(super) const PENDING: u32 = 0b100;

impl Head {
    pub(super) const fn epoch(self) -> u32 {
        self.0 as u32 & EPOCH_MASK
    }
    pub(super) const fn pos(self) -> u32 {
        (self.0 >> POS_SHIFT) as u32 & 0x3FF
    }
    /// Full laps since the window's clear, up to [`SPAN_MAX`]: the laps whose cells belong to
    /// this window (and are counted in `counts`).
    pub(super) const fn span(self) -> u32 {
        (self.0 >> SPAN_SHIFT) as u32 & 0x1F
    }
    pub(super) const fn lap(self) -> u32 {
        ((self.0 & LAP_MASK) >> LAP_SHIFT) as u32
    }
    /// Clears of this window so far, modulo [`GEN_MOD`]: `counts` carries it too.
    pub(super) const fn gen_(self) -> u32 {
        ((self.0 & GEN_MASK) >> GEN_SHIFT) as u32
    }
    /// Laps this head is past lap `lap` (in the wrapping space of [`LAP_MOD`] laps).
    pub(super) const fn laps_since(self, lap: u32) -> u32 {
        self.lap().wrapping_sub(lap) & (LAP_MOD - 1)
    }
    /// Outcomes in the window: the positions claimed since the clear, up to `n`.
    pub(super) const fn filled(self, n: u32) -> u32 {
        // `min`: a position at or past `n` is only in memory written by something else.
        if self.span() == 0 && self.pos() < n {
            self.pos()
        } else {
            n
        }
    }
    pub(super) const fn successes(self) -> u32 {
        (self.0 >> SUCC_SHIFT) as u32
    }
    /// The cursor fields replaced, the success count and parity kept.
    pub(super) const fn with(self, epoch: u32, gen_: u32, lap: u32, pos: u32, span: u32) -> Head {
        let cursor = (epoch & EPOCH_MASK) as u64
            | ((pos as u64) << POS_SHIFT)
            | ((span as u64) << SPAN_SHIFT)
            | (((gen_ & (GEN_MOD - 1)) as u64) << GEN_SHIFT)
            | (((lap & (LAP_MOD - 1)) as u64) << LAP_SHIFT);
        Head((self.0 & !CURSOR) | cursor)
    }
    /// The next claim position; a success also counts itself (when the head has room).
    /// Updated in place with deltas: this is on every call's path.
    #[inline]
    pub(super) const fn advance(self, n: u32, success: bool) -> Head {
        let mut next = self.0;
        // `>=`: a position at or past `n` (memory written by something else) wraps too.
        if self.pos() + 1 >= n {
            // Back to position 0 of the next lap (the lap wraps within its field).
            next -= (self.pos() as u64) << POS_SHIFT;
            next = (next & !LAP_MASK) | (next.wrapping_add(1 << LAP_SHIFT) & LAP_MASK);
            if self.span() < SPAN_MAX {
                next += 1 << SPAN_SHIFT;
            }
        } else {
            next += 1 << POS_SHIFT;
        }
        if success && HEAD_COUNTS_SUCCESSES {
            next = next.wrapping_add(1 << SUCC_SHIFT);
            if next >> SUCC_SHIFT == 0 {
                next ^= PARITY; // the count wrapped: see `successes`
            }
        }
        Head(next)
    }
    /// A fresh window of `epoch`, one clear later: span 0, so every cell already there reads
    /// as stale. The skipped lap keeps cells of the current lap from reading as the claimer's
    /// own.
    pub(super) const fn cleared(self, epoch: u32) -> Head {
        self.with(epoch, self.gen_() + 1, self.lap() + 2, 0, 0)
    }
    /// Positions from `(lap, pos)` to this head, in the wrapping space of [`LAP_MOD`] laps.
    /// In `u32`: `LAP_MOD × n ≤ 2^24`, so every term fits, and a 32-bit core divides in
    /// hardware.
    pub(super) const fn distance_from(self, lap: u32, pos: u32, n: u32) -> u64 {
        // `max(1)`: a size of 0 is only in memory written by something else.
        let n = if n == 0 { 1 } else { n };
        let span = LAP_MOD * n;
        let here = self.lap() * n + self.pos();
        let there = lap * n + pos;
        ((here + span).wrapping_sub(there) % span) as u64
    }
}

/// Failures and slow calls in the window, tagged with the clear count (the head's `gen`) of
/// the window they belong to.
#[derive(Clone, Copy)]
pub(super) struct Counts(pub(super) u32);

impl Counts {
    pub(super) const fn gen_(self) -> u32 {
        self.0 & (GEN_MOD - 1)
    }
    pub(super) const fn failures(self) -> u32 {
        (self.0 >> 10) & 0x7FF
    }
    pub(super) const fn slow(self) -> u32 {
        (self.0 >> 21) & 0x7FF
    }
    pub(super) const fn pack(gen_: u32, failures: u32, slow: u32) -> Counts {
        Counts((gen_ & (GEN_MOD - 1)) | (failures << 10) | (slow << 21))
    }
    /// Failures and slow calls of window `gen_`: none if the word belongs to another clear.
    pub(super) const fn of(self, gen_: u32) -> (u32, u32) {
        if self.gen_() == gen_ {
            (self.failures(), self.slow())
        } else {
            (0, 0)
        }
    }
}

pub(super) const fn pack_cell(lap: u32, marks: u32, pending: bool) -> u32 {
    ((lap & (CELL_LAP_MOD - 1)) << 3) | (pending as u32 * PENDING) | marks
}

/// A marked cell, as seen by the claimer of a position in lap `lap` of a window that has run
/// `span` laps since its clear.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Found {
    /// A settled outcome from an earlier lap of this window: counted in `counts`, and out of
    /// the window now. Whoever unmarks it takes it out of `counts`.
    Counted,
    /// From an earlier lap but not this claimer's to take out of `counts`: a writer's pending
    /// cell (that writer settles its own count), or a cell from before the window's clear
    /// (`counts` never held it). Unmarked without a count.
    Uncounted,
    /// From the claimer's own lap or a later one (the claimer fell behind): not to be touched.
    Ahead,
}

pub(super) const fn classify(cell: u32, lap: u32, span: u32) -> Found {
    let age = lap.wrapping_sub(cell >> 3) & (CELL_LAP_MOD - 1);
    if age == 0 || age >= AHEAD_AGE {
        Found::Ahead
    } else if cell & PENDING == 0 && age <= span {
        Found::Counted
    } else {
        Found::Uncounted
    }
}
