//! The fleet's sync agent (feature `fleet`): one background thread per member that does one
//! round trip to Redis (or Valkey) every `sync_interval` and applies what the member's core
//! decides ([`crate::fleet`]). Calls never wait on it: the call path is the local breaker's.
//!
//! ```no_run
//! use std::sync::Arc;
//! use cbreaker::fleet::Rules;
//! use cbreaker::fleet_agent::{Fleet, FleetOptions};
//! use cbreaker::{Breaker, Config, MAX_SLOTS, monotonic};
//!
//! let config = Config { minimum_calls: 20, ..Config::count(100) };
//! let breaker: Arc<Breaker<MAX_SLOTS>> = Arc::new(Breaker::new(config).unwrap());
//! let fleet = Fleet::join(breaker.clone(), FleetOptions::new("redis://127.0.0.1:6379", "payments", Rules::for_config(&config)), monotonic::now).unwrap();
//! // ... calls go through `breaker` as before (with `monotonic::now()`); the fleet follows.
//! println!("{}", fleet.status().status.name());
//! ```

extern crate std;

use std::format;
use std::string::{String, ToString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::fleet_redis::{Client, Keys, RedisStore};
use crate::fleet::driver::{OperateError, fail, operate, sync_once};
use crate::fleet::{FleetField, Member, Operator, Record, Rules, RulesError, Status};
use crate::state::State;
use crate::time::Millis;
use crate::transition::Transition;

pub use super::fleet_redis::URL_SCHEMES;
pub use crate::fleet::driver::Local;

/// A callback for the local transitions the fleet causes (cause `fleet`), run on the agent's
/// thread. A panic in it is caught and logged to stderr.
pub type OnTransition = Arc<dyn Fn(&Transition) + Send + Sync>;

/// How a member joins its fleet.
#[derive(Clone)]
pub struct FleetOptions {
    /// `redis://[user:password@]host:port[/db]`; `redis+cluster://host:port[,host:port...]`
    /// for a Redis Cluster from its seed nodes; or `rediss://` / `rediss+cluster://` for TLS (feature
    /// `fleet-tls`: the server's certificate is checked against the system's roots, which
    /// `SSL_CERT_FILE` / `SSL_CERT_DIR` replace; a `#insecure` suffix skips the check).
    pub url: String,
    /// The breaker's name, the same in every member: its keys share one hash tag.
    pub name: String,
    /// Every key starts with this. Default `cbreaker:`.
    pub prefix: String,
    /// The fleet's rules.
    pub rules: Rules,
    /// How long one round trip may take before the member runs degraded. Default: the sync
    /// interval.
    pub timeout: Option<Duration>,
    /// The member's id, unique per process (default: host, pid and a random part).
    pub member_id: Option<String>,
    /// Local transitions the fleet causes.
    pub on_transition: Option<OnTransition>,
}

impl FleetOptions {
    /// Checks every option (no network): the name, prefix, rules, URL, member id and
    /// timeout.
    ///
    /// # Errors
    /// [`FleetError::Options`] naming the first bad one.
    pub fn validate(&self) -> Result<(), FleetError> {
        self.checked().map(|_| ())
    }

    /// [`validate`](Self::validate), giving the client and the timeout.
    fn checked(&self) -> Result<Client, FleetError> {
        use FleetField as F;
        let bad = |field, m: String| Err(FleetError::option(field, m));
        if self.name.is_empty() || self.name.contains(['{', '}']) {
            return bad(
                F::Name,
                format!(
                    "name must be non-empty, without braces, got {:?}",
                    self.name
                ),
            );
        }
        if self.prefix.contains(['{', '}']) {
            return bad(
                F::Prefix,
                format!("prefix must not contain braces, got {:?}", self.prefix),
            );
        }
        self.rules.validate()?;
        if let Some(id) = &self.member_id {
            if id.is_empty() || id.contains('#') {
                return bad(
                    F::MemberId,
                    format!("member_id must be non-empty, without '#', got {id:?}"),
                );
            }
        }
        let timeout = self
            .timeout
            .unwrap_or(Duration::from_millis(self.rules.sync_interval.0));
        if timeout.is_zero() {
            return bad(F::Timeout, "timeout must be above zero".to_string());
        }
        Client::open(&self.url, timeout)
    }

    /// Options with the defaults.
    #[must_use]
    pub fn new(url: &str, name: &str, rules: Rules) -> FleetOptions {
        FleetOptions {
            url: url.to_string(),
            name: name.to_string(),
            prefix: "cbreaker:".to_string(),
            rules,
            timeout: None,
            member_id: None,
            on_transition: None,
        }
    }
}

/// Why a member could not join or an operator move failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FleetError {
    /// An option is wrong: which, and a message that starts with its name.
    Options {
        /// The option.
        field: FleetField,
        /// What is wrong with it (starts with the option's name).
        message: String,
    },
    /// The store answered with an error, did not answer in time, or could not be reached.
    Store(String),
    /// The fleet's config differs from this member's.
    Refused {
        /// The fleet's config fingerprint.
        fleet: u64,
        /// This member's.
        member: u64,
    },
    /// The agent's thread could not start.
    Agent(String),
}

impl FleetError {
    /// The option an [`Options`](FleetError::Options) error names.
    #[must_use]
    pub fn field(&self) -> Option<FleetField> {
        match self {
            FleetError::Options { field, .. } => Some(*field),
            _ => None,
        }
    }

    pub(crate) fn option(field: FleetField, message: String) -> FleetError {
        FleetError::Options { field, message }
    }
}

impl From<RulesError> for FleetError {
    fn from(e: RulesError) -> FleetError {
        FleetError::option(e.field(), e.to_string())
    }
}

impl core::fmt::Display for FleetError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FleetError::Options { message, .. } => write!(f, "fleet: {message}"),
            FleetError::Store(m) => write!(f, "fleet store: {m}"),
            FleetError::Refused { fleet, member } => write!(
                f,
                "fleet: this member's breaker config (fingerprint {member:016x}) differs from the fleet's ({fleet:016x}); running on the local breaker alone"
            ),
            FleetError::Agent(m) => write!(f, "fleet: the agent's thread could not start: {m}"),
        }
    }
}

impl std::error::Error for FleetError {}

/// What a member knows of its fleet now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetStatus {
    /// Joining, joined, degraded or refused.
    pub status: Status,
    /// The fleet's state, as last read.
    pub state: Option<State>,
    /// The fleet's generation, as last read.
    pub generation: u64,
    /// Members seen within the member time-to-live.
    pub members: u32,
    /// Probe leases this member holds.
    pub leases: u32,
    /// Syncs done, and failed.
    pub syncs: u64,
    /// Failed syncs.
    pub failures: u64,
    /// The last error, if the last sync failed or the member is refused.
    pub last_error: Option<String>,
}

impl FleetStatus {
    /// Its metric figures, labelled `breaker` ([`crate::metrics::fleet`]).
    #[must_use]
    pub fn row<'a>(&self, breaker: &'a str) -> crate::metrics::fleet::FleetRow<'a> {
        crate::metrics::fleet::FleetRow {
            breaker,
            status: self.status,
            state: self.state,
            generation: self.generation,
            members: self.members,
            leases: self.leases,
        }
    }
}

struct Shared {
    stop: Mutex<bool>,
    wake: Condvar,
    status: Mutex<FleetStatus>,
    stopped: AtomicBool,
}

/// A member of a fleet: the agent's thread, stopped on drop.
pub struct Fleet {
    shared: Arc<Shared>,
    keys: Keys,
    client: Client,
    fingerprint: u64,
    member_id: String,
    thread: Option<JoinHandle<()>>,
}

impl Fleet {
    /// Joins the fleet `options.name` with `local` (whose calls read `clock`, the same clock
    /// the agent reads). Checks the options and starts the agent; the first sync runs at
    /// once on the agent's thread (nothing here waits on the store).
    ///
    /// # Errors
    /// [`FleetError::Options`] naming a bad field (URL, name, prefix, rules, member id).
    pub fn join<L: Local + Send + Sync + 'static>(
        local: Arc<L>,
        options: FleetOptions,
        clock: impl Fn() -> Millis + Send + 'static,
    ) -> Result<Fleet, FleetError> {
        let client = options.checked()?;
        let member_id = options.member_id.clone().unwrap_or_else(default_member_id);
        let config = local.config();
        let member = Member::new(config, options.rules)?;
        let shared = Arc::new(Shared {
            stop: Mutex::new(false),
            wake: Condvar::new(),
            status: Mutex::new(FleetStatus {
                status: Status::Joining,
                state: None,
                generation: 0,
                members: 0,
                leases: 0,
                syncs: 0,
                failures: 0,
                last_error: None,
            }),
            stopped: AtomicBool::new(false),
        });
        let keys = Keys::new(&options.prefix, &options.name);
        let agent = Agent {
            local,
            member,
            store: RedisStore::new(client.clone(), keys.clone()),
            member_id: member_id.clone(),
            shared: shared.clone(),
            on_transition: options.on_transition.clone(),
        };
        let interval = Duration::from_millis(options.rules.sync_interval.0);
        let thread = std::thread::Builder::new()
            .name(format!("cbreaker-fleet-{}", options.name))
            .spawn(move || agent.run(interval, clock))
            .map_err(|e| FleetError::Agent(e.to_string()))?;
        Ok(Fleet {
            shared,
            keys,
            client,
            fingerprint: config.fingerprint(),
            member_id,
            thread: Some(thread),
        })
    }

    /// What the member knows of its fleet now.
    #[must_use]
    pub fn status(&self) -> FleetStatus {
        lock(&self.shared.status).clone()
    }

    /// This member's id.
    #[must_use]
    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    /// Opens the whole fleet until [`reset`](Self::reset) or
    /// [`force_closed`](Self::force_closed); members adopt it within one sync interval.
    ///
    /// # Errors
    /// [`FleetError::Store`] if the store cannot be reached or the record keeps changing.
    pub fn force_open(&self) -> Result<Record, FleetError> {
        self.operate(Operator::ForceOpen)
    }

    /// Makes every member admit every call and never trip.
    ///
    /// # Errors
    /// As [`force_open`](Self::force_open).
    pub fn force_closed(&self) -> Result<Record, FleetError> {
        self.operate(Operator::ForceClosed)
    }

    /// Closes the whole fleet with an empty fleet window and the backoff reset.
    ///
    /// # Errors
    /// As [`force_open`](Self::force_open).
    pub fn reset(&self) -> Result<Record, FleetError> {
        self.operate(Operator::Reset)
    }

    fn operate(&self, op: Operator) -> Result<Record, FleetError> {
        let mut store = RedisStore::new(self.client.clone(), self.keys.clone());
        operate(&mut store, self.fingerprint, &self.member_id, op).map_err(|e| match e {
            OperateError::Store(e) => e,
            OperateError::Refused(fleet) => FleetError::Refused {
                fleet,
                member: self.fingerprint,
            },
            OperateError::Contended => {
                FleetError::Store("the fleet record kept changing".to_string())
            }
        })
    }

    /// Stops the agent (also on drop). The local breaker keeps what it adopted last, with
    /// its held probe slots released, and runs alone.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        *lock(&self.shared.stop) = true;
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.halt();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn default_member_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().replace('#', "_"))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_string());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let salt =
        crate::transition::splitmix64(u64::from(nanos) ^ (u64::from(std::process::id()) << 32));
    format!("{host}:{}:{:08x}", std::process::id(), salt as u32)
}

struct Agent<L: Local> {
    local: Arc<L>,
    member: Member,
    store: RedisStore,
    member_id: String,
    shared: Arc<Shared>,
    on_transition: Option<OnTransition>,
}

impl<L: Local + Send + Sync + 'static> Agent<L> {
    fn run(mut self, interval: Duration, clock: impl Fn() -> Millis) {
        loop {
            let started = std::time::Instant::now();
            self.tick(&clock);
            let mut stop = lock(&self.shared.stop);
            while !*stop {
                let left = interval.saturating_sub(started.elapsed());
                if left.is_zero() {
                    break;
                }
                stop = self
                    .shared
                    .wake
                    .wait_timeout(stop, left)
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
            }
            if *stop {
                break;
            }
        }
        // Leaving: the local breaker runs alone, its held slots free.
        let callback = self.on_transition.clone();
        fail(&mut self.member, &*self.local, clock(), &mut |t| {
            notify(callback.as_ref(), t)
        });
        self.shared.stopped.store(true, Ordering::Release);
    }

    fn tick(&mut self, clock: &impl Fn() -> Millis) {
        let callback = self.on_transition.clone();
        let result = sync_once(
            &mut self.member,
            &self.member_id,
            &*self.local,
            &mut self.store,
            clock,
            &mut |t| notify(callback.as_ref(), t),
        );
        let mut status = lock(&self.shared.status);
        status.syncs += 1;
        match result {
            Ok(members) => {
                status.members = members;
                status.last_error = None;
            }
            Err(e) => {
                self.store.drop_connection();
                status.failures += 1;
                status.last_error = Some(e.to_string());
            }
        }
        status.status = self.member.status();
        if let Status::Refused { fleet } = status.status {
            let refused = FleetError::Refused {
                fleet,
                member: self.member.fingerprint(),
            };
            status.last_error = Some(refused.to_string());
        }
        status.state = self.member.following().map(|r| r.state);
        status.generation = self.member.following().map_or(0, |r| r.generation);
        status.leases = self.member.leases();
    }
}

/// Runs the user's callback for a fleet-caused transition; a panic in it is caught.
fn notify(callback: Option<&OnTransition>, t: &Transition) {
    if let Some(f) = callback {
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(t))).is_err() {
            std::eprintln!("cbreaker fleet: an on_transition callback panicked; ignored");
        }
    }
}
