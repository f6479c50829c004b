//! `FleetSim`: the core's simulated fleet store (`cbreaker::fleet::sim`) with Python breakers
//! as its members, for the fleet conformance vectors (tests/vectors/fleet). Syncs run the
//! core's own sync flow (`fleet::driver`) on each member's breaker; nothing here decides.

use std::sync::Mutex;

use cbreaker::fleet::driver;
use cbreaker::fleet::sim::SimStore;
use cbreaker::fleet::{Member, Mode, Operator, Record, Rules};
use cbreaker::{Millis, Transition};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::breaker::PyBreaker;

struct Joined {
    id: String,
    breaker: Py<PyBreaker>,
    member: Member,
    caused: Vec<String>,
    members: u32,
}

struct Sim {
    offset: u64,
    store: SimStore,
    members: Vec<Joined>,
}

/// A simulated fleet store and its members (Python breakers).
#[pyclass(module = "cbreaker._native", name = "FleetSim", frozen)]
pub(crate) struct PyFleetSim(Mutex<Sim>);

fn name(t: &Transition) -> String {
    format!("{}->{}:{}", t.from.name(), t.to.name(), t.cause.name())
}

impl PyFleetSim {
    fn sim(&self) -> std::sync::MutexGuard<'_, Sim> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn member_of(sim: &mut Sim, i: usize) -> PyResult<&mut Joined> {
    sim.members
        .get_mut(i)
        .ok_or_else(|| PyValueError::new_err(format!("no fleet member {i}")))
}

#[pymethods]
impl PyFleetSim {
    /// A store whose clock reads `server_offset_ms` at member time 0.
    #[new]
    fn new(server_offset_ms: u64) -> Self {
        PyFleetSim(Mutex::new(Sim {
            offset: server_offset_ms,
            store: SimStore::new(server_offset_ms),
            members: Vec::new(),
        }))
    }

    /// Joins `breaker` as the next member (`m<i>`); returns its index.
    #[pyo3(signature = (breaker, quorum=None, window_ms=None))]
    fn join(
        &self,
        breaker: Py<PyBreaker>,
        quorum: Option<u32>,
        window_ms: Option<u64>,
    ) -> PyResult<usize> {
        let config = breaker.get().core.fleet_local().config();
        let mut rules = Rules::for_config(&config);
        if let Some(k) = quorum {
            rules.mode = Mode::Quorum(k);
        }
        if let Some(w) = window_ms {
            rules.window = Millis(w);
        }
        let member =
            Member::new(config, rules).map_err(|e| PyValueError::new_err(e.to_string()))?;
        let mut sim = self.sim();
        let i = sim.members.len();
        sim.members.push(Joined {
            id: format!("m{i}"),
            breaker,
            member,
            caused: Vec::new(),
            members: 0,
        });
        Ok(i)
    }

    /// One sync of member `i` at its time `now_ms`: what it knows afterwards.
    fn sync<'py>(&self, py: Python<'py>, i: usize, now_ms: u64) -> PyResult<Bound<'py, PyDict>> {
        let mut sim = self.sim();
        let Sim {
            offset,
            store,
            members,
        } = &mut *sim;
        store.now = *offset + now_ms;
        let j = members
            .get_mut(i)
            .ok_or_else(|| PyValueError::new_err(format!("no fleet member {i}")))?;
        let local = j.breaker.get().core.fleet_local();
        let caused = &mut j.caused;
        if let Ok(m) = driver::sync_once(
            &mut j.member,
            &j.id,
            local,
            store,
            &|| Millis(now_ms),
            &mut |t| caused.push(name(t)),
        ) {
            j.members = m;
        }
        let d = PyDict::new(py);
        d.set_item("status", j.member.status().name())?;
        d.set_item(
            "fleet_state",
            j.member.following().map_or("none", |r| r.state.name()),
        )?;
        d.set_item(
            "generation",
            j.member.following().map_or(0, |r| r.generation),
        )?;
        d.set_item("leases", j.member.leases())?;
        d.set_item("members", j.members)?;
        d.set_item("pending", j.member.pending().len())?;
        Ok(d)
    }

    /// The local transitions the fleet caused in member `i` since the last call.
    fn transitions(&self, i: usize) -> PyResult<Vec<String>> {
        Ok(std::mem::take(&mut member_of(&mut self.sim(), i)?.caused))
    }

    /// `down`, `up`, `wipe`, `garbage`, `wrong_type`, `lose_reply`.
    fn store(&self, action: &str) -> PyResult<()> {
        if self.sim().store.happen(action) {
            Ok(())
        } else {
            Err(PyValueError::new_err(format!(
                "unknown store action {action:?}"
            )))
        }
    }

    /// Operator move `action` (`force_open`, `force_closed`, `reset`) by member `i`.
    fn operator(&self, i: usize, action: &str, now_ms: u64) -> PyResult<()> {
        let op = Operator::parse(action)
            .ok_or_else(|| PyValueError::new_err(format!("unknown operator move {action:?}")))?;
        let mut sim = self.sim();
        let Sim {
            offset,
            store,
            members,
        } = &mut *sim;
        store.now = *offset + now_ms;
        let j = members
            .get(i)
            .ok_or_else(|| PyValueError::new_err(format!("no fleet member {i}")))?;
        driver::operate(store, j.member.fingerprint(), &j.id, op)
            .map(|_| ())
            .map_err(|e| PyValueError::new_err(format!("{e:?}")))
    }

    /// What the store holds: the record's fields (`none` / 0 without one), leases out, the
    /// log (`state:cause`, oldest first), and the record generation's window `[s, f]`.
    fn fleet<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let sim = self.sim();
        let store = &sim.store;
        let record = store.record_text().and_then(|t| Record::parse(t).ok());
        let d = PyDict::new(py);
        d.set_item("state", record.map_or("none", |r| r.state.name()))?;
        d.set_item("generation", record.map_or(0, |r| r.generation))?;
        d.set_item("cause", record.map_or("none", |r| r.cause.name()))?;
        d.set_item("k", record.map_or(0, |r| r.k))?;
        d.set_item(
            "deadline_in_ms",
            record.map_or(0, |r| r.deadline.saturating_sub(store.now)),
        )?;
        d.set_item("leases", store.leases().len())?;
        let log: Vec<String> = store
            .log()
            .iter()
            .filter_map(|l| l.split_once(' ').and_then(|(_, r)| Record::parse(r).ok()))
            .map(|r| format!("{}:{}", r.state.name(), r.cause.name()))
            .collect();
        d.set_item("log", log)?;
        let window = record.map_or([0, 0], |r| store.window(r.generation));
        d.set_item("window", window.to_vec())?;
        Ok(d)
    }
}
