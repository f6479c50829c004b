//! The C enums (`cb_state`, `cb_cause`, `cb_outcome`, `cb_reject_reason`, `cb_health`,
//! `cb_window_kind`) and their names.
//!
//! Each is a fixed-width integer typedef with `CB_*` constants rather than a C `enum`: a value
//! that C passes in is checked (`CB_STATUS_INVALID_ARGUMENT`), never transmuted. The numbers
//! are the core's discriminants (a unit test keeps them equal); the names are the core's
//! `name()` strings.

use core::ffi::c_char;

use cbreaker::{Cause, End, HealthStatus, RejectReason, State};

use crate::status::{CB_STATUS_INVALID_ARGUMENT, CB_STATUS_OK, cb_status};

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
/// `cb_breaker_trip`: Open by hand, with the deadline an automatic trip would get.
pub const CB_CAUSE_TRIP: cb_cause = 11;
/// `cb_breaker_half_open`: HalfOpen by hand, probes admitted as after a deadline.
pub const CB_CAUSE_HALF_OPEN: cb_cause = 12;
/// Closed with an empty window: the breaker found a word out of its range (memory written by
/// something else: a wild write, a bit flip, a process of another build) and repaired itself.
pub const CB_CAUSE_REPAIRED: cb_cause = 13;
/// The fleet moved this breaker: it adopted the fleet's record (`cb_fleet_join`), or an
/// operator moved the whole fleet (`cb_fleet_force_open`, ...). What a fleet's transition
/// callback sees.
pub const CB_CAUSE_FLEET: cb_cause = 14;
/// Closed → Open for a whole fleet: enough members tripped on their own within the fleet
/// window (quorum mode). Fleet records only (`cb_fleet_status`), never a local transition.
pub const CB_CAUSE_QUORUM: cb_cause = 15;

/// How a call ended (`CB_OUTCOME_*`), passed to `cb_breaker_record`: the core's `End`. A
/// timeout is recorded as a failure, a cancellation as ignored.
pub type cb_outcome = u32;
/// The call worked (slow too if its duration is at or above `slow_call_duration_ms`).
pub const CB_OUTCOME_SUCCESS: cb_outcome = 0;
/// The call failed.
pub const CB_OUTCOME_FAILURE: cb_outcome = 1;
/// Neither (an excluded error): counts only as ignored, frees a half-open slot.
pub const CB_OUTCOME_IGNORED: cb_outcome = 2;
/// The caller's own timeout fired before the call returned: recorded as a failure.
pub const CB_OUTCOME_TIMEOUT: cb_outcome = 3;
/// The caller gave up on the call (cancelled, aborted; what `cb_breaker_drop` records):
/// recorded as ignored, frees a half-open slot.
pub const CB_OUTCOME_CANCELLED: cb_outcome = 4;

/// Why a call was refused (`CB_REJECT_*`), from `cb_breaker_try_acquire`/`cb_breaker_begin`.
pub type cb_reject_reason = u32;
/// The circuit is open: its deadline has not passed (`retry_after_ms` is the time left).
pub const CB_REJECT_OPEN: cb_reject_reason = 0;
/// The circuit is half-open and every probe slot is taken (`retry_after_ms` is at most 1 s).
pub const CB_REJECT_HALF_OPEN_FULL: cb_reject_reason = 1;
/// The circuit was forced open by hand (`retry_after_ms` is `CB_RETRY_AFTER_NONE`).
pub const CB_REJECT_FORCED_OPEN: cb_reject_reason = 2;

/// A health endpoint's answer (`CB_HEALTH_*`), from `cb_health_of`.
pub type cb_health = u32;
/// No breaker refuses calls.
pub const CB_HEALTH_HEALTHY: cb_health = 0;
/// Some breakers of a group refuse calls, not all (never the answer for one breaker).
pub const CB_HEALTH_DEGRADED: cb_health = 1;
/// Every breaker refuses calls (one breaker: open, half-open or forced open).
pub const CB_HEALTH_UNHEALTHY: cb_health = 2;

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

/// The core ending of a C outcome, if it is one.
#[must_use]
pub fn end_from(v: cb_outcome) -> Option<End> {
    End::ALL.iter().copied().find(|e| *e as cb_outcome == v)
}

/// The core reject reason of a C value, if it is one.
#[must_use]
pub fn reason_from(v: cb_reject_reason) -> Option<RejectReason> {
    RejectReason::ALL
        .iter()
        .copied()
        .find(|r| *r as cb_reject_reason == v)
}

/// The core health status of a C value, if it is one.
#[must_use]
pub fn health_from(v: cb_health) -> Option<HealthStatus> {
    HealthStatus::ALL
        .iter()
        .copied()
        .find(|h| *h as cb_health == v)
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

/// A table of NUL-terminated names, built at compile time from the core's `name()`s.
macro_rules! name_table {
    ($all:expr) => {{
        const N: usize = $all.len();
        let mut out = [[0u8; NAME_CAP]; N];
        let mut i = 0;
        while i < N {
            out[i] = c_buf($all[i].name());
            i += 1;
        }
        out
    }};
}

static STATE_NAMES: [[u8; NAME_CAP]; State::ALL.len()] = name_table!(State::ALL);
static CAUSE_NAMES: [[u8; NAME_CAP]; Cause::ALL.len()] = name_table!(Cause::ALL);
static REASON_NAMES: [[u8; NAME_CAP]; RejectReason::ALL.len()] = name_table!(RejectReason::ALL);
static HEALTH_NAMES: [[u8; NAME_CAP]; HealthStatus::ALL.len()] = name_table!(HealthStatus::ALL);

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

/// The snake_case name of a reject reason (`"open"`, `"half_open_full"`, `"forced_open"`);
/// `"unknown"` for a value that is not a `cb_reject_reason`. A static string: never NULL,
/// never free it. Safe to call from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn cb_reject_reason_str(reason: cb_reject_reason) -> *const c_char {
    match reason_from(reason) {
        Some(r) => REASON_NAMES[r as usize].as_ptr().cast(),
        None => c"unknown".as_ptr(),
    }
}

/// The name of a health status (`"healthy"`, `"degraded"`, `"unhealthy"`), as every front
/// door reports it; `"unknown"` for a value that is not a `cb_health`. A static string: never
/// NULL, never free it. Safe to call from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn cb_health_str(health: cb_health) -> *const c_char {
    match health_from(health) {
        Some(h) => HEALTH_NAMES[h as usize].as_ptr().cast(),
        None => c"unknown".as_ptr(),
    }
}

/// Writes to `*health_out` the health of one breaker in `state`, by the core's rule (the
/// same in every language): `CB_HEALTH_HEALTHY` while it admits calls (closed, disabled,
/// metrics-only), `CB_HEALTH_UNHEALTHY` while it refuses them or admits only probes (open,
/// half-open, forced open). Pass the state from `cb_breaker_state`. Safe to call from any
/// thread.
///
/// Errors (nothing written): `CB_STATUS_NULL_PARAMETER` (`health_out` NULL),
/// `CB_STATUS_INVALID_ARGUMENT` (`state` is not a `CB_STATE_*`).
#[unsafe(no_mangle)]
pub extern "C" fn cb_health_of(state: cb_state, health_out: *mut cb_health) -> cb_status {
    ffi_boundary! {
        let out = try_mut!(health_out);
        let Some(state) = state_from(state) else {
            return CB_STATUS_INVALID_ARGUMENT;
        };
        *out = HealthStatus::of(state) as cb_health;
        CB_STATUS_OK
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
            CB_CAUSE_TRIP,
            CB_CAUSE_HALF_OPEN,
            CB_CAUSE_REPAIRED,
            CB_CAUSE_FLEET,
            CB_CAUSE_QUORUM,
        ];
        assert_eq!(
            causes.len(),
            Cause::ALL.len(),
            "a core cause has no CB_CAUSE_*"
        );
        for (c, cause) in causes.iter().zip(Cause::ALL) {
            assert_eq!(*c, cause as cb_cause, "CB_CAUSE_* drifted from the core");
        }
        for (i, c) in Cause::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
            assert_eq!(s(cb_cause_str(*c as cb_cause)), c.name());
        }
        assert_eq!(s(cb_state_str(6)), "unknown");
        assert_eq!(s(cb_cause_str(Cause::ALL.len() as cb_cause)), "unknown");
        let ends = [
            CB_OUTCOME_SUCCESS,
            CB_OUTCOME_FAILURE,
            CB_OUTCOME_IGNORED,
            CB_OUTCOME_TIMEOUT,
            CB_OUTCOME_CANCELLED,
        ];
        assert_eq!(ends.len(), End::ALL.len(), "a core End has no CB_OUTCOME_*");
        for (c, e) in ends.iter().zip(End::ALL) {
            assert_eq!(*c, e as cb_outcome, "CB_OUTCOME_* drifted from the core");
            assert_eq!(end_from(*c), Some(e));
        }
        assert_eq!(end_from(5), None);
        let reasons = [
            CB_REJECT_OPEN,
            CB_REJECT_HALF_OPEN_FULL,
            CB_REJECT_FORCED_OPEN,
        ];
        assert_eq!(reasons.len(), RejectReason::ALL.len());
        for (c, r) in reasons.iter().zip(RejectReason::ALL) {
            assert_eq!(
                *c, r as cb_reject_reason,
                "CB_REJECT_* drifted from the core"
            );
            assert_eq!(s(cb_reject_reason_str(*c)), r.name());
        }
        assert_eq!(s(cb_reject_reason_str(3)), "unknown");
        let healths = [CB_HEALTH_HEALTHY, CB_HEALTH_DEGRADED, CB_HEALTH_UNHEALTHY];
        assert_eq!(healths.len(), HealthStatus::ALL.len());
        for (c, h) in healths.iter().zip(HealthStatus::ALL) {
            assert_eq!(*c, h as cb_health, "CB_HEALTH_* drifted from the core");
            assert_eq!(s(cb_health_str(*c)), h.name());
        }
        assert_eq!(s(cb_health_str(3)), "unknown");
    }

    #[test]
    fn health_is_the_cores_rule() {
        for st in State::ALL {
            let mut h = 99;
            assert_eq!(cb_health_of(st as cb_state, &mut h), CB_STATUS_OK);
            assert_eq!(h, HealthStatus::of(st) as cb_health);
        }
        let mut h = 99;
        assert_eq!(cb_health_of(6, &mut h), CB_STATUS_INVALID_ARGUMENT);
        assert_eq!(h, 99, "written on an error");
        assert_eq!(
            cb_health_of(CB_STATE_OPEN, core::ptr::null_mut()),
            crate::CB_STATUS_NULL_PARAMETER
        );
    }
}
