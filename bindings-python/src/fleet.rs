//! A breaker's fleet membership (docs/fleet.md): the core's agent (`cbreaker::fleet_agent`)
//! on its own native thread, sharing the breaker (`Core::Large`, an `Arc`) and reading the
//! clock the calls read. The agent holds no GIL: it takes it only to run the Python layer's
//! listener for a transition the fleet caused. Operator moves release the GIL during their
//! round trip.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use cbreaker::fleet::{Mode, Record, Rules, Status};
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

/// The fleet's metric families `(name, type, help, unit, labels)`.
/// NB: these belong in the core's `metrics::FAMILIES` (the core names every metric); defined
/// here, once, until it has them.
pub(crate) const FLEET_FAMILIES: [(&str, &str, &str, &str, &[&str]); 4] = [
    (
        "cbreaker_fleet_status",
        "gauge",
        "The breaker's fleet membership: 1 for its status (joining, joined, degraded, refused), 0 for the others.",
        "",
        &["breaker", "status"],
    ),
    (
        "cbreaker_fleet_state",
        "gauge",
        "The fleet's state as last read: 1 for it, 0 for the others.",
        "",
        &["breaker", "state"],
    ),
    (
        "cbreaker_fleet_generation",
        "gauge",
        "The fleet record's generation, as last read.",
        "",
        &["breaker"],
    ),
    (
        "cbreaker_fleet_members",
        "gauge",
        "Members of the breaker's fleet seen within three sync intervals.",
        "",
        &["breaker"],
    ),
];
const STATUSES: [&str; 4] = ["joining", "joined", "degraded", "refused"];

/// One breaker's membership of its fleet. Stopped by `stop()`, and when collected.
#[pyclass(module = "cbreaker._native", name = "FleetMember", frozen)]
pub(crate) struct PyFleetMember {
    fleet: Mutex<Option<Fleet>>,
    member_id: String,
    name: String,
    fingerprint: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn store_error(e: FleetError) -> PyErr {
    match e {
        FleetError::Refused { .. } => FleetRefusedError::new_err(e.to_string()),
        FleetError::Store(_) => FleetStoreError::new_err(e.to_string()),
        FleetError::Options(ref m) => {
            // The core's message starts with the option it names (or "fleet <option>").
            let m = m.strip_prefix("fleet ").unwrap_or(m);
            let field = m.split([' ', ':']).next().unwrap_or("fleet").to_string();
            ConfigError::new_err((e.to_string(), field))
        }
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
            fingerprint: config.fingerprint(),
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
        let error = match status {
            Status::Refused { fleet } => Some(
                FleetError::Refused {
                    fleet,
                    member: self.fingerprint,
                }
                .to_string(),
            ),
            _ => last_error,
        };
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

/// The fleet families' Prometheus text for `rows` (`(breaker name, member)`), in the order of
/// `FLEET_METRIC_FAMILIES`.
#[pyfunction]
pub(crate) fn fleet_metrics_text(rows: Vec<(String, Bound<'_, PyFleetMember>)>) -> String {
    use std::fmt::Write;
    let read: Vec<(String, Option<FleetStatus>)> = rows
        .iter()
        .map(|(n, m)| (escape(n), lock(&m.get().fleet).as_ref().map(Fleet::status)))
        .collect();
    let mut out = String::new();
    for (name, kind, help, _, _) in FLEET_FAMILIES {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (b, s) in &read {
            let Some(s) = s else { continue };
            match name {
                "cbreaker_fleet_status" => {
                    for st in STATUSES {
                        let v = u8::from(s.status.name() == st);
                        let _ = writeln!(out, "{name}{{breaker=\"{b}\",status=\"{st}\"}} {v}");
                    }
                }
                "cbreaker_fleet_state" => {
                    for st in cbreaker::State::ALL {
                        let v = u8::from(s.state == Some(st));
                        let st = st.name();
                        let _ = writeln!(out, "{name}{{breaker=\"{b}\",state=\"{st}\"}} {v}");
                    }
                }
                "cbreaker_fleet_generation" => {
                    let _ = writeln!(out, "{name}{{breaker=\"{b}\"}} {}", s.generation);
                }
                _ => {
                    let _ = writeln!(out, "{name}{{breaker=\"{b}\"}} {}", s.members);
                }
            }
        }
    }
    out
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
