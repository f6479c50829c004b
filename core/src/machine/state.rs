//! The breaker's states, and the packed 32-bit state word that holds the current one.
//!
//! # Packed word
//!
//! ```text
//!  31    27 26    22 21  19 18   15 14                 3 2     0
//! +--------+--------+------+-------+--------------------+-------+
//! |  succ  | probes |wepoch|   k   |     generation     | phase |
//! |   5    |   5    |  3   |   4   |         12         |   3   |
//! +--------+--------+------+-------+--------------------+-------+
//! ```
//!
//! - `phase`: a [`State`].
//! - `generation`: bumped by every transition (and by a half-open reclaim); a permit carries
//!   the generation it was issued in. 12 bits: a permit held across 4,096 transitions would
//!   be taken for a current one (see docs/state-machine.md#limits).
//! - `k`: how many consecutive trips preceded the current open period (backoff exponent,
//!   saturating at 15; reset by a close or `reset`).
//! - `wepoch`: the window epoch, bumped when the window is cleared. Window words carry it,
//!   so a clear is one store here and the window resets itself lazily.
//! - `probes`, `succ`: half-open permits out and successes so far (0 outside half-open).
//!
//! 32 bits so that ARMv7-M and RV32IMAC, which have 32-bit CAS only, stay lock-free.

/// The state of a breaker.
///
/// ```
/// use cbreaker::{Breaker, Config, Millis, State};
/// let breaker: Breaker = Breaker::new(Config::consecutive(3)).unwrap();
/// assert_eq!(breaker.state(Millis(0)), State::Closed);
/// breaker.force_open(Millis(1));
/// assert_eq!(breaker.state(Millis(2)).name(), "forced_open");
/// assert!(!State::ForcedOpen.admits());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum State {
    /// Calls flow; outcomes enter the window.
    Closed = 0,
    /// Calls are rejected until the open duration has passed.
    Open = 1,
    /// A few probe calls decide whether to close or re-open.
    HalfOpen = 2,
    /// Rejects every call until released by hand.
    ForcedOpen = 3,
    /// Admits every call and never trips (set by `force_closed`).
    Disabled = 4,
    /// Admits every call, keeps the window and metrics, never trips.
    MetricsOnly = 5,
}

impl State {
    /// Every state, in discriminant order.
    pub const ALL: [State; 6] = [
        State::Closed,
        State::Open,
        State::HalfOpen,
        State::ForcedOpen,
        State::Disabled,
        State::MetricsOnly,
    ];

    /// The snake_case name used in vectors, metrics and every binding.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half_open",
            State::ForcedOpen => "forced_open",
            State::Disabled => "disabled",
            State::MetricsOnly => "metrics_only",
        }
    }

    /// Whether `try_acquire` can ever admit a call in this state.
    #[must_use]
    pub const fn admits(self) -> bool {
        !matches!(self, State::Open | State::ForcedOpen)
    }

    #[inline]
    pub(crate) const fn from_bits(bits: u32) -> State {
        // A table, not a `match`: this runs several times per call on the hot paths. The
        // unused encodings 6 and 7 read as the last state.
        const TABLE: [State; 8] = {
            let all = State::ALL;
            [
                all[0], all[1], all[2], all[3], all[4], all[5], all[5], all[5],
            ]
        };
        TABLE[(bits & 7) as usize]
    }
}

impl core::fmt::Display for State {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

const GEN_SHIFT: u32 = 3;
const GEN_BITS: u32 = 12;
const K_SHIFT: u32 = 15;
const EPOCH_SHIFT: u32 = 19;
const PROBES_SHIFT: u32 = 22;
const SUCC_SHIFT: u32 = 27;

/// Generations wrap modulo this.
pub(crate) const GEN_MOD: u32 = 1 << GEN_BITS;
/// Window epochs wrap modulo this.
pub(crate) const EPOCH_MOD: u32 = 8;
/// The largest backoff exponent.
pub(crate) const K_MAX: u32 = 15;

/// The decoded state word. Plain data: every method is a pure `const fn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Word(pub(crate) u32);

impl Word {
    pub(crate) const INITIAL: Word = Word(0);

    pub(crate) const fn phase(self) -> State {
        State::from_bits(self.0)
    }
    pub(crate) const fn generation(self) -> u32 {
        (self.0 >> GEN_SHIFT) & (GEN_MOD - 1)
    }
    pub(crate) const fn k(self) -> u32 {
        (self.0 >> K_SHIFT) & 0xF
    }
    pub(crate) const fn epoch(self) -> u32 {
        (self.0 >> EPOCH_SHIFT) & (EPOCH_MOD - 1)
    }
    pub(crate) const fn probes(self) -> u32 {
        (self.0 >> PROBES_SHIFT) & 0x1F
    }
    pub(crate) const fn successes(self) -> u32 {
        (self.0 >> SUCC_SHIFT) & 0x1F
    }

    const fn pack(
        phase: State,
        generation: u32,
        k: u32,
        epoch: u32,
        probes: u32,
        succ: u32,
    ) -> Word {
        Word(
            (phase as u32)
                | ((generation & (GEN_MOD - 1)) << GEN_SHIFT)
                | ((k & 0xF) << K_SHIFT)
                | ((epoch & (EPOCH_MOD - 1)) << EPOCH_SHIFT)
                | ((probes & 0x1F) << PROBES_SHIFT)
                | ((succ & 0x1F) << SUCC_SHIFT),
        )
    }

    /// The first word of a new generation in `phase`: no probes, no successes.
    pub(crate) const fn enter(self, phase: State, k: u32, clear_window: bool) -> Word {
        let epoch = if clear_window {
            self.epoch() + 1
        } else {
            self.epoch()
        };
        Word::pack(phase, self.generation() + 1, k, epoch, 0, 0)
    }

    /// Same generation, different half-open counters.
    pub(crate) const fn with_probes(self, probes: u32, succ: u32) -> Word {
        Word::pack(
            self.phase(),
            self.generation(),
            self.k(),
            self.epoch(),
            probes,
            succ,
        )
    }

    /// A half-open reclaim: new generation, same phase and successes, `probes` out.
    pub(crate) const fn reclaim(self, probes: u32) -> Word {
        Word::pack(
            self.phase(),
            self.generation() + 1,
            self.k(),
            self.epoch(),
            probes,
            self.successes(),
        )
    }

    /// Whether this word holds something no operation writes (only memory written by
    /// something else does): a phase encoding no state has, or half-open counters past the
    /// config's (`max` probes out at most; fewer than `threshold` successes).
    #[cfg_attr(all(test, loom), allow(dead_code))] // see `record_general`
    pub(crate) const fn damaged(self, max: u32, threshold: u32) -> bool {
        self.0 & 7 >= 6
            || (matches!(self.phase(), State::HalfOpen)
                && (self.probes() > max || self.successes() >= threshold))
    }

    /// The bits a permit carries: phase, generation and window epoch.
    pub(crate) const fn permit_bits(self) -> u32 {
        self.0 & PERMIT_MASK
    }
}

/// Phase | generation | k | epoch. `k` never changes within a generation.
const PERMIT_MASK: u32 = (1 << PROBES_SHIFT) - 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let w = Word::pack(State::HalfOpen, 4095, 15, 7, 31, 31);
        assert_eq!(w.phase(), State::HalfOpen);
        assert_eq!(w.generation(), 4095);
        assert_eq!(w.k(), 15);
        assert_eq!(w.epoch(), 7);
        assert_eq!(w.probes(), 31);
        assert_eq!(w.successes(), 31);
        let next = w.enter(State::Closed, 0, true);
        assert_eq!((next.generation(), next.epoch(), next.probes()), (0, 0, 0));
    }
}
