//! The C ABI against the Rust core, same breaker config, same run: acquire + record (closed
//! success path, the call protocol `begin` + `finish` on both sides) and a rejection (open). The C functions are called through function pointers
//! hidden from the optimizer, exactly as a C caller calls them (no cross-crate inlining).
//!
//! `cargo bench -p cbreaker-ffi --bench c_vs_rust` (`make bench-c`): criterion's report, then
//! a table of the C / Rust ratio per path from interleaved batches (see [`ab`]); the target is
//! at most 1.2.

use std::hint::black_box;
use std::ptr;
use std::time::Instant;

use cb::*;
use cbreaker::{Breaker, Config, End, MAX_SLOTS, Millis};
use criterion::Criterion;

type Acquire = extern "C" fn(
    *const cb_breaker,
    u64,
    *mut cb_permit,
    *mut u64,
    *mut cb_reject_reason,
    *mut cb_transition,
) -> cb_status;
type Record = extern "C" fn(
    *const cb_breaker,
    *mut cb_permit,
    cb_outcome,
    u64,
    u64,
    *mut u64,
    *mut cb_transition,
) -> cb_status;

const NO_PERMIT: cb_permit = cb_permit {
    bits: 0,
    flags: 0,
    started_ms: 0,
};

/// The Rust side of the closed path: the protocol the C functions run.
#[inline(always)]
fn rust_closed(b: &Breaker<MAX_SLOTS>, t: u64) {
    let mut call = b.begin(Millis(t), false).unwrap().call;
    black_box(b.finish(&mut call, End::Success, Millis(t)).unwrap());
}

fn config() -> Config {
    Config {
        minimum_calls: 10,
        ..Config::count(100)
    }
}

fn c_breaker() -> *mut cb_breaker {
    let c = cb_config::from_core(&config());
    let mut b = ptr::null_mut();
    assert_eq!(cb_breaker_new(&c, &mut b), CB_STATUS_OK);
    b
}

fn bench(c: &mut Criterion) {
    let acquire: Acquire = black_box(cb_breaker_try_acquire);
    let record: Record = black_box(cb_breaker_record);

    let mut g = c.benchmark_group("closed_acquire_record");
    let rust: Breaker<MAX_SLOTS> = Breaker::new(config()).unwrap();
    let mut t = 0u64;
    g.bench_function("rust", |b| {
        b.iter(|| {
            t += 1;
            rust_closed(&rust, black_box(t));
        });
    });
    let cb = c_breaker();
    let mut t = 0u64;
    g.bench_function("c", |b| {
        b.iter(|| {
            t += 1;
            let mut p = NO_PERMIT;
            let mut tr = cb_transition::from_core(None);
            let s = acquire(
                cb,
                black_box(t),
                &mut p,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
            );
            debug_assert_eq!(s, CB_STATUS_OK);
            record(
                cb,
                &mut p,
                CB_OUTCOME_SUCCESS,
                CB_DURATION_NONE,
                t,
                ptr::null_mut(),
                &mut tr,
            );
            black_box(tr)
        });
    });
    g.finish();

    let mut g = c.benchmark_group("open_rejection");
    rust.force_open(Millis(0));
    let mut t = 0u64;
    g.bench_function("rust", |b| {
        b.iter(|| {
            t += 1;
            black_box(rust.try_acquire(Millis(black_box(t))).unwrap_err())
        });
    });
    // Open by a trip (a deadline to compute), like the Rust side? Forced open in both: the
    // same core path, so the ratio is the boundary's cost alone.
    cb_breaker_force_open(cb, 0, ptr::null_mut());
    let mut t = 0u64;
    g.bench_function("c", |b| {
        b.iter(|| {
            t += 1;
            let mut p = NO_PERMIT;
            let mut retry = 0u64;
            let s = acquire(
                cb,
                black_box(t),
                &mut p,
                &mut retry,
                ptr::null_mut(),
                ptr::null_mut(),
            );
            black_box((s, retry))
        });
    });
    g.finish();
    assert_eq!(cb_breaker_free(cb), CB_STATUS_OK);
}

/// Interleaved A/B timing, robust on a shared machine: `rounds` times, one batch of each side
/// back to back; the fastest batch of each side, in ns per operation. Interference only ever
/// slows a batch down, so the minimum is the closest to the true cost, and interleaving
/// exposes both sides to the same conditions.
fn ab(rounds: usize, batch: u64, mut rust: impl FnMut(u64), mut c: impl FnMut(u64)) -> (f64, f64) {
    let (mut best_r, mut best_c) = (f64::MAX, f64::MAX);
    let mut t = 1u64;
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..batch {
            t += 1;
            rust(t);
        }
        best_r = best_r.min(start.elapsed().as_nanos() as f64 / batch as f64);
        let start = Instant::now();
        for _ in 0..batch {
            t += 1;
            c(t);
        }
        best_c = best_c.min(start.elapsed().as_nanos() as f64 / batch as f64);
    }
    (best_r, best_c)
}

/// The Rust core behind a call the optimizer cannot see through (what a caller in another
/// codegen unit pays): nothing hoisted out of the benchmark loop.
#[inline(never)]
fn rust_call(b: &Breaker<MAX_SLOTS>, t: u64) {
    rust_closed(b, t);
}

#[inline(never)]
fn rust_reject(b: &Breaker<MAX_SLOTS>, t: u64) {
    black_box(b.try_acquire(Millis(t)).unwrap_err());
}

unsafe extern "C" {
    fn dlopen(file: *const core::ffi::c_char, mode: i32) -> *mut core::ffi::c_void;
    fn dlsym(
        handle: *mut core::ffi::c_void,
        name: *const core::ffi::c_char,
    ) -> *mut core::ffi::c_void;
}

/// The C loops of `ffi/benches/c/loops.c`, built by `make bench-c` against `libcb.so`.
struct CLoops {
    new: extern "C" fn() -> *mut cb_breaker,
    free: extern "C" fn(*mut cb_breaker),
    force_open: extern "C" fn(*mut cb_breaker),
    closed: extern "C" fn(*const cb_breaker, u64, u64) -> cb_status,
    reject: extern "C" fn(*const cb_breaker, u64, u64) -> u64,
}

/// Loads the library named by `CBREAKER_C_LOOPS` (set by `make bench-c`).
fn c_loops() -> Option<CLoops> {
    let path = std::ffi::CString::new(std::env::var("CBREAKER_C_LOOPS").ok()?).ok()?;
    const RTLD_NOW: i32 = 2;
    // SAFETY: dlopen/dlsym with NUL-terminated strings. Each symbol is a function of
    // loops.c whose C signature is exactly the field's type; the library is never closed.
    unsafe {
        let lib = dlopen(path.as_ptr(), RTLD_NOW);
        if lib.is_null() {
            return None;
        }
        let sym = |name: &std::ffi::CStr| {
            let f = dlsym(lib, name.as_ptr());
            (!f.is_null()).then_some(f)
        };
        Some(CLoops {
            new: std::mem::transmute::<*mut core::ffi::c_void, extern "C" fn() -> *mut cb_breaker>(
                sym(c"cb_bench_new")?,
            ),
            free: std::mem::transmute::<*mut core::ffi::c_void, extern "C" fn(*mut cb_breaker)>(
                sym(c"cb_bench_free")?,
            ),
            force_open: std::mem::transmute::<*mut core::ffi::c_void, extern "C" fn(*mut cb_breaker)>(
                sym(c"cb_bench_force_open")?,
            ),
            closed: std::mem::transmute::<
                *mut core::ffi::c_void,
                extern "C" fn(*const cb_breaker, u64, u64) -> cb_status,
            >(sym(c"cb_bench_closed")?),
            reject: std::mem::transmute::<
                *mut core::ffi::c_void,
                extern "C" fn(*const cb_breaker, u64, u64) -> u64,
            >(sym(c"cb_bench_reject")?),
        })
    }
}

/// Interleaved batches, the C side a whole batch in C: the fastest batch of each, ns/call.
fn ab_batches(
    rounds: usize,
    batch: u64,
    mut rust: impl FnMut(u64),
    mut c: impl FnMut(u64, u64),
) -> (f64, f64) {
    let (mut best_r, mut best_c) = (f64::MAX, f64::MAX);
    let mut t = 1u64;
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..batch {
            t += 1;
            rust(t);
        }
        best_r = best_r.min(start.elapsed().as_nanos() as f64 / batch as f64);
        let start = Instant::now();
        c(t, batch);
        t += batch;
        best_c = best_c.min(start.elapsed().as_nanos() as f64 / batch as f64);
    }
    (best_r, best_c)
}

/// The Rust core against C code calling libcb.so, when `make bench-c` built the C loops.
fn table_c_loops(c: &CLoops) {
    let rust: Breaker<MAX_SLOTS> = Breaker::new(config()).unwrap();
    let cb = (c.new)();
    assert!(!cb.is_null());
    let closed = ab_batches(
        300,
        20_000,
        |t| {
            rust_closed(&rust, black_box(t));
        },
        |t, n| assert_eq!((c.closed)(cb, t, n), CB_STATUS_OK),
    );
    rust.force_open(Millis(0));
    (c.force_open)(cb);
    let open = ab_batches(
        300,
        20_000,
        |t| {
            black_box(rust.try_acquire(Millis(black_box(t))).unwrap_err());
        },
        |t, n| {
            black_box((c.reject)(cb, t, n));
        },
    );
    (c.free)(cb);
    println!(
        "\nC code (gcc -O2) calling libcb.so vs the Rust core, same run, interleaved (fastest of 300 x 20,000):"
    );
    println!("| path | Rust core | C ABI | C / Rust |");
    println!("|---|---|---|---|");
    for (name, (r, c)) in [
        ("closed: try_acquire + record(success)", closed),
        ("open: rejected try_acquire", open),
    ] {
        println!("| {name} | {r:.2} ns | {c:.2} ns | {:.2}x |", c / r);
    }
}

fn table() {
    let acquire: Acquire = black_box(cb_breaker_try_acquire);
    let record: Record = black_box(cb_breaker_record);
    let rust: Breaker<MAX_SLOTS> = Breaker::new(config()).unwrap();
    let cb = c_breaker();
    let closed = ab(
        300,
        20_000,
        |t| {
            rust_closed(&rust, black_box(t));
        },
        |t| {
            let mut p = NO_PERMIT;
            let mut tr = cb_transition::from_core(None);
            acquire(
                cb,
                black_box(t),
                &mut p,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
            );
            record(
                cb,
                &mut p,
                CB_OUTCOME_SUCCESS,
                CB_DURATION_NONE,
                t,
                ptr::null_mut(),
                &mut tr,
            );
            black_box(tr);
        },
    );
    let rust_fn: fn(&Breaker<MAX_SLOTS>, u64) = black_box(rust_call);
    let closed_call = ab(
        300,
        20_000,
        |t| rust_fn(&rust, black_box(t)),
        |t| {
            let mut p = NO_PERMIT;
            let mut tr = cb_transition::from_core(None);
            acquire(
                cb,
                black_box(t),
                &mut p,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
            );
            record(
                cb,
                &mut p,
                CB_OUTCOME_SUCCESS,
                CB_DURATION_NONE,
                t,
                ptr::null_mut(),
                &mut tr,
            );
            black_box(tr);
        },
    );
    rust.force_open(Millis(0));
    cb_breaker_force_open(cb, 0, ptr::null_mut());
    let reject_fn: fn(&Breaker<MAX_SLOTS>, u64) = black_box(rust_reject);
    let open_call = ab(
        300,
        20_000,
        |t| reject_fn(&rust, black_box(t)),
        |t| {
            let mut p = NO_PERMIT;
            let mut retry = 0u64;
            let s = acquire(
                cb,
                black_box(t),
                &mut p,
                &mut retry,
                ptr::null_mut(),
                ptr::null_mut(),
            );
            black_box((s, retry));
        },
    );
    let open = ab(
        300,
        20_000,
        |t| {
            black_box(rust.try_acquire(Millis(black_box(t))).unwrap_err());
        },
        |t| {
            let mut p = NO_PERMIT;
            let mut retry = 0u64;
            let s = acquire(
                cb,
                black_box(t),
                &mut p,
                &mut retry,
                ptr::null_mut(),
                ptr::null_mut(),
            );
            black_box((s, retry));
        },
    );
    assert_eq!(cb_breaker_free(cb), CB_STATUS_OK);
    println!(
        "\nC ABI called from Rust (the rlib, through function pointers) vs Rust core, same run, interleaved (fastest of 300 x 20,000):"
    );
    println!("| path | Rust core | C ABI | C / Rust |");
    println!("|---|---|---|---|");
    for (name, (r, c)) in [
        (
            "closed: try_acquire + record(success), Rust inlined in the loop",
            closed,
        ),
        (
            "closed: try_acquire + record(success), Rust behind a call",
            closed_call,
        ),
        ("open: rejected try_acquire, Rust inlined in the loop", open),
        ("open: rejected try_acquire, Rust behind a call", open_call),
    ] {
        println!("| {name} | {r:.2} ns | {c:.2} ns | {:.2}x |", c / r);
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    table();
    match c_loops() {
        Some(loops) => table_c_loops(&loops),
        None => println!("\n(no C loops: run through `make bench-c` for C code calling libcb.so)"),
    }
}
