//! OpenTelemetry instruments for the same figures: one meter, [`METER_NAME`], and the
//! instruments of [`INSTRUMENTS`] (name, kind, UCUM unit, description, attribute keys), with
//! [`points`] giving each observable instrument's data points for a [`Snapshot`]. Every
//! front door (Rust's `opentelemetry` feature, Python, JS) registers this table as it is.
//!
//! Counters are observable: they read the breaker's lifetime counters at collection time, so
//! the call path pays nothing and nothing is counted twice. Two instruments are fed by the
//! front door instead: [`CALL_DURATION`] (durations of timed calls) and [`STATE_CHANGES`]
//! (one add per transition event, with its previous state and cause; see
//! [`transition_attributes`]).
//!
//! Attribute keys follow the converged vocabulary under `circuit_breaker.`: [`ATTR_NAME`],
//! [`ATTR_STATE`], [`ATTR_OUTCOME`], [`ATTR_PREVIOUS_STATE`], [`ATTR_CAUSE`]. The one-hot
//! state gauge is named `circuit_breaker.status` (as OpenTelemetry's `hw.status` beside
//! `hw.state`): a metric and an attribute never share a name.

use super::{OUTCOMES, Value};
use crate::snapshot::Snapshot;
use crate::state::State;
use crate::transition::Transition;

/// The meter every instrument belongs to.
pub const METER_NAME: &str = "cbreaker";
/// The breaker's name.
pub const ATTR_NAME: &str = "circuit_breaker.name";
/// A state (`closed` ... `metrics_only`): the current one, or the one entered.
pub const ATTR_STATE: &str = "circuit_breaker.state";
/// A call's outcome (`success`, `failure`, `ignored`, `rejected`).
pub const ATTR_OUTCOME: &str = "circuit_breaker.outcome";
/// The state a transition left.
pub const ATTR_PREVIOUS_STATE: &str = "circuit_breaker.previous_state";
/// Why a transition happened (a [`Cause`](crate::Cause) name).
pub const ATTR_CAUSE: &str = "circuit_breaker.cause";

/// How an instrument is fed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InstrumentKind {
    /// A monotonic sum read at collection time (from the lifetime counters).
    ObservableCounter,
    /// A value read at collection time.
    ObservableGauge,
    /// Observations recorded as they happen (call durations).
    Histogram,
    /// A monotonic sum added to as events happen (transition events).
    Counter,
}

impl InstrumentKind {
    /// Its name in the docs' table.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            InstrumentKind::ObservableCounter => "observable counter",
            InstrumentKind::ObservableGauge => "observable gauge",
            InstrumentKind::Histogram => "histogram",
            InstrumentKind::Counter => "counter",
        }
    }

    /// Whether it is read at collection time ([`points`] gives its values).
    #[must_use]
    pub const fn is_observable(self) -> bool {
        matches!(
            self,
            InstrumentKind::ObservableCounter | InstrumentKind::ObservableGauge
        )
    }
}

/// One instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Instrument {
    /// Its name.
    pub name: &'static str,
    /// How it is fed.
    pub kind: InstrumentKind,
    /// Its UCUM unit (`"s"`, `"%"`, `"1"`, `"{call}"`, `"{transition}"`).
    pub unit: &'static str,
    /// Its description.
    pub description: &'static str,
    /// Its attribute keys, [`ATTR_NAME`] first.
    pub attributes: &'static [&'static str],
}

/// `circuit_breaker.status{name,state}`: 1 for the current state, 0 for the other five.
pub const STATUS: Instrument = Instrument {
    name: "circuit_breaker.status",
    kind: InstrumentKind::ObservableGauge,
    unit: "1",
    description: "The breaker's state: 1 for the current one, 0 for the others.",
    attributes: &[ATTR_NAME, ATTR_STATE],
};
/// `circuit_breaker.calls{name,outcome}`: calls by outcome, rejections included.
pub const CALLS: Instrument = Instrument {
    name: "circuit_breaker.calls",
    kind: InstrumentKind::ObservableCounter,
    unit: "{call}",
    description: "Calls by outcome: success, failure, ignored (ran), rejected (refused).",
    attributes: &[ATTR_NAME, ATTR_OUTCOME],
};
/// `circuit_breaker.slow_calls{name}`.
pub const SLOW_CALLS: Instrument = Instrument {
    name: "circuit_breaker.slow_calls",
    kind: InstrumentKind::ObservableCounter,
    unit: "{call}",
    description: "Calls that ran at or above slow_call_duration.",
    attributes: &[ATTR_NAME],
};
/// `circuit_breaker.transitions{name,state}`: transitions into each state (the core's
/// counters: every transition, however it happened).
pub const TRANSITIONS: Instrument = Instrument {
    name: "circuit_breaker.transitions",
    kind: InstrumentKind::ObservableCounter,
    unit: "{transition}",
    description: "State transitions, by the state entered.",
    attributes: &[ATTR_NAME, ATTR_STATE],
};
/// `circuit_breaker.state_changes{name,previous_state,state,cause}`: one per transition
/// event the front door sees (see [`transition_attributes`]).
pub const STATE_CHANGES: Instrument = Instrument {
    name: "circuit_breaker.state_changes",
    kind: InstrumentKind::Counter,
    unit: "{transition}",
    description: "Transition events seen by the front door, by previous state, state entered and cause.",
    attributes: &[ATTR_NAME, ATTR_PREVIOUS_STATE, ATTR_STATE, ATTR_CAUSE],
};
/// `circuit_breaker.window.failure_rate{name}`, in percent.
pub const FAILURE_RATE: Instrument = Instrument {
    name: "circuit_breaker.window.failure_rate",
    kind: InstrumentKind::ObservableGauge,
    unit: "%",
    description: "Failures in the window, in percent of the window's calls.",
    attributes: &[ATTR_NAME],
};
/// `circuit_breaker.window.slow_call_rate{name}`, in percent.
pub const SLOW_CALL_RATE: Instrument = Instrument {
    name: "circuit_breaker.window.slow_call_rate",
    kind: InstrumentKind::ObservableGauge,
    unit: "%",
    description: "Slow calls in the window, in percent of the window's calls.",
    attributes: &[ATTR_NAME],
};
/// `circuit_breaker.retry_after{name}`, in seconds.
pub const RETRY_AFTER: Instrument = Instrument {
    name: "circuit_breaker.retry_after",
    kind: InstrumentKind::ObservableGauge,
    unit: "s",
    description: "How long a rejected call is advised to wait (0 when calls are admitted or forced open).",
    attributes: &[ATTR_NAME],
};
/// `circuit_breaker.call.duration{name}`: durations of timed calls that ran (success or
/// failure), bucketed at [`DURATION_BUCKETS`](super::DURATION_BUCKETS).
pub const CALL_DURATION: Instrument = Instrument {
    name: "circuit_breaker.call.duration",
    kind: InstrumentKind::Histogram,
    unit: "s",
    description: "Duration of the calls that ran through the breaker (success or failure).",
    attributes: &[ATTR_NAME],
};

/// Every instrument, in the order front doors register them.
pub const INSTRUMENTS: [Instrument; 9] = [
    STATUS,
    CALLS,
    SLOW_CALLS,
    TRANSITIONS,
    STATE_CHANGES,
    FAILURE_RATE,
    SLOW_CALL_RATE,
    RETRY_AFTER,
    CALL_DURATION,
];

/// The data points of the observable `instrument` for `s`: each with its attribute beyond
/// [`ATTR_NAME`] (`Some((key, value))`, or `None` for an instrument labelled by name only)
/// and its value. Gives nothing for [`CALL_DURATION`] and [`STATE_CHANGES`] (not read from
/// a snapshot) or an instrument not in [`INSTRUMENTS`].
///
/// ```
/// use cbreaker::{Breaker, Config, Millis, metrics::otel};
/// let breaker: Breaker = Breaker::new(Config::count(10)).unwrap();
/// let s = breaker.snapshot(Millis(0));
/// let mut points = Vec::new();
/// otel::points(&otel::STATUS, &s, |attr, v| points.push((attr, v.as_f64())));
/// assert_eq!(points[0], (Some(("circuit_breaker.state", "closed")), 1.0));
/// assert_eq!(points.len(), 6);
/// ```
pub fn points(
    instrument: &Instrument,
    s: &Snapshot,
    mut each: impl FnMut(Option<(&'static str, &'static str)>, Value),
) {
    let percent = |n: u32| Value::ratio(u64::from(n), u64::from(s.window_calls), 100);
    match instrument.name {
        "circuit_breaker.status" => {
            for state in State::ALL {
                each(
                    Some((ATTR_STATE, state.name())),
                    Value::count(u64::from(s.state == state)),
                );
            }
        }
        "circuit_breaker.calls" => {
            for (outcome, v) in
                OUTCOMES
                    .iter()
                    .zip([s.successes, s.failures, s.ignored, s.rejected])
            {
                each(Some((ATTR_OUTCOME, outcome)), Value::count(v));
            }
        }
        "circuit_breaker.slow_calls" => each(None, Value::count(s.slow)),
        "circuit_breaker.transitions" => {
            for state in State::ALL {
                each(
                    Some((ATTR_STATE, state.name())),
                    Value::count(u64::from(s.transitions_into(state))),
                );
            }
        }
        "circuit_breaker.window.failure_rate" => each(None, percent(s.window_failures)),
        "circuit_breaker.window.slow_call_rate" => each(None, percent(s.window_slow)),
        "circuit_breaker.retry_after" => each(
            None,
            Value::ratio(s.retry_after.map_or(0, |m| m.0), 1000, 1),
        ),
        _ => {}
    }
}

/// The attributes of [`STATE_CHANGES`] beyond [`ATTR_NAME`] for one transition, in the
/// order of its attribute keys (also the fields of a transition's log/trace event).
///
/// ```
/// use cbreaker::{Breaker, Config, Millis, metrics::otel};
/// let breaker: Breaker = Breaker::new(Config::count(10)).unwrap();
/// let t = breaker.force_open(Millis(0));
/// assert_eq!(otel::transition_attributes(&t), [
///     ("circuit_breaker.previous_state", "closed"),
///     ("circuit_breaker.state", "forced_open"),
///     ("circuit_breaker.cause", "force_open"),
/// ]);
/// ```
#[must_use]
pub const fn transition_attributes(t: &Transition) -> [(&'static str, &'static str); 3] {
    [
        (ATTR_PREVIOUS_STATE, t.from.name()),
        (ATTR_STATE, t.to.name()),
        (ATTR_CAUSE, t.cause.name()),
    ]
}
