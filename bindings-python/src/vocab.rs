//! The core's shared vocabulary as module functions: the health rule, the metric families
//! and their Prometheus text. Python re-states none of it.

use cbreaker::{Health, State, metrics};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::breaker::PyBreaker;

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

type Samples = (&'static str, Vec<(&'static str, f64)>);

/// Every family's samples for one breaker, from one snapshot: `[(family, [(label, value)])]`
/// (the second label's value, `""` for a family labelled by `breaker` only). The histogram
/// has none: this binding feeds no duration sink.
#[pyfunction]
pub(crate) fn metric_samples(breaker: &Bound<'_, PyBreaker>) -> PyResult<Vec<Samples>> {
    let s = breaker.get().snapshot_now(breaker.py())?;
    let mut out = Vec::new();
    for family in &metrics::FAMILIES {
        let mut values = Vec::new();
        metrics::samples(family, &s, |label, v| values.push((label, v)));
        out.push((family.name, values));
    }
    Ok(out)
}

/// The Prometheus text of `rows` (`(name, breaker)` pairs), written by the core.
#[pyfunction]
pub(crate) fn metrics_text(rows: Vec<(String, Bound<'_, PyBreaker>)>) -> PyResult<String> {
    let mut read = Vec::with_capacity(rows.len());
    for (name, b) in &rows {
        read.push(metrics::Row {
            breaker: name,
            snapshot: b.get().snapshot_now(b.py())?,
            durations: None,
        });
    }
    let mut text = String::new();
    metrics::write_text(&mut text, &read).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(text)
}
