//! resilience4j's names for the same figures: the families resilience4j-micrometer's
//! `TaggedCircuitBreakerMetrics` registers, as Micrometer's Prometheus registry exposes them
//! (dots to underscores, `_total` on counters, `_seconds` on timers), so a Grafana dashboard
//! built on them reads a cbreaker service unchanged ([`Naming::Resilience4j`]).
//!
//! Labels: `name` (the breaker), then `state` or `kind`. State values are resilience4j's
//! (`closed`, `open`, `half_open`, `forced_open`, `disabled`, `metrics_only`), the core's
//! names already. Where the core keeps no figure resilience4j has, nothing is invented:
//!
//! - `resilience4j_circuitbreaker_calls_seconds` has `_count` per kind (the lifetime
//!   counters) and no `_sum`, `_max` or buckets: the std histogram is not kept per outcome.
//! - `resilience4j_circuitbreaker_slow_calls` is one sample, `kind="all"`: the window counts
//!   slow calls without their outcome (resilience4j splits `successful` and `failed`; a
//!   dashboard summing over `kind` reads the same total).
//! - Rates read `-1` while the window holds fewer than `minimum_calls` outcomes (or none),
//!   as resilience4j's do.
//!
//! [`Naming::Resilience4j`]: super::Naming::Resilience4j

use super::{Family, MetricType, Value};
use crate::snapshot::Snapshot;
use crate::state::State;

/// The label naming the breaker.
pub const LABEL_NAME: &str = "name";
/// The label of the calls, buffered and slow families.
pub const LABEL_KIND: &str = "kind";

/// Kinds of [`CALLS`], in the order written: the core's success, failure, ignored.
pub const CALL_KINDS: [&str; 3] = ["successful", "failed", "ignored"];
/// The kind of [`NOT_PERMITTED_CALLS`]: the core's rejected.
pub const KIND_NOT_PERMITTED: &str = "not_permitted";
/// Kinds of [`BUFFERED_CALLS`], in the order written.
pub const BUFFERED_KINDS: [&str; 2] = ["successful", "failed"];
/// The one kind of [`SLOW_CALLS`] (the window does not split slow calls by outcome).
pub const KIND_ALL: &str = "all";

/// `resilience4j_circuitbreaker_state{name,state}`: 1 for the current state, 0 for the others.
pub const STATE: Family = Family {
    name: "resilience4j_circuitbreaker_state",
    kind: MetricType::Gauge,
    help: "The states of the circuit breaker",
    unit: "",
    labels: &["name", "state"],
};
/// `resilience4j_circuitbreaker_calls_seconds{name,kind}`: only `_count` (successful,
/// failed, ignored).
pub const CALLS: Family = Family {
    name: "resilience4j_circuitbreaker_calls_seconds",
    kind: MetricType::Summary,
    help: "Total number of calls by kind (successful, failed, ignored)",
    unit: "seconds",
    labels: &["name", "kind"],
};
/// `resilience4j_circuitbreaker_not_permitted_calls_total{name,kind="not_permitted"}`.
pub const NOT_PERMITTED_CALLS: Family = Family {
    name: "resilience4j_circuitbreaker_not_permitted_calls_total",
    kind: MetricType::Counter,
    help: "Total number of not permitted calls",
    unit: "",
    labels: &["name", "kind"],
};
/// `resilience4j_circuitbreaker_buffered_calls{name,kind}`: the window's successes and
/// failures.
pub const BUFFERED_CALLS: Family = Family {
    name: "resilience4j_circuitbreaker_buffered_calls",
    kind: MetricType::Gauge,
    help: "The number of buffered calls stored in the window, by kind (successful, failed)",
    unit: "",
    labels: &["name", "kind"],
};
/// `resilience4j_circuitbreaker_slow_calls{name,kind="all"}`: the window's slow calls.
pub const SLOW_CALLS: Family = Family {
    name: "resilience4j_circuitbreaker_slow_calls",
    kind: MetricType::Gauge,
    help: "The number of slow calls in the window (slower than slow_call_duration)",
    unit: "",
    labels: &["name", "kind"],
};
/// `resilience4j_circuitbreaker_failure_rate{name}`: percent, `-1` below `minimum_calls`.
pub const FAILURE_RATE: Family = Family {
    name: "resilience4j_circuitbreaker_failure_rate",
    kind: MetricType::Gauge,
    help: "The failure rate of the circuit breaker",
    unit: "percent",
    labels: &["name"],
};
/// `resilience4j_circuitbreaker_slow_call_rate{name}`: percent, `-1` below `minimum_calls`.
pub const SLOW_CALL_RATE: Family = Family {
    name: "resilience4j_circuitbreaker_slow_call_rate",
    kind: MetricType::Gauge,
    help: "The slow call rate of the circuit breaker",
    unit: "percent",
    labels: &["name"],
};

/// Every family, in the order [`write_text_named`](super::write_text_named) writes them.
pub const FAMILIES: [Family; 7] = [
    STATE,
    CALLS,
    NOT_PERMITTED_CALLS,
    BUFFERED_CALLS,
    SLOW_CALLS,
    FAILURE_RATE,
    SLOW_CALL_RATE,
];

/// Which cbreaker family each resilience4j family reads, for the docs' mapping table:
/// `(resilience4j family, cbreaker family, what it reads)`.
pub const MAPPING: [(&str, &str, &str); 7] = [
    (
        STATE.name,
        super::STATE.name,
        "the state now, one-hot over the six states",
    ),
    (
        CALLS.name,
        super::CALLS.name,
        "`_count` only: successes, failures, ignored (lifetime counters); no `_sum`/`_max`/buckets",
    ),
    (
        NOT_PERMITTED_CALLS.name,
        super::CALLS.name,
        "`outcome=\"rejected\"` (lifetime counter)",
    ),
    (
        BUFFERED_CALLS.name,
        "—",
        "the window's calls minus failures (`successful`) and failures (`failed`)",
    ),
    (
        SLOW_CALLS.name,
        "—",
        "the window's slow calls, one sample `kind=\"all\"`",
    ),
    (
        FAILURE_RATE.name,
        super::FAILURE_RATE.name,
        "percent; -1 while the window holds fewer than `minimum_calls`",
    ),
    (
        SLOW_CALL_RATE.name,
        super::SLOW_RATE.name,
        "percent; -1 while the window holds fewer than `minimum_calls`",
    ),
];

/// resilience4j's rate: `100 × n / window_calls`, or `-1` while the window holds fewer
/// than `minimum_calls` outcomes (or none).
#[must_use]
pub const fn rate(n: u32, window_calls: u32, minimum_calls: u32) -> Value {
    if window_calls == 0 || window_calls < minimum_calls {
        Value::MINUS_ONE
    } else {
        Value::ratio(n as u64, window_calls as u64, 100)
    }
}

/// The value of each sample of `family` (one of [`FAMILIES`]) for `s`, exactly, with its
/// second label's value (`""` where the family has only `name`). `minimum_calls` is the
/// breaker's config's, for the rates' `-1`. A family not in [`FAMILIES`] gives nothing.
///
/// ```
/// use cbreaker::{Breaker, Config, Millis, Outcome};
/// use cbreaker::metrics::resilience4j::{self, CALLS, FAILURE_RATE};
/// let breaker: Breaker = Breaker::new(Config::count(10)).unwrap();
/// let p = breaker.try_acquire(Millis(0)).unwrap().permit;
/// breaker.record(p, Outcome::Failure, None, Millis(0));
/// let s = breaker.snapshot(Millis(0));
/// let mut calls = Vec::new();
/// resilience4j::values(&CALLS, &s, 1, |kind, v| calls.push((kind, v.as_f64())));
/// assert_eq!(calls, [("successful", 0.0), ("failed", 1.0), ("ignored", 0.0)]);
/// let mut rate = Vec::new();
/// resilience4j::values(&FAILURE_RATE, &s, 2, |_, v| rate.push(v.as_f64()));
/// assert_eq!(rate, [-1.0]); // 1 outcome, minimum_calls 2
/// ```
pub fn values(
    family: &Family,
    s: &Snapshot,
    minimum_calls: u32,
    mut each: impl FnMut(&'static str, Value),
) {
    match family.name {
        "resilience4j_circuitbreaker_state" => {
            for state in State::ALL {
                each(state.name(), Value::count(u64::from(s.state == state)));
            }
        }
        "resilience4j_circuitbreaker_calls_seconds" => {
            for (kind, v) in CALL_KINDS.iter().zip([s.successes, s.failures, s.ignored]) {
                each(kind, Value::count(v));
            }
        }
        "resilience4j_circuitbreaker_not_permitted_calls_total" => {
            each(KIND_NOT_PERMITTED, Value::count(s.rejected));
        }
        "resilience4j_circuitbreaker_buffered_calls" => {
            let failed = s.window_failures.min(s.window_calls);
            each(
                BUFFERED_KINDS[0],
                Value::count(u64::from(s.window_calls - failed)),
            );
            each(BUFFERED_KINDS[1], Value::count(u64::from(failed)));
        }
        "resilience4j_circuitbreaker_slow_calls" => {
            each(KIND_ALL, Value::count(u64::from(s.window_slow)));
        }
        "resilience4j_circuitbreaker_failure_rate" => {
            each("", rate(s.window_failures, s.window_calls, minimum_calls));
        }
        "resilience4j_circuitbreaker_slow_call_rate" => {
            each("", rate(s.window_slow, s.window_calls, minimum_calls));
        }
        _ => {}
    }
}

/// [`values`] as floats, for front doors that register families with their own client.
pub fn samples(
    family: &Family,
    s: &Snapshot,
    minimum_calls: u32,
    mut each: impl FnMut(&'static str, f64),
) {
    values(family, s, minimum_calls, |label, v| each(label, v.as_f64()));
}
