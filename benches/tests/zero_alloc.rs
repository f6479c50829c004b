//! Zero allocations, proved: a counting `#[global_allocator]` wraps the system allocator and
//! the check asserts that building breakers and 1,000,000 `try_acquire`/`record` calls (with
//! trips, open rejections, half-open probes and closes along the way) allocate nothing.
//!
//! It also measures what each breaker holds (`size_of` plus live heap after construction),
//! prints that table and writes it to `$CARGO_TARGET_TMPDIR/footprint.tsv` for
//! `bench-report`. `harness = false`: libtest's own threads would allocate while we count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::time::Duration;

use cbreaker::{Breaker, Config, Millis, Outcome, State};
use cbreaker_benches::{
    Footprint, SLOTS_CONSECUTIVE, SLOTS_COUNT_128, SLOTS_COUNT_1024, SLOTS_TIME_10, breaker,
    cbreaker_sizes, configs,
};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every method forwards to `System` with the caller's own arguments, so `System`'s
// guarantees hold unchanged; the counters are plain relaxed atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from this allocator, i.e. from `System`, with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: `ptr` came from `System` with `layout`; the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f`, and the heap bytes it leaves live (what it returns holds).
fn measure<T>(f: impl FnOnce() -> T) -> (T, usize, isize) {
    let (a0, l0) = (ALLOCS.load(Ordering::SeqCst), LIVE.load(Ordering::SeqCst));
    let value = std::hint::black_box(f());
    (
        value,
        ALLOCS.load(Ordering::SeqCst) - a0,
        LIVE.load(Ordering::SeqCst) - l0,
    )
}

/// 250,000 calls, one per millisecond: bursts of 1,000 failures every 10,000 calls trip the
/// breaker; it rejects, goes half-open after 1 s, probes, closes. Returns transitions seen.
fn drive<const S: usize>(b: &Breaker<S>) -> u64 {
    let mut transitions = 0;
    for i in 0..250_000u64 {
        let now = Millis(i);
        let outcome = if (i / 1_000) % 10 == 0 {
            Outcome::Failure
        } else {
            Outcome::Success
        };
        match b.try_acquire(now) {
            Ok(admitted) => {
                transitions += u64::from(admitted.transition.is_some());
                let tr = b.record(admitted.permit, outcome, Some(Millis(i % 7)), now);
                transitions += u64::from(tr.is_some());
            }
            Err(rejected) => assert!(rejected.retry_after.is_some()),
        }
        if i % 10_000 == 0 {
            std::hint::black_box(b.snapshot(now));
        }
    }
    transitions
}

fn with_open_1s(mut c: Config) -> Config {
    c.open_duration = Millis(1_000);
    c.minimum_calls = 20;
    c
}

fn zero_allocations() -> Result<(), String> {
    let (total_transitions, allocs, _) = measure(|| {
        let a: Breaker<SLOTS_COUNT_128> = breaker(with_open_1s(configs::count(128)));
        let b: Breaker<SLOTS_COUNT_1024> = breaker(with_open_1s(configs::count(1024)));
        let c: Breaker<SLOTS_TIME_10> = breaker(with_open_1s(configs::time10()));
        let d: Breaker<SLOTS_CONSECUTIVE> = breaker(with_open_1s(configs::consecutive()));
        let n = drive(&a) + drive(&b) + drive(&c) + drive(&d);
        let _ = a.force_open(Millis(1));
        let _ = a.reset(Millis(2));
        n
    });
    println!(
        "zero_alloc: 1,000,000 try_acquire/record calls on 4 breakers, {total_transitions} transitions, {allocs} allocations"
    );
    if total_transitions < 40 {
        return Err(format!(
            "the workload should trip and recover many times; saw {total_transitions} transitions"
        ));
    }
    if allocs != 0 {
        return Err(format!("cbreaker allocated {allocs} times"));
    }
    // And in the state the check leaves behind, a breaker still reports a sane state.
    let b: Breaker<SLOTS_COUNT_128> = breaker(configs::count(128));
    if b.state(Millis(0)) != State::Closed {
        return Err("a fresh breaker is closed".into());
    }
    Ok(())
}

fn footprints() -> Result<(), String> {
    let mut rows: Vec<Footprint> = Vec::new();
    for (name, inline_bytes) in cbreaker_sizes() {
        rows.push(Footprint {
            name,
            inline_bytes,
            heap_bytes: 0,
        });
    }
    // The competitors: what `build()` returns, plus the heap it leaves live.
    let (r, _, heap) = measure(|| recloser::Recloser::custom().closed_len(128).build());
    rows.push(Footprint {
        name: "recloser closed_len 128",
        inline_bytes: size_of_val(&r),
        heap_bytes: heap as usize,
    });
    let (r, _, heap) = measure(|| recloser::Recloser::custom().closed_len(1024).build());
    rows.push(Footprint {
        name: "recloser closed_len 1024",
        inline_bytes: size_of_val(&r),
        heap_bytes: heap as usize,
    });
    let (f, _, heap) = measure(|| failsafe::Config::new().build());
    rows.push(Footprint {
        name: "failsafe default policy",
        inline_bytes: size_of_val(&f),
        heap_bytes: heap as usize,
    });
    let (f, _, heap) = measure(|| {
        let p = failsafe::failure_policy::consecutive_failures(
            5,
            failsafe::backoff::constant(Duration::from_secs(60)),
        );
        failsafe::Config::new().failure_policy(p).build()
    });
    rows.push(Footprint {
        name: "failsafe consecutive_failures",
        inline_bytes: size_of_val(&f),
        heap_bytes: heap as usize,
    });

    let mut tsv = String::from("# name\tinline_bytes\theap_bytes\n");
    for row in &rows {
        println!(
            "footprint: {:<42} {:>6} B inline + {:>6} B heap",
            row.name, row.inline_bytes, row.heap_bytes
        );
        tsv.push_str(&format!(
            "{}\t{}\t{}\n",
            row.name, row.inline_bytes, row.heap_bytes
        ));
    }
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("footprint.tsv");
    std::fs::write(&path, tsv).map_err(|e| format!("writing {}: {e}", path.display()))?;
    println!("footprint: written to {}", path.display());
    Ok(())
}

/// A named check: `Err` carries why it failed.
type Check = (&'static str, fn() -> Result<(), String>);

fn main() {
    let checks: [Check; 2] = [
        ("zero_allocations", zero_allocations),
        ("footprints", footprints),
    ];
    let mut failed = 0;
    for (name, check) in checks {
        match check() {
            Ok(()) => println!("test {name} ... ok"),
            Err(e) => {
                println!("test {name} ... FAILED: {e}");
                failed += 1;
            }
        }
    }
    println!("{} passed, {failed} failed", checks.len() - failed);
    if failed > 0 {
        std::process::exit(1);
    }
}
