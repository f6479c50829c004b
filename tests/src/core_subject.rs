//! [`Subject`] over the Rust core, and the vector-config → [`cbreaker::Config`] conversion.

use cbreaker::{
    Breaker, Call, Config, End, HealthStatus, MAX_SLOTS, Millis, Outcome, Permit, PermitSettled,
    Rejected, Snapshot, Transition, WindowKind,
};
use serde_json::{Map, Value};

use crate::runner::{AcquireResult, Finished, Subject};
use crate::vector::{EndKind, ManualOp, OutcomeKind, VectorConfig, VectorWindow};

/// Converts a vector config to the core's [`Config`]: the preset named (or
/// `Config::default()`), then every key the vector gives.
///
/// # Errors
/// A value that does not fit the field's type at all is reported like a range error, with
/// the field spelled as `ConfigError::field()`; an unknown preset as `preset`.
pub fn core_config(c: &VectorConfig) -> Result<Config, String> {
    fn fit<T: TryFrom<u64>>(v: Option<u64>, default: T, field: &str) -> Result<T, String> {
        match v {
            None => Ok(default),
            Some(v) => T::try_from(v).map_err(|_| field.to_string()),
        }
    }
    let base = match &c.preset {
        None => Config::default(),
        Some(name) => Config::preset(name).ok_or_else(|| "preset".to_string())?,
    };
    let window = match c.window {
        None => base.window,
        Some(VectorWindow::Count { size }) => WindowKind::Count {
            size: fit(Some(size), 0, "window.size")?,
        },
        Some(VectorWindow::Time {
            duration_ms,
            buckets,
        }) => WindowKind::Time {
            duration: Millis(duration_ms),
            buckets: fit(Some(buckets), 0, "window.buckets")?,
        },
        Some(VectorWindow::Consecutive) => WindowKind::Consecutive,
    };
    let ms = |v: Option<u64>, d: Millis| v.map_or(d, Millis);
    Ok(Config {
        window,
        failure_rate_threshold: fit(
            c.failure_rate_threshold,
            base.failure_rate_threshold,
            "failure_rate_threshold",
        )?,
        slow_call_rate_threshold: fit(
            c.slow_call_rate_threshold,
            base.slow_call_rate_threshold,
            "slow_call_rate_threshold",
        )?,
        slow_call_duration: ms(c.slow_call_duration_ms, base.slow_call_duration),
        consecutive_failures: fit(
            c.consecutive_failures,
            base.consecutive_failures,
            "consecutive_failures",
        )?,
        // Larger than any window: the same as u32::MAX for every rule.
        minimum_calls: c
            .minimum_calls
            .map_or(base.minimum_calls, |m| u32::try_from(m).unwrap_or(u32::MAX)),
        open_duration: ms(c.open_duration_ms, base.open_duration),
        open_duration_max: ms(c.open_duration_max_ms, base.open_duration_max),
        open_duration_multiplier: c
            .open_duration_multiplier
            .unwrap_or(base.open_duration_multiplier),
        jitter_percent: fit(c.jitter_percent, base.jitter_percent, "jitter_percent")?,
        jitter_seed: c.jitter_seed.unwrap_or(base.jitter_seed),
        half_open_max_calls: fit(
            c.half_open_max_calls,
            base.half_open_max_calls,
            "half_open_max_calls",
        )?,
        success_threshold: fit(
            c.success_threshold,
            base.success_threshold,
            "success_threshold",
        )?,
        half_open_max_wait: ms(c.half_open_max_wait_ms, base.half_open_max_wait),
    })
}

/// A built [`Config`] as a `config` step reads it (the vector's keys, durations in ms).
#[must_use]
pub fn config_map(c: &Config) -> Map<String, Value> {
    let mut m = Map::new();
    let window = match c.window {
        WindowKind::Count { size } => serde_json::json!({"kind": "count", "size": size}),
        WindowKind::Time { duration, buckets } => {
            serde_json::json!({"kind": "time", "duration_ms": duration.0, "buckets": buckets})
        }
        WindowKind::Consecutive => serde_json::json!({"kind": "consecutive"}),
    };
    m.insert("window".into(), window);
    m.insert(
        "failure_rate_threshold".into(),
        c.failure_rate_threshold.into(),
    );
    m.insert(
        "slow_call_rate_threshold".into(),
        c.slow_call_rate_threshold.into(),
    );
    m.insert(
        "slow_call_duration_ms".into(),
        c.slow_call_duration.0.into(),
    );
    m.insert("consecutive_failures".into(), c.consecutive_failures.into());
    m.insert("minimum_calls".into(), c.minimum_calls.into());
    m.insert("open_duration_ms".into(), c.open_duration.0.into());
    m.insert("open_duration_max_ms".into(), c.open_duration_max.0.into());
    m.insert(
        "open_duration_multiplier".into(),
        c.open_duration_multiplier.into(),
    );
    m.insert("jitter_percent".into(), c.jitter_percent.into());
    m.insert("jitter_seed".into(), c.jitter_seed.into());
    m.insert("half_open_max_calls".into(), c.half_open_max_calls.into());
    m.insert("success_threshold".into(), c.success_threshold.into());
    m.insert(
        "half_open_max_wait_ms".into(),
        c.half_open_max_wait.0.into(),
    );
    m
}

/// The core's [`End`] for a vector end.
#[must_use]
pub const fn core_end(e: EndKind) -> End {
    match e {
        EndKind::Success => End::Success,
        EndKind::Failure => End::Failure,
        EndKind::Ignored => End::Ignored,
        EndKind::Timeout => End::TimedOut,
        EndKind::Cancelled => End::Cancelled,
    }
}

/// The core's [`Outcome`] for a vector outcome.
#[must_use]
pub const fn core_outcome(o: OutcomeKind) -> Outcome {
    match o {
        OutcomeKind::Success => Outcome::Success,
        OutcomeKind::Failure => Outcome::Failure,
        OutcomeKind::Ignored => Outcome::Ignored,
    }
}

/// `"from->to:cause"`, as subjects report transitions.
#[must_use]
pub fn transition_name(t: &Transition) -> String {
    format!("{}->{}:{}", t.from.name(), t.to.name(), t.cause.name())
}

fn names(t: Option<Transition>) -> Vec<String> {
    t.map(|t| transition_name(&t)).into_iter().collect()
}

/// A [`Snapshot`]'s vector keys (see [`SNAPSHOT_KEYS`](crate::SNAPSHOT_KEYS)).
#[must_use]
pub fn snapshot_map(s: &Snapshot) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("calls".into(), s.calls.into());
    m.insert("successes".into(), s.successes.into());
    m.insert("failures".into(), s.failures.into());
    m.insert("ignored".into(), s.ignored.into());
    m.insert("slow".into(), s.slow.into());
    m.insert("rejected".into(), s.rejected.into());
    m.insert("window_calls".into(), s.window_calls.into());
    m.insert("window_failures".into(), s.window_failures.into());
    m.insert("window_slow".into(), s.window_slow.into());
    m.insert("failure_rate".into(), s.failure_rate.into());
    m.insert("slow_rate".into(), s.slow_rate.into());
    m.insert("consecutive_failures".into(), s.consecutive_failures.into());
    m.insert("state".into(), s.state.name().into());
    m.insert(
        "retry_after_ms".into(),
        s.retry_after.map_or(Value::Null, |r| r.0.into()),
    );
    m
}

/// A rejection as the runner reads it.
#[must_use]
pub(crate) fn rejected(r: &Rejected) -> AcquireResult {
    AcquireResult::Rejected {
        retry_after_ms: r.retry_after.map(|m| m.0),
        reason: r.reason.name().to_string(),
    }
}

/// The Rust core with room for every window the config allows, and the calls `begin` gave.
pub struct CoreSubject(pub Breaker<MAX_SLOTS>, pub Vec<Call>);

impl Subject for CoreSubject {
    fn new(config: &VectorConfig) -> Result<Self, String> {
        let config = core_config(config)?;
        Breaker::new(config)
            .map(|b| CoreSubject(b, Vec::new()))
            .map_err(|e| e.field().to_string())
    }

    fn acquire(&mut self, now: u64) -> AcquireResult {
        match self.0.try_acquire(Millis(now)) {
            Ok(a) => AcquireResult::Permitted {
                permit: a.permit.to_bits(),
                transitions: names(a.transition),
                timed: false,
            },
            Err(r) => rejected(&r),
        }
    }

    fn begin(&mut self, now: u64, sink: bool) -> AcquireResult {
        match self.0.begin(Millis(now), sink) {
            Ok(b) => {
                self.1.push(b.call);
                AcquireResult::Permitted {
                    permit: (self.1.len() - 1) as u32,
                    transitions: names(b.transition),
                    timed: b.call.is_timed(),
                }
            }
            Err(r) => rejected(&r),
        }
    }

    fn finish(&mut self, call: u32, end: EndKind, now: u64) -> Result<Finished, String> {
        let call = &mut self.1[call as usize];
        match self.0.finish(call, core_end(end), Millis(now)) {
            Ok(done) => Ok(Finished {
                duration_ms: done.duration.map(|d| d.0),
                transitions: names(done.transition),
            }),
            Err(PermitSettled) => Err(PermitSettled::CODE.to_string()),
        }
    }

    fn health(&mut self, now: u64) -> String {
        HealthStatus::of(self.0.state(Millis(now)))
            .name()
            .to_string()
    }

    fn config(&mut self) -> Map<String, Value> {
        config_map(&self.0.config())
    }

    fn record(
        &mut self,
        permit: u32,
        outcome: OutcomeKind,
        duration_ms: Option<u64>,
        now: u64,
    ) -> Vec<String> {
        names(self.0.record(
            Permit::from_bits(permit),
            core_outcome(outcome),
            duration_ms.map(Millis),
            Millis(now),
        ))
    }

    fn drop_permit(&mut self, permit: u32, now: u64) -> Vec<String> {
        self.0.release(Permit::from_bits(permit), Millis(now));
        Vec::new()
    }

    fn state(&mut self, now: u64) -> String {
        self.0.state(Millis(now)).name().to_string()
    }

    fn snapshot(&mut self, now: u64) -> Map<String, Value> {
        snapshot_map(&self.0.snapshot(Millis(now)))
    }

    fn manual(&mut self, op: ManualOp, now: u64) -> Vec<String> {
        let now = Millis(now);
        let t = match op {
            ManualOp::ForceOpen => self.0.force_open(now),
            ManualOp::ForceClosed => self.0.force_closed(now),
            ManualOp::MetricsOnly => self.0.metrics_only(now),
            ManualOp::Reset => self.0.reset(now),
            ManualOp::Trip => self.0.trip(now),
            ManualOp::HalfOpen => self.0.half_open(now),
        };
        names(Some(t))
    }
}
