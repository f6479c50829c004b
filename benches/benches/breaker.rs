//! cbreaker vs one uncontended `fetch_add` (the floor) vs recloser 1.4 vs failsafe 1.3, in one
//! run. `make bench` runs this, then `bench-report` prints the ratios. See docs/benchmarks.md.
//!
//! Time is each thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not wall time: the machine is
//! shared, and a thread that is switched out for another job's compile would otherwise be
//! billed for it. The two-thread rows report the slower thread's CPU time, which equals the
//! wall time whenever both threads hold a core for the whole run.
//!
//! cbreaker is always given `now` as a value (the core never reads a clock). recloser and
//! failsafe read `Instant::now()` themselves on some paths: every row that does so is named
//! `*_clock`, and the report labels it.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use cbreaker::{Breaker, Millis, Outcome};
use cbreaker_benches::{
    NOW_SHIFT, SLOTS_CONSECUTIVE, SLOTS_COUNT_16, SLOTS_COUNT_128, SLOTS_COUNT_1024, SLOTS_TIME_10,
    breaker, call, configs, failure_pattern, success, tripped,
};
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BenchmarkGroup, Criterion, criterion_group};
use failsafe::{CircuitBreaker as _, backoff, failure_policy};

type Group<'a> = BenchmarkGroup<'a, ThreadCpu>;

/// This thread's CPU time so far.
fn thread_cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable `timespec`; the clock id is a constant Linux and macOS
    // both define. The call writes `ts` and nothing else.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Criterion measurement: CPU time of the measuring thread. Formats like wall time.
struct ThreadCpu {
    wall: WallTime,
}

impl Measurement for ThreadCpu {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu_now()
    }
    fn end(&self, start: Duration) -> Duration {
        thread_cpu_now().saturating_sub(start)
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
        self.wall.formatter()
    }
}

fn recloser_count128() -> recloser::Recloser {
    recloser::Recloser::custom()
        .closed_len(128)
        .error_rate(0.5)
        .build()
}

/// recloser: never trips (a failure rate is at most 1.0).
fn recloser_never_trips() -> recloser::Recloser {
    recloser::Recloser::custom()
        .closed_len(128)
        .error_rate(1.01)
        .build()
}

fn recloser_open() -> recloser::Recloser {
    let r = recloser::Recloser::custom()
        .closed_len(1)
        .error_rate(0.5)
        .open_wait(Duration::from_secs(3600))
        .build();
    let _ = r.call(|| Err::<(), ()>(()));
    let _ = r.call(|| Err::<(), ()>(()));
    assert!(
        matches!(r.call(|| Ok::<(), ()>(())), Err(recloser::Error::Rejected)),
        "recloser must be open"
    );
    r
}

fn failsafe_default() -> impl failsafe::CircuitBreaker + Clone + Send + Sync {
    failsafe::Config::new().build()
}

fn failsafe_never_trips() -> impl failsafe::CircuitBreaker + Clone + Send + Sync {
    let policy =
        failure_policy::consecutive_failures(u32::MAX, backoff::constant(Duration::from_secs(60)));
    failsafe::Config::new().failure_policy(policy).build()
}

fn failsafe_open()
-> failsafe::StateMachine<failure_policy::ConsecutiveFailures<backoff::Constant>, ()> {
    let policy =
        failure_policy::consecutive_failures(1, backoff::constant(Duration::from_secs(3600)));
    let f = failsafe::Config::new().failure_policy(policy).build();
    let _ = f.call(|| Err::<(), ()>(()));
    assert!(!f.is_call_permitted(), "failsafe must be open");
    f
}

/// 1. Closed success path: acquire + record success.
fn success_path(c: &mut Criterion<ThreadCpu>) {
    let mut g = c.benchmark_group("success");
    let floor = AtomicU64::new(0);
    g.bench_function("floor_fetch_add", |b| {
        b.iter(|| black_box(&floor).fetch_add(1, Ordering::Relaxed))
    });

    let cb: Breaker<SLOTS_COUNT_128> = breaker(configs::count(128));
    g.bench_function("cbreaker_count128", |b| {
        b.iter(|| success(black_box(&cb), Millis(1)))
    });
    let cb: Breaker<SLOTS_TIME_10> = breaker(configs::time10());
    let mut i = 0u64;
    g.bench_function("cbreaker_time10", |b| {
        b.iter(|| {
            i += 1;
            success(black_box(&cb), Millis(i >> NOW_SHIFT));
        })
    });
    let cb: Breaker<SLOTS_CONSECUTIVE> = breaker(configs::consecutive());
    g.bench_function("cbreaker_consecutive", |b| {
        b.iter(|| success(black_box(&cb), Millis(1)))
    });

    let r = recloser_count128();
    g.bench_function("recloser_count128_clock", |b| {
        b.iter(|| black_box(black_box(&r).call(|| Ok::<(), ()>(()))))
    });
    let f = failsafe_default();
    g.bench_function("failsafe_default_clock", |b| {
        b.iter(|| black_box(black_box(&f).call(|| Ok::<(), ()>(()))))
    });
    g.finish();
}

/// 2. Failure path, closed, never tripping: 4,095 failures then one success, repeated.
fn failure_path(c: &mut Criterion<ThreadCpu>) {
    let mut g = c.benchmark_group("failure");
    let cb: Breaker<SLOTS_COUNT_128> = breaker(configs::never_trips(configs::count(128)));
    let mut i = 0u64;
    g.bench_function("cbreaker_count128", |b| {
        b.iter(|| {
            i += 1;
            call(black_box(&cb), failure_pattern(i), Millis(1));
        })
    });
    let cb: Breaker<SLOTS_TIME_10> = breaker(configs::never_trips(configs::time10()));
    let mut i = 0u64;
    g.bench_function("cbreaker_time10", |b| {
        b.iter(|| {
            i += 1;
            call(black_box(&cb), failure_pattern(i), Millis(i >> NOW_SHIFT));
        })
    });
    let cb: Breaker<SLOTS_CONSECUTIVE> = breaker(configs::never_trips(configs::consecutive()));
    let mut i = 0u64;
    g.bench_function("cbreaker_consecutive", |b| {
        b.iter(|| {
            i += 1;
            call(black_box(&cb), failure_pattern(i), Millis(1));
        })
    });

    let r = recloser_never_trips();
    let mut i = 0u64;
    g.bench_function("recloser_count128_clock", |b| {
        b.iter(|| {
            i += 1;
            let ok = failure_pattern(i) == Outcome::Success;
            black_box(black_box(&r).call(|| if ok { Ok(()) } else { Err(()) }))
        })
    });
    let f = failsafe_never_trips();
    let mut i = 0u64;
    g.bench_function("failsafe_consecutive_clock", |b| {
        b.iter(|| {
            i += 1;
            let ok = failure_pattern(i) == Outcome::Success;
            black_box(black_box(&f).call(|| if ok { Ok(()) } else { Err(()) }))
        })
    });
    g.finish();
}

/// 3. Open rejection.
fn reject_path(c: &mut Criterion<ThreadCpu>) {
    let mut g = c.benchmark_group("reject");
    let cb: Breaker<SLOTS_COUNT_128> = tripped();
    g.bench_function("cbreaker_open", |b| {
        b.iter(|| black_box(black_box(&cb).try_acquire(Millis(1))))
    });
    // The same, but `now` read from a monotonic clock the way a binding would: like-for-like
    // with recloser and failsafe, which read `Instant::now()` on this path.
    let origin = Instant::now();
    g.bench_function("cbreaker_open_clock", |b| {
        b.iter(|| {
            black_box(black_box(&cb).try_acquire(|| Millis(origin.elapsed().as_millis() as u64)))
        })
    });
    let forced: Breaker<SLOTS_COUNT_128> = breaker(configs::count(128));
    let _ = forced.force_open(Millis(0));
    g.bench_function("cbreaker_forced_open", |b| {
        b.iter(|| black_box(black_box(&forced).try_acquire(Millis(1))))
    });

    let r = recloser_open();
    g.bench_function("recloser_open_clock", |b| {
        b.iter(|| black_box(black_box(&r).call(|| Ok::<(), ()>(()))))
    });
    let f = failsafe_open();
    g.bench_function("failsafe_open_clock", |b| {
        b.iter(|| black_box(black_box(&f).call(|| Ok::<(), ()>(()))))
    });
    g.finish();
}

/// 4. Count-window size: the success path must cost the same at 16, 128 and 1,024.
fn window_sizes(c: &mut Criterion<ThreadCpu>) {
    fn one<const S: usize>(g: &mut Group<'_>, size: u32) {
        let cb: Breaker<S> = breaker(configs::count(size));
        g.bench_function(format!("count{size}"), |b| {
            b.iter(|| success(black_box(&cb), Millis(1)))
        });
    }
    let mut g = c.benchmark_group("window");
    one::<SLOTS_COUNT_16>(&mut g, 16);
    one::<SLOTS_COUNT_128>(&mut g, 128);
    one::<SLOTS_COUNT_1024>(&mut g, 1024);
    g.finish();
}

/// Per two-thread bench: (sum of both threads' CPU time, wall time), over every sample.
static OVERLAP: Mutex<Vec<(&str, Duration, Duration)>> = Mutex::new(Vec::new());

/// Two threads hammer one shared value for `iters` operations in all (split between them),
/// released together by a barrier. Returns the slower thread's CPU time for its share, so
/// criterion's per-iteration figure is the aggregate time per operation: 1 / (total ops/s).
/// Also books how much of the wall time both threads were on a core (`OVERLAP`): on a shared
/// machine the two may not run side by side, and then the row measures less contention.
fn two_threads<T: Sync>(
    name: &'static str,
    shared: &T,
    iters: u64,
    op: impl Fn(&T, usize, u64) + Sync,
) -> Duration {
    let start = Barrier::new(3);
    let (cpu, wall) = thread::scope(|s| {
        let workers = [(0, iters.div_ceil(2)), (1, iters / 2)].map(|(worker, n)| {
            let (start, op) = (&start, &op);
            s.spawn(move || {
                start.wait();
                let t0 = thread_cpu_now();
                for i in 0..n {
                    op(shared, worker, i);
                }
                thread_cpu_now().saturating_sub(t0)
            })
        });
        start.wait();
        let t0 = Instant::now();
        let cpu = workers.map(|w| w.join().expect("bench thread panicked"));
        (cpu, t0.elapsed())
    });
    let mut book = OVERLAP.lock().unwrap_or_else(|e| e.into_inner());
    match book.iter_mut().find(|(n, ..)| *n == name) {
        Some(row) => {
            row.1 += cpu[0] + cpu[1];
            row.2 += wall;
        }
        None => book.push((name, cpu[0] + cpu[1], wall)),
    }
    cpu[0].max(cpu[1])
}

/// Writes `OVERLAP` as `name<TAB>percent` to `target/tmp/threads2_overlap.tsv` for the report.
fn write_overlap() {
    let book = OVERLAP.lock().unwrap_or_else(|e| e.into_inner());
    let mut tsv = String::from("# bench\tboth threads on a core, % of wall time\n");
    for (name, cpu, wall) in book.iter() {
        let pct = 100.0 * cpu.as_secs_f64() / (2.0 * wall.as_secs_f64()).max(f64::MIN_POSITIVE);
        tsv.push_str(&format!("{name}\t{pct:.0}\n"));
    }
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("threads2_overlap.tsv");
    if let Err(e) = std::fs::write(&path, tsv) {
        eprintln!("warning: could not write {}: {e}", path.display());
    }
}

/// 5. Two threads on one shared breaker, acquire + record success.
fn contended(c: &mut Criterion<ThreadCpu>) {
    let mut g = c.benchmark_group("threads2");
    g.sample_size(40);
    let floor = AtomicU64::new(0);
    g.bench_function("floor_fetch_add", |b| {
        b.iter_custom(|n| {
            two_threads("floor_fetch_add", &floor, n, |a, _, _| {
                black_box(a).fetch_add(1, Ordering::Relaxed);
            })
        })
    });
    // The floor of any claim that must check a tag in the same instruction as it moves the
    // cursor (the count window's epoch): a load and a CAS loop, nothing else.
    let cas = AtomicU64::new(0);
    g.bench_function("floor_cas_loop", |b| {
        b.iter_custom(|n| {
            two_threads("floor_cas_loop", &cas, n, |a, _, _| {
                let a = black_box(a);
                let mut cur = a.load(Ordering::Acquire);
                while let Err(actual) =
                    a.compare_exchange_weak(cur, cur + 1, Ordering::AcqRel, Ordering::Acquire)
                {
                    cur = actual;
                }
            })
        })
    });
    let cb: Breaker<SLOTS_COUNT_128> = breaker(configs::count(128));
    g.bench_function("cbreaker_count128", |b| {
        b.iter_custom(|n| {
            two_threads("cbreaker_count128", &cb, n, |cb, _, _| {
                success(cb, Millis(1))
            })
        })
    });
    let cb: Breaker<SLOTS_TIME_10> = breaker(configs::time10());
    // Both threads read one clock, as two threads of a service do. Worker 0 moves it 1 ms
    // every `1 << NOW_SHIFT` of its calls (as the single-thread bench does), so a 1-second
    // bucket takes about 2^17 calls of the two together, below the 2^18 a bucket counts, and
    // bucket turnover is in the figure. A clock per thread (each from its own call count)
    // lets one thread pull ahead into another bucket, and the row would measure no
    // contention at all. `now` moves forward from sample to sample: a `now` behind the newest
    // bucket would take the core's stale-outcome exit, a cheaper path.
    let clock = AtomicU64::new(0);
    let mut base = 0u64;
    g.bench_function("cbreaker_time10", |b| {
        b.iter_custom(|n| {
            let from = base;
            base += (n >> NOW_SHIFT) + 1;
            clock.store(from, Ordering::Relaxed);
            let shared = (&cb, &clock);
            two_threads("cbreaker_time10", &shared, n, |(cb, clock), worker, i| {
                if worker == 0 && i & ((1 << NOW_SHIFT) - 1) == 0 {
                    clock.store(from + (i >> NOW_SHIFT), Ordering::Relaxed);
                }
                success(cb, Millis(clock.load(Ordering::Relaxed)));
            })
        })
    });
    let cb: Breaker<SLOTS_CONSECUTIVE> = breaker(configs::consecutive());
    g.bench_function("cbreaker_consecutive", |b| {
        b.iter_custom(|n| {
            two_threads("cbreaker_consecutive", &cb, n, |cb, _, _| {
                success(cb, Millis(1))
            })
        })
    });
    let r = Arc::new(recloser_count128());
    g.bench_function("recloser_count128_clock", |b| {
        b.iter_custom(|n| {
            two_threads("recloser_count128_clock", &*r, n, |r, _, _| {
                let _ = black_box(r.call(|| Ok::<(), ()>(())));
            })
        })
    });
    let f = failsafe_default();
    g.bench_function("failsafe_default_clock", |b| {
        b.iter_custom(|n| {
            two_threads("failsafe_default_clock", &f, n, |f, _, _| {
                let _ = black_box(f.call(|| Ok::<(), ()>(())));
            })
        })
    });
    g.finish();
}

fn config() -> Criterion<ThreadCpu> {
    // 25 benchmarks at ~4 s each: the whole run stays under two minutes on 2 cores.
    Criterion::default()
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_millis(2500))
        .sample_size(60)
        .without_plots()
        .with_measurement(ThreadCpu { wall: WallTime })
}

criterion_group! {
    name = benches;
    config = config();
    targets = success_path, failure_path, reject_path, window_sizes, contended
}
fn main() {
    // What `criterion_main!` does, plus the overlap table after the run.
    benches();
    write_overlap();
    Criterion::default().configure_from_args().final_summary();
}
