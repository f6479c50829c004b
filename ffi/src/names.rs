//! The C enums (`cb_state`, `cb_cause`, `cb_outcome`, `cb_window_kind`) and their names.
//!
//! Each is a fixed-width integer typedef with `CB_*` constants rather than a C `enum`: a value
//! that C passes in is checked (`CB_STATUS_INVALID_ARGUMENT`), never transmuted. The numbers
//! are the core's discriminants (a unit test keeps them equal); the names are the core's
//! `name()` strings.

use core::ffi::c_char;

use cbreaker::{Cause, Outcome, State};

/// A breaker state (`CB_STATE_*`).
pub type cb_state = u32;
/// Calls flow; outcomes enter the window.
pub const CB_STATE_CLOSED: cb_state = 0;
/// Calls are rejected until the open duration has passed.
pub const CB_STATE_OPEN: cb_state = 1;
/// A few probe calls decide whether to close or re-open.
pub const CB_STATE_HALF_OPEN: cb_state = 2;
/// Rejects every call until released by hand (`cb_breaker_force_open`).
pub const CB_STATE_FORCED_OPEN: cb_state = 3;
/// Admits every call and never trips (`cb_breaker_force_closed`).
pub const CB_STATE_DISABLED: cb_state = 4;
/// Admits every call, keeps the window and metrics, never trips (`cb_breaker_metrics_only`).
pub const CB_STATE_METRICS_ONLY: cb_state = 5;

/// Why a transition happened (`CB_CAUSE_*`).
pub type cb_cause = u32;
/// Closed → Open: the window's failure rate reached the threshold.
pub const CB_CAUSE_FAILURE_RATE: cb_cause = 0;
/// Closed → Open: the window's slow-call rate reached the threshold.
pub const CB_CAUSE_SLOW_CALL_RATE: cb_cause = 1;
/// Closed → Open: the run of consecutive failures reached the threshold.
pub const CB_CAUSE_CONSECUTIVE_FAILURES: cb_cause = 2;
/// Open → HalfOpen: the open duration passed and a call arrived.
pub const CB_CAUSE_OPEN_ELAPSED: cb_cause = 3;
/// HalfOpen → Open: a probe failed.
pub const CB_CAUSE_PROBE_FAILED: cb_cause = 4;
/// HalfOpen → Open: a probe was slow (slow-call tripping on).
pub const CB_CAUSE_PROBE_SLOW: cb_cause = 5;
/// HalfOpen → Closed: enough probes succeeded.
pub const CB_CAUSE_PROBES_SUCCEEDED: cb_cause = 6;
/// `cb_breaker_force_open`.
pub const CB_CAUSE_FORCE_OPEN: cb_cause = 7;
/// `cb_breaker_force_closed`.
pub const CB_CAUSE_FORCE_CLOSED: cb_cause = 8;
/// `cb_breaker_metrics_only`.
pub const CB_CAUSE_METRICS_ONLY: cb_cause = 9;
/// `cb_breaker_reset`.
pub const CB_CAUSE_RESET: cb_cause = 10;

/// How a call ended (`CB_OUTCOME_*`), passed to `cb_breaker_record`.
pub type cb_outcome = u32;
/// The call worked (slow too if its duration is at or above `slow_call_duration_ms`).
pub const CB_OUTCOME_SUCCESS: cb_outcome = 0;
/// The call failed.
pub const CB_OUTCOME_FAILURE: cb_outcome = 1;
/// Neither (an excluded error, a cancelled call): counts only as ignored, frees a half-open slot.
pub const CB_OUTCOME_IGNORED: cb_outcome = 2;

/// Which window a `cb_config` describes (`CB_WINDOW_KIND_*`).
pub type cb_window_kind = u32;
/// The last `window_size` outcomes.
pub const CB_WINDOW_KIND_COUNT: cb_window_kind = 0;
/// The outcomes of the last `window_duration_ms`, in `window_buckets` buckets.
pub const CB_WINDOW_KIND_TIME: cb_window_kind = 1;
/// No window: only the run of consecutive failures (`consecutive_failures` ≥ 1).
pub const CB_WINDOW_KIND_CONSECUTIVE: cb_window_kind = 2;

/// The core state of a C value, if it is one.
#[must_use]
pub fn state_from(v: cb_state) -> Option<State> {
    State::ALL.iter().copied().find(|s| *s as cb_state == v)
}

/// The core outcome of a C value, if it is one.
#[must_use]
pub const fn outcome_from(v: cb_outcome) -> Option<Outcome> {
    match v {
        CB_OUTCOME_SUCCESS => Some(Outcome::Success),
        CB_OUTCOME_FAILURE => Some(Outcome::Failure),
        CB_OUTCOME_IGNORED => Some(Outcome::Ignored),
        _ => None,
    }
}

/// The core cause of a C value, if it is one.
#[must_use]
pub fn cause_from(v: cb_cause) -> Option<Cause> {
    Cause::ALL.iter().copied().find(|c| *c as cb_cause == v)
}

const NAME_CAP: usize = 24;

/// `name` as a NUL-terminated buffer (compile time).
const fn c_buf(name: &str) -> [u8; NAME_CAP] {
    let b = name.as_bytes();
    assert!(b.len() < NAME_CAP, "a name outgrew NAME_CAP");
    let mut out = [0u8; NAME_CAP];
    let mut i = 0;
    while i < b.len() {
        out[i] = b[i];
        i += 1;
    }
    out
}

static STATE_NAMES: [[u8; NAME_CAP]; 6] = {
    let mut out = [[0u8; NAME_CAP]; 6];
    let mut i = 0;
    while i < 6 {
        out[i] = c_buf(State::ALL[i].name());
        i += 1;
    }
    out
};

static CAUSE_NAMES: [[u8; NAME_CAP]; 11] = {
    let mut out = [[0u8; NAME_CAP]; 11];
    let mut i = 0;
    while i < 11 {
        out[i] = c_buf(Cause::ALL[i].name());
        i += 1;
    }
    out
};

/// The snake_case name of a state (`"closed"`, `"half_open"`, ...), the spelling every
/// binding and the conformance vectors use; `"unknown"` for a value that is not a `cb_state`.
/// A static string: never NULL, never free it. Safe to call from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn cb_state_str(state: cb_state) -> *const c_char {
    match state_from(state) {
        Some(s) => STATE_NAMES[s as usize].as_ptr().cast(),
        None => c"unknown".as_ptr(),
    }
}

/// The snake_case name of a cause (`"failure_rate"`, `"probe_failed"`, ...); `"unknown"` for
/// a value that is not a `cb_cause`. A static string: never NULL, never free it. Safe to call
/// from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn cb_cause_str(cause: cb_cause) -> *const c_char {
    match cause_from(cause) {
        Some(c) => CAUSE_NAMES[c as usize].as_ptr().cast(),
        None => c"unknown".as_ptr(),
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn s(p: *const c_char) -> &'static str {
        // SAFETY: the functions under test return static NUL-terminated strings.
        unsafe { CStr::from_ptr(p) }.to_str().unwrap()
    }

    #[test]
    fn names_are_the_cores() {
        for st in State::ALL {
            assert_eq!(s(cb_state_str(st as cb_state)), st.name());
            assert_eq!(state_from(st as cb_state), Some(st));
        }
        let states = [
            CB_STATE_CLOSED,
            CB_STATE_OPEN,
            CB_STATE_HALF_OPEN,
            CB_STATE_FORCED_OPEN,
            CB_STATE_DISABLED,
            CB_STATE_METRICS_ONLY,
        ];
        for (c, st) in states.iter().zip(State::ALL) {
            assert_eq!(*c, st as cb_state, "CB_STATE_* drifted from the core");
        }
        let causes = [
            CB_CAUSE_FAILURE_RATE,
            CB_CAUSE_SLOW_CALL_RATE,
            CB_CAUSE_CONSECUTIVE_FAILURES,
            CB_CAUSE_OPEN_ELAPSED,
            CB_CAUSE_PROBE_FAILED,
            CB_CAUSE_PROBE_SLOW,
            CB_CAUSE_PROBES_SUCCEEDED,
            CB_CAUSE_FORCE_OPEN,
            CB_CAUSE_FORCE_CLOSED,
            CB_CAUSE_METRICS_ONLY,
            CB_CAUSE_RESET,
        ];
        for (c, cause) in causes.iter().zip(Cause::ALL) {
            assert_eq!(*c, cause as cb_cause, "CB_CAUSE_* drifted from the core");
        }
        for (i, c) in Cause::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
            assert_eq!(s(cb_cause_str(*c as cb_cause)), c.name());
        }
        assert_eq!(s(cb_state_str(6)), "unknown");
        assert_eq!(s(cb_cause_str(11)), "unknown");
        assert_eq!(outcome_from(3), None);
        assert_eq!(outcome_from(CB_OUTCOME_SUCCESS), Some(Outcome::Success));
        assert_eq!(outcome_from(CB_OUTCOME_FAILURE), Some(Outcome::Failure));
        assert_eq!(outcome_from(CB_OUTCOME_IGNORED), Some(Outcome::Ignored));
        for o in [Outcome::Success, Outcome::Failure, Outcome::Ignored] {
            assert_eq!(outcome_from(o as cb_outcome), Some(o));
        }
    }
}
