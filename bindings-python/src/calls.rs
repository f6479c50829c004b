//! The native decorator for sync functions: it only takes a permit, runs the caller's code
//! and reports how it ended; the breaker decides everything.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple};

use crate::breaker::PyBreaker;

/// A sync function decorated with `@breaker`: `Guarded(breaker, fn)(*args)` is
/// `breaker.call_sync(fn, *args)` without the extra Python frame.
#[pyclass(module = "cbreaker._native", name = "Guarded", dict, frozen)]
pub(crate) struct Guarded {
    breaker: Py<PyBreaker>,
    func: Py<PyAny>,
}

#[pymethods]
impl Guarded {
    #[new]
    fn new(breaker: Bound<'_, PyBreaker>, func: Bound<'_, PyAny>) -> Self {
        Guarded {
            breaker: breaker.unbind(),
            func: func.unbind(),
        }
    }

    #[pyo3(signature = (*args, **kwargs))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        PyBreaker::call_sync(self.breaker.bind(py), self.func.bind(py), args, kwargs)
    }

    /// Binds like a function, so a decorated method gets its `self`.
    fn __get__<'py>(
        slf: &Bound<'py, Self>,
        obj: Option<&Bound<'py, PyAny>>,
        _owner: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        static METHOD_TYPE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        match obj {
            Some(o) if !o.is_none() => METHOD_TYPE
                .import(slf.py(), "types", "MethodType")?
                .call1((slf, o)),
            _ => Ok(slf.clone().into_any()),
        }
    }

    /// The breaker guarding the function.
    #[getter]
    fn breaker(&self, py: Python<'_>) -> Py<PyBreaker> {
        self.breaker.clone_ref(py)
    }
}
