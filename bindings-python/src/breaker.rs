//! The native `CircuitBreaker`: a frozen pyclass over a `cbreaker::SizedBreaker` (inline storage
//! for small windows, boxed for large ones).
//!
//! Listener hooks: a Python subclass turns on `_set_hooks(mask)` and defines
//! `_on_transition(t)`, `_on_reject(retry_after)` and `_on_outcome(outcome, exc)`; they are
//! called after the core operation returns, never inside it. A hook that raises is reported as
//! unraisable and never breaks the call.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use cbreaker::{Millis, Outcome, Permit, Rejected, Transition};
use pyo3::exceptions::PyException;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};

use crate::clock::Clock;
use crate::config::{Raw, to_dict};
use crate::errors::{PyCbError, secs};
use crate::permit::PyPermit;
use crate::types::{PyTransition, snapshot_dict};
use cbreaker::SizedBreaker as Core;

const HOOK_TRANSITION: u8 = 1;
const HOOK_REJECT: u8 = 2;
const HOOK_OUTCOME: u8 = 4;

/// A lock-free circuit breaker.
#[pyclass(module = "cbreaker._native", name = "CircuitBreaker", frozen, subclass)]
pub(crate) struct PyBreaker {
    pub(crate) core: Core,
    pub(crate) clock: Clock,
    /// Exception types counted as ignored, and predicates `exc -> bool` doing the same.
    exclude_types: Py<PyTuple>,
    exclude_predicates: Vec<Py<PyAny>>,
    /// Measure call durations: by default when slow-call tripping is on.
    timed: bool,
    hooks: AtomicU8,
    has_exclude: AtomicBool,
}

impl PyBreaker {
    fn now_ns(&self, py: Python<'_>) -> PyResult<u64> {
        let mut err = None;
        let ns = self.clock.now_ns(py, &mut err);
        err.map_or(Ok(ns), Err)
    }

    fn hooks(&self) -> u8 {
        // Relaxed: a configuration flag, set once by the Python layer.
        self.hooks.load(Ordering::Relaxed)
    }

    fn hook<'py>(
        slf: &Bound<'py, Self>,
        name: &Bound<'py, pyo3::types::PyString>,
        args: impl pyo3::call::PyCallArgs<'py>,
    ) {
        if let Err(e) = slf.call_method1(name, args) {
            e.write_unraisable(slf.py(), Some(slf.as_any()));
        }
    }

    fn emit(slf: &Bound<'_, Self>, tr: Option<Transition>) {
        if let Some(tr) = tr {
            if slf.get().hooks() & HOOK_TRANSITION != 0 {
                Self::hook(
                    slf,
                    intern!(slf.py(), "_on_transition"),
                    (PyTransition(tr),),
                );
            }
        }
    }

    fn rejected(slf: &Bound<'_, Self>, r: Rejected) {
        if slf.get().hooks() & HOOK_REJECT != 0 {
            Self::hook(
                slf,
                intern!(slf.py(), "_on_reject"),
                (r.retry_after.map(secs),),
            );
        }
    }

    /// Asks the core for a permit, reading the clock only if it asks.
    fn acquire(slf: &Bound<'_, Self>) -> PyResult<Result<cbreaker::Admitted, Rejected>> {
        let this = slf.get();
        let py = slf.py();
        let mut err = None;
        let result = this.core.try_acquire(|| this.clock.now(py, &mut err));
        if let Some(e) = err {
            if let Ok(a) = result {
                this.core.release(a.permit, this.clock_last());
            }
            return Err(e);
        }
        match result {
            Ok(a) => Self::emit(slf, a.transition),
            Err(r) => Self::rejected(slf, r),
        }
        Ok(result)
    }

    fn clock_last(&self) -> Millis {
        // Only used on an error path: the time is never needed to release a permit.
        Millis(0)
    }

    fn new_permit(slf: &Bound<'_, Self>, a: cbreaker::Admitted) -> PyResult<PyPermit> {
        let started_ns = if slf.get().timed {
            Some(slf.get().now_ns(slf.py())?)
        } else {
            None
        };
        Ok(PyPermit {
            breaker: slf.clone().unbind(),
            permit: a.permit,
            started_ns,
            transition: a.transition,
            reported: AtomicBool::new(false),
        })
    }

    /// Records an outcome and runs the hooks. `duration` wins over `started_ns`.
    pub(crate) fn settle(
        &self,
        slf: &Bound<'_, Self>,
        permit: Permit,
        outcome: Outcome,
        duration: Option<Millis>,
        started_ns: Option<u64>,
    ) -> PyResult<Option<PyTransition>> {
        let py = slf.py();
        let mut err = None;
        let tr = match (duration, started_ns) {
            (Some(d), _) => self
                .core
                .record(permit, outcome, Some(d), || self.clock.now(py, &mut err)),
            (None, Some(start)) => {
                let now = self.clock.now_ns(py, &mut err);
                let d = Millis(now.saturating_sub(start) / 1_000_000);
                self.core
                    .record(permit, outcome, Some(d), Millis(now / 1_000_000))
            }
            (None, None) => self
                .core
                .record(permit, outcome, None, || self.clock.now(py, &mut err)),
        };
        Self::emit(slf, tr);
        match err {
            Some(e) => Err(e),
            None => Ok(tr.map(PyTransition)),
        }
    }

    /// Takes a permit (or raises `CircuitBreakerOpenError`) and starts the call's timer.
    pub(crate) fn begin(slf: &Bound<'_, Self>) -> PyResult<(Permit, Option<u64>)> {
        let this = slf.get();
        let admitted = match Self::acquire(slf)? {
            Ok(a) => a,
            Err(r) => return Err(PyCbError::Rejected(r).into()),
        };
        let started = if this.timed {
            Some(this.now_ns(slf.py())?)
        } else {
            None
        };
        Ok((admitted.permit, started))
    }

    /// Reports how a call ended and runs the outcome hook. Never raises: an error reading an
    /// injected clock is reported as unraisable, so the call's own result or error stands.
    pub(crate) fn finish(
        slf: &Bound<'_, Self>,
        permit: Permit,
        started: Option<u64>,
        result: Result<(), &PyErr>,
    ) {
        let this = slf.get();
        let py = slf.py();
        let outcome = match result {
            Ok(()) => Outcome::Success,
            Err(e) => this.classify(py, e).unwrap_or(Outcome::Failure),
        };
        if let Err(e) = this.settle(slf, permit, outcome, None, started) {
            e.write_unraisable(py, Some(slf.as_any()));
        }
        if this.hooks() & HOOK_OUTCOME != 0 && outcome != Outcome::Ignored {
            let exc = result.err().map(|e| e.value(py).clone());
            Self::hook(slf, intern!(py, "_on_outcome"), (outcome.name(), exc));
        }
    }

    /// `func(*args, **kwargs)` under the breaker, synchronously.
    pub(crate) fn guarded<'py>(
        slf: &Bound<'py, Self>,
        func: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (permit, started) = Self::begin(slf)?;
        let result = func.call(args, kwargs);
        Self::finish(slf, permit, started, result.as_ref().map(|_| ()));
        result
    }

    /// How an exception counts: anything that is not an `Exception` (cancellation,
    /// `KeyboardInterrupt`, `SystemExit`) and every excluded error is ignored.
    fn classify(&self, py: Python<'_>, e: &PyErr) -> PyResult<Outcome> {
        let v = e.value(py);
        if !v.is_instance_of::<PyException>() {
            return Ok(Outcome::Ignored);
        }
        // Relaxed: immutable after construction; the flag only skips work.
        if self.has_exclude.load(Ordering::Relaxed) {
            if v.is_instance(self.exclude_types.bind(py))? {
                return Ok(Outcome::Ignored);
            }
            for p in &self.exclude_predicates {
                if p.bind(py).call1((v,))?.is_truthy()? {
                    return Ok(Outcome::Ignored);
                }
            }
        }
        Ok(Outcome::Failure)
    }

    fn manual(
        slf: &Bound<'_, Self>,
        op: fn(&Core, Millis) -> Transition,
    ) -> PyResult<PyTransition> {
        let this = slf.get();
        let now = this.now_ns(slf.py())?;
        let tr = op(&this.core, Millis(now / 1_000_000));
        Self::emit(slf, Some(tr));
        Ok(PyTransition(tr))
    }
}

#[pymethods]
impl PyBreaker {
    #[new]
    #[pyo3(signature = (
        *, window = None, window_size = None, window_duration = None, window_buckets = None,
        failure_rate_threshold = None, slow_call_rate_threshold = None, slow_call_duration = None,
        consecutive_failures = None, minimum_calls = None, open_duration = None,
        open_duration_max = None, open_duration_multiplier = None, jitter_percent = None,
        jitter_seed = None, half_open_max_calls = None, success_threshold = None,
        half_open_max_wait = None, exclude = None, clock = None, measure_durations = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        window: Option<&Bound<'_, PyAny>>,
        window_size: Option<&Bound<'_, PyAny>>,
        window_duration: Option<&Bound<'_, PyAny>>,
        window_buckets: Option<&Bound<'_, PyAny>>,
        failure_rate_threshold: Option<&Bound<'_, PyAny>>,
        slow_call_rate_threshold: Option<&Bound<'_, PyAny>>,
        slow_call_duration: Option<&Bound<'_, PyAny>>,
        consecutive_failures: Option<&Bound<'_, PyAny>>,
        minimum_calls: Option<&Bound<'_, PyAny>>,
        open_duration: Option<&Bound<'_, PyAny>>,
        open_duration_max: Option<&Bound<'_, PyAny>>,
        open_duration_multiplier: Option<&Bound<'_, PyAny>>,
        jitter_percent: Option<&Bound<'_, PyAny>>,
        jitter_seed: Option<&Bound<'_, PyAny>>,
        half_open_max_calls: Option<&Bound<'_, PyAny>>,
        success_threshold: Option<&Bound<'_, PyAny>>,
        half_open_max_wait: Option<&Bound<'_, PyAny>>,
        exclude: Option<&Bound<'_, PyAny>>,
        clock: Option<&Bound<'_, PyAny>>,
        measure_durations: Option<bool>,
    ) -> PyResult<Self> {
        let raw = Raw {
            window,
            window_size,
            window_duration,
            window_buckets,
            failure_rate_threshold,
            slow_call_rate_threshold,
            slow_call_duration,
            consecutive_failures,
            minimum_calls,
            open_duration,
            open_duration_max,
            open_duration_multiplier,
            jitter_percent,
            jitter_seed,
            half_open_max_calls,
            success_threshold,
            half_open_max_wait,
        };
        let config = raw.build()?;
        let core = Core::new(config).map_err(PyCbError::Core)?;
        let clock = match clock {
            Some(c) if !c.is_none() => {
                if !c.is_callable() {
                    return Err(PyCbError::Binding {
                        field: "clock",
                        message: "invalid config: clock must be a callable returning nanoseconds"
                            .into(),
                    }
                    .into());
                }
                Some(c.clone().unbind())
            }
            _ => None,
        };
        let (mut types, mut predicates) = (Vec::new(), Vec::new());
        if let Some(ex) = exclude.filter(|e| !e.is_none()) {
            let items: Vec<Bound<'_, PyAny>> = match ex.cast::<PyType>() {
                Ok(t) => vec![t.clone().into_any()],
                Err(_) => ex
                    .try_iter()
                    .map_err(|_| bad_exclude())?
                    .collect::<PyResult<_>>()?,
            };
            for item in items {
                if item.cast::<PyType>().is_ok_and(|t| {
                    t.is_subclass_of::<pyo3::exceptions::PyBaseException>()
                        .unwrap_or(false)
                }) {
                    types.push(item);
                } else if item.is_callable() {
                    predicates.push(item.unbind());
                } else {
                    return Err(bad_exclude());
                }
            }
        }
        let has_exclude = !types.is_empty() || !predicates.is_empty();
        Ok(PyBreaker {
            core,
            clock: Clock::new(clock),
            exclude_types: PyTuple::new(py, types)?.unbind(),
            exclude_predicates: predicates,
            timed: measure_durations.unwrap_or(config.slow_call_rate_threshold > 0),
            hooks: AtomicU8::new(0),
            has_exclude: AtomicBool::new(has_exclude),
        })
    }

    /// A permit, or `None` when the circuit rejects the call.
    fn try_acquire(slf: &Bound<'_, Self>) -> PyResult<Option<PyPermit>> {
        match Self::acquire(slf)? {
            Ok(a) => Self::new_permit(slf, a).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// A permit, or `CircuitBreakerOpenError` (with `retry_after` in seconds) when rejected.
    fn acquire_or_raise(slf: &Bound<'_, Self>) -> PyResult<PyPermit> {
        match Self::acquire(slf)? {
            Ok(a) => Self::new_permit(slf, a),
            Err(r) => Err(PyCbError::Rejected(r).into()),
        }
    }

    /// Calls `func(*args, **kwargs)` under the breaker. A raised `Exception` is a failure
    /// unless excluded; anything else (`KeyboardInterrupt`, `SystemExit`, cancellation) is
    /// ignored and re-raised.
    #[pyo3(signature = (func, /, *args, **kwargs))]
    fn call_sync<'py>(
        slf: &Bound<'py, Self>,
        func: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Self::guarded(slf, func, args, kwargs)
    }

    /// Takes a permit for the asyncio layer: a token to pass to `_end` exactly once (an int, or
    /// `(int, started_ns)` when durations are measured). Raises `CircuitBreakerOpenError`.
    fn _begin<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let (permit, started) = Self::begin(slf)?;
        match started {
            None => Ok(permit.to_bits().into_pyobject(py)?.into_any()),
            Some(t) => Ok((permit.to_bits(), t).into_pyobject(py)?.into_any()),
        }
    }

    /// Reports the outcome of a `_begin` token: success when `exc` is `None`, else as
    /// `classify_exception` says. Never raises.
    #[pyo3(signature = (token, exc = None))]
    fn _end(
        slf: &Bound<'_, Self>,
        token: &Bound<'_, PyAny>,
        exc: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let (bits, started) = match token.extract::<u32>() {
            Ok(bits) => (bits, None),
            Err(_) => {
                let (bits, t) = token.extract::<(u32, u64)>()?;
                (bits, Some(t))
            }
        };
        let err = exc.map(|e| PyErr::from_value(e.clone()));
        Self::finish(
            slf,
            Permit::from_bits(bits),
            started,
            err.as_ref().map_or(Ok(()), Err),
        );
        Ok(())
    }

    /// How an exception would count: `"failure"` or `"ignored"`.
    fn classify_exception(&self, py: Python<'_>, exc: &Bound<'_, PyAny>) -> PyResult<&'static str> {
        Ok(self.classify(py, &PyErr::from_value(exc.clone()))?.name())
    }

    /// The state a call now would see. Takes nothing, changes nothing.
    #[getter]
    fn state(&self, py: Python<'_>) -> PyResult<&'static str> {
        let mut err = None;
        let s = self.core.state(|| self.clock.now(py, &mut err));
        err.map_or(Ok(s.name()), Err)
    }

    /// State, window figures and lifetime counters (durations in seconds).
    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let now = self.now_ns(py)?;
        snapshot_dict(py, &self.core.snapshot(Millis(now / 1_000_000)))
    }

    /// The validated config, as keyword arguments.
    #[getter]
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        to_dict(py, &self.core.config())
    }

    /// Rejects every call until `reset`, `force_closed` or `metrics_only`.
    fn force_open(slf: &Bound<'_, Self>) -> PyResult<PyTransition> {
        Self::manual(slf, |b, t| b.force_open(t))
    }

    /// Admits every call and never trips (state `"disabled"`).
    fn force_closed(slf: &Bound<'_, Self>) -> PyResult<PyTransition> {
        Self::manual(slf, |b, t| b.force_closed(t))
    }

    /// Admits every call, keeps the window and metrics, never trips.
    fn metrics_only(slf: &Bound<'_, Self>) -> PyResult<PyTransition> {
        Self::manual(slf, |b, t| b.metrics_only(t))
    }

    /// Closed, window cleared, backoff reset.
    fn reset(slf: &Bound<'_, Self>) -> PyResult<PyTransition> {
        Self::manual(slf, |b, t| b.reset(t))
    }

    /// The clock reading in seconds (the injected clock, if any).
    fn now(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(self.now_ns(py)? as f64 / 1e9)
    }

    /// Whether calls are timed (durations reported to the core).
    #[getter]
    fn measure_durations(&self) -> bool {
        self.timed
    }

    /// The injected clock, or `None` for the monotonic clock.
    #[getter]
    fn clock(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.clock.source().map(|c| c.clone_ref(py))
    }

    /// The object's size plus the boxed window storage, if any.
    fn __sizeof__(slf: &Bound<'_, Self>) -> usize {
        size_of::<Self>() + slf.get().core.heap_bytes() + 16
    }

    /// Turns listener hooks on (used by the Python layer).
    fn _set_hooks(&self, mask: u8) {
        self.hooks.store(mask, Ordering::Relaxed);
    }
}

fn bad_exclude() -> PyErr {
    PyCbError::Binding {
        field: "exclude",
        message: "invalid config: exclude must be an exception type, or an iterable of exception types and predicates".into(),
    }
    .into()
}
