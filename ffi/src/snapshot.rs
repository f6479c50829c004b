//! `cb_snapshot`: counters and window figures as plain data.

use cbreaker::Snapshot;

use crate::names::cb_state;

/// "No deadline" in a `retry_after_ms`: forced open (rejected until released by hand), or
/// (in a snapshot) no wait at all.
pub const CB_RETRY_AFTER_NONE: u64 = u64::MAX;

/// A point-in-time view of a breaker, from `cb_breaker_snapshot`. Plain data owned by the
/// caller. Counters are monotonic; `calls = successes + failures + ignored`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct cb_snapshot {
    /// The state a `cb_breaker_try_acquire` at the snapshot's `now_ms` would see.
    pub state: cb_state,
    /// The current generation (modulo 4096).
    pub generation: u32,
    /// Outcomes reported: successes + failures + ignored (dropped permits count as ignored).
    pub calls: u64,
    /// Successful outcomes.
    pub successes: u64,
    /// Failed outcomes.
    pub failures: u64,
    /// Ignored outcomes and dropped permits.
    pub ignored: u64,
    /// Outcomes at or above `slow_call_duration_ms`.
    pub slow: u64,
    /// Acquires refused.
    pub rejected: u64,
    /// Transitions into each state so far, indexed by `CB_STATE_*`.
    pub transitions: [u32; 6],
    /// Outcomes in the window now.
    pub window_calls: u32,
    /// Failures in the window now.
    pub window_failures: u32,
    /// Slow calls in the window now.
    pub window_slow: u32,
    /// The current run of consecutive failures.
    pub consecutive_failures: u32,
    /// `100 × window_failures / window_calls` (0 for an empty window).
    pub failure_rate: f64,
    /// `100 × window_slow / window_calls` (0 for an empty window).
    pub slow_rate: f64,
    /// While open (or half-open with every probe out): milliseconds until a call may be
    /// admitted; `CB_RETRY_AFTER_NONE` when forced open or when calls are admitted now.
    pub retry_after_ms: u64,
}

impl cb_snapshot {
    /// The C form of a core snapshot.
    #[must_use]
    pub fn from_core(s: &Snapshot) -> cb_snapshot {
        cb_snapshot {
            state: s.state as cb_state,
            generation: s.generation,
            calls: s.calls,
            successes: s.successes,
            failures: s.failures,
            ignored: s.ignored,
            slow: s.slow,
            rejected: s.rejected,
            transitions: s.transitions,
            window_calls: s.window_calls,
            window_failures: s.window_failures,
            window_slow: s.window_slow,
            consecutive_failures: s.consecutive_failures,
            failure_rate: s.failure_rate,
            slow_rate: s.slow_rate,
            retry_after_ms: s.retry_after.map_or(CB_RETRY_AFTER_NONE, |m| m.0),
        }
    }
}
