//! [`Subject`] over the Rust core, and the vector-config → [`cbreaker::Config`] conversion.

use cbreaker::{
    Breaker, Config, MAX_SLOTS, Millis, Outcome, Permit, Snapshot, State, Transition, WindowKind,
};
use serde_json::{Map, Value};

use crate::runner::{AcquireResult, Subject};
use crate::vector::{ManualOp, OutcomeKind, VectorConfig, VectorWindow};

/// Converts a vector config to the core's [`Config`], filling in the documented defaults.
///
/// # Errors
/// A value that does not fit the field's type at all is reported like a range error, with
/// the field spelled as `ConfigError::field()`.
pub fn core_config(c: &VectorConfig) -> Result<Config, String> {
    fn fit<T: TryFrom<u64>>(v: Option<u64>, default: T, field: &str) -> Result<T, String> {
        match v {
            None => Ok(default),
            Some(v) => T::try_from(v).map_err(|_| field.to_string()),
        }
    }
    let window = match c.window {
        VectorWindow::Count { size } => WindowKind::Count {
            size: fit(Some(size), 0, "window.size")?,
        },
        VectorWindow::Time {
            duration_ms,
            buckets,
        } => WindowKind::Time {
            duration: Millis(duration_ms),
            buckets: fit(Some(buckets), 0, "window.buckets")?,
        },
        VectorWindow::Consecutive => WindowKind::Consecutive,
    };
    Ok(Config {
        window,
        failure_rate_threshold: fit(c.failure_rate_threshold, 50, "failure_rate_threshold")?,
        slow_call_rate_threshold: fit(c.slow_call_rate_threshold, 0, "slow_call_rate_threshold")?,
        slow_call_duration: Millis(c.slow_call_duration_ms.unwrap_or(60_000)),
        consecutive_failures: fit(c.consecutive_failures, 0, "consecutive_failures")?,
        // Larger than any window: the same as u32::MAX for every rule.
        minimum_calls: c
            .minimum_calls
            .map_or(100, |m| u32::try_from(m).unwrap_or(u32::MAX)),
        open_duration: Millis(c.open_duration_ms.unwrap_or(60_000)),
        open_duration_max: Millis(c.open_duration_max_ms.unwrap_or(0)),
        open_duration_multiplier: c.open_duration_multiplier.unwrap_or(1.0),
        jitter_percent: fit(c.jitter_percent, 0, "jitter_percent")?,
        jitter_seed: c.jitter_seed.unwrap_or(0),
        half_open_max_calls: fit(c.half_open_max_calls, 1, "half_open_max_calls")?,
        success_threshold: fit(c.success_threshold, 1, "success_threshold")?,
        half_open_max_wait: Millis(c.half_open_max_wait_ms.unwrap_or(60_000)),
    })
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

/// `"from->to"`.
#[must_use]
pub fn transition_name(from: State, to: State) -> String {
    format!("{}->{}", from.name(), to.name())
}

fn names(t: Option<Transition>) -> Vec<String> {
    t.map(|t| transition_name(t.from, t.to))
        .into_iter()
        .collect()
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

/// The Rust core with room for every window the config allows.
pub struct CoreSubject(pub Breaker<MAX_SLOTS>);

impl Subject for CoreSubject {
    fn new(config: &VectorConfig) -> Result<Self, String> {
        let config = core_config(config)?;
        Breaker::new(config)
            .map(CoreSubject)
            .map_err(|e| e.field().to_string())
    }

    fn acquire(&mut self, now: u64) -> AcquireResult {
        match self.0.try_acquire(Millis(now)) {
            Ok(a) => AcquireResult::Permitted {
                permit: a.permit.to_bits(),
                transitions: names(a.transition),
            },
            Err(r) => AcquireResult::Rejected {
                retry_after_ms: r.retry_after.map(|m| m.0),
            },
        }
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
        };
        names(Some(t))
    }
}
