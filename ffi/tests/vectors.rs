//! Every conformance vector (`tests/vectors/*.json` and every `*.json` in the directories of
//! `CBREAKER_VECTORS`) through the C ABI: a [`Subject`] over the exported `extern "C"`
//! functions, exactly as a C caller sees them.
//!
//! The C ABI must agree with the Rust core exactly: every vector passes, except those listed
//! in [`KNOWN_CORE_BUGS`] (the core's own list in `tests/tests/vectors.rs`), which the C ABI
//! must then fail in the very same way as the core.

use std::ffi::{CStr, CString, c_char};
use std::ptr;

use cb::*;
use cbreaker::{ConfigError, PermitSettled};
use cbreaker_conformance::{
    AcquireResult, CoreSubject, EndKind, Finished, ManualOp, OutcomeKind, Subject, Vector,
    VectorConfig, VectorWindow, load_vectors, run_vector,
};
use serde_json::{Map, Value, json};

/// A breaker made with `cb_breaker_new`, freed with `cb_breaker_free`, and the permits its
/// `cb_breaker_try_acquire` / `cb_breaker_begin` gave (a handle is an index).
struct CSubject(*mut cb_breaker, Vec<cb_permit>);

impl Drop for CSubject {
    fn drop(&mut self) {
        assert_eq!(cb_breaker_free(self.0), CB_STATUS_OK);
    }
}

fn text(p: *const c_char) -> String {
    // SAFETY: the *_str functions return static NUL-terminated strings.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string()
}

fn transitions(t: &cb_transition) -> Vec<String> {
    if t.occurred {
        vec![format!(
            "{}->{}:{}",
            text(cb_state_str(t.from)),
            text(cb_state_str(t.to)),
            text(cb_cause_str(t.cause))
        )]
    } else {
        Vec::new()
    }
}

fn fit<T: TryFrom<u64>>(v: Option<u64>, field: &str) -> Result<Option<T>, String> {
    v.map(|v| T::try_from(v).map_err(|_| field.to_string()))
        .transpose()
}

fn set<T>(field: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *field = v;
    }
}

/// The vector config as a `cb_config`: `cb_config_preset` (or `cb_config_default`), then
/// every key the vector gives. The C ABI is the one source of the starting values.
fn c_config(v: &VectorConfig) -> Result<cb_config, String> {
    let mut c = std::mem::MaybeUninit::<cb_config>::uninit();
    match &v.preset {
        None => assert_eq!(cb_config_default(c.as_mut_ptr()), CB_STATUS_OK),
        Some(name) => {
            let name = CString::new(name.as_str()).map_err(|_| "preset".to_string())?;
            match cb_config_preset(name.as_ptr(), c.as_mut_ptr()) {
                CB_STATUS_OK => {}
                CB_STATUS_INVALID_ARGUMENT => return Err("preset".into()),
                other => panic!("cb_config_preset: {}", status_message(other)),
            }
        }
    }
    // SAFETY: cb_config_default / cb_config_preset returned OK, so they wrote the whole struct.
    let mut c = unsafe { c.assume_init() };
    match v.window {
        None => {}
        Some(VectorWindow::Count { size }) => {
            c.window_kind = CB_WINDOW_KIND_COUNT;
            c.window_size = fit(Some(size), "window.size")?.unwrap();
        }
        Some(VectorWindow::Time {
            duration_ms,
            buckets,
        }) => {
            c.window_kind = CB_WINDOW_KIND_TIME;
            c.window_duration_ms = duration_ms;
            c.window_buckets = fit(Some(buckets), "window.buckets")?.unwrap();
        }
        Some(VectorWindow::Consecutive) => c.window_kind = CB_WINDOW_KIND_CONSECUTIVE,
    }
    set(
        &mut c.failure_rate_threshold,
        fit(v.failure_rate_threshold, "failure_rate_threshold")?,
    );
    set(
        &mut c.slow_call_rate_threshold,
        fit(v.slow_call_rate_threshold, "slow_call_rate_threshold")?,
    );
    set(&mut c.slow_call_duration_ms, v.slow_call_duration_ms);
    set(
        &mut c.consecutive_failures,
        fit(v.consecutive_failures, "consecutive_failures")?,
    );
    // Larger than any window: the same as u32::MAX for every rule.
    set(
        &mut c.minimum_calls,
        v.minimum_calls
            .map(|m| u32::try_from(m).unwrap_or(u32::MAX)),
    );
    set(&mut c.open_duration_ms, v.open_duration_ms);
    set(&mut c.open_duration_max_ms, v.open_duration_max_ms);
    set(&mut c.open_duration_multiplier, v.open_duration_multiplier);
    set(
        &mut c.jitter_percent,
        fit(v.jitter_percent, "jitter_percent")?,
    );
    set(&mut c.jitter_seed, v.jitter_seed);
    set(
        &mut c.half_open_max_calls,
        fit(v.half_open_max_calls, "half_open_max_calls")?,
    );
    set(
        &mut c.success_threshold,
        fit(v.success_threshold, "success_threshold")?,
    );
    set(&mut c.half_open_max_wait_ms, v.half_open_max_wait_ms);
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

const NO_PERMIT: cb_permit = cb_permit {
    bits: 0,
    flags: 0,
    started_ms: 0,
};

/// What `cb_breaker_try_acquire` / `cb_breaker_begin` wrote.
struct Decision {
    status: cb_status,
    permit: cb_permit,
    retry: u64,
    reason: cb_reject_reason,
    t: cb_transition,
}

impl Decision {
    fn new() -> Decision {
        Decision {
            status: CB_STATUS_PANIC,
            permit: NO_PERMIT,
            retry: 0,
            reason: 99,
            t: cb_transition::from_core(None),
        }
    }
}

impl CSubject {
    /// A decision as the runner reads it; a granted permit is kept under a new handle.
    fn decided(&mut self, d: &Decision, what: &str) -> AcquireResult {
        match d.status {
            CB_STATUS_OK => {
                self.1.push(d.permit);
                AcquireResult::Permitted {
                    permit: (self.1.len() - 1) as u32,
                    transitions: transitions(&d.t),
                    timed: cb_permit_is_timed(&d.permit),
                }
            }
            CB_STATUS_REJECTED => AcquireResult::Rejected {
                retry_after_ms: (d.retry != CB_RETRY_AFTER_NONE).then_some(d.retry),
                reason: text(cb_reject_reason_str(d.reason)),
            },
            other => panic!("{what}: {}", status_message(other)),
        }
    }

    /// Settles a permit; the duration reported and the transitions, or the error's code.
    fn settle(
        &mut self,
        handle: u32,
        outcome: cb_outcome,
        measured: u64,
        now: u64,
    ) -> Result<Finished, String> {
        let permit = &mut self.1[handle as usize];
        let mut duration = 0u64;
        let mut t = cb_transition::from_core(None);
        match cb_breaker_record(
            self.0,
            permit,
            outcome,
            measured,
            now,
            &mut duration,
            &mut t,
        ) {
            CB_STATUS_OK => Ok(Finished {
                duration_ms: (duration != CB_DURATION_NONE).then_some(duration),
                transitions: transitions(&t),
            }),
            CB_STATUS_PERMIT_SETTLED => Err(PermitSettled::CODE.to_string()),
            other => panic!("cb_breaker_record: {}", status_message(other)),
        }
    }
}

impl Subject for CSubject {
    fn new(config: &VectorConfig) -> Result<Self, String> {
        let c = c_config(config)?;
        let mut b = ptr::null_mut();
        match cb_breaker_new(&c, &mut b) {
            CB_STATUS_OK => Ok(CSubject(b, Vec::new())),
            status => Err(field_of(status)),
        }
    }

    fn acquire(&mut self, now: u64) -> AcquireResult {
        let mut d = Decision::new();
        d.status = cb_breaker_try_acquire(
            self.0,
            now,
            &mut d.permit,
            &mut d.retry,
            &mut d.reason,
            &mut d.t,
        );
        self.decided(&d, "cb_breaker_try_acquire")
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
        // The core's record verb: no duration_ms, no duration reported (not the core's timing).
        let measured = duration_ms.unwrap_or(CB_DURATION_UNTIMED);
        match self.settle(permit, outcome, measured, now) {
            Ok(done) => done.transitions,
            Err(code) => panic!("record: {code}"),
        }
    }

    fn drop_permit(&mut self, permit: u32, now: u64) -> Vec<String> {
        ok(cb_breaker_drop(self.0, &mut self.1[permit as usize], now));
        Vec::new()
    }

    fn state(&mut self, now: u64) -> String {
        let mut s = 0;
        ok(cb_breaker_state(self.0, now, &mut s));
        text(cb_state_str(s))
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
        m.insert("state".into(), text(cb_state_str(s.state)).into());
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
            ManualOp::Trip => cb_breaker_trip,
            ManualOp::HalfOpen => cb_breaker_half_open,
        };
        let mut t = cb_transition::from_core(None);
        ok(f(self.0, now, &mut t));
        transitions(&t)
    }

    fn begin(&mut self, now: u64, sink: bool) -> AcquireResult {
        let mut d = Decision::new();
        d.status = cb_breaker_begin(
            self.0,
            now,
            sink,
            &mut d.permit,
            &mut d.retry,
            &mut d.reason,
            &mut d.t,
        );
        self.decided(&d, "cb_breaker_begin")
    }

    fn finish(&mut self, call: u32, end: EndKind, now: u64) -> Result<Finished, String> {
        let outcome = match end {
            EndKind::Success => CB_OUTCOME_SUCCESS,
            EndKind::Failure => CB_OUTCOME_FAILURE,
            EndKind::Ignored => CB_OUTCOME_IGNORED,
            EndKind::Timeout => CB_OUTCOME_TIMEOUT,
            EndKind::Cancelled => CB_OUTCOME_CANCELLED,
        };
        self.settle(call, outcome, CB_DURATION_NONE, now)
    }

    fn health(&mut self, now: u64) -> String {
        let mut s = 0;
        ok(cb_breaker_state(self.0, now, &mut s));
        let mut h = 0;
        ok(cb_health_of(s, &mut h));
        text(cb_health_str(h))
    }

    fn config(&mut self) -> Map<String, Value> {
        let mut c = std::mem::MaybeUninit::<cb_config>::uninit();
        ok(cb_breaker_config(self.0, c.as_mut_ptr()));
        // SAFETY: cb_breaker_config returned OK, so it wrote the whole struct.
        let c = unsafe { c.assume_init() };
        let window = match c.window_kind {
            CB_WINDOW_KIND_COUNT => json!({"kind": "count", "size": c.window_size}),
            CB_WINDOW_KIND_TIME => {
                json!({"kind": "time", "duration_ms": c.window_duration_ms, "buckets": c.window_buckets})
            }
            CB_WINDOW_KIND_CONSECUTIVE => json!({"kind": "consecutive"}),
            other => panic!("cb_breaker_config: window kind {other}"),
        };
        let Value::Object(m) = json!({
            "window": window,
            "failure_rate_threshold": c.failure_rate_threshold,
            "slow_call_rate_threshold": c.slow_call_rate_threshold,
            "slow_call_duration_ms": c.slow_call_duration_ms,
            "consecutive_failures": c.consecutive_failures,
            "minimum_calls": c.minimum_calls,
            "open_duration_ms": c.open_duration_ms,
            "open_duration_max_ms": c.open_duration_max_ms,
            "open_duration_multiplier": c.open_duration_multiplier,
            "jitter_percent": c.jitter_percent,
            "jitter_seed": c.jitter_seed,
            "half_open_max_calls": c.half_open_max_calls,
            "success_threshold": c.success_threshold,
            "half_open_max_wait_ms": c.half_open_max_wait_ms,
        }) else {
            unreachable!()
        };
        m
    }
}

/// Vectors the Rust core fails because of a reported core bug (kept in step with `CORE_BUGS`
/// in `tests/tests/vectors.rs`). Once the core passes one, the C ABI must pass it too.
const KNOWN_CORE_BUGS: &[&str] = &[];

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
