//! Fleet vectors (`tests/vectors/fleet/*.json`, format in its README): members, each a local
//! breaker with the core's fleet bookkeeping, against the simulated store
//! (`cbreaker::fleet::sim`, which does what the Redis scripts do), driven by the same sync
//! flow the Redis agent runs (`cbreaker::fleet::driver`).

use std::path::{Path, PathBuf};

use cbreaker::fleet::driver;
use cbreaker::fleet::sim::SimStore;
use cbreaker::fleet::{Member, Mode, Operator, Record, Rules};
use cbreaker::{Breaker, MAX_SLOTS, Millis, Outcome, Transition};
use serde::Deserialize;

use crate::core_subject::{core_config, transition_name};
use crate::vector::VectorConfig;

/// One fleet vector.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetVector {
    /// Equal to the file name without `.json`.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Every member's breaker config (see the single-breaker vectors' format).
    pub config: VectorConfig,
    /// Members whose config differs (index → config).
    #[serde(default)]
    pub member_configs: std::collections::BTreeMap<String, VectorConfig>,
    /// The fleet's rules.
    #[serde(default)]
    pub fleet: FleetSpec,
    /// How many members.
    pub members: usize,
    /// The store server's clock at `at` = 0 (members' clocks start at 0: no clock is
    /// compared with another).
    #[serde(default = "default_offset")]
    pub server_offset_ms: u64,
    /// What to do, in order.
    pub steps: Vec<FleetStep>,
}

fn default_offset() -> u64 {
    1_700_000_000_000
}

/// The `fleet` object.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetSpec {
    /// `k` for quorum mode; absent = rate mode.
    pub quorum: Option<u32>,
    /// The fleet window; absent = the default for the config.
    pub window_ms: Option<u64>,
}

/// One step. `at` is every member's local time (ms); the server's is `at` + the offset.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum FleetStep {
    /// A sync of `member`.
    Sync {
        /// When.
        at: u64,
        /// Which member.
        member: usize,
        /// What the member knows afterwards.
        #[serde(default)]
        expect: Option<MemberExpect>,
    },
    /// `count` calls by `member`, each admitted and recorded with `outcome`.
    Calls {
        /// When.
        at: u64,
        /// Which member.
        member: usize,
        /// `success` or `failure`.
        outcome: String,
        /// How many (default 1).
        #[serde(default = "one")]
        count: u32,
    },
    /// One `try_acquire` by `member`; an admitted permit is kept as `hold` (or dropped).
    Acquire {
        /// When.
        at: u64,
        /// Which member.
        member: usize,
        /// `true`: admitted; `false`: refused with `reason` and `retry_after_ms`.
        admitted: bool,
        /// The refusal's reason.
        #[serde(default)]
        reason: Option<String>,
        /// The refusal's advice (`null` for none; absent: not checked).
        #[serde(default)]
        retry_after_ms: Option<serde_json::Value>,
        /// Keep the permit under this name for a later `settle`.
        #[serde(default)]
        hold: Option<String>,
    },
    /// Records a kept permit.
    Settle {
        /// When.
        at: u64,
        /// Which member.
        member: usize,
        /// The name it was kept under.
        permit: String,
        /// `success` or `failure`.
        outcome: String,
    },
    /// The local breaker's state.
    State {
        /// When.
        at: u64,
        /// Which member.
        member: usize,
        /// The state name.
        expect: String,
    },
    /// The local transitions the fleet caused in `member` since the last check.
    Transitions {
        /// Which member.
        member: usize,
        /// `from->to:cause`, in order.
        expect: Vec<String>,
    },
    /// Something happens to the store: `down`, `up`, `wipe`, `garbage` (a string no record
    /// is), `wrong_type` (a key of another type), `lose_reply` (the next sync is applied but
    /// its answer is lost).
    Store {
        /// What.
        action: String,
    },
    /// An operator move by `member`: `force_open`, `force_closed`, `reset`.
    Operator {
        /// When.
        at: u64,
        /// Which member.
        member: usize,
        /// Which move.
        action: String,
    },
    /// The store's content.
    Fleet {
        /// What it holds.
        expect: FleetExpect,
    },
}

fn one() -> u32 {
    1
}

/// What a member knows after a sync.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MemberExpect {
    /// `joining`, `joined`, `degraded`, `refused`.
    pub status: Option<String>,
    /// The fleet's state as it follows it.
    pub fleet_state: Option<String>,
    /// Its generation.
    pub generation: Option<u64>,
    /// Leases held.
    pub leases: Option<u32>,
    /// Members counted.
    pub members: Option<u32>,
    /// Deltas not acknowledged.
    pub pending: Option<usize>,
}

/// What the store holds (read from a copy, so reading changes nothing).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FleetExpect {
    /// The record's state.
    pub state: Option<String>,
    /// Its generation.
    pub generation: Option<u64>,
    /// Its cause.
    pub cause: Option<String>,
    /// Its backoff exponent.
    pub k: Option<u32>,
    /// Its deadline, from the server's time now (`at` of the last step).
    pub deadline_in_ms: Option<u64>,
    /// Leases out.
    pub leases: Option<usize>,
    /// The log, oldest first: `state:cause` per fleet transition (the founding record
    /// included).
    pub log: Option<Vec<String>>,
    /// The sum of the record generation's window successes, failures (`[s, f]`).
    pub window: Option<[u64; 2]>,
}

/// Where the fleet vectors are.
#[must_use]
pub fn fleet_vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("vectors")
        .join("fleet")
}

/// Every fleet vector, sorted by name.
///
/// # Errors
/// The files that do not parse, or whose `name` is not their file name.
pub fn load_fleet_vectors() -> Result<Vec<FleetVector>, Vec<String>> {
    let dir = fleet_vectors_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| vec![format!("{}: {e}", dir.display())])?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    for p in paths {
        let stem = p
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        match std::fs::read_to_string(&p)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<FleetVector>(&t).map_err(|e| e.to_string()))
        {
            Ok(v) if v.name == stem => ok.push(v),
            Ok(v) => bad.push(format!(
                "{}: name {:?} is not the file name",
                p.display(),
                v.name
            )),
            Err(e) => bad.push(format!("{}: {e}", p.display())),
        }
    }
    if bad.is_empty() { Ok(ok) } else { Err(bad) }
}

/// A front door's breaker as the fleet vectors drive it: calls through the front door's own
/// API, and the [`driver::Local`] the sync flow adopts into.
pub trait FleetSubject: Sized {
    /// A permit held across steps.
    type Permit;
    /// A breaker with `config`.
    ///
    /// # Errors
    /// The config refused, as text.
    fn new(config: cbreaker::Config) -> Result<Self, String>;
    /// `try_acquire` at `now`: the permit, or the refusal's reason and advice.
    ///
    /// # Errors
    /// The refusal.
    fn acquire(&mut self, now: u64) -> Result<Self::Permit, (String, Option<u64>)>;
    /// `record` at `now`.
    fn record(&mut self, permit: Self::Permit, outcome: Outcome, now: u64);
    /// The state's name at `now`.
    fn state(&self, now: u64) -> String;
    /// What the sync flow reads and moves.
    fn local(&self) -> &dyn driver::Local;
}

/// The Rust core's breaker.
pub struct CoreFleetSubject(Breaker<MAX_SLOTS>);

impl FleetSubject for CoreFleetSubject {
    type Permit = cbreaker::Permit;
    fn new(config: cbreaker::Config) -> Result<Self, String> {
        Breaker::new(config)
            .map(CoreFleetSubject)
            .map_err(|e| e.to_string())
    }
    fn acquire(&mut self, now: u64) -> Result<Self::Permit, (String, Option<u64>)> {
        self.0
            .try_acquire(Millis(now))
            .map(|a| a.permit)
            .map_err(|r| (r.reason.name().to_string(), r.retry_after.map(|m| m.0)))
    }
    fn record(&mut self, permit: Self::Permit, outcome: Outcome, now: u64) {
        self.0.record(permit, outcome, None, Millis(now));
    }
    fn state(&self, now: u64) -> String {
        self.0.state(Millis(now)).name().to_string()
    }
    fn local(&self) -> &dyn driver::Local {
        &self.0
    }
}

struct Node<S: FleetSubject> {
    id: String,
    breaker: S,
    member: Member,
    caused: Vec<Transition>,
    members: u32,
    held: std::collections::BTreeMap<String, S::Permit>,
}

/// Runs `v` against the Rust core; the first step that does not match, as a message.
///
/// # Errors
/// `step i: expected …, got …`.
pub fn run_fleet_vector(v: &FleetVector) -> Result<(), String> {
    run_fleet_vector_on::<CoreFleetSubject>(v)
}

/// Runs `v` with members of subject `S`.
///
/// # Errors
/// `step i: expected …, got …`.
pub fn run_fleet_vector_on<S: FleetSubject>(v: &FleetVector) -> Result<(), String> {
    let offset = v.server_offset_ms;
    let mut store = SimStore::new(offset);
    let mut nodes = Vec::new();
    for i in 0..v.members {
        let vc = v.member_configs.get(&i.to_string()).unwrap_or(&v.config);
        let config = core_config(vc)?;
        let mut rules = Rules::for_config(&config);
        if let Some(k) = v.fleet.quorum {
            rules.mode = Mode::Quorum(k);
        }
        if let Some(w) = v.fleet.window_ms {
            rules.window = Millis(w);
        }
        nodes.push(Node {
            id: format!("m{i}"),
            breaker: S::new(config)?,
            member: Member::new(config, rules).map_err(|e| e.to_string())?,
            caused: Vec::new(),
            members: 0,
            held: std::collections::BTreeMap::new(),
        });
    }
    let node = |nodes: &[Node<S>], m: usize| -> Result<usize, String> {
        if m < nodes.len() {
            Ok(m)
        } else {
            Err(format!("no member {m}"))
        }
    };
    for (i, step) in v.steps.iter().enumerate() {
        let fail = |what: String| format!("step {i} ({step:?}): {what}");
        match step {
            FleetStep::Sync { at, member, expect } => {
                let idx = node(&nodes, *member)?;
                let n = &mut nodes[idx];
                store.now = offset + at;
                let clock = move || Millis(*at);
                let caused = &mut n.caused;
                if let Ok(m) = driver::sync_once(
                    &mut n.member,
                    &n.id,
                    n.breaker.local(),
                    &mut store,
                    &clock,
                    &mut |t| caused.push(*t),
                ) {
                    n.members = m;
                }
                if let Some(e) = expect {
                    let got = MemberExpect {
                        status: e
                            .status
                            .as_ref()
                            .map(|_| n.member.status().name().to_string()),
                        fleet_state: e.fleet_state.as_ref().map(|_| {
                            n.member
                                .following()
                                .map_or("none".into(), |r| r.state.name().to_string())
                        }),
                        generation: e
                            .generation
                            .map(|_| n.member.following().map_or(0, |r| r.generation)),
                        leases: e.leases.map(|_| n.member.leases()),
                        members: e.members.map(|_| n.members),
                        pending: e.pending.map(|_| n.member.pending().len()),
                    };
                    if &got != e {
                        return Err(fail(format!("expected {e:?}, got {got:?}")));
                    }
                }
            }
            FleetStep::Calls {
                at,
                member,
                outcome,
                count,
            } => {
                let idx = node(&nodes, *member)?;
                let n = &mut nodes[idx];
                let outcome = parse_outcome(outcome).map_err(fail)?;
                for c in 0..*count {
                    let p = n
                        .breaker
                        .acquire(*at)
                        .map_err(|r| fail(format!("call {c} refused: {r:?}")))?;
                    n.breaker.record(p, outcome, *at);
                }
            }
            FleetStep::Acquire {
                at,
                member,
                admitted,
                reason,
                retry_after_ms,
                hold,
            } => {
                let idx = node(&nodes, *member)?;
                let n = &mut nodes[idx];
                match (n.breaker.acquire(*at), admitted) {
                    (Ok(p), true) => {
                        if let Some(name) = hold {
                            n.held.insert(name.clone(), p);
                        }
                    }
                    (Err((why, advice)), false) => {
                        let got = (Some(why), advice);
                        let advice_differs = retry_after_ms
                            .as_ref()
                            .is_some_and(|want| want.as_u64() != got.1);
                        if reason.is_some() && got.0 != *reason || advice_differs {
                            return Err(fail(format!("refused with {got:?}")));
                        }
                    }
                    (Ok(_), false) => return Err(fail("admitted".into())),
                    (Err(r), true) => return Err(fail(format!("refused with {r:?}"))),
                }
            }
            FleetStep::Settle {
                at,
                member,
                permit,
                outcome,
            } => {
                let idx = node(&nodes, *member)?;
                let n = &mut nodes[idx];
                let p = n
                    .held
                    .remove(permit)
                    .ok_or_else(|| fail(format!("no permit {permit}")))?;
                n.breaker
                    .record(p, parse_outcome(outcome).map_err(fail)?, *at);
            }
            FleetStep::State { at, member, expect } => {
                let idx = node(&nodes, *member)?;
                let got = nodes[idx].breaker.state(*at);
                if got != *expect {
                    return Err(fail(format!("state {got}")));
                }
            }
            FleetStep::Transitions { member, expect } => {
                let idx = node(&nodes, *member)?;
                let n = &mut nodes[idx];
                let got: Vec<String> = n.caused.drain(..).map(|t| transition_name(&t)).collect();
                if &got != expect {
                    return Err(fail(format!("got {got:?}")));
                }
            }
            FleetStep::Store { action } => {
                if !store.happen(action) {
                    return Err(fail(format!("unknown store action {action:?}")));
                }
            }
            FleetStep::Operator { at, member, action } => {
                let idx = node(&nodes, *member)?;
                let n = &nodes[idx];
                let op = Operator::parse(action)
                    .ok_or_else(|| fail(format!("unknown operator move {action:?}")))?;
                store.now = offset + at;
                driver::operate(&mut store, n.member.fingerprint(), &n.id, op)
                    .map_err(|e| fail(format!("{e:?}")))?;
            }
            FleetStep::Fleet { expect } => {
                let record = store.record_text().and_then(|t| Record::parse(t).ok());
                let log: Vec<String> = store
                    .log()
                    .iter()
                    .filter_map(|l| l.split_once(' ').and_then(|(_, r)| Record::parse(r).ok()))
                    .map(|r| format!("{}:{}", r.state, r.cause.name()))
                    .collect();
                let window = record.map(|r| store.window(r.generation));
                let got = FleetExpect {
                    state: expect
                        .state
                        .as_ref()
                        .map(|_| record.map_or("none".into(), |r| r.state.name().to_string())),
                    generation: expect
                        .generation
                        .map(|_| record.map_or(0, |r| r.generation)),
                    cause: expect
                        .cause
                        .as_ref()
                        .map(|_| record.map_or("none".into(), |r| r.cause.name().to_string())),
                    k: expect.k.map(|_| record.map_or(0, |r| r.k)),
                    deadline_in_ms: expect
                        .deadline_in_ms
                        .map(|_| record.map_or(0, |r| r.deadline.saturating_sub(store.now))),
                    leases: expect.leases.map(|_| store.leases().len()),
                    log: expect.log.as_ref().map(|_| log),
                    window: expect.window.and(window),
                };
                if &got != expect {
                    return Err(fail(format!("expected {expect:?}, got {got:?}")));
                }
            }
        }
    }
    Ok(())
}

fn parse_outcome(s: &str) -> Result<Outcome, String> {
    match s {
        "success" => Ok(Outcome::Success),
        "failure" => Ok(Outcome::Failure),
        "ignored" => Ok(Outcome::Ignored),
        other => Err(format!("unknown outcome {other:?}")),
    }
}
