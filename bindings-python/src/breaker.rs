//! The native `CircuitBreaker`: a frozen pyclass over the core's `Breaker` (inline, boxed, or
//! in shared memory). Every call
//! helper runs the core's call protocol (`begin` → `Call` → `finish`); this file only maps a
//! Python exception to an `End` and reads the clock.
//!
//! Listener hooks: a Python subclass turns on `_set_hooks(mask)` and defines
//! `_on_transition(t)`, `_on_reject(retry_after)`, `_on_outcome(outcome, exc)` and
//! `_on_duration(outcome, seconds)`, called
//! after the core operation returns. A hook that raises is reported as unraisable.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use cbreaker::Transition;
use cbreaker::{Call, End, Finished, HealthStatus, Millis, Outcome, Permit, Rejected, State};
use pyo3::exceptions::{PyBaseException, PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyString, PyTuple, PyType};
use pyo3::{IntoPyObjectExt, call::PyCallArgs, intern};

use crate::clock::Clock;
use crate::config::{build, to_dict};
use crate::errors::{PyCbError, binding, secs};
use crate::permit::PyPermit;
use crate::shared::Shared;
use crate::types::{PyTransition, Settled, snapshot_dict};
use cbreaker::{Breaker, Config, MAX_SLOTS, SMALL_SLOTS, SizedBreaker};

const HOOK_TRANSITION: u8 = 1;
const HOOK_REJECT: u8 = 2;
const HOOK_OUTCOME: u8 = 4;
/// A duration sink is attached: calls are timed, and `_on_duration(outcome, seconds)` runs.
const HOOK_DURATION: u8 = 8;

/// Where a breaker lives: inline (a small window), boxed (any window), or in a shared-memory
/// segment. The boxed and shared variants are the same type, `Breaker<MAX_SLOTS>`; the boxed
/// one is an `Arc`, so a fleet's agent can share it (`src/fleet.rs`).
pub(crate) enum Core {
    Small(Breaker<SMALL_SLOTS>),
    Large(Arc<Breaker<MAX_SLOTS>>),
    Shared(Shared),
}

/// Runs `$e` with `$b` bound to the breaker, wherever it lives.
macro_rules! inner {
    ($core:expr, $b:ident => $e:expr) => {
        match $core {
            Core::Small($b) => $e,
            Core::Large($b) => $e,
            Core::Shared(s) => {
                let $b = s.get();
                $e
            }
        }
    };
}

impl Core {
    /// The breaker as the fleet's sync flow sees it, wherever it lives.
    pub(crate) fn fleet_local(&self) -> &dyn cbreaker::fleet::driver::Local {
        match self {
            Core::Small(b) => b,
            Core::Large(b) => &**b,
            Core::Shared(s) => s.get(),
        }
    }

    fn local(config: Config) -> PyResult<Core> {
        Ok(match SizedBreaker::new(config).map_err(PyCbError::Core)? {
            SizedBreaker::Small(b) => Core::Small(b),
            SizedBreaker::Large(b) => Core::Large(Arc::from(b)),
        })
    }

    /// A breaker a fleet's agent can share: always the `Arc`'d one.
    fn member(config: Config) -> PyResult<Core> {
        let b = Breaker::<MAX_SLOTS>::new(config).map_err(PyCbError::Core)?;
        Ok(Core::Large(Arc::new(b)))
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Core::Large(_) => size_of::<Breaker<MAX_SLOTS>>(),
            _ => 0,
        }
    }
}

/// A begun call: the core's `Call`, and for a timed call its start (ns) on Python's finer clock;
/// `Admitted` adds the transition `begin` caused (`open->half_open`), if any.
pub(crate) type Begun = (Call, Option<u64>);
pub(crate) type Admitted = (Begun, Option<Transition>);
type Move = fn(&Core, Millis) -> Transition;

/// A lock-free circuit breaker.
#[pyclass(module = "cbreaker._native", name = "CircuitBreaker", frozen, subclass)]
pub(crate) struct PyBreaker {
    pub(crate) core: Core,
    pub(crate) clock: Clock,
    /// Exception types (`true`) and predicates `exc -> bool` (`false`) counted as ignored.
    exclude: Vec<(Py<PyAny>, bool)>,
    /// Which listener hooks to call (`_set_hooks`). Relaxed loads and stores: a configuration
    /// flag set by the Python layer; it orders nothing.
    hooks: AtomicU8,
}

impl PyBreaker {
    fn now_ms(&self, py: Python<'_>) -> PyResult<Millis> {
        let mut err = None;
        let now = self.clock.now(py, &mut err);
        err.map_or(Ok(now), Err)
    }

    pub(crate) fn snapshot_now(&self, py: Python<'_>) -> PyResult<cbreaker::Snapshot> {
        let now = self.now_ms(py)?;
        Ok(inner!(&self.core, b => b.snapshot(now)))
    }

    /// The state now, reading the clock only if the core needs it.
    fn state_now(&self, py: Python<'_>) -> PyResult<State> {
        let mut err = None;
        let s = inner!(&self.core, b => b.state(|| self.clock.now(py, &mut err)));
        err.map_or(Ok(s), Err)
    }

    fn hook<'py>(slf: &Bound<'py, Self>, name: &Bound<'py, PyString>, args: impl PyCallArgs<'py>) {
        if let Err(e) = slf.call_method1(name, args) {
            e.write_unraisable(slf.py(), Some(slf.as_any()));
        }
    }

    fn emit(slf: &Bound<'_, Self>, tr: Option<Transition>) {
        if let (Some(t), true) = (
            tr,
            slf.get().hooks.load(Ordering::Relaxed) & HOOK_TRANSITION != 0,
        ) {
            Self::hook(slf, intern!(slf.py(), "_on_transition"), (PyTransition(t),));
        }
    }

    /// The core's `begin(now, sink)`: the clock is read only if the core asks for it.
    #[inline(always)]
    pub(crate) fn begin(slf: &Bound<'_, Self>, sink: bool) -> PyResult<Result<Admitted, Rejected>> {
        let (this, py) = (slf.get(), slf.py());
        let (mut err, mut ns) = (None, 0);
        let now = || {
            ns = this.clock.now_ns(py, &mut err);
            Millis(ns / 1_000_000)
        };
        let sink = sink || this.hooks.load(Ordering::Relaxed) & HOOK_DURATION != 0;
        let result = inner!(&this.core, b => b.begin(now, sink));
        match (result, err) {
            (Ok(mut b), Some(e)) => {
                let _ = inner!(&this.core, c => c.finish(&mut b.call, End::Cancelled, Millis(0)));
                Err(e)
            }
            (Err(_), Some(e)) => Err(e),
            (Ok(b), None) => {
                Self::emit(slf, b.transition);
                let begun = (b.call, b.call.is_timed().then_some(ns));
                Ok(Ok((begun, b.transition)))
            }
            (Err(r), None) => {
                if this.hooks.load(Ordering::Relaxed) & HOOK_REJECT != 0 {
                    Self::hook(slf, intern!(py, "_on_reject"), (r.retry_after.map(secs),));
                }
                Ok(Err(r))
            }
        }
    }

    /// Settles a begun call with the core's `finish` (a timed call: `finish_measured`, on
    /// Python's clock) or, given `raw`, with the core's `record` verb and exactly that duration.
    #[inline(always)]
    pub(crate) fn settle(
        slf: &Bound<'_, Self>,
        (mut call, started): Begun,
        end: End,
        raw: Option<Option<Millis>>,
    ) -> PyResult<Finished> {
        let (this, py) = (slf.get(), slf.py());
        let mut err = None;
        let done = match (raw, started) {
            (Some(duration), _) => Ok(Finished {
                transition: inner!(&this.core, b => b.record(
                    call.permit(),
                    end.outcome(),
                    duration,
                    || this.clock.now(py, &mut err)
                )),
                outcome: end.outcome(),
                duration,
            }),
            (None, Some(start)) => {
                let ns = this.clock.now_ns(py, &mut err);
                let took = Millis(ns.saturating_sub(start) / 1_000_000);
                inner!(&this.core, b => b.finish_measured(&mut call, end, Millis(ns / 1_000_000), took))
            }
            (None, None) => {
                inner!(&this.core, b => b.finish(&mut call, end, || this.clock.now(py, &mut err)))
            }
        }
        .map_err(PyCbError::Settled)?;
        Self::emit(slf, done.transition);
        err.map_or(Ok(done), Err)
    }

    /// Ends a helper's call: `exc` → `End` (`timed_out`: the helper's own timeout fired), the
    /// core settles it, then the outcome hook runs. Never raises: an injected clock's error is
    /// reported as unraisable, so the call's own result or exception stands.
    #[inline(always)]
    pub(crate) fn conclude(
        slf: &Bound<'_, Self>,
        begun: Begun,
        exc: Option<&Bound<'_, PyAny>>,
        timed_out: bool,
    ) -> Option<Transition> {
        let (this, py) = (slf.get(), slf.py());
        let end = match exc {
            None => End::Success,
            Some(_) if timed_out => End::TimedOut,
            Some(e) => this.end_of(e).unwrap_or_else(|err| {
                report_predicate_error(py, err, e);
                End::Failure
            }),
        };
        let done = Self::settle(slf, begun, end, None)
            .map_err(|e| e.write_unraisable(py, Some(slf.as_any())))
            .ok();
        let hooks = this.hooks.load(Ordering::Relaxed);
        if hooks & (HOOK_OUTCOME | HOOK_DURATION) != 0 && end.outcome() != Outcome::Ignored {
            if hooks & HOOK_OUTCOME != 0 {
                Self::hook(slf, intern!(py, "_on_outcome"), (end.outcome().name(), exc));
            }
            if let Some(d) = done
                .and_then(|f| f.duration)
                .filter(|_| hooks & HOOK_DURATION != 0)
            {
                Self::hook(
                    slf,
                    intern!(py, "_on_duration"),
                    (end.outcome().name(), secs(d)),
                );
            }
        }
        done.and_then(|f| f.transition)
    }

    /// How an exception ends a call: anything that is not an `Exception` (cancellation,
    /// `KeyboardInterrupt`, `SystemExit`) is `Cancelled`, an excluded error `Ignored`.
    fn end_of(&self, v: &Bound<'_, PyAny>) -> PyResult<End> {
        if !v.is_instance_of::<PyException>() {
            return Ok(End::Cancelled);
        }
        for (x, is_type) in &self.exclude {
            let x = x.bind(v.py());
            if *is_type && v.is_instance(x)? || !*is_type && x.call1((v,))?.is_truthy()? {
                return Ok(End::Ignored);
            }
        }
        Ok(End::Failure)
    }

    fn manual(slf: &Bound<'_, Self>, op: Move) -> PyResult<PyTransition> {
        let tr = op(&slf.get().core, slf.get().now_ms(slf.py())?);
        Self::emit(slf, Some(tr));
        Ok(PyTransition(tr))
    }
}

/// An `End` by name (`"success"`, `"failure"`, `"ignored"`, `"timeout"`, `"cancelled"`).
pub(crate) fn end_named(name: &str) -> PyResult<End> {
    let names = || End::ALL.map(End::name).join(", ");
    let err = || PyValueError::new_err(format!("outcome must be one of {}, got {name:?}", names()));
    let found = End::ALL.into_iter().find(|e| e.name() == name);
    found.ok_or_else(err)
}

#[pymethods]
impl PyBreaker {
    /// Keywords in Python units (seconds, percent); `preset` names the core's base config.
    /// `shared_memory`: the name of a shared-memory segment holding the breaker, created by
    /// the first process and attached to by the others (`src/shared.rs`). `fleet`: not
    /// `None` when the breaker will join a fleet (`FleetMember`), which shares it.
    #[new]
    #[pyo3(signature = (*, exclude = None, clock = None, shared_memory = None, fleet = None, **config))]
    fn new(
        py: Python<'_>,
        exclude: Option<&Bound<'_, PyAny>>,
        clock: Option<&Bound<'_, PyAny>>,
        shared_memory: Option<&Bound<'_, PyAny>>,
        fleet: Option<&Bound<'_, PyAny>>,
        config: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let config = build(config)?;
        if clock.is_some_and(|c| !c.is_callable()) {
            return Err(binding("clock", "a callable returning nanoseconds"));
        }
        let fleet = fleet.is_some_and(|f| !f.is_none());
        let core = match shared_memory.filter(|s| !s.is_none()) {
            None if fleet && clock.is_some() => {
                let what = "unset with fleet (the agent reads the calls' monotonic clock)";
                return Err(binding("clock", what));
            }
            None if fleet => Core::member(config)?,
            None => Core::local(config)?,
            Some(_) if fleet => {
                return Err(binding(
                    "fleet",
                    "unset with shared_memory (one host's breaker)",
                ));
            }
            Some(_) if clock.is_some() => {
                let what = "unset with shared_memory (every process must read one clock)";
                return Err(binding("clock", what));
            }
            Some(name) => {
                let name = name
                    .extract::<String>()
                    .map_err(|_| binding("shared_memory", "a segment name (a str)"))?;
                Core::Shared(crate::shared::place(py, &name, config)?)
            }
        };
        let items: Vec<Bound<'_, PyAny>> = match exclude {
            None => Vec::new(),
            Some(ex) if ex.cast::<PyType>().is_ok() => vec![ex.clone()],
            Some(ex) => ex
                .try_iter()
                .map_err(|_| bad_exclude())?
                .collect::<PyResult<_>>()?,
        };
        let exclude = items.into_iter().map(|x| {
            let is_exc = |t: &Bound<'_, PyType>| t.is_subclass_of::<PyBaseException>();
            let is_type = x.cast::<PyType>().is_ok_and(|t| is_exc(t).unwrap_or(false));
            match is_type || x.is_callable() {
                true => Ok((x.unbind(), is_type)),
                false => Err(bad_exclude()),
            }
        });
        Ok(PyBreaker {
            core,
            clock: Clock::new(py, clock.map(|c| c.clone().unbind())),
            exclude: exclude.collect::<PyResult<_>>()?,
            hooks: AtomicU8::new(0),
        })
    }

    /// A permit, or `None` when the circuit rejects the call. `sink`: the caller feeds the
    /// call's duration to a sink of its own (a histogram), so the core times the call.
    #[pyo3(signature = (sink = false))]
    fn try_acquire(slf: &Bound<'_, Self>, sink: bool) -> PyResult<Option<PyPermit>> {
        Ok(Self::begin(slf, sink)?.ok().map(|a| PyPermit::new(slf, a)))
    }

    /// A permit, or `CircuitBreakerOpenError` (with `retry_after` and `reason`) when rejected.
    #[pyo3(signature = (sink = false))]
    fn acquire_or_raise(slf: &Bound<'_, Self>, sink: bool) -> PyResult<PyPermit> {
        Ok(PyPermit::new(
            slf,
            Self::begin(slf, sink)?.map_err(PyCbError::Rejected)?,
        ))
    }

    /// The core's `record` verb: settles `permit` with `outcome` and exactly `duration`
    /// (seconds; `None`: no duration is reported).
    #[pyo3(signature = (permit, outcome, duration = None))]
    fn record(
        slf: &Bound<'_, Self>,
        permit: &Bound<'_, PyPermit>,
        outcome: &str,
        duration: Option<f64>,
    ) -> Settled {
        let end = end_named(outcome)?;
        permit.get().report(slf, end, Some(duration))
    }

    /// Calls `func(*args, **kwargs)` under the breaker. A raised `Exception` is a failure
    /// unless excluded; anything else (`KeyboardInterrupt`, `SystemExit`, cancellation) is
    /// cancelled (ignored) and re-raised.
    #[pyo3(signature = (func, /, *args, **kwargs))]
    pub(crate) fn call_sync<'py>(
        slf: &Bound<'py, Self>,
        func: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (begun, _) = Self::begin(slf, false)?.map_err(PyCbError::Rejected)?;
        let result = func.call(args, kwargs);
        let exc = result.as_ref().err().map(|e| e.value(slf.py()).as_any());
        Self::conclude(slf, begun, exc, false);
        result
    }

    /// Begins a call for the asyncio layer: a token for `_end`, the permit's bits (an int), or
    /// `(bits, started_ns)` for a timed call. Raises `CircuitBreakerOpenError`.
    fn _begin(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let ((call, started), _) = Self::begin(slf, false)?.map_err(PyCbError::Rejected)?;
        let (bits, py) = (call.permit().to_bits(), slf.py());
        started.map_or(bits.into_py_any(py), |t| (bits, t).into_py_any(py))
    }

    /// Ends a `_begin` token or a `Permit` as a helper does: a success when `exc` is `None`,
    /// a failure when `timed_out` (the helper's own timeout), else as the exception says.
    #[pyo3(signature = (token, exc = None, timed_out = false))]
    fn _end(
        slf: &Bound<'_, Self>,
        token: &Bound<'_, PyAny>,
        exc: Option<&Bound<'_, PyAny>>,
        timed_out: bool,
    ) -> Settled {
        let begun = match token.cast::<PyPermit>() {
            Ok(p) => p.get().take(slf)?,
            Err(_) => {
                let (bits, t): (u32, Option<u64>) = match token.is_instance_of::<PyInt>() {
                    true => (token.extract()?, None),
                    false => token.extract::<(u32, u64)>().map(|(b, t)| (b, Some(t)))?,
                };
                let started = t.map(|t| Millis(t / 1_000_000));
                (Call::from_parts(Permit::from_bits(bits), started, false), t)
            }
        };
        Ok(Self::conclude(slf, begun, exc, timed_out).map(PyTransition))
    }

    /// How an exception would count: `"failure"` or `"ignored"`.
    fn classify_exception(&self, exc: &Bound<'_, PyAny>) -> PyResult<&'static str> {
        Ok(self.end_of(exc)?.outcome().name())
    }

    /// The core's timing rule: whether a call is timed (the slow-call rule is on, or `sink`).
    #[pyo3(signature = (sink = false))]
    fn times_calls(&self, sink: bool) -> bool {
        inner!(&self.core, b => b.times_calls(sink))
    }

    /// The state a call now would see. Takes nothing, changes nothing.
    #[getter]
    fn state(&self, py: Python<'_>) -> PyResult<&'static str> {
        Ok(self.state_now(py)?.name())
    }

    /// The core's health rule for this breaker now: `"healthy"` or `"unhealthy"`.
    fn health(&self, py: Python<'_>) -> PyResult<&'static str> {
        Ok(HealthStatus::of(self.state_now(py)?).name())
    }

    /// State, window figures and lifetime counters (durations in seconds).
    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        snapshot_dict(py, &self.snapshot_now(py)?)
    }

    /// The validated config, as keyword arguments.
    #[getter]
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        to_dict(py, &inner!(&self.core, b => b.config()))
    }

    /// Rejects every call until `reset`, `force_closed` or `metrics_only`.
    fn force_open(slf: &Bound<'_, Self>) -> PyResult<PyTransition> {
        Self::manual(slf, |c, t| inner!(c, b => b.force_open(t)))
    }

    /// Admits every call and never trips (state `"disabled"`).
    fn force_closed(slf: &Bound<'_, Self>) -> PyResult<PyTransition> {
        Self::manual(slf, |c, t| inner!(c, b => b.force_closed(t)))
    }

    /// Admits every call, keeps the window and metrics, never trips.
    fn metrics_only(slf: &Bound<'_, Self>) -> PyResult<PyTransition> {
        Self::manual(slf, |c, t| inner!(c, b => b.metrics_only(t)))
    }

    /// Closed, window cleared, backoff reset.
    fn reset(slf: &Bound<'_, Self>) -> PyResult<PyTransition> {
        Self::manual(slf, |c, t| inner!(c, b => b.reset(t)))
    }

    /// Open as an automatic trip would be: it moves to half-open by itself after the deadline.
    fn trip(slf: &Bound<'_, Self>) -> PyResult<PyTransition> {
        Self::manual(slf, |c, t| inner!(c, b => b.trip(t)))
    }

    /// Half-open: probes are admitted as after an open deadline.
    fn half_open(slf: &Bound<'_, Self>) -> PyResult<PyTransition> {
        Self::manual(slf, |c, t| inner!(c, b => b.half_open(t)))
    }

    /// The current generation (modulo 4,096): a permit of another one is stale.
    fn _generation(&self, py: Python<'_>) -> PyResult<u32> {
        Ok(self.snapshot_now(py)?.generation)
    }

    /// The shared-memory segment holding the breaker, or `None` for a breaker of its own.
    #[getter]
    fn shared_memory(&self) -> Option<&str> {
        match &self.core {
            Core::Shared(s) => Some(&s.name),
            _ => None,
        }
    }

    /// Whether this process created the shared-memory segment (`False` when it attached).
    #[getter]
    fn shared_memory_created(&self) -> bool {
        matches!(&self.core, Core::Shared(s) if s.created)
    }

    /// The clock reading in seconds (the injected clock, if any).
    fn now(&self, py: Python<'_>) -> PyResult<f64> {
        let mut err = None;
        let ns = self.clock.now_ns(py, &mut err);
        err.map_or(Ok(ns as f64 / 1e9), Err)
    }

    /// The injected clock, or `None` for the monotonic clock.
    #[getter]
    fn clock(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.clock.source.as_ref().map(|c| c.clone_ref(py))
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

/// An `exclude=` predicate raised while classifying `exc`: the call counts as a failure (the
/// predicate could not say otherwise) and the predicate's error is logged on the `cbreaker`
/// logger with its traceback, never swallowed and never raised in place of the call's own.
#[cold]
fn report_predicate_error(py: Python<'_>, err: PyErr, exc: &Bound<'_, PyAny>) {
    let logged = (|| -> PyResult<()> {
        let log = py
            .import("logging")?
            .call_method1("getLogger", ("cbreaker",))?;
        let kw = PyDict::new(py);
        kw.set_item("exc_info", err.value(py))?;
        let msg = "cbreaker: an exclude= predicate raised while classifying %r: the call counts as a failure";
        log.call_method("error", (msg, exc), Some(&kw))?;
        Ok(())
    })();
    if let Err(e) = logged {
        e.write_unraisable(py, Some(exc));
    }
}

fn bad_exclude() -> PyErr {
    binding(
        "exclude",
        "an exception type, or an iterable of exception types and predicates",
    )
}
