//! The health rule, for health endpoints in every language: a breaker that refuses calls
//! (open, half-open, forced open) is not healthy; a group is `healthy` when none refuses,
//! `unhealthy` when all do, `degraded` in between.

use core::fmt;

use crate::state::State;

/// A health endpoint's answer.
///
/// ```
/// use cbreaker::{HealthStatus, State};
/// assert_eq!(HealthStatus::of(State::Closed), HealthStatus::Healthy);
/// assert_eq!(HealthStatus::of(State::HalfOpen), HealthStatus::Unhealthy);
/// assert_eq!(HealthStatus::Degraded.name(), "degraded");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum HealthStatus {
    /// No breaker refuses calls.
    Healthy = 0,
    /// Some breakers refuse calls, not all.
    Degraded = 1,
    /// Every breaker refuses calls.
    Unhealthy = 2,
}

impl HealthStatus {
    /// Every status, in discriminant order.
    pub const ALL: [HealthStatus; 3] = [
        HealthStatus::Healthy,
        HealthStatus::Degraded,
        HealthStatus::Unhealthy,
    ];

    /// One breaker's health: `Healthy` while it admits calls (`Closed`, `Disabled`,
    /// `MetricsOnly`), `Unhealthy` while it refuses them or admits only probes (`Open`,
    /// `HalfOpen`, `ForcedOpen`). Half-open is not healthy: its dependency has not yet
    /// answered enough probes.
    #[must_use]
    pub const fn of(state: State) -> HealthStatus {
        if refuses(state) {
            HealthStatus::Unhealthy
        } else {
            HealthStatus::Healthy
        }
    }

    /// The snake_case name every front door reports.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "healthy",
            HealthStatus::Degraded => "degraded",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }

    /// The HTTP status a health endpoint answers with: 200 unless `Unhealthy` (503).
    #[must_use]
    pub const fn http_status(self) -> u16 {
        match self {
            HealthStatus::Healthy | HealthStatus::Degraded => 200,
            HealthStatus::Unhealthy => 503,
        }
    }
}

/// Whether a breaker in `state` is not healthy (it refuses calls or admits only probes).
const fn refuses(state: State) -> bool {
    matches!(state, State::Open | State::HalfOpen | State::ForcedOpen)
}

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
        self.not_healthy() == 0
    }

    /// Breakers that are not healthy ([`HealthStatus::of`] is `Unhealthy`).
    #[must_use]
    pub const fn not_healthy(&self) -> usize {
        self.count(State::Open) + self.count(State::HalfOpen) + self.count(State::ForcedOpen)
    }

    /// The group's status: `Healthy` when no breaker refuses calls (an empty group too),
    /// `Unhealthy` when every breaker does, `Degraded` otherwise.
    ///
    /// ```
    /// use cbreaker::{Health, HealthStatus, State};
    /// let mut h = Health::default();
    /// h.add(State::Closed);
    /// h.add(State::HalfOpen);
    /// assert_eq!(h.status(), HealthStatus::Degraded);
    /// ```
    #[must_use]
    pub fn status(&self) -> HealthStatus {
        let bad = self.not_healthy();
        if bad == 0 {
            HealthStatus::Healthy
        } else if bad == self.total() {
            HealthStatus::Unhealthy
        } else {
            HealthStatus::Degraded
        }
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
