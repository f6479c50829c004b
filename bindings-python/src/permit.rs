//! A permit as a Python object: report it exactly once; an unreported permit that is garbage
//! collected is released (counted as ignored, its half-open slot freed).

use std::sync::atomic::{AtomicBool, Ordering};

use cbreaker::{Millis, Outcome, Permit};
use pyo3::prelude::*;

use crate::breaker::PyBreaker;
use crate::errors::PyCbError;
use crate::types::PyTransition;

/// Permission to make one call.
#[pyclass(module = "cbreaker._native", name = "Permit", frozen)]
pub(crate) struct PyPermit {
    pub(crate) breaker: Py<PyBreaker>,
    pub(crate) permit: Permit,
    /// Clock reading (ns) when issued, when the breaker measures durations.
    pub(crate) started_ns: Option<u64>,
    pub(crate) transition: Option<cbreaker::Transition>,
    pub(crate) reported: AtomicBool,
}

impl PyPermit {
    fn report(
        &self,
        py: Python<'_>,
        outcome: Outcome,
        duration: Option<f64>,
    ) -> PyResult<Option<PyTransition>> {
        // Relaxed: the flag only guards against a second report; it publishes nothing.
        if self.reported.swap(true, Ordering::Relaxed) {
            return Err(PyCbError::PermitReported.into());
        }
        let breaker = self.breaker.bind(py);
        let duration = match duration {
            Some(d) if d.is_finite() && d >= 0.0 => Some(Millis((d * 1000.0).round() as u64)),
            Some(_) => {
                return Err(pyo3::exceptions::PyValueError::new_err(
                    "duration must be a finite, non-negative number of seconds",
                ));
            }
            None => None,
        };
        breaker
            .get()
            .settle(breaker, self.permit, outcome, duration, self.started_ns)
    }
}

#[pymethods]
impl PyPermit {
    /// Reports a success. `duration` (seconds) defaults to the time since the permit was
    /// issued when the breaker measures durations (slow-call tripping on).
    #[pyo3(signature = (duration = None))]
    fn record_success(
        &self,
        py: Python<'_>,
        duration: Option<f64>,
    ) -> PyResult<Option<PyTransition>> {
        self.report(py, Outcome::Success, duration)
    }

    /// Reports a failure.
    #[pyo3(signature = (duration = None))]
    fn record_failure(
        &self,
        py: Python<'_>,
        duration: Option<f64>,
    ) -> PyResult<Option<PyTransition>> {
        self.report(py, Outcome::Failure, duration)
    }

    /// Reports neither (an excluded error, a cancelled call): frees a half-open slot.
    fn record_ignored(&self, py: Python<'_>) -> PyResult<Option<PyTransition>> {
        self.report(py, Outcome::Ignored, None)
    }

    /// Whether the permit has been reported.
    #[getter]
    fn reported(&self) -> bool {
        self.reported.load(Ordering::Relaxed)
    }

    /// The state it was issued in.
    #[getter]
    fn state(&self) -> &'static str {
        self.permit.state().name()
    }

    /// The generation it was issued in.
    #[getter]
    fn generation(&self) -> u32 {
        self.permit.generation()
    }

    /// The transition this acquire caused (`open->half_open`), if any.
    #[getter]
    fn transition(&self) -> Option<PyTransition> {
        self.transition.map(PyTransition)
    }

    /// The permit as plain bits.
    fn to_bits(&self) -> u32 {
        self.permit.to_bits()
    }

    fn __repr__(&self) -> String {
        format!(
            "Permit(state={:?}, generation={}, reported={})",
            self.permit.state().name(),
            self.permit.generation(),
            self.reported.load(Ordering::Relaxed)
        )
    }
}

impl Drop for PyPermit {
    fn drop(&mut self) {
        if !*self.reported.get_mut() {
            Python::attach(|py| {
                let b = self.breaker.get();
                let mut err = None;
                b.core.release(self.permit, || b.clock.now(py, &mut err));
                if let Some(e) = err {
                    e.write_unraisable(py, None);
                }
            });
        }
    }
}
