//! Counts of breakers by state, for health endpoints (`registry` and `heapless`).

use core::fmt;

use crate::state::State;

/// How many breakers of a registry are in each state.
///
/// ```
/// use cbreaker::{Health, State};
/// let mut h = Health::default();
/// h.add(State::Closed);
/// h.add(State::Open);
/// assert_eq!((h.total(), h.count(State::Open)), (2, 1));
/// assert!(!h.is_healthy());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Health {
    /// Breakers per state, indexed by `State as usize`.
    pub by_state: [usize; 6],
}

impl Health {
    /// Counts one breaker in `state`.
    pub fn add(&mut self, state: State) {
        self.by_state[state as usize] += 1;
    }

    /// Breakers in `state`.
    #[must_use]
    pub const fn count(&self, state: State) -> usize {
        self.by_state[state as usize]
    }

    /// All breakers.
    #[must_use]
    pub fn total(&self) -> usize {
        self.by_state.iter().sum()
    }

    /// Whether no breaker refuses calls (none `Open`, `HalfOpen` or `ForcedOpen`).
    #[must_use]
    pub const fn is_healthy(&self) -> bool {
        self.count(State::Open) == 0
            && self.count(State::HalfOpen) == 0
            && self.count(State::ForcedOpen) == 0
    }
}

/// `closed=3 open=1 half_open=0 forced_open=0 disabled=0 metrics_only=0`.
impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, state) in State::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{}={}", state.name(), self.count(*state))?;
        }
        Ok(())
    }
}
