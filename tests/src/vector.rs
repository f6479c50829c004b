//! The vector file format, parsed into typed values. See `tests/vectors/README.md`.

use std::fmt;

use serde::Deserialize;
use serde_json::{Map, Value};

/// One conformance vector: a config and the steps to run against it, or a config that must
/// be refused.
#[derive(Clone, Debug)]
pub struct Vector {
    /// The behaviour it checks; equal to the file name without `.json`.
    pub name: String,
    /// Free text for people.
    pub description: Option<String>,
    /// The breaker's config.
    pub config: VectorConfig,
    /// What to do, in order. Empty for a config-error vector.
    pub steps: Vec<Step>,
    /// When set, building the breaker must fail naming this field (`ConfigError::field()`).
    pub expect_config_error: Option<String>,
}

/// The `config` object. Every number is kept as written (wide types), so that an out-of-range
/// value reaches the subject and is refused there, as it would be in C, Python or JS.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorConfig {
    /// The window; the one required key.
    pub window: VectorWindow,
    /// Percent, 0 = off. Default 50.
    pub failure_rate_threshold: Option<u64>,
    /// Percent, 0 = off. Default 0.
    pub slow_call_rate_threshold: Option<u64>,
    /// Default 60000.
    pub slow_call_duration_ms: Option<u64>,
    /// 0 = off. Default 0.
    pub consecutive_failures: Option<u64>,
    /// Default 100.
    pub minimum_calls: Option<u64>,
    /// Default 60000.
    pub open_duration_ms: Option<u64>,
    /// 0 = the limit. Default 0.
    pub open_duration_max_ms: Option<u64>,
    /// Default 1.0.
    pub open_duration_multiplier: Option<f64>,
    /// Default 0.
    pub jitter_percent: Option<u64>,
    /// Default 0.
    pub jitter_seed: Option<u64>,
    /// Default 1.
    pub half_open_max_calls: Option<u64>,
    /// Default 1.
    pub success_threshold: Option<u64>,
    /// Default 60000.
    pub half_open_max_wait_ms: Option<u64>,
}

/// The `window` object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum VectorWindow {
    /// `{"kind": "count", "size": N}`
    Count {
        /// How many outcomes.
        size: u64,
    },
    /// `{"kind": "time", "duration_ms": D, "buckets": B}`
    Time {
        /// The span covered.
        duration_ms: u64,
        /// How many buckets.
        buckets: u64,
    },
    /// `{"kind": "consecutive"}`
    Consecutive,
}

/// How a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutcomeKind {
    /// `"success"`
    Success,
    /// `"failure"`
    Failure,
    /// `"ignored"`
    Ignored,
}

impl OutcomeKind {
    /// The name used in vectors.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            OutcomeKind::Success => "success",
            OutcomeKind::Failure => "failure",
            OutcomeKind::Ignored => "ignored",
        }
    }

    fn parse(s: &str) -> Result<Self, String> {
        match s {
            "success" => Ok(OutcomeKind::Success),
            "failure" => Ok(OutcomeKind::Failure),
            "ignored" => Ok(OutcomeKind::Ignored),
            other => Err(format!("unknown outcome {other:?}")),
        }
    }
}

/// A manual control.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ManualOp {
    /// `force_open`
    ForceOpen,
    /// `force_closed` (state `disabled`)
    ForceClosed,
    /// `metrics_only`
    MetricsOnly,
    /// `reset`
    Reset,
}

impl ManualOp {
    /// The name used in vectors (the op name).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            ManualOp::ForceOpen => "force_open",
            ManualOp::ForceClosed => "force_closed",
            ManualOp::MetricsOnly => "metrics_only",
            ManualOp::Reset => "reset",
        }
    }
}

/// What an `acquire` step expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// `"permitted"`
    Permitted,
    /// `"rejected"`
    Rejected,
}

/// One operation of a step.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `try_acquire`.
    Acquire {
        /// `as`: the name later steps use for the permit.
        name: Option<String>,
        /// `expect`.
        expect: Decision,
        /// `retry_after_ms`: absent = not checked (`None`), `null` = `Some(None)`.
        retry_after_ms: Option<Option<u64>>,
    },
    /// `record` a named permit.
    Record {
        /// The `as` name of an earlier acquire.
        permit: String,
        /// How the call ended.
        outcome: OutcomeKind,
        /// The call's duration, if reported.
        duration_ms: Option<u64>,
    },
    /// Give a named permit back unrecorded (`release`).
    Drop {
        /// The `as` name of an earlier acquire.
        permit: String,
    },
    /// `times` × (acquire, then record at once when admitted).
    Call {
        /// How each call ends.
        outcome: OutcomeKind,
        /// Each call's duration, if reported.
        duration_ms: Option<u64>,
        /// How many calls (default 1).
        times: u32,
    },
    /// Check `state(now)`.
    State {
        /// `expect_state`.
        expect_state: String,
    },
    /// Check the named keys of `snapshot(now)`.
    Snapshot {
        /// `expect`: key → expected value.
        expect: Map<String, Value>,
    },
    /// A manual control.
    Manual(ManualOp),
}

impl Op {
    /// The op's name as written in vectors.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Op::Acquire { .. } => "acquire",
            Op::Record { .. } => "record",
            Op::Drop { .. } => "drop",
            Op::Call { .. } => "call",
            Op::State { .. } => "state",
            Op::Snapshot { .. } => "snapshot",
            Op::Manual(m) => m.name(),
        }
    }
}

/// One timed step.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// `at`: the `now` passed to the subject, in ms.
    pub at: u64,
    /// What to do.
    pub op: Op,
    /// `expect_transitions`: every transition the step caused, in order (`None` = unchecked).
    pub expect_transitions: Option<Vec<String>>,
}

/// The keys a `snapshot` step may check.
pub const SNAPSHOT_KEYS: [&str; 14] = [
    "calls",
    "successes",
    "failures",
    "ignored",
    "slow",
    "rejected",
    "window_calls",
    "window_failures",
    "window_slow",
    "failure_rate",
    "slow_rate",
    "consecutive_failures",
    "state",
    "retry_after_ms",
];

/// The state names.
pub const STATE_NAMES: [&str; 6] = [
    "closed",
    "open",
    "half_open",
    "forced_open",
    "disabled",
    "metrics_only",
];

// --- raw serde shapes -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVector {
    name: String,
    #[serde(default)]
    description: Option<String>,
    config: VectorConfig,
    #[serde(default)]
    steps: Option<Vec<RawStep>>,
    #[serde(default)]
    expect_config_error: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    at: u64,
    op: String,
    #[serde(default, rename = "as")]
    as_: Option<String>,
    #[serde(default)]
    expect: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    retry_after_ms: Option<Option<u64>>,
    #[serde(default)]
    permit: Option<String>,
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default)]
    duration_ms: Option<u64>,
    #[serde(default)]
    times: Option<u32>,
    #[serde(default)]
    expect_state: Option<String>,
    #[serde(default)]
    expect_transitions: Option<Vec<String>>,
    /// For people; the runner never reads it.
    #[serde(default)]
    #[allow(dead_code, reason = "kept so that deny_unknown_fields accepts it")]
    comment: Option<String>,
}

/// Tells an absent key (`None`, via `default`) from an explicit `null` (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u64>>, D::Error> {
    Option::<u64>::deserialize(d).map(Some)
}

/// Why a vector file could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

impl Vector {
    /// Parses one vector from JSON text, checking every key and op.
    ///
    /// # Errors
    /// A [`ParseError`] naming the step and key at fault.
    pub fn from_json(text: &str) -> Result<Vector, ParseError> {
        let raw: RawVector = serde_json::from_str(text).map_err(|e| ParseError(e.to_string()))?;
        let name = raw.name;
        let steps = match (raw.steps, &raw.expect_config_error) {
            (Some(steps), None) => steps
                .into_iter()
                .enumerate()
                .map(|(i, s)| {
                    parse_step(s).map_err(|e| ParseError(format!("{name}: step {i}: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?,
            (None, Some(_)) => Vec::new(),
            (Some(s), Some(_)) if s.is_empty() => Vec::new(),
            (Some(_), Some(_)) => {
                return Err(ParseError(format!(
                    "{name}: a config-error vector has no steps"
                )));
            }
            (None, None) => {
                return Err(ParseError(format!(
                    "{name}: needs `steps` or `expect_config_error`"
                )));
            }
        };
        Ok(Vector {
            name,
            description: raw.description,
            config: raw.config,
            steps,
            expect_config_error: raw.expect_config_error,
        })
    }
}

fn parse_step(s: RawStep) -> Result<Step, String> {
    let RawStep {
        at,
        op,
        as_,
        expect,
        retry_after_ms,
        permit,
        outcome,
        duration_ms,
        times,
        expect_state,
        expect_transitions,
        comment: _,
    } = s;
    // Every key an op does not use must be absent: a typo must not silently check nothing.
    let mut unused: Vec<&str> = Vec::new();
    let mut allow = |used: &[&str]| {
        let given = [
            ("as", as_.is_some()),
            ("expect", expect.is_some()),
            ("retry_after_ms", retry_after_ms.is_some()),
            ("permit", permit.is_some()),
            ("outcome", outcome.is_some()),
            ("duration_ms", duration_ms.is_some()),
            ("times", times.is_some()),
            ("expect_state", expect_state.is_some()),
        ];
        for (key, set) in given {
            if set && !used.contains(&key) {
                unused.push(key);
            }
        }
    };
    let outcome_of = |o: &Option<String>| -> Result<OutcomeKind, String> {
        OutcomeKind::parse(o.as_deref().ok_or("missing `outcome`")?)
    };
    let parsed = match op.as_str() {
        "acquire" => {
            allow(&["as", "expect", "retry_after_ms"]);
            let expect = match expect.as_ref().and_then(Value::as_str) {
                Some("permitted") => Decision::Permitted,
                Some("rejected") => Decision::Rejected,
                _ => return Err("acquire needs `expect`: \"permitted\" or \"rejected\"".into()),
            };
            if expect == Decision::Permitted && retry_after_ms.is_some() {
                return Err("`retry_after_ms` goes with `expect: rejected`".into());
            }
            Op::Acquire {
                name: as_.clone(),
                expect,
                retry_after_ms,
            }
        }
        "record" => {
            allow(&["permit", "outcome", "duration_ms"]);
            Op::Record {
                permit: permit.clone().ok_or("record needs `permit`")?,
                outcome: outcome_of(&outcome)?,
                duration_ms,
            }
        }
        "drop" => {
            allow(&["permit"]);
            Op::Drop {
                permit: permit.clone().ok_or("drop needs `permit`")?,
            }
        }
        "call" => {
            allow(&["outcome", "duration_ms", "times"]);
            Op::Call {
                outcome: outcome_of(&outcome)?,
                duration_ms,
                times: times.unwrap_or(1),
            }
        }
        "state" => {
            allow(&["expect_state"]);
            let expect_state = expect_state.clone().ok_or("state needs `expect_state`")?;
            if !STATE_NAMES.contains(&expect_state.as_str()) {
                return Err(format!("unknown state {expect_state:?}"));
            }
            Op::State { expect_state }
        }
        "snapshot" => {
            allow(&["expect"]);
            let expect = match &expect {
                Some(Value::Object(map)) => map.clone(),
                _ => return Err("snapshot needs `expect`: an object".into()),
            };
            if let Some(bad) = expect.keys().find(|k| !SNAPSHOT_KEYS.contains(&k.as_str())) {
                return Err(format!("unknown snapshot key {bad:?}"));
            }
            Op::Snapshot { expect }
        }
        "force_open" => manual(&mut allow, ManualOp::ForceOpen),
        "force_closed" => manual(&mut allow, ManualOp::ForceClosed),
        "metrics_only" => manual(&mut allow, ManualOp::MetricsOnly),
        "reset" => manual(&mut allow, ManualOp::Reset),
        other => return Err(format!("unknown op {other:?}")),
    };
    if !unused.is_empty() {
        return Err(format!("op {op:?} does not take {unused:?}"));
    }
    if let Some(list) = &expect_transitions {
        for t in list {
            let ok = t
                .split_once("->")
                .is_some_and(|(a, b)| STATE_NAMES.contains(&a) && STATE_NAMES.contains(&b));
            if !ok {
                return Err(format!("bad transition {t:?} (want \"from->to\")"));
            }
        }
    }
    Ok(Step {
        at,
        op: parsed,
        expect_transitions,
    })
}

fn manual(allow: &mut impl FnMut(&[&str]), m: ManualOp) -> Op {
    allow(&[]);
    Op::Manual(m)
}
