//! A point-in-time view of a breaker: state, window figures and lifetime counters.

use crate::state::State;
use crate::time::Millis;

/// Lifetime counters and window figures, read without taking a permit.
///
/// Counters are monotonic. `calls = successes + failures + ignored`; once every permit is
/// settled, `calls` equals the permits granted and `rejected` the acquires refused.
///
/// ```
/// use cbreaker::{Breaker, Config, Millis, Outcome, State};
/// let breaker: Breaker = Breaker::new(Config { minimum_calls: 10, ..Config::count(4) }).unwrap();
/// for (t, outcome) in [Outcome::Success, Outcome::Failure, Outcome::Success].into_iter().enumerate() {
///     let p = breaker.try_acquire(Millis(t as u64)).unwrap().permit;
///     breaker.record(p, outcome, None, Millis(t as u64));
/// }
/// let s = breaker.snapshot(Millis(3));
/// assert_eq!((s.state, s.calls, s.window_calls, s.window_failures), (State::Closed, 3, 3, 1));
/// assert!((s.failure_rate - 100.0 / 3.0).abs() < 1e-9);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Snapshot {
    /// The state a `try_acquire` at the snapshot's `now` would see.
    pub state: State,
    /// The current generation (modulo 4,096).
    pub generation: u32,
    /// Outcomes reported: successes + failures + ignored.
    pub calls: u64,
    /// Successful outcomes.
    pub successes: u64,
    /// Failed outcomes.
    pub failures: u64,
    /// Ignored outcomes and released permits.
    pub ignored: u64,
    /// Outcomes (success or failure) at or above `slow_call_duration`.
    pub slow: u64,
    /// Acquires refused.
    pub rejected: u64,
    /// Transitions into each state, indexed by `State as usize`.
    pub transitions: [u32; 6],
    /// Outcomes in the window now.
    pub window_calls: u32,
    /// Failures in the window now.
    pub window_failures: u32,
    /// Slow calls in the window now.
    pub window_slow: u32,
    /// `100 × window_failures / window_calls` (0 for an empty window).
    pub failure_rate: f64,
    /// `100 × window_slow / window_calls` (0 for an empty window).
    pub slow_rate: f64,
    /// The current run of consecutive failures.
    pub consecutive_failures: u32,
    /// While open: the time until a call may be admitted (`None` when forced open or when
    /// calls are admitted now).
    pub retry_after: Option<Millis>,
}

impl Snapshot {
    /// Transitions into `state` so far.
    #[must_use]
    pub const fn transitions_into(&self, state: State) -> u32 {
        self.transitions[state as usize]
    }
}
