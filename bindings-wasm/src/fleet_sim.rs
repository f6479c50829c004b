//! The fleet vectors' test surface (feature `fleet-sim`; not in the npm package): the core's
//! simulated fleet store ([`SimStore`], which does what the Redis scripts do) and each
//! member's bookkeeping ([`Member`]), synced by the core's own sync flow ([`driver`]) on the
//! JS front door's breakers (by handle). Nothing is decided here: this only moves values
//! between JS and the core, so the JS conformance runner checks the same flow the Rust and C
//! runners check (tests/vectors/fleet/README.md).

use cbreaker::fleet::driver::{self, Local};
use cbreaker::fleet::sim::SimStore;
use cbreaker::fleet::{Member, Mode, Operator, Record, Rules, RulesError};
use cbreaker::{Adoption, Config, Millis, Snapshot, Transition};
use js_sys::Array;
use wasm_bindgen::prelude::*;

use crate::objects::object;
use crate::{Inner, errors, handles};

/// The wasm breaker's storage as the sync flow's local breaker: the core's own methods.
impl Local for Inner {
    fn snapshot(&self, now: Millis) -> Snapshot {
        with!(self, b => b.snapshot(now))
    }
    fn adopt(&self, adoption: Adoption, now: Millis) -> Transition {
        with!(self, b => b.adopt(adoption, now))
    }
    fn release_slots(&self, generation: u32, n: u32) -> bool {
        with!(self, b => b.release_slots(generation, n))
    }
    fn config(&self) -> Config {
        with!(self, b => b.config())
    }
}

/// One member: its breaker's handle, its id and the core's bookkeeping.
struct Node {
    handle: u32,
    id: String,
    member: Member,
    /// Members counted by the store at the last sync that got an answer.
    members: u32,
}

/// A simulated fleet: one store, members that are the JS layer's breakers.
#[wasm_bindgen]
pub struct FleetSim {
    store: SimStore,
    nodes: Vec<Node>,
}

/// The JS option a rules error names.
const fn rules_option(e: RulesError) -> &'static str {
    match e {
        RulesError::Window => "windowMs",
        RulesError::SyncInterval => "syncIntervalMs",
        RulesError::Quorum => "quorum",
    }
}

fn freed() -> JsValue {
    let err = js_sys::Error::new("the member's CircuitBreaker was freed");
    let _ = js_sys::Reflect::set(&err, &"code".into(), &"ERR_CB_FREED".into());
    err.into()
}

fn transition_name(t: &Transition) -> String {
    format!("{}->{}:{}", t.from.name(), t.to.name(), t.cause.name())
}

#[wasm_bindgen]
impl FleetSim {
    /// An empty store whose clock reads `server_now_ms`.
    #[wasm_bindgen(constructor)]
    #[must_use]
    pub fn new(server_now_ms: f64) -> FleetSim {
        FleetSim {
            store: SimStore::new(crate::ms(server_now_ms).0),
            nodes: Vec::new(),
        }
    }

    /// Sets the store server's clock (ms).
    #[wasm_bindgen(js_name = setServerNow)]
    pub fn set_server_now(&mut self, ms: f64) {
        self.store.now = crate::ms(ms).0;
    }

    /// Adds the breaker of `handle` as member `id`, with the rules of its config (`quorum`:
    /// quorum mode with that `k`; `window_ms`: the fleet window). Its index.
    ///
    /// # Errors
    /// A `RangeError` naming `quorum` or `windowMs` out of the core's range, or
    /// `ERR_CB_FREED`.
    pub fn join(
        &mut self,
        handle: u32,
        id: String,
        quorum: Option<f64>,
        window_ms: Option<f64>,
    ) -> Result<u32, JsValue> {
        let config = handles::with(handle, |b| b.inner.config()).ok_or_else(freed)?;
        let mut rules = Rules::for_config(&config);
        if let Some(k) = quorum {
            rules.mode = Mode::Quorum(crate::n32(k));
        }
        if let Some(w) = window_ms {
            rules.window = crate::ms(w);
        }
        let member = Member::new(config, rules).map_err(|e| {
            let option = rules_option(e);
            errors::range_error(option, &format!("{option}: {e}"))
        })?;
        self.nodes.push(Node {
            handle,
            id,
            member,
            members: 0,
        });
        Ok((self.nodes.len() - 1) as u32)
    }

    /// One sync of member `index` at its local time `now_ms`: `{ status, fleetState,
    /// generation, leases, members, pending, transitions }` afterwards (`transitions`: the
    /// local ones this sync caused, `from->to:cause`).
    ///
    /// # Errors
    /// A `RangeError` for an unknown member, or `ERR_CB_FREED`.
    pub fn sync(&mut self, index: u32, now_ms: f64) -> Result<JsValue, JsValue> {
        let node = self
            .nodes
            .get_mut(index as usize)
            .ok_or_else(|| errors::range_error("member", "no such member"))?;
        let now = crate::ms(now_ms);
        let mut caused = Vec::new();
        let store = &mut self.store;
        let synced = handles::with(node.handle, |b| {
            driver::sync_once(
                &mut node.member,
                &node.id,
                &b.inner,
                store,
                &|| now,
                &mut |t| caused.push(transition_name(t)),
            )
        })
        .ok_or_else(freed)?;
        if let Ok(members) = synced {
            node.members = members;
        }
        let m = &node.member;
        let following = m.following();
        let transitions: Array = caused.iter().map(|s| JsValue::from_str(s)).collect();
        Ok(object(&[
            ("status", m.status().name().into()),
            (
                "fleetState",
                following.map_or("none", |r| r.state.name()).into(),
            ),
            (
                "generation",
                (following.map_or(0, |r| r.generation) as f64).into(),
            ),
            ("leases", m.leases().into()),
            ("members", node.members.into()),
            ("pending", (m.pending().len() as u32).into()),
            ("transitions", transitions.into()),
        ]))
    }

    /// Something happens to the store: `down`, `up`, `wipe` (restarted empty), `garbage` (a
    /// string no record is), `wrong_type` (a key of another type), `lose_reply` (the next
    /// sync is applied, its answer lost).
    ///
    /// # Errors
    /// A `RangeError` naming `action` for any other.
    pub fn store(&mut self, action: &str) -> Result<(), JsValue> {
        if self.store.happen(action) {
            Ok(())
        } else {
            Err(errors::range_error("action", "unknown store action"))
        }
    }

    /// An operator move on the whole fleet by member `index`: `force_open`, `force_closed`
    /// or `reset`, at the store's time (the server's clock sets every deadline).
    ///
    /// # Errors
    /// A `RangeError` for an unknown member or move; an `Error` with `code`
    /// `ERR_CB_FLEET_STORE` (store down) or `ERR_CB_FLEET_REFUSED` (another config).
    pub fn operator(&mut self, index: u32, action: &str) -> Result<(), JsValue> {
        let node = self
            .nodes
            .get(index as usize)
            .ok_or_else(|| errors::range_error("member", "no such member"))?;
        let op = Operator::parse(action)
            .ok_or_else(|| errors::range_error("action", "unknown operator move"))?;
        driver::operate(&mut self.store, node.member.fingerprint(), &node.id, op)
            .map(|_| ())
            .map_err(|e| {
                let (code, message) = match e {
                    driver::OperateError::Refused(_) => {
                        ("ERR_CB_FLEET_REFUSED", "the fleet runs another config")
                    }
                    _ => ("ERR_CB_FLEET_STORE", "the store did not take the move"),
                };
                let err = js_sys::Error::new(message);
                let _ = js_sys::Reflect::set(&err, &"code".into(), &code.into());
                err.into()
            })
    }

    /// What the store holds (reading changes nothing): `{ state,
    /// generation, cause, k, deadlineInMs, leases, log, window }`; with no record, `state`
    /// and `cause` are `none`, the numbers 0 and `window` null. `log`: `state:cause` per
    /// fleet transition, oldest first; `window`: `[successes, failures]` of the record's
    /// generation in the window.
    #[must_use]
    pub fn fleet(&self) -> JsValue {
        let store = &self.store;
        let record = store.record_text().and_then(|t| Record::parse(t).ok());
        let log: Array = store
            .log()
            .iter()
            .filter_map(|l| l.split_once(' ').and_then(|(_, r)| Record::parse(r).ok()))
            .map(|r| JsValue::from(format!("{}:{}", r.state.name(), r.cause.name())))
            .collect();
        let window = record.map_or(JsValue::NULL, |r| {
            let [successes, failures] = store.window(r.generation);
            [successes, failures]
                .iter()
                .map(|x| JsValue::from_f64(*x as f64))
                .collect::<Array>()
                .into()
        });
        let num = |x: u64| JsValue::from_f64(x as f64);
        object(&[
            ("state", record.map_or("none", |r| r.state.name()).into()),
            ("generation", num(record.map_or(0, |r| r.generation))),
            ("cause", record.map_or("none", |r| r.cause.name()).into()),
            ("k", record.map_or(0, |r| r.k).into()),
            (
                "deadlineInMs",
                num(record.map_or(0, |r| r.deadline.saturating_sub(store.now))),
            ),
            ("leases", (store.leases().len() as u32).into()),
            ("log", log.into()),
            ("window", window),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cbreaker::{Outcome, State};

    /// Both storages of this crate's breaker join a fleet as the core's own do: two members
    /// with 5 failures each trip the fleet (minimum_calls 10), and the other adopts it.
    #[test]
    fn both_storages_sync_as_local_breakers() {
        for size in [10, 1000] {
            let config = Config {
                minimum_calls: 10,
                ..Config::count(size)
            };
            let inner = || Inner::new(config).unwrap();
            let (a, b) = (inner(), inner());
            assert_eq!(
                matches!(a, Inner::Large(_)),
                size > 128,
                "storage for {size}"
            );
            let rules = Rules::for_config(&config);
            let mut members = [
                Member::new(config, rules).unwrap(),
                Member::new(config, rules).unwrap(),
            ];
            let mut store = SimStore::new(1_700_000_000_000);
            let mut caused = Vec::new();
            let mut sync = |i: usize, local: &Inner, members: &mut [Member; 2], at: u64| {
                store.now = 1_700_000_000_000 + at;
                driver::sync_once(
                    &mut members[i],
                    ["a", "b"][i],
                    local,
                    &mut store,
                    &|| Millis(at),
                    &mut |t| caused.push((i, transition_name(t))),
                )
                .unwrap();
            };
            sync(0, &a, &mut members, 0);
            sync(1, &b, &mut members, 0);
            for local in [&a, &b] {
                with!(local, x => for _ in 0..5 {
                    let p = x.try_acquire(Millis(100)).unwrap().permit;
                    x.record(p, Outcome::Failure, None, Millis(100));
                });
            }
            sync(0, &a, &mut members, 200);
            sync(1, &b, &mut members, 210);
            sync(0, &a, &mut members, 220);
            assert_eq!(
                caused,
                [
                    (1, "closed->open:fleet".into()),
                    (0, "closed->open:fleet".into())
                ],
                "size {size}"
            );
            for local in [&a, &b] {
                assert_eq!(Local::snapshot(local, Millis(230)).state, State::Open);
            }
        }
    }
}
