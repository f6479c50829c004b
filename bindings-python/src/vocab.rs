//! The core's shared vocabulary as module functions: the health rule, the metric families
//! (under either naming) and their Prometheus text, and the OpenTelemetry instruments' data
//! points. Python re-states none of it.

use cbreaker::metrics::{self, Naming, otel};
use cbreaker::{Health, State};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::breaker::{Core, PyBreaker};
use crate::errors::PyCbError;
use crate::types::PyTransition;

/// A group's health from its breakers' states (`Health::status`): `"healthy"` when none
/// refuses calls, `"unhealthy"` when all do, else `"degraded"`.
#[pyfunction]
pub(crate) fn group_health(states: Vec<String>) -> PyResult<&'static str> {
    let mut h = Health::default();
    for name in states {
        let state = State::ALL.into_iter().find(|s| s.name() == name);
        h.add(state.ok_or_else(|| PyValueError::new_err(format!("unknown state {name:?}")))?);
    }
    Ok(h.status().name())
}

/// The naming spelled `name`; otherwise a `ConfigError` naming the field `naming`, with the
/// core's message (it lists the names).
fn naming(name: &str) -> PyResult<Naming> {
    Naming::parse(name).map_err(|e| {
        let message = format!("{e}, got {name:?}");
        PyCbError::Binding {
            field: "naming",
            message,
        }
        .into()
    })
}

/// The breaker's config's `minimum_calls` (resilience4j's rates read -1 below it).
fn minimum_calls(b: &PyBreaker) -> u32 {
    match &b.core {
        Core::Small(x) => x.config().minimum_calls,
        Core::Large(x) => x.config().minimum_calls,
        Core::Shared(s) => s.get().config().minimum_calls,
    }
}

type Samples = (&'static str, Vec<(&'static str, f64)>);

/// Every family's samples for one breaker, from one snapshot, under `naming`: `[(family,
/// [(label, value)])]` (the second label's value, `""` for a family labelled by the breaker
/// only). The histogram has none: this binding feeds no duration sink.
#[pyfunction]
#[pyo3(signature = (breaker, naming = "cbreaker"))]
pub(crate) fn metric_samples(
    breaker: &Bound<'_, PyBreaker>,
    naming: &str,
) -> PyResult<Vec<Samples>> {
    let naming = self::naming(naming)?;
    let b = breaker.get();
    let s = b.snapshot_now(breaker.py())?;
    let mut out = Vec::new();
    for family in naming.families() {
        let mut values = Vec::new();
        let each = |label, v| values.push((label, v));
        match naming {
            Naming::Cbreaker => metrics::samples(family, &s, each),
            Naming::Resilience4j => {
                metrics::resilience4j::samples(family, &s, minimum_calls(b), each);
            }
        }
        out.push((family.name, values));
    }
    Ok(out)
}

/// The Prometheus text of `rows` (`(name, breaker)` pairs) under `naming`, written by the core.
#[pyfunction]
#[pyo3(signature = (rows, naming = "cbreaker"))]
pub(crate) fn metrics_text(
    rows: Vec<(String, Bound<'_, PyBreaker>)>,
    naming: &str,
) -> PyResult<String> {
    let naming = self::naming(naming)?;
    let mut read = Vec::with_capacity(rows.len());
    for (name, b) in &rows {
        read.push(metrics::Row {
            breaker: name,
            snapshot: b.get().snapshot_now(b.py())?,
            durations: None,
            minimum_calls: minimum_calls(b.get()),
        });
    }
    let mut text = String::new();
    metrics::write_text_named(&mut text, &read, naming)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(text)
}

type Point = (Option<(&'static str, &'static str)>, f64);

/// The data points of the observable instrument `instrument` (a name of
/// `OTEL_INSTRUMENTS`) for the breaker's snapshot now: `[(attribute beyond the name, or
/// None, value)]` (the core's `metrics::otel::points`). An instrument fed by events
/// (histogram, counter) has none; an unknown name is a `ValueError`.
#[pyfunction]
pub(crate) fn otel_points(
    breaker: &Bound<'_, PyBreaker>,
    instrument: &str,
) -> PyResult<Vec<Point>> {
    let Some(i) = otel::INSTRUMENTS.iter().find(|i| i.name == instrument) else {
        return Err(PyValueError::new_err(format!(
            "unknown instrument {instrument:?}"
        )));
    };
    let s = breaker.get().snapshot_now(breaker.py())?;
    let mut out = Vec::new();
    otel::points(i, &s, |attr, v| out.push((attr, v.as_f64())));
    Ok(out)
}

/// A transition's attributes beyond the breaker's name, in the order of
/// `circuit_breaker.state_changes`'s keys (the core's `metrics::otel::transition_attributes`):
/// previous state, state entered, cause.
#[pyfunction]
pub(crate) fn otel_transition_attributes(
    transition: &PyTransition,
) -> [(&'static str, &'static str); 3] {
    otel::transition_attributes(&transition.0)
}
