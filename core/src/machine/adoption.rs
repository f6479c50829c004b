//! What a local breaker adopts from its fleet's record ([`Breaker::adopt`](crate::Breaker::adopt)).

use crate::state::State;
use crate::time::Millis;

/// A state to adopt, with what it needs: the time left open and the backoff exponent (open),
/// and the probe slots held for a fleet's leases (open and half-open).
///
/// ```
/// use cbreaker::{Adoption, Millis, State};
/// let a = Adoption::half_open(1, 3);
/// assert_eq!((a.state, a.k, a.held), (State::HalfOpen, 1, 3));
/// assert_eq!(Adoption::state(State::ForcedOpen).held, 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Adoption {
    /// The state to move to.
    pub state: State,
    /// Open: the time left before the deadline (capped at this trip's open duration).
    pub open_for: Millis,
    /// Open and half-open: the backoff exponent.
    pub k: u32,
    /// Open and half-open: probe slots taken for good (capped at `half_open_max_calls`); the
    /// member probes only in the others.
    pub held: u32,
}

impl Adoption {
    /// Open for `open_for`, backoff exponent `k`, `held` probe slots held.
    #[must_use]
    pub const fn open(open_for: Millis, k: u32, held: u32) -> Adoption {
        Adoption {
            state: State::Open,
            open_for,
            k,
            held,
        }
    }

    /// Half-open, backoff exponent `k`, `held` probe slots held.
    #[must_use]
    pub const fn half_open(k: u32, held: u32) -> Adoption {
        Adoption {
            state: State::HalfOpen,
            open_for: Millis(0),
            k,
            held,
        }
    }

    /// Any other state (closed, forced open, disabled, metrics only).
    #[must_use]
    pub const fn state(state: State) -> Adoption {
        Adoption {
            state,
            open_for: Millis(0),
            k: 0,
            held: 0,
        }
    }
}
