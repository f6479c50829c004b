//! Plain values crossing into Python: transitions and snapshots.

use cbreaker::{Snapshot, State, Transition};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::secs;

/// One state change, as returned by the call that caused it.
#[pyclass(module = "cbreaker._native", name = "Transition", frozen, eq)]
#[derive(PartialEq)]
pub(crate) struct PyTransition(pub(crate) Transition);

#[pymethods]
impl PyTransition {
    /// The state before (`"closed"`, `"open"`, ...).
    #[getter]
    #[allow(clippy::wrong_self_convention)] // a getter: `Transition.from_state`
    fn from_state(&self) -> &'static str {
        self.0.from.name()
    }

    /// The state after.
    #[getter]
    fn to_state(&self) -> &'static str {
        self.0.to.name()
    }

    /// The clock reading of the call that caused it, in seconds.
    #[getter]
    fn at(&self) -> f64 {
        secs(self.0.at)
    }

    /// The generation it started (modulo 4,096).
    #[getter]
    fn generation(&self) -> u32 {
        self.0.generation
    }

    /// Why it happened (`"failure_rate"`, `"probe_failed"`, `"reset"`, ...).
    #[getter]
    fn cause(&self) -> &'static str {
        self.0.cause.name()
    }

    fn __str__(&self) -> String {
        format!("{}->{}", self.0.from.name(), self.0.to.name())
    }

    fn __repr__(&self) -> String {
        let (from, to, cause) = (self.0.from.name(), self.0.to.name(), self.0.cause.name());
        let (at, g) = (secs(self.0.at), self.0.generation);
        format!(
            "Transition(from_state={from:?}, to_state={to:?}, at={at}, generation={g}, cause={cause:?})"
        )
    }
}

/// What settling a permit returns: the transition it caused, if any.
pub(crate) type Settled = PyResult<Option<PyTransition>>;

/// A snapshot as a dict (durations in seconds).
pub(crate) fn snapshot_dict<'py>(py: Python<'py>, s: &Snapshot) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("state", s.state.name())?;
    d.set_item("generation", s.generation)?;
    d.set_item("calls", s.calls)?;
    d.set_item("successes", s.successes)?;
    d.set_item("failures", s.failures)?;
    d.set_item("ignored", s.ignored)?;
    d.set_item("slow", s.slow)?;
    d.set_item("rejected", s.rejected)?;
    let t = PyDict::new(py);
    for state in State::ALL {
        t.set_item(state.name(), s.transitions_into(state))?;
    }
    d.set_item("transitions", t)?;
    d.set_item("window_calls", s.window_calls)?;
    d.set_item("window_failures", s.window_failures)?;
    d.set_item("window_slow", s.window_slow)?;
    d.set_item("failure_rate", s.failure_rate)?;
    d.set_item("slow_rate", s.slow_rate)?;
    d.set_item("consecutive_failures", s.consecutive_failures)?;
    d.set_item("retry_after", s.retry_after.map(secs))?;
    Ok(d)
}
