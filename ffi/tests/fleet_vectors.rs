//! Every fleet vector (`tests/vectors/fleet/*.json`) with members that are C ABI breakers:
//! calls, refusals and states through the exported `extern "C"` functions, as a C caller
//! makes them; syncs through the core's sync flow on the breaker behind the handle, as
//! `cb_fleet_join`'s agent runs it (against the simulated store instead of Redis).

use std::ffi::CStr;
use std::ptr;

use cb::*;
use cbreaker::fleet::driver::Local;
use cbreaker::{Config, Outcome};
use cbreaker_conformance::fleet::{FleetSubject, load_fleet_vectors, run_fleet_vector_on};

/// A breaker from `cb_breaker_new`, freed on drop.
struct CFleetSubject(*mut cb_breaker);

impl Drop for CFleetSubject {
    fn drop(&mut self) {
        assert_eq!(cb_breaker_free(self.0), CB_STATUS_OK);
    }
}

fn c_config(c: &Config) -> cb_config {
    let mut out = std::mem::MaybeUninit::<cb_config>::uninit();
    assert_eq!(cb_config_default(out.as_mut_ptr()), CB_STATUS_OK);
    // SAFETY: cb_config_default returned OK, so it wrote the whole struct.
    let mut out = unsafe { out.assume_init() };
    match c.window {
        cbreaker::WindowKind::Count { size } => {
            out.window_kind = CB_WINDOW_KIND_COUNT;
            out.window_size = size;
        }
        cbreaker::WindowKind::Time { duration, buckets } => {
            out.window_kind = CB_WINDOW_KIND_TIME;
            out.window_duration_ms = duration.0;
            out.window_buckets = buckets;
        }
        cbreaker::WindowKind::Consecutive => out.window_kind = CB_WINDOW_KIND_CONSECUTIVE,
    }
    out.failure_rate_threshold = c.failure_rate_threshold;
    out.slow_call_rate_threshold = c.slow_call_rate_threshold;
    out.slow_call_duration_ms = c.slow_call_duration.0;
    out.consecutive_failures = c.consecutive_failures;
    out.minimum_calls = c.minimum_calls;
    out.open_duration_ms = c.open_duration.0;
    out.open_duration_max_ms = c.open_duration_max.0;
    out.open_duration_multiplier = c.open_duration_multiplier;
    out.jitter_percent = c.jitter_percent;
    out.jitter_seed = c.jitter_seed;
    out.half_open_max_calls = c.half_open_max_calls;
    out.success_threshold = c.success_threshold;
    out.half_open_max_wait_ms = c.half_open_max_wait.0;
    out
}

fn text(p: *const std::ffi::c_char) -> String {
    // SAFETY: the *_str functions return static NUL-terminated strings.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string()
}

impl FleetSubject for CFleetSubject {
    type Permit = cb_permit;

    fn new(config: Config) -> Result<Self, String> {
        let c = c_config(&config);
        let mut b = ptr::null_mut();
        match cb_breaker_new(&c, &mut b) {
            CB_STATUS_OK => Ok(CFleetSubject(b)),
            status => Err(text(cb_status_str(status))),
        }
    }

    fn acquire(&mut self, now: u64) -> Result<cb_permit, (String, Option<u64>)> {
        let mut permit = cb_permit {
            bits: 0,
            flags: 0,
            started_ms: 0,
        };
        let (mut retry, mut reason) = (0u64, 0);
        let status = cb_breaker_try_acquire(
            self.0,
            now,
            &mut permit,
            &mut retry,
            &mut reason,
            ptr::null_mut(),
        );
        match status {
            CB_STATUS_OK => Ok(permit),
            CB_STATUS_REJECTED => Err((
                text(cb_reject_reason_str(reason)),
                (retry != CB_RETRY_AFTER_NONE).then_some(retry),
            )),
            other => panic!("cb_breaker_try_acquire: {}", text(cb_status_str(other))),
        }
    }

    fn record(&mut self, mut permit: cb_permit, outcome: Outcome, now: u64) {
        let outcome = match outcome {
            Outcome::Success => CB_OUTCOME_SUCCESS,
            Outcome::Failure => CB_OUTCOME_FAILURE,
            Outcome::Ignored => CB_OUTCOME_IGNORED,
        };
        let status = cb_breaker_record(
            self.0,
            &mut permit,
            outcome,
            CB_DURATION_NONE,
            now,
            ptr::null_mut(),
            ptr::null_mut(),
        );
        assert_eq!(status, CB_STATUS_OK, "{}", text(cb_status_str(status)));
    }

    fn state(&self, now: u64) -> String {
        let mut state = 0;
        assert_eq!(cb_breaker_state(self.0, now, &mut state), CB_STATUS_OK);
        text(cb_state_str(state))
    }

    fn local(&self) -> &dyn Local {
        // SAFETY: a live breaker from `cb_breaker_new`, freed only on drop.
        unsafe { &*self.0 }.core()
    }
}

#[test]
fn every_fleet_vector_passes_through_the_c_abi() {
    let vectors = load_fleet_vectors()
        .unwrap_or_else(|e| panic!("fleet vectors that do not parse:\n  {}", e.join("\n  ")));
    assert!(vectors.len() >= 10);
    let failures: Vec<String> = vectors
        .iter()
        .filter_map(|v| {
            run_fleet_vector_on::<CFleetSubject>(v)
                .err()
                .map(|e| format!("{}: {e}", v.name))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n  {}",
        failures.len(),
        vectors.len(),
        failures.join("\n  ")
    );
}
