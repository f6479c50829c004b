//! The fleet agent against a real `redis-server` (started here on 127.0.0.1, no persistence):
//! members are threads of this process, each with its own breaker and agent, in front of one
//! simulated upstream. Figures print with `--nocapture`; docs/fleet.md quotes them.

mod support {
    pub(crate) mod redis_cluster;
    pub(crate) mod redis_server;
}

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use cbreaker::fleet::{Mode, Record, Rules, Status};
use cbreaker::fleet_agent::{Fleet, FleetOptions};
use cbreaker::{Breaker, Config, MAX_SLOTS, Millis, Outcome, State};
use support::redis_cluster::RedisCluster;
use support::redis_server::RedisServer;

type Local = Breaker<MAX_SLOTS>;

fn config() -> Config {
    Config {
        minimum_calls: 20,
        open_duration: Millis(1_500),
        half_open_max_calls: 2,
        success_threshold: 2,
        half_open_max_wait: Millis(1_000),
        ..Config::count(100)
    }
}

fn rules(mode: Mode) -> Rules {
    Rules {
        mode,
        sync_interval: Millis(50),
        ..Rules::for_config(&config())
    }
}

struct Clock(Instant);
impl Clock {
    fn now(&self) -> Millis {
        Millis(self.0.elapsed().as_millis() as u64)
    }
}

/// The upstream every member calls: counts calls, fails while told to, and tracks the
/// probes in flight at once.
#[derive(Default)]
struct Upstream {
    failing: AtomicBool,
    calls: AtomicU64,
    probes_now: AtomicU64,
    probes_max: AtomicU64,
}

struct Member {
    breaker: Arc<Local>,
    fleet: Option<Fleet>,
    failing: Arc<AtomicBool>,
    made: AtomicU64,
}

fn join(server: &RedisServer, name: &str, mode: Mode, clock: &Arc<Clock>, cfg: Config) -> Member {
    let breaker = Arc::new(Local::new(cfg).unwrap());
    let c = clock.clone();
    let fleet = Fleet::join(
        breaker.clone(),
        FleetOptions::new(&server.url(), name, rules(mode)),
        move || c.now(),
    )
    .unwrap();
    Member {
        breaker,
        fleet: Some(fleet),
        failing: Arc::new(AtomicBool::new(false)),
        made: AtomicU64::new(0),
    }
}

/// Each member calls every `every` until `stop`; a call takes `takes`.
fn traffic(
    members: &Arc<Vec<Member>>,
    upstream: &Arc<Upstream>,
    clock: &Arc<Clock>,
    every: Duration,
    takes: Duration,
    run_for: Duration,
) {
    let stop_at = Instant::now() + run_for;
    let handles: Vec<_> = (0..members.len())
        .map(|i| {
            let (members, upstream, clock) = (members.clone(), upstream.clone(), clock.clone());
            thread::spawn(move || {
                let m = &members[i];
                while Instant::now() < stop_at {
                    let before = m.breaker.state(clock.now());
                    if let Ok(a) = m.breaker.try_acquire(clock.now()) {
                        let probe = before != State::Closed;
                        if probe {
                            let n = upstream.probes_now.fetch_add(1, Ordering::SeqCst) + 1;
                            upstream.probes_max.fetch_max(n, Ordering::SeqCst);
                        }
                        upstream.calls.fetch_add(1, Ordering::SeqCst);
                        thread::sleep(takes);
                        let fail = upstream.failing.load(Ordering::SeqCst)
                            || m.failing.load(Ordering::SeqCst);
                        if probe {
                            upstream.probes_now.fetch_sub(1, Ordering::SeqCst);
                        }
                        let outcome = if fail {
                            Outcome::Failure
                        } else {
                            Outcome::Success
                        };
                        m.breaker.record(a.permit, outcome, None, clock.now());
                        m.made.fetch_add(1, Ordering::SeqCst);
                    }
                    thread::sleep(every);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

fn log(server: &RedisServer, name: &str) -> Vec<String> {
    let mut con = server.connection().unwrap();
    let mut l: Vec<String> = redis::cmd("LRANGE")
        .arg(format!("cbreaker:{{{name}}}:log"))
        .arg(0)
        .arg(-1)
        .query(&mut con)
        .unwrap();
    l.reverse();
    l
}

fn record(server: &RedisServer, name: &str) -> Option<Record> {
    let mut con = server.connection().ok()?;
    let text: Option<String> = redis::cmd("GET")
        .arg(format!("cbreaker:{{{name}}}:record"))
        .query(&mut con)
        .ok()?;
    Record::parse(&text?).ok()
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

/// Fleet transitions into `state` in the log (the founding record is not one).
fn entered(log: &[String], state: &str) -> usize {
    log.iter()
        .filter(|l| l.split(' ').nth(4) == Some(state) && l.split(' ').nth(3) != Some("1"))
        .count()
}

/// `n` members of fleet `name`, once every one has joined.
fn members(
    server: &RedisServer,
    name: &str,
    mode: Mode,
    clock: &Arc<Clock>,
    n: usize,
) -> Arc<Vec<Member>> {
    let members: Arc<Vec<Member>> = Arc::new(
        (0..n)
            .map(|_| join(server, name, mode, clock, config()))
            .collect(),
    );
    wait_for("all joined", Duration::from_secs(5), || {
        members.iter().all(|m| {
            m.fleet
                .as_ref()
                .is_none_or(|f| f.status().status == Status::Joined)
        })
    });
    members
}

/// The calls an upstream failing from the start gets from `members` calling every 10 ms for
/// 0.9 s (less than the open duration: every call before the breakers open, none after).
fn calls_before_open(members: &Arc<Vec<Member>>, clock: &Arc<Clock>) -> u64 {
    let upstream = Arc::new(Upstream::default());
    upstream.failing.store(true, Ordering::SeqCst);
    traffic(
        members,
        &upstream,
        clock,
        Duration::from_millis(10),
        Duration::ZERO,
        Duration::from_millis(900),
    );
    upstream.calls.load(Ordering::SeqCst)
}

#[test]
fn four_members_one_trip_bounded_probes_and_one_close() {
    let server = RedisServer::start();
    let clock = Arc::new(Clock(Instant::now()));
    let members = members(&server, "trip", Mode::Rate, &clock, 4);
    // The upstream fails: count the calls it gets until every member is open.
    let fleet_calls = calls_before_open(&members, &clock);
    let l = log(&server, "trip");
    assert_eq!(
        entered(&l, "open"),
        1,
        "exactly one fleet transition for the trip: {l:?}"
    );
    for m in members.iter() {
        assert_ne!(m.breaker.state(clock.now()), State::Closed);
    }
    // The same traffic on four independent breakers.
    let alone: Arc<Vec<Member>> = Arc::new(
        (0..4)
            .map(|_| Member {
                breaker: Arc::new(Local::new(config()).unwrap()),
                fleet: None,
                failing: Arc::new(AtomicBool::new(false)),
                made: AtomicU64::new(0),
            })
            .collect(),
    );
    let independent_calls = calls_before_open(&alone, &clock);
    println!(
        "fleet trip: the upstream got {fleet_calls} calls before the fleet opened; four independent breakers let {independent_calls} through"
    );
    // One breaker's rule (20) plus what arrives within a sync interval and a round trip
    // (4 members × one call per 10 ms × 100 ms = 40), with room for a loaded machine.
    assert!(fleet_calls <= 20 + 60, "{fleet_calls}");
    assert!(
        fleet_calls < independent_calls,
        "{fleet_calls} vs {independent_calls}"
    );

    // Recovery: the upstream answers again; probes take 30 ms each.
    let upstream = Arc::new(Upstream::default());
    traffic(
        &members,
        &upstream,
        &clock,
        Duration::from_millis(5),
        Duration::from_millis(30),
        Duration::from_millis(3_000),
    );
    let l = log(&server, "trip");
    assert_eq!(entered(&l, "half_open"), 1, "{l:?}");
    assert_eq!(entered(&l, "closed"), 1, "{l:?}");
    let probes = upstream.probes_max.load(Ordering::SeqCst);
    println!(
        "fleet half-open: at most {probes} probes in flight across 4 members (half_open_max_calls 2)"
    );
    assert!(probes <= 2, "{probes} probes at once");
    for m in members.iter() {
        assert_eq!(m.breaker.state(clock.now()), State::Closed);
    }
}

#[test]
fn a_dead_lease_holder_is_reclaimed_after_half_open_max_wait() {
    let server = RedisServer::start();
    let clock = Arc::new(Clock(Instant::now()));
    let members: Vec<Member> =
        Arc::into_inner(members(&server, "dead", Mode::Rate, &clock, 3)).unwrap();
    // An operator opens the whole fleet, then resets it: every member follows.
    let opened = members[0].fleet.as_ref().unwrap().force_open().unwrap();
    wait_for("every member forced open", Duration::from_secs(3), || {
        members
            .iter()
            .all(|m| m.breaker.state(clock.now()) == State::ForcedOpen)
    });
    let reset = members[0].fleet.as_ref().unwrap().reset().unwrap();
    assert_eq!(reset.generation, opened.generation + 1);
    wait_for("every member reset", Duration::from_secs(3), || {
        members.iter().all(|m| {
            m.fleet.as_ref().unwrap().status().generation == reset.generation
                && m.breaker.state(clock.now()) == State::Closed
        })
    });
    // Trip the fleet by hand through member 0's failures, then let only member 0 probe.
    let mut members = members;
    let holder = members.remove(0);
    let now = clock.now();
    for _ in 0..20 {
        let p = holder.breaker.try_acquire(now).unwrap().permit;
        holder.breaker.record(p, Outcome::Failure, None, now);
    }
    wait_for("the fleet open", Duration::from_secs(5), || {
        record(&server, "dead").is_some_and(|r| r.state == State::Open)
    });
    wait_for("the fleet half-open", Duration::from_secs(5), || {
        // Member 0 keeps asking, so it gets the leases.
        let _ = holder.breaker.try_acquire(clock.now());
        holder.fleet.as_ref().unwrap().status().leases > 0
    });
    // It takes its probes and dies holding them (its agent stops; the probes never end).
    let hung: Vec<_> = (0..2)
        .filter_map(|_| holder.breaker.try_acquire(clock.now()).ok())
        .collect();
    assert!(!hung.is_empty());
    let died = Instant::now();
    let mut holder = holder;
    std::mem::forget(holder.fleet.take()); // as `kill -9`: no goodbye, the thread stays idle
    // The others get the leases once they expire, probe, and close the fleet.
    let took = {
        let m = &members[0];
        wait_for("a lease for a survivor", Duration::from_secs(5), || {
            if let Ok(a) = m.breaker.try_acquire(clock.now()) {
                m.breaker
                    .record(a.permit, Outcome::Success, None, clock.now());
            }
            m.fleet.as_ref().unwrap().status().leases > 0
                || record(&server, "dead").is_some_and(|r| r.state == State::Closed)
        });
        died.elapsed()
    };
    println!(
        "fleet half-open: a dead lease holder's probes were reclaimed after {took:?} (half_open_max_wait 1 s)"
    );
    assert!(took >= Duration::from_millis(800), "{took:?}");
    wait_for("the fleet closed", Duration::from_secs(5), || {
        if let Ok(a) = members[0].breaker.try_acquire(clock.now()) {
            members[0]
                .breaker
                .record(a.permit, Outcome::Success, None, clock.now());
        }
        record(&server, "dead").is_some_and(|r| r.state == State::Closed)
    });
}

#[test]
fn quorum_one_bad_member_trips_alone_two_open_the_fleet() {
    let server = RedisServer::start();
    let clock = Arc::new(Clock(Instant::now()));
    let members = members(&server, "quorum", Mode::Quorum(2), &clock, 4);
    let upstream = Arc::new(Upstream::default());
    members[0].failing.store(true, Ordering::SeqCst);
    traffic(
        &members,
        &upstream,
        &clock,
        Duration::from_millis(5),
        Duration::ZERO,
        Duration::from_millis(800),
    );
    assert_eq!(
        members[0].breaker.state(clock.now()),
        State::Open,
        "the bad member tripped"
    );
    assert_eq!(
        record(&server, "quorum").map(|r| r.state),
        Some(State::Closed),
        "the fleet stays closed"
    );
    for m in &members[1..] {
        assert_eq!(m.breaker.state(clock.now()), State::Closed);
    }
    members[1].failing.store(true, Ordering::SeqCst);
    traffic(
        &members,
        &upstream,
        &clock,
        Duration::from_millis(5),
        Duration::ZERO,
        Duration::from_millis(800),
    );
    let r = record(&server, "quorum").unwrap();
    assert_eq!((r.state, r.cause.name()), (State::Open, "quorum"));
    for m in members.iter() {
        assert_ne!(m.breaker.state(clock.now()), State::Closed);
    }
}

#[test]
fn store_faults_never_block_calls_or_lose_counts_and_members_rejoin() {
    let mut server = RedisServer::start();
    let clock = Arc::new(Clock(Instant::now()));
    let members: Arc<Vec<Member>> = Arc::new(
        (0..2)
            .map(|_| join(&server, "faults", Mode::Rate, &clock, config()))
            .collect(),
    );
    let status = |i: usize| members[i].fleet.as_ref().unwrap().status().status;
    wait_for("joined", Duration::from_secs(5), || {
        status(0) == Status::Joined && status(1) == Status::Joined
    });
    let slowest = Arc::new(Mutex::new(Duration::ZERO));
    let run = |d: Duration| {
        let (members, clock, slowest) = (members.clone(), clock.clone(), slowest.clone());
        thread::spawn(move || {
            let end = Instant::now() + d;
            while Instant::now() < end {
                for m in members.iter() {
                    let t = Instant::now();
                    if let Ok(a) = m.breaker.try_acquire(clock.now()) {
                        m.breaker
                            .record(a.permit, Outcome::Success, None, clock.now());
                        m.made.fetch_add(1, Ordering::SeqCst);
                    }
                    let took = t.elapsed();
                    let mut s = slowest.lock().unwrap();
                    *s = (*s).max(took);
                }
                thread::sleep(Duration::from_millis(2));
            }
        })
    };
    // Stopped mid-run.
    let calls = run(Duration::from_millis(1_500));
    thread::sleep(Duration::from_millis(300));
    server.stop();
    wait_for("degraded", Duration::from_secs(3), || {
        status(0) == Status::Degraded
    });
    // Restarted empty: the record is rebuilt, the members rejoin.
    thread::sleep(Duration::from_millis(300));
    server.restart_empty();
    wait_for("rejoined after a restart", Duration::from_secs(5), || {
        status(0) == Status::Joined && status(1) == Status::Joined
    });
    wait_for("the record rebuilt", Duration::from_secs(3), || {
        record(&server, "faults").is_some()
    });
    calls.join().unwrap();
    // Paused: slow, then back.
    let calls = run(Duration::from_millis(1_500));
    let mut con = server.connection().unwrap();
    redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(600)
        .query::<()>(&mut con)
        .unwrap();
    wait_for("degraded by a pause", Duration::from_secs(3), || {
        status(0) == Status::Degraded
    });
    wait_for("rejoined after a pause", Duration::from_secs(5), || {
        status(0) == Status::Joined
    });
    // Garbage in the record's key, of the right type and of another.
    redis::cmd("SET")
        .arg("cbreaker:{faults}:record")
        .arg("garbage")
        .query::<()>(&mut con)
        .unwrap();
    wait_for("rebuilt from garbage", Duration::from_secs(3), || {
        record(&server, "faults").is_some()
    });
    redis::cmd("DEL")
        .arg("cbreaker:{faults}:record")
        .query::<()>(&mut con)
        .unwrap();
    redis::cmd("LPUSH")
        .arg("cbreaker:{faults}:record")
        .arg("x")
        .query::<()>(&mut con)
        .unwrap();
    wait_for("rebuilt from a list", Duration::from_secs(3), || {
        record(&server, "faults").is_some()
    });
    calls.join().unwrap();
    let slowest = *slowest.lock().unwrap();
    println!(
        "store faults: the slowest call took {slowest:?} while Redis was stopped, restarted, paused and overwritten"
    );
    assert!(
        slowest < Duration::from_millis(100),
        "a call waited on the store: {slowest:?}"
    );
    // Local counts are exact: every call made is in the local counters once.
    for m in members.iter() {
        let s = m.breaker.snapshot(clock.now());
        assert_eq!(s.successes, m.made.load(Ordering::SeqCst));
        assert_eq!(s.rejected, 0);
    }
    // And nothing was counted twice in the store: the window holds at most what was made.
    thread::sleep(Duration::from_millis(200));
    let r = record(&server, "faults").unwrap();
    let counts: Vec<(String, u64)> = redis::cmd("HGETALL")
        .arg("cbreaker:{faults}:counts")
        .query(&mut con)
        .unwrap();
    let stored: u64 = counts
        .iter()
        .filter(|(f, _)| f.starts_with(&format!("w.{}.", r.generation)) && f.ends_with(".s"))
        .map(|(_, n)| n)
        .sum();
    let made: u64 = members.iter().map(|m| m.made.load(Ordering::SeqCst)).sum();
    assert!(stored <= made, "{stored} stored, {made} made");
}

#[test]
fn a_member_with_another_config_is_refused_and_runs_alone() {
    let server = RedisServer::start();
    let clock = Arc::new(Clock(Instant::now()));
    let first = join(&server, "configs", Mode::Rate, &clock, config());
    wait_for("joined", Duration::from_secs(5), || {
        first.fleet.as_ref().unwrap().status().status == Status::Joined
    });
    let other = Config {
        minimum_calls: 5,
        ..config()
    };
    let second = join(&server, "configs", Mode::Rate, &clock, other);
    wait_for("refused", Duration::from_secs(5), || {
        matches!(
            second.fleet.as_ref().unwrap().status().status,
            Status::Refused { .. }
        )
    });
    let err = second.fleet.as_ref().unwrap().force_open().unwrap_err();
    assert!(
        err.to_string().contains("differs from the fleet's"),
        "{err}"
    );
    // It still works alone.
    assert!(second.breaker.try_acquire(clock.now()).is_ok());
}

#[test]
fn bad_options_are_refused_naming_the_field() {
    let breaker = Arc::new(Local::new(config()).unwrap());
    let err = |o: FleetOptions| {
        Fleet::join(breaker.clone(), o, || Millis(0))
            .err()
            .unwrap()
            .to_string()
    };
    let base = FleetOptions::new("redis://127.0.0.1:1", "x", rules(Mode::Rate));
    assert!(
        err(FleetOptions {
            url: "http://x".into(),
            ..base.clone()
        })
        .contains("url")
    );
    assert!(
        err(FleetOptions {
            name: "a{b}".into(),
            ..base.clone()
        })
        .contains("name")
    );
    assert!(
        err(FleetOptions {
            rules: Rules {
                sync_interval: Millis(0),
                ..base.rules
            },
            ..base.clone()
        })
        .contains("sync_interval")
    );
    assert!(
        err(FleetOptions {
            rules: Rules {
                mode: Mode::Quorum(0),
                ..base.rules
            },
            ..base.clone()
        })
        .contains("quorum")
    );
}

/// `rediss://` with an ACL user: a TLS-only server whose default user is off.
#[cfg(feature = "fleet-tls")]
#[test]
fn tls_and_an_acl_user() {
    use std::process::{Command, Stdio};
    let dir = std::env::temp_dir().join(format!("cbreaker-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    support::redis_server::self_signed(&dir);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .arg("--tls-cert-file")
        .arg(dir.join("cert.pem"))
        .arg("--tls-key-file")
        .arg(dir.join("key.pem"))
        .arg("--tls-ca-cert-file")
        .arg(dir.join("cert.pem"))
        .args([
            "--tls-auth-clients",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args([
            "--user",
            "default",
            "off",
            "--user",
            "member",
            "on",
            ">s3cret",
            "~cbreaker:*",
            "+@all",
        ])
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server");
    let clock = Arc::new(Clock(Instant::now()));
    let breaker = Arc::new(Local::new(config()).unwrap());
    let c = clock.clone();
    let join = |url: String| {
        let c = c.clone();
        // A TLS handshake on a loaded machine can take longer than a 50 ms interval.
        let options = FleetOptions {
            timeout: Some(Duration::from_secs(2)),
            ..FleetOptions::new(&url, "tls", rules(Mode::Rate))
        };
        Fleet::join(breaker.clone(), options, move || c.now()).unwrap()
    };
    let good = join(format!("rediss://member:s3cret@127.0.0.1:{port}/#insecure"));
    let joined = (0..500).any(|_| {
        thread::sleep(Duration::from_millis(10));
        good.status().status == Status::Joined
    });
    let wrong = join(format!("rediss://member:wrong@127.0.0.1:{port}/#insecure"));
    let auth_error = |e: &str| e.to_lowercase().contains("auth") || e.contains("WRONGPASS");
    let refused = (0..500)
        .map(|_| {
            thread::sleep(Duration::from_millis(10));
            wrong.status()
        })
        .find(|s| s.last_error.as_deref().is_some_and(auth_error))
        .unwrap_or_else(|| wrong.status());
    drop((good, wrong));
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(joined, "a member over TLS with an ACL user joins");
    assert_eq!(refused.status, Status::Degraded, "{refused:?}");
    assert!(
        refused
            .last_error
            .is_some_and(|e| e.to_lowercase().contains("auth") || e.contains("WRONGPASS"))
    );
}

/// `n` members of fleet `name` at `url` (round trips may take `timeout`), once all joined.
fn joined(
    url: &str,
    name: &str,
    n: usize,
    timeout: Duration,
    clock: &Arc<Clock>,
) -> Vec<(Arc<Local>, Fleet)> {
    let members: Vec<_> = (0..n)
        .map(|_| {
            let breaker = Arc::new(Local::new(config()).unwrap());
            let c = clock.clone();
            let options = FleetOptions {
                timeout: Some(timeout),
                ..FleetOptions::new(url, name, rules(Mode::Rate))
            };
            let fleet = Fleet::join(breaker.clone(), options, move || c.now()).unwrap();
            (breaker, fleet)
        })
        .collect();
    wait_for("every member joined", Duration::from_secs(10), || {
        members
            .iter()
            .all(|(_, f)| f.status().status == Status::Joined)
    });
    members
}

/// Trips `b` on its own: as many failures as the config's rule needs.
fn trip(b: &Local, clock: &Clock) {
    for _ in 0..config().minimum_calls {
        let a = b.try_acquire(clock.now()).unwrap();
        b.record(a.permit, Outcome::Failure, None, clock.now());
    }
    assert_eq!(b.state(clock.now()), State::Open);
}

/// A Redis Cluster of three primaries, reached through one seed node that does not hold the
/// breaker's slot: members join, one trips and the others follow; the keys live on the node
/// that holds the slot; a plain `redis://` member on the seed is degraded with the redirect.
#[test]
fn a_redis_cluster_from_one_seed() {
    let cluster = RedisCluster::start();
    let mut seed = cluster.node(0);
    let moved = |name: &str, con: &mut redis::Connection| {
        redis::cmd("GET")
            .arg(format!("cbreaker:{{{name}}}:record"))
            .query::<Option<String>>(con)
            .is_err_and(|e| e.to_string().to_lowercase().contains("moved"))
    };
    let name = (0..100)
        .map(|i| format!("cluster-{i}"))
        .find(|n| moved(n, &mut seed))
        .expect("a name whose slot is on another node");
    let clock = Arc::new(Clock(Instant::now()));
    let members = joined(&cluster.url(), &name, 3, Duration::from_secs(1), &clock);
    trip(&members[0].0, &clock);
    let started = Instant::now();
    wait_for("every member open", Duration::from_secs(2), || {
        members
            .iter()
            .all(|(b, _)| b.state(clock.now()) == State::Open)
    });
    std::println!(
        "cluster: the other members opened {} ms after the trip",
        started.elapsed().as_millis()
    );
    for (_, f) in &members {
        assert_eq!(f.status().state, Some(State::Open));
    }
    // The record is on the node that holds the slot.
    let holder = (1..3)
        .find(|&i| !moved(&name, &mut cluster.node(i)))
        .expect("a node holds the slot");
    let text: Option<String> = redis::cmd("GET")
        .arg(format!("cbreaker:{{{name}}}:record"))
        .query(&mut cluster.node(holder))
        .unwrap();
    assert_eq!(Record::parse(&text.unwrap()).unwrap().state, State::Open);

    // A plain URL to the seed: every round trip is redirected, so the member runs alone.
    let breaker = Arc::new(Local::new(config()).unwrap());
    let c = clock.clone();
    let plain = Fleet::join(
        breaker,
        FleetOptions::new(
            &format!("redis://127.0.0.1:{}", cluster.ports[0]),
            &name,
            rules(Mode::Rate),
        ),
        move || c.now(),
    )
    .unwrap();
    wait_for("degraded", Duration::from_secs(5), || {
        plain.status().status == Status::Degraded
    });
    let error = plain.status().last_error.unwrap_or_default();
    assert!(error.to_lowercase().contains("moved"), "{error}");

    // A cluster URL without seed nodes is a bad url.
    for url in [
        "redis+cluster://",
        "redis+cluster://a:1,,b:2",
        "redis+cluster:///#insecure",
    ] {
        let e = FleetOptions::new(url, "x", rules(Mode::Rate))
            .validate()
            .unwrap_err();
        assert_eq!(
            e.field(),
            Some(cbreaker::fleet::FleetField::Url),
            "{url}: {e}"
        );
    }
}

/// `rediss+cluster://`: a TLS-only cluster (clients and bus), seeded with one node; members
/// join, one trips and the other follows.
#[cfg(feature = "fleet-tls")]
#[test]
fn a_redis_cluster_over_tls() {
    let cluster = RedisCluster::start_tls();
    let clock = Arc::new(Clock(Instant::now()));
    // A TLS handshake on a loaded machine can take longer than a 50 ms interval.
    let members = joined(
        &cluster.url(),
        "tls-cluster",
        2,
        Duration::from_secs(2),
        &clock,
    );
    trip(&members[0].0, &clock);
    wait_for("the other member open", Duration::from_secs(3), || {
        members[1].0.state(clock.now()) == State::Open
    });
}
