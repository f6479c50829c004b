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
    /// A core preset (`Config::PRESETS`) the other keys override; absent = `Config::default()`.
    pub preset: Option<String>,
    /// The window; absent = the base config's (a count window of 100 by default).
    pub window: Option<VectorWindow>,
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

/// How a call through the call protocol ended (`finish`'s `end`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndKind {
    /// `"success"`
    Success,
    /// `"failure"`
    Failure,
    /// `"ignored"`
    Ignored,
    /// `"timeout"`: the helper's timeout fired (a failure).
    Timeout,
    /// `"cancelled"`: the caller gave up (ignored).
    Cancelled,
}

impl EndKind {
    /// The name used in vectors.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            EndKind::Success => "success",
            EndKind::Failure => "failure",
            EndKind::Ignored => "ignored",
            EndKind::Timeout => "timeout",
            EndKind::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Result<Self, String> {
        match s {
            "success" => Ok(EndKind::Success),
            "failure" => Ok(EndKind::Failure),
            "ignored" => Ok(EndKind::Ignored),
            "timeout" => Ok(EndKind::Timeout),
            "cancelled" => Ok(EndKind::Cancelled),
            other => Err(format!("unknown end {other:?}")),
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
    /// `trip` (Open with a deadline)
    Trip,
    /// `half_open`
    HalfOpen,
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
            ManualOp::Trip => "trip",
            ManualOp::HalfOpen => "half_open",
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
        /// `reason` of a rejection: absent = not checked.
        reason: Option<String>,
    },
    /// The call protocol's `begin`.
    Begin {
        /// `as`: the name `finish` uses for the call.
        name: Option<String>,
        /// `expect`.
        expect: Decision,
        /// As for `acquire`.
        retry_after_ms: Option<Option<u64>>,
        /// As for `acquire`.
        reason: Option<String>,
        /// `sink`: a duration sink is attached (default false).
        sink: bool,
        /// `expect_timed`: absent = not checked.
        expect_timed: Option<bool>,
    },
    /// The call protocol's `finish` of a named call.
    Finish {
        /// The `as` name of an earlier `begin`.
        call: String,
        /// How the call ended.
        end: EndKind,
        /// `expect_duration_ms`: absent = not checked, `null` = `Some(None)`.
        expect_duration_ms: Option<Option<u64>>,
        /// `expect_error`: the finish must fail with this code.
        expect_error: Option<String>,
    },
    /// Check the health rule for this breaker.
    Health {
        /// `expect_health`.
        expect_health: String,
    },
    /// Check the config the breaker was built with.
    Config {
        /// `expect`: key → expected value.
        expect: Map<String, Value>,
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
            Op::Begin { .. } => "begin",
            Op::Finish { .. } => "finish",
            Op::Health { .. } => "health",
            Op::Config { .. } => "config",
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

/// The keys a `config` step may check.
pub const CONFIG_KEYS: [&str; 15] = [
    "window",
    "failure_rate_threshold",
    "slow_call_rate_threshold",
    "slow_call_duration_ms",
    "consecutive_failures",
    "minimum_calls",
    "open_duration_ms",
    "open_duration_max_ms",
    "open_duration_multiplier",
    "jitter_percent",
    "jitter_seed",
    "half_open_max_calls",
    "success_threshold",
    "half_open_max_wait_ms",
    "preset",
];

/// The rejection reasons.
pub const REASONS: [&str; 3] = ["open", "half_open_full", "forced_open"];

/// The health statuses.
pub const HEALTH_NAMES: [&str; 3] = ["healthy", "degraded", "unhealthy"];

/// The transition causes (`Cause::name()`).
pub const CAUSE_NAMES: [&str; 14] = [
    "failure_rate",
    "slow_call_rate",
    "consecutive_failures",
    "open_elapsed",
    "probe_failed",
    "probe_slow",
    "probes_succeeded",
    "force_open",
    "force_closed",
    "metrics_only",
    "reset",
    "trip",
    "half_open",
    "repaired",
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
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    sink: Option<bool>,
    #[serde(default)]
    expect_timed: Option<bool>,
    #[serde(default)]
    call: Option<String>,
    #[serde(default)]
    end: Option<String>,
    #[serde(default, deserialize_with = "present")]
    expect_duration_ms: Option<Option<u64>>,
    #[serde(default)]
    expect_error: Option<String>,
    #[serde(default)]
    expect_health: Option<String>,
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
        reason,
        sink,
        expect_timed,
        call,
        end,
        expect_duration_ms,
        expect_error,
        expect_health,
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
            ("reason", reason.is_some()),
            ("sink", sink.is_some()),
            ("expect_timed", expect_timed.is_some()),
            ("call", call.is_some()),
            ("end", end.is_some()),
            ("expect_duration_ms", expect_duration_ms.is_some()),
            ("expect_error", expect_error.is_some()),
            ("expect_health", expect_health.is_some()),
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
        "acquire" | "begin" => {
            let begin = op == "begin";
            if begin {
                allow(&[
                    "as",
                    "expect",
                    "retry_after_ms",
                    "reason",
                    "sink",
                    "expect_timed",
                ]);
            } else {
                allow(&["as", "expect", "retry_after_ms", "reason"]);
            }
            let expect = match expect.as_ref().and_then(Value::as_str) {
                Some("permitted") => Decision::Permitted,
                Some("rejected") => Decision::Rejected,
                _ => {
                    return Err(format!(
                        "{op} needs `expect`: \"permitted\" or \"rejected\""
                    ));
                }
            };
            if expect == Decision::Permitted && (retry_after_ms.is_some() || reason.is_some()) {
                return Err("`retry_after_ms` and `reason` go with `expect: rejected`".into());
            }
            if expect == Decision::Rejected && expect_timed.is_some() {
                return Err("`expect_timed` goes with `expect: permitted`".into());
            }
            if let Some(r) = &reason {
                if !REASONS.contains(&r.as_str()) {
                    return Err(format!("unknown reason {r:?}"));
                }
            }
            if begin {
                Op::Begin {
                    name: as_.clone(),
                    expect,
                    retry_after_ms,
                    reason: reason.clone(),
                    sink: sink.unwrap_or(false),
                    expect_timed,
                }
            } else {
                Op::Acquire {
                    name: as_.clone(),
                    expect,
                    retry_after_ms,
                    reason: reason.clone(),
                }
            }
        }
        "finish" => {
            allow(&["call", "end", "expect_duration_ms", "expect_error"]);
            if let Some(e) = &expect_error {
                if e != "permit_settled" {
                    return Err(format!("unknown error {e:?}"));
                }
            }
            Op::Finish {
                call: call.clone().ok_or("finish needs `call`")?,
                end: EndKind::parse(end.as_deref().ok_or("finish needs `end`")?)?,
                expect_duration_ms,
                expect_error: expect_error.clone(),
            }
        }
        "health" => {
            allow(&["expect_health"]);
            let h = expect_health
                .clone()
                .ok_or("health needs `expect_health`")?;
            if !HEALTH_NAMES.contains(&h.as_str()) {
                return Err(format!("unknown health {h:?}"));
            }
            Op::Health { expect_health: h }
        }
        "config" => {
            allow(&["expect"]);
            let expect = match &expect {
                Some(Value::Object(map)) => map.clone(),
                _ => return Err("config needs `expect`: an object".into()),
            };
            if let Some(bad) = expect
                .keys()
                .find(|k| *k == "preset" || !CONFIG_KEYS.contains(&k.as_str()))
            {
                return Err(format!("unknown config key {bad:?}"));
            }
            Op::Config { expect }
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
        "trip" => manual(&mut allow, ManualOp::Trip),
        "half_open" => manual(&mut allow, ManualOp::HalfOpen),
        other => return Err(format!("unknown op {other:?}")),
    };
    if !unused.is_empty() {
        return Err(format!("op {op:?} does not take {unused:?}"));
    }
    if let Some(list) = &expect_transitions {
        for t in list {
            let (states, cause) = t
                .split_once(':')
                .map_or((t.as_str(), None), |(a, c)| (a, Some(c)));
            let ok = states
                .split_once("->")
                .is_some_and(|(a, b)| STATE_NAMES.contains(&a) && STATE_NAMES.contains(&b))
                && cause.is_none_or(|c| CAUSE_NAMES.contains(&c));
            if !ok {
                return Err(format!(
                    "bad transition {t:?} (want \"from->to\" or \"from->to:cause\")"
                ));
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
