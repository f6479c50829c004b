//! One fleet member process in front of an HTTP upstream, for the fleet scenarios run by
//! bindings-python/tests (members of Rust and Python mixed on one real Redis).
//!
//! ```text
//! fleet_member --redis URL --name NAME --upstream http://127.0.0.1:PORT/PATH
//!              [--every-ms 10] [--duration-ms 3000] [--sync-ms 50] [--quorum K]
//!              [--minimum-calls 20] [--window 100] [--open-ms 1500]
//!              [--half-open-max-calls 2] [--success-threshold 2] [--half-open-max-wait-ms 1000]
//! ```
//!
//! Prints one JSON line per local transition (`{"event":"transition",...,"wall_ms":...}`)
//! and one summary line at the end (`{"event":"summary","calls":...}`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cbreaker::fleet::{Mode, Rules};
use cbreaker::fleet_agent::{Fleet, FleetOptions};
use cbreaker::{Breaker, Config, MAX_SLOTS, Millis, Outcome, Transition};

struct Args(Vec<String>);

impl Args {
    fn get(&self, flag: &str) -> Option<&str> {
        self.0
            .iter()
            .position(|a| a == flag)
            .and_then(|i| self.0.get(i + 1))
            .map(String::as_str)
    }
    fn req(&self, flag: &str) -> String {
        self.get(flag)
            .unwrap_or_else(|| fail(&format!("{flag} is required")))
            .to_string()
    }
    fn num(&self, flag: &str, default: u64) -> u64 {
        self.get(flag).map_or(default, |v| {
            v.parse()
                .unwrap_or_else(|_| fail(&format!("{flag} must be a number, got {v:?}")))
        })
    }
}

fn fail(message: &str) -> ! {
    eprintln!("fleet_member: {message}");
    std::process::exit(2)
}

fn wall_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// One GET over HTTP/1.0: whether the upstream answered 2xx.
fn get(host: &str, path: &str) -> bool {
    let Ok(mut s) = TcpStream::connect(host) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(s, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head[9] == b'2'
}

fn main() {
    let args = Args(std::env::args().skip(1).collect());
    let upstream = args.req("--upstream");
    let rest = upstream
        .strip_prefix("http://")
        .unwrap_or_else(|| fail("--upstream must be http://host:port/path"));
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let u32_arg = |f: &str, d: u64| {
        u32::try_from(args.num(f, d)).unwrap_or_else(|_| fail(&format!("{f} is too large")))
    };
    let config = Config {
        minimum_calls: u32_arg("--minimum-calls", 20),
        open_duration: Millis(args.num("--open-ms", 1_500)),
        half_open_max_calls: u32_arg("--half-open-max-calls", 2),
        success_threshold: u32_arg("--success-threshold", 2),
        half_open_max_wait: Millis(args.num("--half-open-max-wait-ms", 1_000)),
        ..Config::count(u32_arg("--window", 100))
    };
    let breaker: Arc<Breaker<MAX_SLOTS>> =
        Arc::new(Breaker::new(config).unwrap_or_else(|e| fail(&e.to_string())));
    let mode = match args.num("--quorum", 0) {
        0 => Mode::Rate,
        k => Mode::Quorum(u32::try_from(k).unwrap_or(u32::MAX)),
    };
    let rules = Rules {
        mode,
        sync_interval: Millis(args.num("--sync-ms", 50)),
        ..Rules::for_config(&config)
    };
    let start = Instant::now();
    let clock = move || Millis(start.elapsed().as_millis() as u64);
    let print = |t: &Transition| {
        println!(
            "{{\"event\":\"transition\",\"from\":\"{}\",\"to\":\"{}\",\"cause\":\"{}\",\"wall_ms\":{}}}",
            t.from,
            t.to,
            t.cause.name(),
            wall_ms()
        );
    };
    let mut options = FleetOptions::new(&args.req("--redis"), &args.req("--name"), rules);
    options.on_transition = Some(Arc::new(print));
    let fleet =
        Fleet::join(breaker.clone(), options, clock).unwrap_or_else(|e| fail(&e.to_string()));
    let every = Duration::from_millis(args.num("--every-ms", 10));
    let end = start + Duration::from_millis(args.num("--duration-ms", 3_000));
    let (mut calls, mut failures, mut rejected) = (0u64, 0u64, 0u64);
    while Instant::now() < end {
        match breaker.try_acquire(clock()) {
            Ok(a) => {
                if let Some(t) = a.transition {
                    print(&t);
                }
                calls += 1;
                let ok = get(host, path);
                failures += u64::from(!ok);
                let outcome = if ok {
                    Outcome::Success
                } else {
                    Outcome::Failure
                };
                if let Some(t) = breaker.record(a.permit, outcome, None, clock()) {
                    print(&t);
                }
            }
            Err(_) => rejected += 1,
        }
        std::thread::sleep(every);
    }
    let s = fleet.status();
    println!(
        "{{\"event\":\"summary\",\"member\":\"{}\",\"calls\":{calls},\"failures\":{failures},\"rejected\":{rejected},\"status\":\"{}\",\"generation\":{}}}",
        fleet.member_id(),
        s.status.name(),
        s.generation
    );
}
