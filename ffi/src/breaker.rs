//! The breaker's operations: the call protocol (acquire or begin, then record or drop, each
//! permit settled once), state, snapshot, manual control.
//!
//! Each translates types and nothing else: every decision (timing, durations, settle-once,
//! what an ending counts as) is the core's.

use cbreaker::{Begun, Call, Millis, Permit, PermitSettled, Rejected};

use crate::names::{CB_OUTCOME_CANCELLED, cb_outcome, cb_reject_reason, cb_state, end_from};
use crate::placement::cb_breaker;
use crate::snapshot::{CB_RETRY_AFTER_NONE, cb_snapshot};
use crate::status::{
    CB_STATUS_INVALID_ARGUMENT, CB_STATUS_OK, CB_STATUS_PERMIT_SETTLED, CB_STATUS_REJECTED,
    cb_status,
};
use crate::transition::{cb_transition, put};

/// One admitted call, from `cb_breaker_try_acquire` or `cb_breaker_begin`: the core's `Call`
/// (its permit, when timing started if the call is timed, and whether it is settled). A
/// small value owned by the caller: keep it, move it, hand it to another thread or process.
///
/// Settle it exactly once, with `cb_breaker_record` or `cb_breaker_drop`, which take it by
/// pointer and mark it settled: a second settle is `CB_STATUS_PERMIT_SETTLED` and records
/// nothing. A zeroed `cb_permit` counts as settled. Settle-once holds for the object passed
/// in: two copies of one pending permit are two settle tokens, so hand a pending permit on
/// by pointer, or copy it and never use the original again.
///
/// The fields are opaque: read them only through `cb_permit_is_settled` and
/// `cb_permit_is_timed`, and do not write them. Any bit pattern is memory-safe (a permit
/// from an older generation counts in the lifetime counters only).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct cb_permit {
    /// Opaque: the core's permit bits.
    pub bits: u32,
    /// Opaque: pending and timed flags.
    pub flags: u32,
    /// Opaque: when timing started, for a timed call.
    pub started_ms: u64,
}

/// `flags`: issued and not settled yet (a zeroed permit is not pending).
const PENDING: u32 = 1;
/// `flags`: the core times this call (`started_ms` holds its start).
const TIMED: u32 = 2;

impl cb_permit {
    /// The C form of a core call.
    #[must_use]
    pub fn from_call(call: &Call) -> cb_permit {
        let pending = if call.is_settled() { 0 } else { PENDING };
        let timed = if call.is_timed() { TIMED } else { 0 };
        cb_permit {
            bits: call.permit().to_bits(),
            flags: pending | timed,
            started_ms: call.started().map_or(0, |m| m.0),
        }
    }

    /// The core call this permit stands for.
    pub fn to_call(&self) -> Call {
        Call::from_parts(
            Permit::from_bits(self.bits),
            (self.flags & TIMED != 0).then_some(Millis(self.started_ms)),
            self.flags & PENDING == 0,
        )
    }
}

/// `measured_ms` for `cb_breaker_record` when the caller did not time the call (the core
/// times it if the breaker needs durations), and what `*duration_ms_out` reads when no
/// duration was reported.
pub const CB_DURATION_NONE: u64 = u64::MAX;

/// `measured_ms` for `cb_breaker_record` to report no duration at all, even for a timed
/// call: the outcome is never slow (the core's `record` with no duration).
pub const CB_DURATION_UNTIMED: u64 = u64::MAX - 1;

/// Writes a rejection's advice and reason to the optional outputs.
fn rejected(r: &Rejected, retry_after_ms_out: *mut u64, reason_out: *mut cb_reject_reason) {
    if let Some(retry) = opt_mut!(retry_after_ms_out) {
        *retry = r.retry_after.map_or(CB_RETRY_AFTER_NONE, |m| m.0);
    }
    if let Some(reason) = opt_mut!(reason_out) {
        *reason = r.reason as cb_reject_reason;
    }
}

/// `begin` behind both exported constructors of a call.
fn begin(
    breaker: *const cb_breaker,
    now_ms: u64,
    sink: bool,
    permit_out: *mut cb_permit,
    retry_after_ms_out: *mut u64,
    reason_out: *mut cb_reject_reason,
    transition_out: *mut cb_transition,
) -> cb_status {
    ffi_boundary! {
        let breaker = try_ref!(breaker);
        let out = try_mut!(permit_out);
        match breaker.inner.begin(Millis(now_ms), sink) {
            Ok(Begun { call, transition }) => {
                *out = cb_permit::from_call(&call);
                put(transition_out, transition);
                CB_STATUS_OK
            }
            Err(r) => {
                rejected(&r, retry_after_ms_out, reason_out);
                CB_STATUS_REJECTED
            }
        }
    }
}

/// Asks for permission to make one call at `now_ms` (a monotonic clock in milliseconds of
/// the caller's choosing; see `docs/c-api.md`, "Time"). The core's `begin(now, sink = false)`:
/// the call is timed when the slow-call rule is on (`slow_call_rate_threshold > 0`), so
/// `cb_breaker_record` can report its duration itself. Use `cb_breaker_begin` to feed
/// durations to a histogram.
///
/// `CB_STATUS_OK`: `*permit_out` holds a pending permit; settle it exactly once with
/// `cb_breaker_record` or `cb_breaker_drop`. `*transition_out` (if not NULL) says whether
/// this call moved the breaker (Open → HalfOpen when the open duration has passed).
/// `*retry_after_ms_out` and `*reason_out` are untouched.
///
/// `CB_STATUS_REJECTED` (a decision, not an error): `*retry_after_ms_out` (if not NULL) is
/// the time until a call may be admitted, `CB_RETRY_AFTER_NONE` (`UINT64_MAX`) when forced
/// open; `*reason_out` (if not NULL) is why (`CB_REJECT_*`). `*permit_out` and
/// `*transition_out` are untouched.
///
/// `CB_STATUS_NULL_PARAMETER`: `breaker` or `permit_out` is NULL; nothing happened.
/// `retry_after_ms_out`, `reason_out` and `transition_out` may be NULL. Safe to call
/// concurrently.
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_try_acquire(
    breaker: *const cb_breaker,
    now_ms: u64,
    permit_out: *mut cb_permit,
    retry_after_ms_out: *mut u64,
    reason_out: *mut cb_reject_reason,
    transition_out: *mut cb_transition,
) -> cb_status {
    begin(
        breaker,
        now_ms,
        false,
        permit_out,
        retry_after_ms_out,
        reason_out,
        transition_out,
    )
}

/// `cb_breaker_try_acquire` for a caller that feeds call durations to a sink (a histogram):
/// with `sink` true every call is timed, so `cb_breaker_record` reports its duration in
/// `*duration_ms_out`; with `sink` false it is exactly `cb_breaker_try_acquire`. The core's
/// `begin(now, sink)`; statuses and outputs as for `cb_breaker_try_acquire`. Safe to call
/// concurrently.
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_begin(
    breaker: *const cb_breaker,
    now_ms: u64,
    sink: bool,
    permit_out: *mut cb_permit,
    retry_after_ms_out: *mut u64,
    reason_out: *mut cb_reject_reason,
    transition_out: *mut cb_transition,
) -> cb_status {
    begin(
        breaker,
        now_ms,
        sink,
        permit_out,
        retry_after_ms_out,
        reason_out,
        transition_out,
    )
}

/// Settles `*permit` at `now_ms` with how its call ended: `outcome` is `CB_OUTCOME_SUCCESS`,
/// `_FAILURE`, `_IGNORED`, `_TIMEOUT` (recorded as a failure) or `_CANCELLED` (recorded as
/// ignored). The core's `finish`; a call at or above `slow_call_duration_ms` is slow.
///
/// The duration, from `measured_ms`:
/// - `CB_DURATION_NONE`: the core's timing rule. A timed permit (see `cb_permit_is_timed`)
///   reports `now_ms` minus its start (0 if time went back), an untimed one none.
/// - `CB_DURATION_UNTIMED`: no duration, even for a timed permit (never slow).
/// - any other value: the call's duration as the caller measured it, reported as given.
///
/// `*duration_ms_out` (if not NULL) gets the duration reported, or `CB_DURATION_NONE`. A
/// histogram observes it for a success, failure or timeout, not for an ignored or cancelled
/// call.
///
/// `CB_STATUS_OK`: recorded; `*permit` is now settled; `*transition_out` (if not NULL) says
/// whether this outcome moved the breaker (a trip, a probe that closed or re-opened it).
/// Errors, checked in this order, record nothing and write nothing:
/// `CB_STATUS_NULL_PARAMETER` (`breaker` or `permit` NULL), `CB_STATUS_INVALID_ARGUMENT`
/// (`outcome` not a `CB_OUTCOME_*`), `CB_STATUS_PERMIT_SETTLED` (`*permit` was settled
/// already, or is zeroed). Safe to call concurrently on the same breaker; one `cb_permit`
/// object must not be settled from two threads at once.
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_record(
    breaker: *const cb_breaker,
    permit: *mut cb_permit,
    outcome: cb_outcome,
    measured_ms: u64,
    now_ms: u64,
    duration_ms_out: *mut u64,
    transition_out: *mut cb_transition,
) -> cb_status {
    ffi_boundary! {
        let breaker = try_ref!(breaker);
        let permit = try_mut!(permit);
        let Some(end) = end_from(outcome) else {
            return CB_STATUS_INVALID_ARGUMENT;
        };
        let mut call = permit.to_call();
        let now = Millis(now_ms);
        let done = match measured_ms {
            CB_DURATION_NONE => breaker.inner.finish(&mut call, end, now),
            // No duration, as Python's `duration=None` and JS's `durationMs: null`.
            CB_DURATION_UNTIMED => {
                call = Call::from_parts(call.permit(), None, call.is_settled());
                breaker.inner.finish(&mut call, end, now)
            }
            // The caller timed this call: it reports the caller's measurement, as Python's
            // `duration=` and JS's `durationMs` do.
            measured => {
                let started = Some(call.started().unwrap_or(now));
                call = Call::from_parts(call.permit(), started, call.is_settled());
                breaker.inner.finish_measured(&mut call, end, now, Millis(measured))
            }
        };
        match done {
            Ok(finished) => {
                permit.flags &= !PENDING;
                if let Some(d) = opt_mut!(duration_ms_out) {
                    *d = finished.duration.map_or(CB_DURATION_NONE, |m| m.0);
                }
                put(transition_out, finished.transition);
                CB_STATUS_OK
            }
            Err(PermitSettled) => CB_STATUS_PERMIT_SETTLED,
        }
    }
}

/// Settles `*permit` unused: the call was abandoned before it ran, or its caller gave up on
/// it. Exactly `cb_breaker_record` with `CB_OUTCOME_CANCELLED`: counted as ignored, frees its
/// half-open slot.
///
/// `CB_STATUS_OK`: `*permit` is now settled. Errors (nothing recorded):
/// `CB_STATUS_NULL_PARAMETER` (`breaker` or `permit` NULL), `CB_STATUS_PERMIT_SETTLED`
/// (settled already). Safe to call concurrently on the same breaker.
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_drop(
    breaker: *const cb_breaker,
    permit: *mut cb_permit,
    now_ms: u64,
) -> cb_status {
    cb_breaker_record(
        breaker,
        permit,
        CB_OUTCOME_CANCELLED,
        CB_DURATION_NONE,
        now_ms,
        core::ptr::null_mut(),
        core::ptr::null_mut(),
    )
}

/// Whether `*permit` is settled (recorded or dropped, or zeroed): then `cb_breaker_record`
/// and `cb_breaker_drop` refuse it with `CB_STATUS_PERMIT_SETTLED`. NULL reads as settled
/// (nothing to settle). Safe to call from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn cb_permit_is_settled(permit: *const cb_permit) -> bool {
    // SAFETY: `as_ref` checks NULL; a non-NULL pointer is a readable `cb_permit` by contract.
    unsafe { permit.as_ref() }.is_none_or(|p| p.to_call().is_settled())
}

/// Whether the core times the call of `*permit` (the slow-call rule is on, or it came from
/// `cb_breaker_begin` with `sink` true): then `cb_breaker_record` with `CB_DURATION_NONE`
/// reports its duration. NULL reads as untimed. Safe to call from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn cb_permit_is_timed(permit: *const cb_permit) -> bool {
    // SAFETY: as in `cb_permit_is_settled`.
    unsafe { permit.as_ref() }.is_some_and(|p| p.to_call().is_timed())
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

/// Opens the circuit by hand, as an automatic trip would (`CB_CAUSE_TRIP`): the deadline is
/// this trip's open duration, and the breaker moves to half-open by itself after it (unlike
/// `cb_breaker_force_open`). From closed, disabled or metrics-only it is the first trip of a
/// run; from open, half-open or forced open one more consecutive trip (the backoff grows).
/// The window is kept.
///
/// Always one transition (written to `*transition_out` if not NULL, `occurred` true).
/// Errors: `CB_STATUS_NULL_PARAMETER` (`breaker` NULL; nothing changed). Safe to call
/// concurrently.
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_trip(
    breaker: *const cb_breaker,
    now_ms: u64,
    transition_out: *mut cb_transition,
) -> cb_status {
    manual(breaker, transition_out, |b| b.trip(Millis(now_ms)))
}

/// Moves the circuit to half-open by hand (`CB_CAUSE_HALF_OPEN`): probes are admitted (up to
/// `half_open_max_calls`) as after an open deadline, and their outcomes close or re-open
/// it. A new generation: permits issued before it are stale. The backoff is kept.
///
/// Always one transition (written to `*transition_out` if not NULL, `occurred` true).
/// Errors: `CB_STATUS_NULL_PARAMETER` (`breaker` NULL; nothing changed). Safe to call
/// concurrently.
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_half_open(
    breaker: *const cb_breaker,
    now_ms: u64,
    transition_out: *mut cb_transition,
) -> cb_status {
    manual(breaker, transition_out, |b| b.half_open(Millis(now_ms)))
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

#[cfg(all(test, feature = "std"))]
mod tests {
    use core::ptr;

    use super::*;
    use crate::config::cb_config;
    use crate::names::{
        CB_OUTCOME_FAILURE, CB_OUTCOME_SUCCESS, CB_OUTCOME_TIMEOUT, CB_REJECT_FORCED_OPEN,
        CB_REJECT_HALF_OPEN_FULL, CB_REJECT_OPEN, CB_WINDOW_KIND_CONSECUTIVE,
    };
    use crate::placement::{cb_breaker_free, cb_breaker_new};
    use crate::status::CB_STATUS_NULL_PARAMETER;

    struct Owned(*mut cb_breaker);
    impl Drop for Owned {
        fn drop(&mut self) {
            assert_eq!(cb_breaker_free(self.0), CB_STATUS_OK);
        }
    }

    fn breaker(edit: impl FnOnce(&mut cb_config)) -> Owned {
        let mut c = cb_config::defaults();
        edit(&mut c);
        let mut b = ptr::null_mut();
        assert_eq!(cb_breaker_new(&c, &mut b), CB_STATUS_OK);
        Owned(b)
    }

    fn acquire(b: &Owned, now: u64, sink: bool) -> cb_permit {
        let mut p = cb_permit {
            bits: 0,
            flags: 0,
            started_ms: 0,
        };
        assert_eq!(
            cb_breaker_begin(
                b.0,
                now,
                sink,
                &mut p,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut()
            ),
            CB_STATUS_OK
        );
        p
    }

    #[test]
    fn a_permit_settles_once() {
        let b = breaker(|_| {});
        let mut p = acquire(&b, 0, false);
        assert!(!cb_permit_is_settled(&p) && !cb_permit_is_timed(&p));
        let mut d = 7;
        assert_eq!(
            cb_breaker_record(
                b.0,
                &mut p,
                CB_OUTCOME_SUCCESS,
                CB_DURATION_NONE,
                1,
                &mut d,
                ptr::null_mut()
            ),
            CB_STATUS_OK
        );
        assert_eq!(d, CB_DURATION_NONE, "an untimed call reports no duration");
        assert!(cb_permit_is_settled(&p));
        let mut t = cb_transition::from_core(None);
        t.at_ms = 99;
        d = 7;
        assert_eq!(
            cb_breaker_record(b.0, &mut p, CB_OUTCOME_FAILURE, 5, 2, &mut d, &mut t),
            CB_STATUS_PERMIT_SETTLED
        );
        assert_eq!(cb_breaker_drop(b.0, &mut p, 3), CB_STATUS_PERMIT_SETTLED);
        assert_eq!((d, t.at_ms), (7, 99), "outputs written on an error");
        // SAFETY: a live breaker from `cb_breaker_new`.
        let s = unsafe { &*b.0 }.inner.snapshot(Millis(3));
        assert_eq!((s.calls, s.successes, s.failures), (1, 1, 0));
        // A zeroed permit was never issued: nothing to settle.
        let mut zero = cb_permit {
            bits: 0,
            flags: 0,
            started_ms: 0,
        };
        assert!(cb_permit_is_settled(&zero) && cb_permit_is_settled(ptr::null()));
        assert_eq!(cb_breaker_drop(b.0, &mut zero, 4), CB_STATUS_PERMIT_SETTLED);
        assert_eq!(
            cb_breaker_drop(b.0, ptr::null_mut(), 4),
            CB_STATUS_NULL_PARAMETER
        );
        // A bad outcome leaves the permit pending.
        let mut q = acquire(&b, 5, false);
        assert_eq!(
            cb_breaker_record(
                b.0,
                &mut q,
                5,
                CB_DURATION_NONE,
                5,
                ptr::null_mut(),
                ptr::null_mut()
            ),
            CB_STATUS_INVALID_ARGUMENT
        );
        assert!(!cb_permit_is_settled(&q));
        assert_eq!(cb_breaker_drop(b.0, &mut q, 6), CB_STATUS_OK);
    }

    #[test]
    fn durations_follow_the_core_timing_rule() {
        // Slow rule on: try_acquire's permits are timed; the core reports the duration.
        let b = breaker(|c| {
            c.slow_call_rate_threshold = 50;
            c.slow_call_duration_ms = 100;
        });
        let mut p = cb_permit {
            bits: 0,
            flags: 0,
            started_ms: 0,
        };
        assert_eq!(
            cb_breaker_try_acquire(
                b.0,
                10,
                &mut p,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut()
            ),
            CB_STATUS_OK
        );
        assert!(cb_permit_is_timed(&p));
        let mut d = 0;
        assert_eq!(
            cb_breaker_record(
                b.0,
                &mut p,
                CB_OUTCOME_TIMEOUT,
                CB_DURATION_NONE,
                260,
                &mut d,
                ptr::null_mut()
            ),
            CB_STATUS_OK
        );
        assert_eq!(d, 250);
        // A measurement the caller passes is reported as given.
        let mut p = acquire(&b, 300, false);
        assert_eq!(
            cb_breaker_record(
                b.0,
                &mut p,
                CB_OUTCOME_SUCCESS,
                40,
                900,
                &mut d,
                ptr::null_mut()
            ),
            CB_STATUS_OK
        );
        assert_eq!(d, 40);
        // Or no duration at all: never slow.
        let mut p = acquire(&b, 1000, false);
        assert_eq!(
            cb_breaker_record(
                b.0,
                &mut p,
                CB_OUTCOME_SUCCESS,
                CB_DURATION_UNTIMED,
                5000,
                &mut d,
                ptr::null_mut()
            ),
            CB_STATUS_OK
        );
        assert_eq!(d, CB_DURATION_NONE);
        // SAFETY: a live breaker from `cb_breaker_new`.
        let s = unsafe { &*b.0 }.inner.snapshot(Millis(5000));
        assert_eq!(
            (s.failures, s.successes, s.slow),
            (1, 2, 1),
            "timeout = failure, slow"
        );

        // Slow rule off: untimed, unless the caller feeds a sink.
        let b = breaker(|_| {});
        let mut p = acquire(&b, 10, false);
        assert!(!cb_permit_is_timed(&p));
        let mut q = acquire(&b, 10, true);
        assert!(cb_permit_is_timed(&q));
        assert_eq!(cb_breaker_drop(b.0, &mut p, 20), CB_STATUS_OK);
        assert_eq!(
            cb_breaker_record(
                b.0,
                &mut q,
                CB_OUTCOME_CANCELLED,
                CB_DURATION_NONE,
                30,
                &mut d,
                ptr::null_mut()
            ),
            CB_STATUS_OK
        );
        assert_eq!(d, 20);
    }

    #[test]
    fn rejections_carry_the_reason() {
        let b = breaker(|c| {
            c.window_kind = CB_WINDOW_KIND_CONSECUTIVE;
            c.consecutive_failures = 1;
            c.open_duration_ms = 1000;
        });
        let mut p = acquire(&b, 0, false);
        assert_eq!(
            cb_breaker_record(
                b.0,
                &mut p,
                CB_OUTCOME_FAILURE,
                CB_DURATION_NONE,
                0,
                ptr::null_mut(),
                ptr::null_mut()
            ),
            CB_STATUS_OK
        );
        let reject = |now| {
            let mut q = cb_permit {
                bits: 1,
                flags: 2,
                started_ms: 3,
            };
            let (mut retry, mut reason) = (0, 99);
            let s =
                cb_breaker_try_acquire(b.0, now, &mut q, &mut retry, &mut reason, ptr::null_mut());
            assert_eq!(
                (s, q.bits, q.flags, q.started_ms),
                (CB_STATUS_REJECTED, 1, 2, 3)
            );
            (retry, reason)
        };
        assert_eq!(reject(400), (600, CB_REJECT_OPEN));
        let _probe = acquire(&b, 1000, false);
        assert_eq!(reject(1001), (1000, CB_REJECT_HALF_OPEN_FULL));
        assert_eq!(
            cb_breaker_force_open(b.0, 1002, ptr::null_mut()),
            CB_STATUS_OK
        );
        assert_eq!(reject(1003), (CB_RETRY_AFTER_NONE, CB_REJECT_FORCED_OPEN));
        // Granted: the rejection outputs are untouched.
        assert_eq!(cb_breaker_reset(b.0, 1004, ptr::null_mut()), CB_STATUS_OK);
        let (mut retry, mut reason) = (5, 6);
        let mut q = cb_permit {
            bits: 0,
            flags: 0,
            started_ms: 0,
        };
        assert_eq!(
            cb_breaker_try_acquire(b.0, 1005, &mut q, &mut retry, &mut reason, ptr::null_mut()),
            CB_STATUS_OK
        );
        assert_eq!((retry, reason), (5, 6));
    }
}
