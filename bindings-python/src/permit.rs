//! A permit as a Python object: a call of the core's protocol, settled exactly once (a second
//! settle raises the core's `PermitSettled`); one garbage-collected unsettled is `Cancelled`.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use cbreaker::{End, Millis, PermitSettled, Transition};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::breaker::{Admitted, Begun, PyBreaker, end_named};
use crate::errors::{PyCbError, secs};
use crate::types::{PyTransition, Settled};

/// Permission to make one call.
#[pyclass(module = "cbreaker._native", name = "Permit", frozen)]
pub(crate) struct PyPermit {
    breaker: Py<PyBreaker>,
    begun: Begun,
    transition: Option<Transition>,
    settled: AtomicBool,
    duration: OnceLock<Option<Millis>>,
}

impl PyPermit {
    pub(crate) fn new(breaker: &Bound<'_, PyBreaker>, (begun, transition): Admitted) -> Self {
        PyPermit {
            breaker: breaker.clone().unbind(),
            begun,
            transition,
            settled: AtomicBool::new(false),
            duration: OnceLock::new(),
        }
    }

    /// The call, for `breaker` to settle: once only, and only by the breaker that issued it.
    pub(crate) fn take(&self, breaker: &Bound<'_, PyBreaker>) -> PyResult<Begun> {
        if !self.breaker.is(breaker) {
            return Err(PyCbError::ForeignPermit.into());
        }
        // AcqRel: one settle wins even between free-threaded threads; it publishes nothing else.
        if self.settled.swap(true, Ordering::AcqRel) {
            return Err(PyCbError::Settled(PermitSettled).into());
        }
        Ok(self.begun)
    }

    /// Settles through `breaker`: the protocol's `finish(end)`, or with `raw` the core's `record`
    /// verb with exactly that duration (seconds).
    pub(crate) fn report(
        &self,
        breaker: &Bound<'_, PyBreaker>,
        end: End,
        raw: Option<Option<f64>>,
    ) -> Settled {
        let bad = || PyValueError::new_err("duration must be finite, non-negative seconds");
        let millis = |d: f64| (d.is_finite() && d >= 0.0).then(|| Millis((d * 1e3).round() as u64));
        let raw = raw
            .map(|d| d.map(|d| millis(d).ok_or_else(bad)).transpose())
            .transpose()?;
        let done = PyBreaker::settle(breaker, self.take(breaker)?, end, raw)?;
        let _ = self.duration.set(done.duration);
        Ok(done.transition.map(PyTransition))
    }

    fn settle(&self, py: Python<'_>, end: End, d: Option<f64>) -> Settled {
        self.report(self.breaker.bind(py), end, d.map(Some))
    }
}

#[pymethods]
impl PyPermit {
    /// Settles the call as it ended (`"success"`, `"failure"`, `"ignored"`, `"timeout"`,
    /// `"cancelled"`); a timed call reports its duration.
    fn finish(&self, py: Python<'_>, end: &str) -> Settled {
        self.settle(py, end_named(end)?, None)
    }

    /// Reports a success; `duration` (seconds), if given, instead of the measured one.
    #[pyo3(signature = (duration = None))]
    fn record_success(&self, py: Python<'_>, duration: Option<f64>) -> Settled {
        self.settle(py, End::Success, duration)
    }

    /// Reports a failure.
    #[pyo3(signature = (duration = None))]
    fn record_failure(&self, py: Python<'_>, duration: Option<f64>) -> Settled {
        self.settle(py, End::Failure, duration)
    }

    /// Reports neither (an excluded error): frees a half-open slot.
    fn record_ignored(&self, py: Python<'_>) -> Settled {
        self.settle(py, End::Ignored, None)
    }

    /// Whether the permit has been settled.
    #[getter]
    fn reported(&self) -> bool {
        self.settled.load(Ordering::Relaxed)
    }

    /// Whether the core times this call (its duration is reported when it is settled).
    #[getter]
    fn timed(&self) -> bool {
        self.begun.0.is_timed()
    }

    /// The duration reported when it was settled, in seconds (`None` if none, or unsettled).
    #[getter]
    fn duration(&self) -> Option<f64> {
        self.duration.get().copied().flatten().map(secs)
    }

    /// The state it was issued in.
    #[getter]
    fn state(&self) -> &'static str {
        self.begun.0.permit().state().name()
    }

    /// The generation it was issued in.
    #[getter]
    fn generation(&self) -> u32 {
        self.begun.0.permit().generation()
    }

    /// The transition this acquire caused (`open->half_open`), if any.
    #[getter]
    fn transition(&self) -> Option<PyTransition> {
        self.transition.map(PyTransition)
    }

    /// The permit as plain bits.
    fn to_bits(&self) -> u32 {
        self.begun.0.permit().to_bits()
    }

    fn __repr__(&self) -> String {
        let p = self.begun.0.permit();
        let (state, generation, reported) = (p.state().name(), p.generation(), self.reported());
        format!("Permit(state={state:?}, generation={generation}, reported={reported})")
    }
}

impl Drop for PyPermit {
    fn drop(&mut self) {
        if !*self.settled.get_mut() {
            Python::attach(|py| {
                // Collected while an exception propagates: keep it (the clock is Python code).
                let pending = PyErr::occurred(py).then(|| PyErr::take(py)).flatten();
                let breaker = self.breaker.bind(py);
                if let Err(e) = PyBreaker::settle(breaker, self.begun, End::Cancelled, None) {
                    e.write_unraisable(py, None);
                }
                if let Some(e) = pending {
                    e.restore(py);
                }
            });
        }
    }
}
