//! The breaker's operations: acquire, record, drop, state, snapshot, manual control.
//!
//! Each translates types and nothing else: every decision is the core's.

use cbreaker::{Millis, Permit};

use crate::names::{cb_outcome, cb_state, outcome_from};
use crate::placement::cb_breaker;
use crate::snapshot::{CB_RETRY_AFTER_NONE, cb_snapshot};
use crate::status::{CB_STATUS_INVALID_ARGUMENT, CB_STATUS_OK, CB_STATUS_REJECTED, cb_status};
use crate::transition::{cb_transition, put};

/// Permission to make one call, from `cb_breaker_try_acquire`. A small value: copy it, store
/// it, pass it to another thread or process. Report it exactly once, with `cb_breaker_record`
/// or `cb_breaker_drop`. Any bit pattern is memory-safe: a permit from an older generation
/// (the breaker moved on while the call ran) counts in the lifetime counters only.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct cb_permit {
    /// The core's permit bits (generation and state it was issued in). Opaque.
    pub bits: u32,
}

/// `duration_ms` for `cb_breaker_record` when the call's duration is unknown (never slow).
pub const CB_DURATION_NONE: u64 = u64::MAX;

/// Asks for permission to make one call at `now_ms` (a monotonic clock in milliseconds of
/// the caller's choosing; see `docs/c-api.md`, "Time").
///
/// `CB_STATUS_OK`: `*permit_out` holds a permit; report it exactly once with
/// `cb_breaker_record` or `cb_breaker_drop`. `*transition_out` (if not NULL) says whether
/// this call moved the breaker (Open → HalfOpen when the open duration has passed).
/// `*retry_after_ms_out` is untouched.
///
/// `CB_STATUS_REJECTED` (a decision, not an error): `*retry_after_ms_out` (if not NULL) is
/// the time until a call may be admitted, `CB_RETRY_AFTER_NONE` (`UINT64_MAX`) when forced
/// open. `*permit_out` and `*transition_out` are untouched.
///
/// `CB_STATUS_NULL_PARAMETER`: `breaker` or `permit_out` is NULL; nothing happened.
/// `retry_after_ms_out` and `transition_out` may be NULL. Safe to call concurrently.
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_try_acquire(
    breaker: *const cb_breaker,
    now_ms: u64,
    permit_out: *mut cb_permit,
    retry_after_ms_out: *mut u64,
    transition_out: *mut cb_transition,
) -> cb_status {
    ffi_boundary! {
        let breaker = try_ref!(breaker);
        let out = try_mut!(permit_out);
        match breaker.inner.try_acquire(Millis(now_ms)) {
            Ok(admitted) => {
                *out = cb_permit { bits: admitted.permit.to_bits() };
                put(transition_out, admitted.transition);
                CB_STATUS_OK
            }
            Err(rejected) => {
                if let Some(retry) = opt_mut!(retry_after_ms_out) {
                    *retry = rejected.retry_after.map_or(CB_RETRY_AFTER_NONE, |m| m.0);
                }
                CB_STATUS_REJECTED
            }
        }
    }
}

/// Reports how the call of `permit` ended: `outcome` is `CB_OUTCOME_SUCCESS`, `_FAILURE` or
/// `_IGNORED`; `duration_ms` is the call's duration (a call at or above
/// `slow_call_duration_ms` is slow) or `CB_DURATION_NONE`. Consumes the permit: report each
/// permit exactly once.
///
/// `CB_STATUS_OK`: recorded; `*transition_out` (if not NULL) says whether this outcome moved
/// the breaker (a trip, a probe that closed or re-opened it). Errors (nothing recorded):
/// `CB_STATUS_NULL_PARAMETER` (`breaker` NULL), `CB_STATUS_INVALID_ARGUMENT` (`outcome` not a
/// `CB_OUTCOME_*`). Safe to call concurrently.
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_record(
    breaker: *const cb_breaker,
    permit: cb_permit,
    outcome: cb_outcome,
    duration_ms: u64,
    now_ms: u64,
    transition_out: *mut cb_transition,
) -> cb_status {
    ffi_boundary! {
        let breaker = try_ref!(breaker);
        let Some(outcome) = outcome_from(outcome) else {
            return CB_STATUS_INVALID_ARGUMENT;
        };
        let duration = (duration_ms != CB_DURATION_NONE).then_some(Millis(duration_ms));
        let t = breaker.inner.record(Permit::from_bits(permit.bits), outcome, duration, Millis(now_ms));
        put(transition_out, t);
        CB_STATUS_OK
    }
}

/// Gives `permit` back unused (the call was abandoned before it ran): counted as ignored,
/// frees its half-open slot. Consumes the permit, like `cb_breaker_record`.
///
/// Errors: `CB_STATUS_NULL_PARAMETER` (`breaker` NULL). Safe to call concurrently.
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_drop(
    breaker: *const cb_breaker,
    permit: cb_permit,
    now_ms: u64,
) -> cb_status {
    ffi_boundary! {
        let breaker = try_ref!(breaker);
        breaker.inner.release(Permit::from_bits(permit.bits), Millis(now_ms));
        CB_STATUS_OK
    }
}

/// Writes to `*state_out` the state a `cb_breaker_try_acquire` at `now_ms` would see (an
/// open breaker whose duration has passed reads `CB_STATE_HALF_OPEN`). Takes no permit and
/// changes nothing.
///
/// Errors: `CB_STATUS_NULL_PARAMETER` (nothing written). Safe to call concurrently.
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_state(
    breaker: *const cb_breaker,
    now_ms: u64,
    state_out: *mut cb_state,
) -> cb_status {
    ffi_boundary! {
        let breaker = try_ref!(breaker);
        let out = try_mut!(state_out);
        *out = breaker.inner.state(Millis(now_ms)) as cb_state;
        CB_STATUS_OK
    }
}

/// Writes state, window figures and lifetime counters at `now_ms` to `*snapshot_out`. Takes
/// no permit and changes nothing.
///
/// Errors: `CB_STATUS_NULL_PARAMETER` (nothing written). Safe to call concurrently.
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_snapshot(
    breaker: *const cb_breaker,
    now_ms: u64,
    snapshot_out: *mut cb_snapshot,
) -> cb_status {
    ffi_boundary! {
        let breaker = try_ref!(breaker);
        let out = try_mut!(snapshot_out);
        *out = cb_snapshot::from_core(&breaker.inner.snapshot(Millis(now_ms)));
        CB_STATUS_OK
    }
}

/// Runs one manual control operation and reports its transition.
fn manual(
    breaker: *const cb_breaker,
    transition_out: *mut cb_transition,
    op: impl FnOnce(&cbreaker::Breaker<{ cbreaker::MAX_SLOTS }>) -> cbreaker::Transition,
) -> cb_status {
    ffi_boundary! {
        let breaker = try_ref!(breaker);
        put(transition_out, Some(op(&breaker.inner)));
        CB_STATUS_OK
    }
}

/// Rejects every call (`CB_STATE_FORCED_OPEN`, retry after `CB_RETRY_AFTER_NONE`) until
/// `cb_breaker_reset`, `cb_breaker_force_closed` or `cb_breaker_metrics_only`.
///
/// Always one transition (written to `*transition_out` if not NULL, `occurred` true).
/// Errors: `CB_STATUS_NULL_PARAMETER` (`breaker` NULL; nothing changed). Safe to call
/// concurrently.
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_force_open(
    breaker: *const cb_breaker,
    now_ms: u64,
    transition_out: *mut cb_transition,
) -> cb_status {
    manual(breaker, transition_out, |b| b.force_open(Millis(now_ms)))
}

/// Admits every call and never trips (`CB_STATE_DISABLED`) until `cb_breaker_reset`,
/// `cb_breaker_force_open` or `cb_breaker_metrics_only`.
///
/// Always one transition (written to `*transition_out` if not NULL, `occurred` true).
/// Errors: `CB_STATUS_NULL_PARAMETER` (`breaker` NULL; nothing changed). Safe to call
/// concurrently.
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_force_closed(
    breaker: *const cb_breaker,
    now_ms: u64,
    transition_out: *mut cb_transition,
) -> cb_status {
    manual(breaker, transition_out, |b| b.force_closed(Millis(now_ms)))
}

/// Admits every call, keeps the window and the metrics, never trips
/// (`CB_STATE_METRICS_ONLY`), until `cb_breaker_reset`, `cb_breaker_force_open` or
/// `cb_breaker_force_closed`.
///
/// Always one transition (written to `*transition_out` if not NULL, `occurred` true).
/// Errors: `CB_STATUS_NULL_PARAMETER` (`breaker` NULL; nothing changed). Safe to call
/// concurrently.
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_metrics_only(
    breaker: *const cb_breaker,
    now_ms: u64,
    transition_out: *mut cb_transition,
) -> cb_status {
    manual(breaker, transition_out, |b| b.metrics_only(Millis(now_ms)))
}

/// Back to `CB_STATE_CLOSED` with an empty window and the backoff reset. Lifetime counters
/// stay.
///
/// Always one transition (written to `*transition_out` if not NULL, `occurred` true).
/// Errors: `CB_STATUS_NULL_PARAMETER` (`breaker` NULL; nothing changed). Safe to call
/// concurrently.
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_reset(
    breaker: *const cb_breaker,
    now_ms: u64,
    transition_out: *mut cb_transition,
) -> cb_status {
    manual(breaker, transition_out, |b| b.reset(Millis(now_ms)))
}
