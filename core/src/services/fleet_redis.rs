//! Redis (or Valkey) as the fleet's store, for the agent ([`super::fleet_agent`]): where the
//! store is (one server, or a Redis Cluster from seed nodes), the connection, the keys and the
//! two scripts. Nothing here decides: it only sends what the core asks and parses the answers.

extern crate std;

use std::format;
use std::string::{String, ToString};
use std::time::Duration;
use std::vec::Vec;

use redis::{ConnectionLike, Value};

use super::fleet_agent::FleetError;
use crate::fleet::driver::{Store, SyncAnswer, SyncRequest};
use crate::fleet::{FleetField, SYNC_SCRIPT, TRANSITION_SCRIPT};

/// The schemes a fleet URL may start with; `+cluster` reaches a Redis Cluster through the
/// seed nodes listed (comma-separated).
pub const URL_SCHEMES: [&str; 6] = [
    "redis://",
    "rediss://",
    "valkey://",
    "valkeys://",
    "redis+cluster://",
    "rediss+cluster://",
];

/// Where the store is, and how long a connection or a reply may take.
#[derive(Clone)]
pub(crate) struct Client {
    target: Target,
    timeout: Duration,
}

#[derive(Clone)]
enum Target {
    /// One server (or a primary behind a proxy).
    Single(redis::Client),
    /// A Redis Cluster: commands go to the node that holds the breaker's hash slot.
    Cluster(redis::cluster::ClusterClient),
}

enum Connection {
    Single(redis::Connection),
    // Boxed: a cluster connection is several times a single one, and rare.
    Cluster(std::boxed::Box<redis::cluster::ClusterConnection>),
}

impl Client {
    /// Parses `url` (nothing is connected): `redis://`, `rediss://` (TLS), `valkey://`,
    /// `valkeys://`, or `redis+cluster://` / `rediss+cluster://` with one or more seed nodes
    /// (`[user:password@]host:port[,host:port...][/#insecure]`).
    pub(crate) fn open(url: &str, timeout: Duration) -> Result<Client, FleetError> {
        let bad = |m: String| FleetError::option(FleetField::Url, m);
        if !URL_SCHEMES.iter().any(|s| url.starts_with(s)) {
            return Err(bad(format!(
                "url must start with redis://, rediss://, redis+cluster:// or rediss+cluster://, got {url:?}"
            )));
        }
        let tls = url.starts_with("rediss") || url.starts_with("valkeys");
        #[cfg(feature = "fleet-tls")]
        if tls {
            // rustls needs one process-wide provider; with more than one compiled in (another
            // crate's choice) it picks none. Err means one is already installed: that one serves.
            // ring, though rustls marks it deprecated for lacking post-quantum key exchange: it
            // builds with a C compiler alone (aws-lc-rs wants more), which a wheel or libcb needs.
            #[allow(deprecated)]
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let Some(rest) = url
            .strip_prefix("redis+cluster://")
            .or_else(|| url.strip_prefix("rediss+cluster://"))
        else {
            return redis::Client::open(url)
                .map(|c| Client {
                    target: Target::Single(c),
                    timeout,
                })
                .map_err(|e| bad(format!("url {url:?}: {e}")));
        };
        // `[userinfo@]host:port,host:port[/...][#...]`: every seed gets the userinfo and the tail.
        let (authority, tail) = rest.split_at(rest.find(['/', '#', '?']).unwrap_or(rest.len()));
        let (userinfo, hosts) = match authority.rfind('@') {
            Some(at) => (&authority[..=at], &authority[at + 1..]),
            None => ("", authority),
        };
        // An empty list splits into one empty host.
        if hosts.split(',').any(str::is_empty) {
            return Err(bad(format!(
                "url {url:?}: list the seed nodes as host:port,host:port"
            )));
        }
        let scheme = if tls { "rediss" } else { "redis" };
        let seeds: Vec<String> = hosts
            .split(',')
            .map(|h| format!("{scheme}://{userinfo}{h}{tail}"))
            .collect();
        redis::cluster::ClusterClient::builder(seeds)
            .connection_timeout(timeout)
            .response_timeout(timeout)
            .build()
            .map(|c| Client {
                target: Target::Cluster(c),
                timeout,
            })
            .map_err(|e| bad(format!("url {url:?}: {e}")))
    }

    /// A new connection, with the timeout on connecting, reading and writing.
    fn connect(&self) -> Result<Connection, FleetError> {
        let store = |e: redis::RedisError| FleetError::Store(e.to_string());
        match &self.target {
            Target::Single(c) => {
                let con = c.get_connection_with_timeout(self.timeout).map_err(store)?;
                con.set_read_timeout(Some(self.timeout))
                    .and_then(|()| con.set_write_timeout(Some(self.timeout)))
                    .map_err(store)?;
                Ok(Connection::Single(con))
            }
            Target::Cluster(c) => c
                .get_connection()
                .map(|c| Connection::Cluster(std::boxed::Box::new(c)))
                .map_err(store),
        }
    }
}

/// The keys of one breaker's fleet: every one under the hash tag `{<name>}`.
#[derive(Clone)]
pub(crate) struct Keys {
    record: String,
    counts: String,
    seqs: String,
    trips: String,
    members: String,
    leases: String,
    log: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str, name: &str) -> Keys {
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

/// One compare-and-set of the record: `(landed, record now)`.
fn cas(
    con: &mut dyn ConnectionLike,
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
pub(crate) struct RedisStore {
    client: Client,
    connection: Option<Connection>,
    keys: Keys,
    sync: redis::Script,
    transition: redis::Script,
}

impl RedisStore {
    pub(crate) fn new(client: Client, keys: Keys) -> RedisStore {
        RedisStore {
            client,
            connection: None,
            keys,
            sync: redis::Script::new(SYNC_SCRIPT),
            transition: redis::Script::new(TRANSITION_SCRIPT),
        }
    }

    /// Forgets the connection after a failure: the next round trip opens a new one.
    pub(crate) fn drop_connection(&mut self) {
        self.connection = None;
    }
}

/// The store's connection, opened if there is none (a free function: the callers hold other
/// fields of the store meanwhile).
fn connection<'a>(
    slot: &'a mut Option<Connection>,
    client: &Client,
) -> Result<&'a mut dyn ConnectionLike, FleetError> {
    if slot.is_none() {
        *slot = Some(client.connect()?);
    }
    match slot.as_mut() {
        Some(Connection::Single(c)) => Ok(c),
        Some(Connection::Cluster(c)) => Ok(&mut **c),
        None => Err(malformed()),
    }
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
        let con = connection(&mut self.connection, &self.client)?;
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
        let con = connection(&mut self.connection, &self.client)?;
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
        let con = connection(&mut self.connection, &self.client)?;
        cas(con, &self.transition, &self.keys, expected, next, log)
    }
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
