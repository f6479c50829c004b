//! Every conformance vector (`tests/vectors/*.json` and every `*.json` in the directories of
//! `CBREAKER_VECTORS`) through the C ABI: a [`Subject`] over the exported `extern "C"`
//! functions, exactly as a C caller sees them.
//!
//! The C ABI must agree with the Rust core exactly: every vector passes, except those listed
//! in [`KNOWN_CORE_BUGS`] (the core's own list in `tests/tests/vectors.rs`), which the C ABI
//! must then fail in the very same way as the core.

use std::ffi::CStr;
use std::ptr;

use cb::*;
use cbreaker::ConfigError;
use cbreaker_conformance::{
    AcquireResult, CoreSubject, ManualOp, OutcomeKind, Subject, Vector, VectorConfig, VectorWindow,
    load_vectors, run_vector,
};
use serde_json::{Map, Value};

/// A breaker made with `cb_breaker_new`, freed with `cb_breaker_free`.
struct CSubject(*mut cb_breaker);

impl Drop for CSubject {
    fn drop(&mut self) {
        assert_eq!(cb_breaker_free(self.0), CB_STATUS_OK);
    }
}

fn name(state: cb_state) -> String {
    // SAFETY: cb_state_str returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(cb_state_str(state)) }
        .to_str()
        .unwrap()
        .to_string()
}

fn transitions(t: &cb_transition) -> Vec<String> {
    if t.occurred {
        vec![format!("{}->{}", name(t.from), name(t.to))]
    } else {
        Vec::new()
    }
}

fn fit<T: TryFrom<u64>>(v: Option<u64>, default: T, field: &str) -> Result<T, String> {
    v.map_or(Ok(default), |v| {
        T::try_from(v).map_err(|_| field.to_string())
    })
}

/// The vector config as a `cb_config`, starting from `cb_config_default` and setting what the
/// vector names (absent keys take the documented defaults, as in every binding).
fn c_config(v: &VectorConfig) -> Result<cb_config, String> {
    let mut c = std::mem::MaybeUninit::<cb_config>::uninit();
    assert_eq!(cb_config_default(c.as_mut_ptr()), CB_STATUS_OK);
    // SAFETY: cb_config_default returned OK, so it wrote the whole struct.
    let mut c = unsafe { c.assume_init() };
    match v.window {
        VectorWindow::Count { size } => {
            c.window_kind = CB_WINDOW_KIND_COUNT;
            c.window_size = fit(Some(size), 0, "window.size")?;
        }
        VectorWindow::Time {
            duration_ms,
            buckets,
        } => {
            c.window_kind = CB_WINDOW_KIND_TIME;
            c.window_duration_ms = duration_ms;
            c.window_buckets = fit(Some(buckets), 0, "window.buckets")?;
        }
        VectorWindow::Consecutive => c.window_kind = CB_WINDOW_KIND_CONSECUTIVE,
    }
    c.failure_rate_threshold = fit(v.failure_rate_threshold, 50, "failure_rate_threshold")?;
    c.slow_call_rate_threshold = fit(v.slow_call_rate_threshold, 0, "slow_call_rate_threshold")?;
    c.slow_call_duration_ms = v.slow_call_duration_ms.unwrap_or(60_000);
    c.consecutive_failures = fit(v.consecutive_failures, 0, "consecutive_failures")?;
    c.minimum_calls = v
        .minimum_calls
        .map_or(100, |m| u32::try_from(m).unwrap_or(u32::MAX));
    c.open_duration_ms = v.open_duration_ms.unwrap_or(60_000);
    c.open_duration_max_ms = v.open_duration_max_ms.unwrap_or(0);
    c.open_duration_multiplier = v.open_duration_multiplier.unwrap_or(1.0);
    c.jitter_percent = fit(v.jitter_percent, 0, "jitter_percent")?;
    c.jitter_seed = v.jitter_seed.unwrap_or(0);
    c.half_open_max_calls = fit(v.half_open_max_calls, 1, "half_open_max_calls")?;
    c.success_threshold = fit(v.success_threshold, 1, "success_threshold")?;
    c.half_open_max_wait_ms = v.half_open_max_wait_ms.unwrap_or(60_000);
    Ok(c)
}

/// The field a config status names (the `ConfigError::field()` spelling).
fn field_of(status: cb_status) -> String {
    ConfigError::ALL
        .iter()
        .find(|e| config_status(**e) == status)
        .map_or_else(|| format!("status {status}"), |e| e.field().to_string())
}

fn ok(status: cb_status) {
    assert_eq!(status, CB_STATUS_OK, "{}", status_message(status));
}

impl Subject for CSubject {
    fn new(config: &VectorConfig) -> Result<Self, String> {
        let c = c_config(config)?;
        let mut b = ptr::null_mut();
        match cb_breaker_new(&c, &mut b) {
            CB_STATUS_OK => Ok(CSubject(b)),
            status => Err(field_of(status)),
        }
    }

    fn acquire(&mut self, now: u64) -> AcquireResult {
        let mut permit = cb_permit { bits: 0 };
        let mut retry = 0u64;
        let mut t = cb_transition::from_core(None);
        match cb_breaker_try_acquire(self.0, now, &mut permit, &mut retry, &mut t) {
            CB_STATUS_OK => AcquireResult::Permitted {
                permit: permit.bits,
                transitions: transitions(&t),
            },
            CB_STATUS_REJECTED => AcquireResult::Rejected {
                retry_after_ms: (retry != CB_RETRY_AFTER_NONE).then_some(retry),
            },
            other => panic!("cb_breaker_try_acquire: {}", status_message(other)),
        }
    }

    fn record(
        &mut self,
        permit: u32,
        outcome: OutcomeKind,
        duration_ms: Option<u64>,
        now: u64,
    ) -> Vec<String> {
        let outcome = match outcome {
            OutcomeKind::Success => CB_OUTCOME_SUCCESS,
            OutcomeKind::Failure => CB_OUTCOME_FAILURE,
            OutcomeKind::Ignored => CB_OUTCOME_IGNORED,
        };
        let mut t = cb_transition::from_core(None);
        let duration = duration_ms.unwrap_or(CB_DURATION_NONE);
        ok(cb_breaker_record(
            self.0,
            cb_permit { bits: permit },
            outcome,
            duration,
            now,
            &mut t,
        ));
        transitions(&t)
    }

    fn drop_permit(&mut self, permit: u32, now: u64) -> Vec<String> {
        ok(cb_breaker_drop(self.0, cb_permit { bits: permit }, now));
        Vec::new()
    }

    fn state(&mut self, now: u64) -> String {
        let mut s = 0;
        ok(cb_breaker_state(self.0, now, &mut s));
        name(s)
    }

    fn snapshot(&mut self, now: u64) -> Map<String, Value> {
        let mut s = std::mem::MaybeUninit::<cb_snapshot>::uninit();
        ok(cb_breaker_snapshot(self.0, now, s.as_mut_ptr()));
        // SAFETY: cb_breaker_snapshot returned OK, so it wrote the whole struct.
        let s = unsafe { s.assume_init() };
        let mut m = Map::new();
        for (k, v) in [
            ("calls", s.calls),
            ("successes", s.successes),
            ("failures", s.failures),
            ("ignored", s.ignored),
            ("slow", s.slow),
            ("rejected", s.rejected),
            ("window_calls", u64::from(s.window_calls)),
            ("window_failures", u64::from(s.window_failures)),
            ("window_slow", u64::from(s.window_slow)),
            ("consecutive_failures", u64::from(s.consecutive_failures)),
        ] {
            m.insert(k.into(), v.into());
        }
        m.insert("failure_rate".into(), s.failure_rate.into());
        m.insert("slow_rate".into(), s.slow_rate.into());
        m.insert("state".into(), name(s.state).into());
        let retry = if s.retry_after_ms == CB_RETRY_AFTER_NONE {
            Value::Null
        } else {
            s.retry_after_ms.into()
        };
        m.insert("retry_after_ms".into(), retry);
        m
    }

    fn manual(&mut self, op: ManualOp, now: u64) -> Vec<String> {
        let f = match op {
            ManualOp::ForceOpen => cb_breaker_force_open,
            ManualOp::ForceClosed => cb_breaker_force_closed,
            ManualOp::MetricsOnly => cb_breaker_metrics_only,
            ManualOp::Reset => cb_breaker_reset,
        };
        let mut t = cb_transition::from_core(None);
        ok(f(self.0, now, &mut t));
        transitions(&t)
    }
}

/// Vectors the Rust core fails because of a reported core bug (kept in step with `CORE_BUGS`
/// in `tests/tests/vectors.rs`). Once the core passes one, the C ABI must pass it too.
const KNOWN_CORE_BUGS: &[&str] = &[
    "snapshot_reports_the_run_with_the_consecutive_rule_off",
    "time_window_counts_outcomes_after_long_idle",
    "time_window_first_outcome_counts_at_any_time",
];

fn vectors() -> Vec<Vector> {
    load_vectors()
        .unwrap_or_else(|errors| panic!("vectors that do not parse:\n  {}", errors.join("\n  ")))
}

#[test]
fn every_vector_through_the_c_abi() {
    let all = vectors();
    assert!(!all.is_empty(), "no vectors found");
    let mut failures = Vec::new();
    let mut core_bugs = Vec::new();
    for v in &all {
        let c = run_vector::<CSubject>(v).err().map(|f| f.to_string());
        let core = run_vector::<CoreSubject>(v).err().map(|f| f.to_string());
        match (c, core) {
            (None, None) => {}
            (Some(c), Some(core)) if c == core && KNOWN_CORE_BUGS.contains(&v.name.as_str()) => {
                core_bugs.push(v.name.clone());
            }
            (c, core) => failures.push(format!("{}: C ABI {c:?}, Rust core {core:?}", v.name)),
        }
    }
    println!(
        "conformance-c: {} vectors, {} passed, {} failed the same way as the Rust core (core bugs: {})",
        all.len(),
        all.len() - core_bugs.len() - failures.len(),
        core_bugs.len(),
        core_bugs.join(", ")
    );
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed through the C ABI:\n  {}",
        failures.len(),
        all.len(),
        failures.join("\n  ")
    );
}
