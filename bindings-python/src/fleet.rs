//! A breaker's fleet membership (docs/fleet.md): the core's agent (`cbreaker::fleet_agent`)
//! on its own native thread, sharing the breaker (`Core::Large`, an `Arc`) and reading the
//! clock the calls read. The agent holds no GIL: it takes it only to run the Python layer's
//! listener for a transition the fleet caused. Operator moves release the GIL during their
//! round trip.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use cbreaker::fleet::{Mode, Record, Rules};
use cbreaker::fleet_agent::{Fleet, FleetError, FleetOptions, FleetStatus, OnTransition};
use cbreaker::{Millis, Transition};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::breaker::{Core, PyBreaker};
use crate::errors::ConfigError;
use crate::types::PyTransition;

pyo3::import_exception!(cbreaker.fleet, FleetStoreError);
pyo3::import_exception!(cbreaker.fleet, FleetRefusedError);

/// One breaker's membership of its fleet. Stopped by `stop()`, and when collected.
#[pyclass(module = "cbreaker._native", name = "FleetMember", frozen)]
pub(crate) struct PyFleetMember {
    fleet: Mutex<Option<Fleet>>,
    member_id: String,
    name: String,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn store_error(e: FleetError) -> PyErr {
    match e {
        FleetError::Refused { .. } => FleetRefusedError::new_err(e.to_string()),
        FleetError::Store(_) => FleetStoreError::new_err(e.to_string()),
        FleetError::Options { field, .. } => ConfigError::new_err((e.to_string(), field.name())),
        FleetError::Agent(_) => FleetStoreError::new_err(e.to_string()),
    }
}

fn millis(field: &'static str, seconds: f64) -> PyResult<Millis> {
    if !seconds.is_finite() || seconds <= 0.0 {
        let message = format!("fleet {field} must be a positive number of seconds, got {seconds}");
        return Err(ConfigError::new_err((message, field)));
    }
    Ok(Millis((seconds * 1000.0).round() as u64))
}

fn record_dict<'py>(py: Python<'py>, r: &Record) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("state", r.state.name())?;
    d.set_item("generation", r.generation)?;
    d.set_item("cause", r.cause.name())?;
    d.set_item("record", r.to_string())?;
    Ok(d)
}

#[pymethods]
impl PyFleetMember {
    /// Joins the fleet `name` with `breaker` (made with `fleet=`, so the agent can share it).
    /// Times in seconds; `window` whole seconds (`None`: the core's default for the config);
    /// `quorum`: `None` for the rate rule, else `k` members; `on_transition(t)` runs for each
    /// local transition the fleet causes, on the agent's thread with the GIL.
    #[new]
    #[pyo3(signature = (breaker, name, url, *, prefix, sync_interval, window, quorum, timeout, member_id, on_transition))]
    #[allow(clippy::too_many_arguments)] // the keyword options of `Fleet(...)`, one each
    fn new(
        breaker: &Bound<'_, PyBreaker>,
        name: String,
        url: String,
        prefix: String,
        sync_interval: f64,
        window: Option<f64>,
        quorum: Option<u32>,
        timeout: Option<f64>,
        member_id: Option<String>,
        on_transition: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let b = breaker.get();
        let Core::Large(local) = &b.core else {
            return Err(PyValueError::new_err(
                "fleet: this breaker was not made to join a fleet (pass fleet= to CircuitBreaker)",
            ));
        };
        if b.clock.source.is_some() {
            let message = "invalid config: clock must be unset with fleet (the agent reads the calls' monotonic clock)";
            return Err(ConfigError::new_err((message, "clock")));
        }
        let config = local.config();
        let mut rules = Rules::for_config(&config);
        rules.sync_interval = millis("sync_interval", sync_interval)?;
        if let Some(w) = window {
            rules.window = millis("window", w)?;
        }
        rules.mode = match quorum {
            None => Mode::Rate,
            Some(k) => Mode::Quorum(k),
        };
        let mut options = FleetOptions::new(&url, &name, rules);
        options.prefix = prefix;
        options.timeout = timeout
            .map(|t| millis("timeout", t).map(|m| Duration::from_millis(m.0)))
            .transpose()?;
        options.member_id = member_id;
        options.on_transition = on_transition.map(|f| -> OnTransition {
            Arc::new(move |t: &Transition| Python::attach(|py| notify(py, &f, *t)))
        });
        let fleet =
            Fleet::join(local.clone(), options, crate::clock::monotonic_ms).map_err(store_error)?;
        Ok(PyFleetMember {
            member_id: fleet.member_id().to_string(),
            fleet: Mutex::new(Some(fleet)),
            name,
        })
    }

    /// This member's id (`<host>:<pid>:<random>` unless given).
    #[getter]
    fn member_id(&self) -> &str {
        &self.member_id
    }

    /// The breaker's name: its keys' hash tag.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// `status` (`"joining"`, `"joined"`, `"degraded"`, `"refused"`, or `"stopped"`), the
    /// fleet's `state` and `generation` as last read (`None`, 0 before), `members`, `leases`
    /// held, `syncs`, `failures` and `error` (the last sync's error, or why it is refused).
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = lock(&self.fleet).as_ref().map(Fleet::status);
        let d = PyDict::new(py);
        let Some(s) = s else {
            d.set_item("status", "stopped")?;
            for k in ["state", "error"] {
                d.set_item(k, py.None())?;
            }
            for k in ["generation", "members", "leases", "syncs", "failures"] {
                d.set_item(k, 0)?;
            }
            return Ok(d);
        };
        let FleetStatus {
            status,
            state,
            generation,
            members,
            leases,
            syncs,
            failures,
            last_error,
        } = s;
        // The core's message: the last sync's error, or why the member is refused.
        let error = last_error;
        d.set_item("status", status.name())?;
        d.set_item("state", state.map(|s| s.name()))?;
        d.set_item("generation", generation)?;
        d.set_item("members", members)?;
        d.set_item("leases", leases)?;
        d.set_item("syncs", syncs)?;
        d.set_item("failures", failures)?;
        d.set_item("error", error)?;
        Ok(d)
    }

    /// Opens the whole fleet (one compare-and-set on its record; the GIL is released during
    /// the round trip). Returns the record written.
    fn force_open<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.operate(py, Fleet::force_open)
    }

    /// Every member admits every call and never trips.
    fn force_closed<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.operate(py, Fleet::force_closed)
    }

    /// Closes the whole fleet, its window empty and its backoff reset.
    fn reset<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.operate(py, Fleet::reset)
    }

    /// Stops the agent (the GIL released while it finishes its sync). The breaker keeps its
    /// last state, its held probe slots freed, and runs alone. Idempotent.
    fn stop(&self, py: Python<'_>) {
        let fleet = lock(&self.fleet).take();
        if let Some(f) = fleet {
            py.detach(move || f.stop());
        }
    }
}

impl PyFleetMember {
    fn operate<'py>(
        &self,
        py: Python<'py>,
        op: fn(&Fleet) -> Result<Record, FleetError>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let result = py.detach(|| lock(&self.fleet).as_ref().map(op));
        match result {
            None => Err(PyRuntimeError::new_err("fleet: this member was stopped")),
            Some(r) => record_dict(py, &r.map_err(store_error)?),
        }
    }
}

impl Drop for PyFleetMember {
    fn drop(&mut self) {
        let fleet = lock(&self.fleet).take();
        let Some(f) = fleet else { return };
        let agent = format!("cbreaker-fleet-{}", self.name);
        if std::thread::current().name() == Some(agent.as_str()) {
            // Collected by the agent's own listener call: it cannot join itself.
            std::thread::spawn(move || f.stop());
        } else {
            // The agent may be waiting for the GIL to run a listener: let it go before joining.
            Python::attach(|py| py.detach(move || f.stop()));
        }
    }
}

/// Runs the Python listener on the agent's thread. It should not raise (the Python layer logs
/// its listeners' errors); if it does, the error goes to the `cbreaker` logger and the agent
/// goes on.
fn notify(py: Python<'_>, f: &Py<PyAny>, t: Transition) {
    let Err(e) = f.call1(py, (PyTransition(t),)) else {
        return;
    };
    let logged = (|| -> PyResult<()> {
        let log = py
            .import("logging")?
            .call_method1("getLogger", ("cbreaker",))?;
        let kw = PyDict::new(py);
        kw.set_item("exc_info", e.value(py))?;
        log.call_method(
            "error",
            ("cbreaker fleet: a transition listener raised",),
            Some(&kw),
        )?;
        Ok(())
    })();
    if let Err(e) = logged {
        e.write_unraisable(py, None);
    }
}

/// The fleet families' Prometheus text for `rows` (`(breaker name, member)`): the core's
/// `metrics::fleet::write_text`.
#[pyfunction]
pub(crate) fn fleet_metrics_text(rows: Vec<(String, Bound<'_, PyFleetMember>)>) -> String {
    let read: Vec<(String, FleetStatus)> = rows
        .iter()
        .filter_map(|(n, m)| Some((n.clone(), lock(&m.get().fleet).as_ref()?.status())))
        .collect();
    let rows: Vec<_> = read.iter().map(|(n, s)| s.row(n)).collect();
    let mut out = String::new();
    let _ = cbreaker::metrics::fleet::write_text(&mut out, &rows);
    out
}

/// Each fleet family's samples for `member` (`[(family, second label value or "", value)]`),
/// the core's `metrics::fleet::values`; empty once the member stopped.
#[pyfunction]
pub(crate) fn fleet_metric_values(
    breaker: &str,
    member: &Bound<'_, PyFleetMember>,
) -> Vec<(&'static str, &'static str, u64)> {
    let Some(status) = lock(&member.get().fleet).as_ref().map(Fleet::status) else {
        return Vec::new();
    };
    let row = status.row(breaker);
    let mut out = Vec::new();
    for family in &cbreaker::metrics::fleet::FAMILIES {
        cbreaker::metrics::fleet::values(family, &row, |label, v| {
            out.push((family.name, label, v))
        });
    }
    out
}
