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
use std::vec::Vec;

use redis::Value;

use crate::fleet::driver::{
    OperateError, Store, SyncAnswer, SyncRequest, fail, operate, sync_once,
};
use crate::fleet::{
    FleetField, Member, Operator, Record, Rules, RulesError, SYNC_SCRIPT, Status, TRANSITION_SCRIPT,
};
use crate::state::State;
use crate::time::Millis;
use crate::transition::Transition;

pub use crate::fleet::driver::Local;

/// A callback for the local transitions the fleet causes (cause `fleet`), run on the agent's
/// thread. A panic in it is caught and logged to stderr.
pub type OnTransition = Arc<dyn Fn(&Transition) + Send + Sync>;

/// How a member joins its fleet.
#[derive(Clone)]
pub struct FleetOptions {
    /// `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS (feature
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
    fn checked(&self) -> Result<(redis::Client, Duration), FleetError> {
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
        Ok((open(&self.url)?, timeout))
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

    fn option(field: FleetField, message: String) -> FleetError {
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
    client: redis::Client,
    timeout: Duration,
    fingerprint: u64,
    member_id: String,
    thread: Option<JoinHandle<()>>,
}

#[derive(Clone)]
struct Keys {
    record: String,
    counts: String,
    seqs: String,
    trips: String,
    members: String,
    leases: String,
    log: String,
}

impl Keys {
    fn new(prefix: &str, name: &str) -> Keys {
        let k = |s: &str| format!("{prefix}{{{name}}}:{s}");
        Keys {
            record: k("record"),
            counts: k("counts"),
            seqs: k("seqs"),
            trips: k("trips"),
            members: k("members"),
            leases: k("leases"),
            log: k("log"),
        }
    }
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
        let (client, timeout) = options.checked()?;
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
            store: RedisStore {
                client: client.clone(),
                connection: None,
                timeout,
                keys: keys.clone(),
                sync: redis::Script::new(SYNC_SCRIPT),
                transition: redis::Script::new(TRANSITION_SCRIPT),
            },
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
            timeout,
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
        let mut store = RedisStore {
            client: self.client.clone(),
            connection: None,
            timeout: self.timeout,
            keys: self.keys.clone(),
            sync: redis::Script::new(SYNC_SCRIPT),
            transition: redis::Script::new(TRANSITION_SCRIPT),
        };
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

fn open(url: &str) -> Result<redis::Client, FleetError> {
    if !(url.starts_with("redis://")
        || url.starts_with("rediss://")
        || url.starts_with("valkey://")
        || url.starts_with("valkeys://"))
    {
        return Err(FleetError::option(
            FleetField::Url,
            format!("url must start with redis:// or rediss://, got {url:?}"),
        ));
    }
    #[cfg(feature = "fleet-tls")]
    if url.starts_with("rediss://") || url.starts_with("valkeys://") {
        // rustls needs one process-wide provider; with more than one compiled in (another
        // crate's choice) it picks none. Err means one is already installed: that one serves.
        // ring, though rustls marks it deprecated for lacking post-quantum key exchange: it
        // builds with a C compiler alone (aws-lc-rs wants more), which a wheel or libcb needs.
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    redis::Client::open(url)
        .map_err(|e| FleetError::option(FleetField::Url, format!("url {url:?}: {e}")))
}

fn connect(client: &redis::Client, timeout: Duration) -> Result<redis::Connection, FleetError> {
    let con = client
        .get_connection_with_timeout(timeout)
        .map_err(|e| FleetError::Store(e.to_string()))?;
    con.set_read_timeout(Some(timeout))
        .and_then(|()| con.set_write_timeout(Some(timeout)))
        .map_err(|e| FleetError::Store(e.to_string()))?;
    Ok(con)
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

/// One compare-and-set of the record: `(landed, record now)`.
fn cas(
    con: &mut redis::Connection,
    script: &redis::Script,
    keys: &Keys,
    expected: &str,
    next: &str,
    log: &str,
) -> Result<(bool, String), FleetError> {
    let v: Value = script
        .key(&keys.record)
        .key(&keys.counts)
        .key(&keys.leases)
        .key(&keys.log)
        .arg(expected)
        .arg(next)
        .arg(log)
        .invoke(con)
        .map_err(|e| FleetError::Store(e.to_string()))?;
    let items = array(&v)?;
    Ok((int(items.first())? == 1, string(items.get(1))?))
}

fn malformed() -> FleetError {
    FleetError::Store("malformed reply from the fleet script".to_string())
}

fn array(v: &Value) -> Result<&[Value], FleetError> {
    match v {
        Value::Array(items) => Ok(items),
        _ => Err(malformed()),
    }
}

fn int(v: Option<&Value>) -> Result<u64, FleetError> {
    match v {
        Some(Value::Int(n)) if *n >= 0 => Ok(*n as u64),
        Some(Value::BulkString(b)) => core::str::from_utf8(b)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(malformed),
        _ => Err(malformed()),
    }
}

fn string(v: Option<&Value>) -> Result<String, FleetError> {
    match v {
        Some(Value::BulkString(b)) => Ok(String::from_utf8_lossy(b).into_owned()),
        Some(Value::SimpleString(s)) => Ok(s.clone()),
        Some(Value::Nil) => Ok(String::new()),
        _ => Err(malformed()),
    }
}

/// Reads the record as the scripts do (a key of another type reads `!<type>`) and the
/// server's time.
const READ_SCRIPT: &str = "local t = redis.call('TIME') local k = redis.call('TYPE', KEYS[1])['ok'] \
     local r = '' if k == 'string' then r = redis.call('GET', KEYS[1]) elseif k ~= 'none' then r = '!' .. k end \
     return {tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), k ~= 'none' and 1 or 0, r}";

/// Redis as the fleet's store: the two scripts over one connection, opened again after a
/// failure.
struct RedisStore {
    client: redis::Client,
    connection: Option<redis::Connection>,
    timeout: Duration,
    keys: Keys,
    sync: redis::Script,
    transition: redis::Script,
}

impl Store for RedisStore {
    type Error = FleetError;

    fn sync(&mut self, r: &SyncRequest<'_>) -> Result<SyncAnswer, FleetError> {
        let mut invocation = self.sync.prepare_invoke();
        for k in [
            &self.keys.record,
            &self.keys.counts,
            &self.keys.seqs,
            &self.keys.trips,
            &self.keys.members,
            &self.keys.leases,
        ] {
            invocation.key(k);
        }
        invocation
            .arg(r.member)
            .arg(r.prefix)
            .arg(r.following)
            .arg(r.lease.want)
            .arg(u8::from(r.lease.renew))
            .arg(r.max_leases)
            .arg(r.lease_ms)
            .arg(r.window_ms)
            .arg(r.member_ttl_ms)
            .arg(r.deltas.len());
        for (d, age) in r.deltas {
            invocation
                .arg(d.seq)
                .arg(d.generation)
                .arg(u8::from(d.probe))
                .arg(*age)
                .arg(d.counts.successes)
                .arg(d.counts.failures)
                .arg(d.counts.slow)
                .arg(u8::from(d.tripped));
        }
        let con = connection(&mut self.connection, &self.client, self.timeout)?;
        let v: Value = invocation
            .invoke(con)
            .map_err(|e| FleetError::Store(e.to_string()))?;
        let items = array(&v)?;
        let has = int(items.get(1))? == 1;
        let text = string(items.get(2))?;
        Ok(SyncAnswer {
            server_now: int(items.first())?,
            record: has.then_some(text),
            acked: int(items.get(3))?,
            leases: u32::try_from(int(items.get(4))?).map_err(|_| malformed())?,
            members: u32::try_from(int(items.get(5))?).map_err(|_| malformed())?,
            counts: pairs(items.get(6))?,
            trips: strings(items.get(7))?,
        })
    }

    fn read(&mut self) -> Result<(Option<String>, u64), FleetError> {
        let con = connection(&mut self.connection, &self.client, self.timeout)?;
        let v: Value = redis::Script::new(READ_SCRIPT)
            .key(&self.keys.record)
            .invoke(con)
            .map_err(|e| FleetError::Store(e.to_string()))?;
        let items = array(&v)?;
        let now = int(items.first())?;
        let has = int(items.get(1))? == 1;
        let text = string(items.get(2))?;
        Ok((has.then_some(text), now))
    }

    fn transition(
        &mut self,
        expected: &str,
        next: &str,
        log: &str,
    ) -> Result<(bool, String), FleetError> {
        let con = connection(&mut self.connection, &self.client, self.timeout)?;
        cas(con, &self.transition, &self.keys, expected, next, log)
    }
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
                self.store.connection = None;
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

/// The agent's connection, opened again after a failure.
fn connection<'a>(
    slot: &'a mut Option<redis::Connection>,
    client: &redis::Client,
    timeout: Duration,
) -> Result<&'a mut redis::Connection, FleetError> {
    if slot.is_none() {
        *slot = Some(connect(client, timeout)?);
    }
    slot.as_mut().ok_or_else(malformed)
}

fn pairs(v: Option<&Value>) -> Result<Vec<(String, u64)>, FleetError> {
    let Some(Value::Array(items)) = v else {
        return Err(malformed());
    };
    let mut out = Vec::with_capacity(items.len() / 2);
    for pair in items.chunks(2) {
        if let [field, value] = pair {
            out.push((string(Some(field))?, int(Some(value))?));
        }
    }
    Ok(out)
}

fn strings(v: Option<&Value>) -> Result<Vec<String>, FleetError> {
    let Some(Value::Array(items)) = v else {
        return Err(malformed());
    };
    items.iter().map(|i| string(Some(i))).collect()
}

#[cfg(test)]
mod tests {
    use super::Keys;

    /// Redis Cluster hashes only the part between the first `{` and the next `}`: every key of
    /// one breaker must have that part equal to its name, whatever the prefix.
    #[test]
    fn every_key_of_a_breaker_shares_one_hash_tag() {
        let k = Keys::new("svc:a:", "payments");
        for key in [
            &k.record, &k.counts, &k.seqs, &k.trips, &k.members, &k.leases, &k.log,
        ] {
            let open = key.find('{').unwrap();
            let close = open + key[open..].find('}').unwrap();
            assert_eq!(&key[open + 1..close], "payments", "{key}");
        }
    }
}
