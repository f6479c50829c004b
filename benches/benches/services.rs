//! The Rust service features side by side with what service authors use today, in one run:
//!
//! - `clock/*`: `Instant::now()` vs `CLOCK_MONOTONIC_COARSE` vs `cbreaker::monotonic::now()`
//!   (why the std clock is `Instant`-based: see `core/src/clock.rs`).
//! - `call_success/*`, `call_reject/*`: `Breaker::call` with the std clock vs recloser 1.4
//!   and failsafe 1.3 `call`, which read `Instant::now()` themselves. Closed success (no clock
//!   read: the decision needs none and the slow-call rule is off) and open rejection (one
//!   coarse clock read). `cbreaker_service_call` also times the call for its histogram (two
//!   `Instant` reads); `_untimed` is a `ServiceBreaker::untimed`. `cbreaker_core_now_given`:
//!   the core alone (`try_acquire` + `record` with `now` as a value), for the std layer's cost.
//! - `registry/*`: a lookup by name in the read-mostly registry.
//! - `tower/*`: the same `service_fn` bare, behind `cbreaker::tower::CircuitBreakerLayer`
//!   (timed for the duration histogram; untimed; untimed over a `&'static` breaker, which
//!   spares the `Arc` clone per request), and
//!   behind `tower-resilience-circuitbreaker` 0.14; each iteration is `poll_ready` + `call` +
//!   polling the response to completion (every future is ready at once: no runtime). The
//!   layer's overhead is its row minus `tower/bare`.
//!
//! Time is the measuring thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`): the machine is shared.
//! `make bench-rust-services` runs it; `services-report` (benches/src/bin) prints the ratios.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use cbreaker::Calls as _;
use cbreaker::registry::Registry;
use cbreaker::{Breaker, Config, Millis, Outcome, ServiceBreaker, monotonic};
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, criterion_group, criterion_main};
use failsafe::{CircuitBreaker as _, backoff, failure_policy};
use tower::{Layer, Service, service_fn};

fn timespec_of(clock_id: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable `timespec` and `clock_id` a clock Linux defines; the
    // call writes `ts` and nothing else.
    let rc = unsafe { libc::clock_gettime(clock_id, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime({clock_id}) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Criterion measurement: the measuring thread's CPU time, formatted like wall time.
struct ThreadCpu(WallTime);

impl Measurement for ThreadCpu {
    type Intermediate = Duration;
    type Value = Duration;
    fn start(&self) -> Duration {
        timespec_of(libc::CLOCK_THREAD_CPUTIME_ID)
    }
    fn end(&self, start: Duration) -> Duration {
        timespec_of(libc::CLOCK_THREAD_CPUTIME_ID).saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, d: &Duration) -> f64 {
        d.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        self.0.formatter()
    }
}

type C = Criterion<ThreadCpu>;

fn clocks(c: &mut C) {
    let mut g = c.benchmark_group("clock");
    g.bench_function("instant_now", |b| b.iter(|| black_box(Instant::now())));
    g.bench_function("monotonic_coarse", |b| {
        b.iter(|| black_box(timespec_of(libc::CLOCK_MONOTONIC_COARSE)))
    });
    let _ = monotonic::now();
    g.bench_function("cbreaker_clock_now", |b| {
        b.iter(|| black_box(monotonic::now()))
    });
    g.finish();
}

/// The comparison config: a 128-call count window at 50 % with the default 100 minimum calls,
/// as `configs::count(128)` in benches/breaker.rs.
fn count128() -> Config {
    Config::count(128)
}

fn recloser_open() -> recloser::Recloser {
    let r = recloser::Recloser::custom()
        .closed_len(1)
        .error_rate(0.5)
        .open_wait(Duration::from_secs(3600))
        .build();
    let _ = r.call(|| Err::<(), ()>(()));
    let _ = r.call(|| Err::<(), ()>(()));
    assert!(matches!(
        r.call(|| Ok::<(), ()>(())),
        Err(recloser::Error::Rejected)
    ));
    r
}

fn failsafe_open()
-> failsafe::StateMachine<failure_policy::ConsecutiveFailures<backoff::Constant>, ()> {
    let policy =
        failure_policy::consecutive_failures(1, backoff::constant(Duration::from_secs(3600)));
    let f = failsafe::Config::new().failure_policy(policy).build();
    let _ = f.call(|| Err::<(), ()>(()));
    assert!(!f.is_call_permitted());
    f
}

fn call_success(c: &mut C) {
    let mut g = c.benchmark_group("call_success");
    let core: Breaker = Breaker::new(count128()).unwrap();
    g.bench_function("cbreaker_core_now_given", |b| {
        b.iter(|| {
            let core = black_box(&core);
            let p = core.try_acquire(Millis(1)).unwrap().permit;
            black_box(core.record(p, cbreaker::Outcome::Success, None, Millis(1)))
        })
    });
    let cb: Breaker = Breaker::new(count128()).unwrap();
    g.bench_function("cbreaker_call", |b| {
        b.iter(|| black_box(black_box(&cb).call(|| Ok::<(), ()>(()))))
    });
    let sb: ServiceBreaker = ServiceBreaker::new(count128()).unwrap();
    g.bench_function("cbreaker_service_call", |b| {
        b.iter(|| black_box(black_box(&sb).call(|| Ok::<(), ()>(()))))
    });
    let su: ServiceBreaker = ServiceBreaker::untimed(count128()).unwrap();
    g.bench_function("cbreaker_service_call_untimed", |b| {
        b.iter(|| black_box(black_box(&su).call(|| Ok::<(), ()>(()))))
    });
    let r = recloser::Recloser::custom()
        .closed_len(128)
        .error_rate(0.5)
        .build();
    g.bench_function("recloser", |b| {
        b.iter(|| black_box(black_box(&r).call(|| Ok::<(), ()>(()))))
    });
    let f = failsafe::Config::new().build();
    g.bench_function("failsafe", |b| {
        b.iter(|| black_box(black_box(&f).call(|| Ok::<(), ()>(()))))
    });
    g.finish();
}

fn call_reject(c: &mut C) {
    let mut g = c.benchmark_group("call_reject");
    let cb: Breaker = Breaker::new(Config {
        open_duration: Millis(3_600_000),
        ..Config::consecutive(1)
    })
    .unwrap();
    let _ = cb.call(|| Err::<(), ()>(()));
    assert!(cb.call(|| Ok::<(), ()>(())).unwrap_err().is_rejected());
    let t = monotonic::now();
    g.bench_function("cbreaker_core_now_given", |b| {
        b.iter(|| black_box(black_box(&cb).try_acquire(t)))
    });
    g.bench_function("cbreaker_call", |b| {
        b.iter(|| black_box(black_box(&cb).call(|| Ok::<(), ()>(()))))
    });
    let r = recloser_open();
    g.bench_function("recloser", |b| {
        b.iter(|| black_box(black_box(&r).call(|| Ok::<(), ()>(()))))
    });
    let f = failsafe_open();
    g.bench_function("failsafe", |b| {
        b.iter(|| black_box(black_box(&f).call(|| Ok::<(), ()>(()))))
    });
    g.finish();
}

fn registry(c: &mut C) {
    let mut g = c.benchmark_group("registry");
    let reg: Registry = Registry::new(count128()).unwrap();
    for name in [
        "payments", "users", "search", "llm", "cache", "email", "sms", "db",
    ] {
        let _ = reg.get_or_create(name);
    }
    g.bench_function("get", |b| {
        b.iter(|| black_box(reg.get(black_box("search"))))
    });
    g.bench_function("get_or_create_existing", |b| {
        b.iter(|| black_box(reg.get_or_create(black_box("search"))))
    });
    g.finish();
}

/// `poll_ready`, `call`, and the response polled to completion.
fn drive<S: Service<u32>>(svc: &mut S, req: u32) -> Result<S::Response, S::Error> {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(std::future::poll_fn(|cx| svc.poll_ready(cx))).poll(&mut cx) {
        Poll::Ready(Ok(())) => {}
        Poll::Ready(Err(e)) => return Err(e),
        Poll::Pending => unreachable!("every service here is ready"),
    }
    let mut fut = pin!(svc.call(req));
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn tower_layers(c: &mut C) {
    let mut g = c.benchmark_group("tower");
    let inner = service_fn(|req: u32| std::future::ready(Ok::<u32, ()>(req)));

    let mut bare = inner;
    g.bench_function("bare", |b| {
        b.iter(|| black_box(drive(&mut bare, black_box(1))))
    });

    let sb: Arc<ServiceBreaker> = Arc::new(ServiceBreaker::new(count128()).unwrap());
    let mut ours = cbreaker::tower::CircuitBreakerLayer::new(sb).layer(inner);
    g.bench_function("cbreaker_layer", |b| {
        b.iter(|| black_box(drive(&mut ours, black_box(1))))
    });

    let su: Arc<ServiceBreaker> = Arc::new(ServiceBreaker::untimed(count128()).unwrap());
    let mut untimed = cbreaker::tower::CircuitBreakerLayer::new(su).layer(inner);
    g.bench_function("cbreaker_layer_untimed", |b| {
        b.iter(|| black_box(drive(&mut untimed, black_box(1))))
    });

    let leaked: &'static ServiceBreaker =
        Box::leak(Box::new(ServiceBreaker::untimed(count128()).unwrap()));
    let mut fixed = cbreaker::tower::CircuitBreakerLayer::from_static(leaked).layer(inner);
    g.bench_function("cbreaker_layer_static_untimed", |b| {
        b.iter(|| black_box(drive(&mut fixed, black_box(1))))
    });

    let theirs_layer = tower_resilience_circuitbreaker::circuit_breaker_builder()
        .failure_rate_threshold(0.5)
        .sliding_window_size(128)
        .minimum_number_of_calls(128)
        .build()
        .expect("tower-resilience config");
    let mut theirs = theirs_layer.layer(inner);
    g.bench_function("tower_resilience_layer", |b| {
        b.iter(|| black_box(drive(&mut theirs, black_box(1))))
    });
    g.finish();
}

fn config() -> C {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(2000))
        .sample_size(50)
        .without_plots()
        .with_measurement(ThreadCpu(WallTime))
}

/// A real `redis-server` for the fleet member (the fleet tests' own starter).
#[path = "../../core/tests/support/redis_server.rs"]
#[allow(dead_code)] // the restart the fault tests use
mod redis_server;

/// The call path with what watches it attached: `local` is the core's `try_acquire` +
/// `record` alone; `fleet_member` the same breaker with a fleet agent syncing it with a real
/// Redis every 50 ms on its own thread; `registry_call` a registry breaker's `call`, bare and
/// with the OpenTelemetry instruments registered on an SDK meter provider (observable: read
/// at collection, which this loop never triggers). Each pair must be equal within noise.
fn observed(c: &mut C) {
    use cbreaker::fleet::Rules;
    use cbreaker::fleet_agent::{Fleet, FleetOptions};
    let mut g = c.benchmark_group("observed");
    let config = count128();
    let local: Arc<Breaker<{ cbreaker::MAX_SLOTS }>> = Arc::new(Breaker::new(config).unwrap());
    let now = Millis(1);
    let mut run = |name: &str, breaker: &Breaker<{ cbreaker::MAX_SLOTS }>| {
        g.bench_function(name, |b| {
            b.iter(|| {
                let a = breaker.try_acquire(black_box(now)).unwrap();
                black_box(breaker.record(a.permit, Outcome::Success, None, now))
            })
        });
    };
    run("local", &local);
    let server = redis_server::RedisServer::start();
    let member: Arc<Breaker<{ cbreaker::MAX_SLOTS }>> = Arc::new(Breaker::new(config).unwrap());
    let rules = Rules {
        sync_interval: Millis(50),
        ..Rules::for_config(&config)
    };
    let fleet = Fleet::join(
        member.clone(),
        FleetOptions::new(&server.url(), "bench", rules),
        monotonic::now,
    )
    .expect("a fleet member");
    run("fleet_member", &member);
    assert!(
        fleet.status().syncs > 0,
        "the agent ran during the measurement"
    );
    drop(fleet);

    let bare = Arc::new(Registry::<32>::new(config).unwrap());
    let observed = Arc::new(Registry::<32>::new(config).unwrap());
    let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
        .with_reader(
            opentelemetry_sdk::metrics::PeriodicReader::builder(
                opentelemetry_sdk::metrics::InMemoryMetricExporter::default(),
            )
            .build(),
        )
        .build();
    let _instruments = cbreaker::otel::OtelMetrics::register(&provider, observed.clone());
    // With `time_calls`: each call also records its duration in the OTel histogram.
    let timed = Arc::new(Registry::<32>::new(config).unwrap());
    let durations = cbreaker::otel::OtelMetrics::register(&provider, timed.clone());
    durations.time_calls(&timed).expect("a fresh registry");
    for (name, registry) in [
        ("registry_call_bare", &bare),
        ("registry_call_otel", &observed),
        ("registry_call_otel_durations", &timed),
    ] {
        let breaker = registry.get_or_create("payments");
        g.bench_function(name, |b| {
            b.iter(|| black_box(breaker.call(|| Ok::<u32, ()>(black_box(1)))))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = clocks, call_success, call_reject, registry, tower_layers, observed
}
criterion_main!(benches);
