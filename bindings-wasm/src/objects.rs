//! The cold paths' named objects (snapshot, transition, config, the name tables), built once
//! here so the JS layer passes them on as they are. Keys are the JS API's (camelCase, ms).

use cbreaker::{
    Config, End, HealthStatus, Outcome, PermitSettled, RejectReason, Snapshot, State, Transition,
    WindowKind,
};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

/// A plain object from key-value pairs.
pub(crate) fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

fn num(x: impl Into<f64>) -> JsValue {
    JsValue::from_f64(x.into())
}

fn count(x: u64) -> JsValue {
    JsValue::from_f64(x as f64)
}

fn name(s: &str) -> JsValue {
    JsValue::from_str(s)
}

/// `{ from, to, at, generation, cause }`.
#[must_use]
pub(crate) fn transition(t: &Transition) -> JsValue {
    object(&[
        ("from", name(t.from.name())),
        ("to", name(t.to.name())),
        ("at", count(t.at.0)),
        ("generation", num(t.generation)),
        ("cause", name(t.cause.name())),
    ])
}

/// The snapshot under the JS API's names; with `health`, the core's health rule for its state.
#[must_use]
pub(crate) fn snapshot(s: &Snapshot, with_health: bool) -> JsValue {
    let transitions: Vec<(&str, JsValue)> = State::ALL
        .iter()
        .map(|st| (st.name(), num(s.transitions_into(*st))))
        .collect();
    let mut pairs = vec![
        ("state", name(s.state.name())),
        ("generation", num(s.generation)),
        ("calls", count(s.calls)),
        ("successes", count(s.successes)),
        ("failures", count(s.failures)),
        ("ignored", count(s.ignored)),
        ("slow", count(s.slow)),
        ("rejected", count(s.rejected)),
        ("transitions", object(&transitions)),
        ("windowCalls", num(s.window_calls)),
        ("windowFailures", num(s.window_failures)),
        ("windowSlow", num(s.window_slow)),
        ("failureRate", num(s.failure_rate)),
        ("slowRate", num(s.slow_rate)),
        ("consecutiveFailures", num(s.consecutive_failures)),
        (
            "retryAfterMs",
            s.retry_after.map_or(JsValue::NULL, |r| count(r.0)),
        ),
    ];
    if with_health {
        pairs.push(("health", name(HealthStatus::of(s.state).name())));
    }
    object(&pairs)
}

/// The config as the breaker holds it, under the JS option names (`openDurationMaxMs` reads
/// back as the limit it stands for when it was 0; `jitterSeed` a number when it is exact as
/// one, else a bigint).
#[must_use]
pub(crate) fn config(c: &Config) -> JsValue {
    let mut pairs = match c.window {
        WindowKind::Count { size } => vec![("window", name("count")), ("windowSize", num(size))],
        WindowKind::Time { duration, buckets } => vec![
            ("window", name("time")),
            ("windowDurationMs", count(duration.0)),
            ("windowBuckets", num(buckets)),
        ],
        WindowKind::Consecutive => vec![("window", name("consecutive"))],
    };
    const SAFE: u64 = (1 << 53) - 1;
    let seed = if c.jitter_seed <= SAFE {
        count(c.jitter_seed)
    } else {
        JsValue::from(c.jitter_seed)
    };
    pairs.extend([
        ("failureRateThreshold", num(c.failure_rate_threshold)),
        ("slowCallRateThreshold", num(c.slow_call_rate_threshold)),
        ("slowCallDurationMs", count(c.slow_call_duration.0)),
        ("consecutiveFailures", num(c.consecutive_failures)),
        ("minimumCalls", num(c.minimum_calls)),
        ("openDurationMs", count(c.open_duration.0)),
        ("openDurationMaxMs", count(c.open_duration_max.0)),
        ("openDurationMultiplier", num(c.open_duration_multiplier)),
        ("jitterPercent", num(c.jitter_percent)),
        ("jitterSeed", seed),
        ("halfOpenMaxCalls", num(c.half_open_max_calls)),
        ("successThreshold", num(c.success_threshold)),
        ("halfOpenMaxWaitMs", count(c.half_open_max_wait.0)),
    ]);
    object(&pairs)
}

fn names(it: impl IntoIterator<Item = &'static str>) -> JsValue {
    it.into_iter()
        .map(JsValue::from_str)
        .collect::<Array>()
        .into()
}

/// The core's name tables, indexed by discriminant (the numbers the hot paths pass):
/// `states`, `health`, `reasons`, `ends`, `outcomes`, `presets`, and `permitSettled` (`code`,
/// `message`).
#[must_use]
pub(crate) fn tables() -> JsValue {
    object(&[
        ("states", names(State::ALL.map(State::name))),
        ("health", names(HealthStatus::ALL.map(HealthStatus::name))),
        ("reasons", names(RejectReason::ALL.map(RejectReason::name))),
        ("ends", names(End::ALL.map(End::name))),
        (
            "outcomes",
            names([Outcome::Success, Outcome::Failure, Outcome::Ignored].map(Outcome::name)),
        ),
        ("presets", names(Config::PRESETS)),
        (
            "permitSettled",
            object(&[
                ("code", name(PermitSettled::CODE)),
                ("message", name(PermitSettled::MESSAGE)),
            ]),
        ),
    ])
}
