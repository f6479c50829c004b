//! Zero heap allocations per call through the service features: `Breaker::call` and
//! `call_async`, `ServiceBreaker::call` (histogram included), permit guards, registry lookups
//! and the Tower service, across trips, rejections, probes and closes. A counting
//! `#[global_allocator]` proves it. `harness = false`: libtest's threads would allocate while
//! we count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::thread::sleep;
use std::time::Duration;

use cbreaker::Calls as _;
use cbreaker::registry::Registry;
use cbreaker::tower::CircuitBreakerLayer;
use cbreaker::{Breaker, Config, Millis, ServiceBreaker};
use tower::{Layer, Service, service_fn};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: each method forwards its arguments unchanged to `System`, so `System`'s contract is
// the one that holds; counting is a relaxed atomic add.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract; forwarded as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (through us) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` with `layout`; the caller upholds the rest.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn poll<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

/// Runs `body` `rounds` times and returns the allocations it made.
fn allocations(rounds: u32, mut body: impl FnMut(u32)) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for i in 0..rounds {
        body(i);
    }
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

fn main() {
    // Everything built up front (this allocates: the registry, the Arcs).
    let config = Config {
        open_duration: Millis(1),
        ..Config::count(16)
    };
    let breaker: Breaker = Breaker::new(config).unwrap();
    let registry: Registry = Registry::new(config).unwrap();
    let named = registry.get_or_create("dep");
    let shared: Arc<ServiceBreaker> = Arc::new(ServiceBreaker::new(config).unwrap());
    let mut svc =
        CircuitBreakerLayer::new(shared.clone()).layer(service_fn(|fail: bool| async move {
            if fail { Err(()) } else { Ok(()) }
        }));
    let leaked: &'static ServiceBreaker = Box::leak(Box::new(ServiceBreaker::new(config).unwrap()));
    let mut fixed =
        CircuitBreakerLayer::from_static(leaked).layer(service_fn(|fail: bool| async move {
            if fail { Err(()) } else { Ok(()) }
        }));

    // Fails 60 % of the time in runs, so the breakers trip, reject, probe and close.
    let fail = |i: u32| i % 40 >= 16;
    let mut report = Vec::with_capacity(8);
    let mut check = |name: &'static str, n: usize| report.push((name, n));

    check(
        "Breaker::call",
        allocations(20_000, |i| {
            let _ = breaker.call(|| if fail(i) { Err(()) } else { Ok(()) });
            if i % 1_000 == 0 {
                sleep(Duration::from_millis(2)); // past the open duration
            }
        }),
    );
    check(
        "Breaker::call_async",
        allocations(20_000, |i| {
            let f = pin!(breaker.call_async(async move { if fail(i) { Err(()) } else { Ok(()) } }));
            assert!(poll(f).is_ready());
        }),
    );
    check(
        "Breaker::guard dropped",
        allocations(1_000, |_| drop(breaker.guard())),
    );
    check(
        "Registry::get + ServiceBreaker::call",
        allocations(20_000, |i| {
            let b = registry.get("dep").unwrap();
            let _ = b.call(|| if fail(i) { Err(()) } else { Ok(()) });
            if i % 1_000 == 0 {
                sleep(Duration::from_millis(2));
            }
        }),
    );
    check(
        "tower CircuitBreakerService::call",
        allocations(20_000, |i| {
            assert!(poll(pin!(std::future::poll_fn(|cx| svc.poll_ready(cx)))).is_ready());
            let _ = poll(pin!(svc.call(fail(i))));
            if i % 1_000 == 0 {
                sleep(Duration::from_millis(2));
            }
        }),
    );
    check(
        "tower from_static, timed",
        allocations(20_000, |i| {
            assert!(poll(pin!(std::future::poll_fn(|cx| fixed.poll_ready(cx)))).is_ready());
            let _ = poll(pin!(fixed.call(fail(i))));
            if i % 1_000 == 0 {
                sleep(Duration::from_millis(2));
            }
        }),
    );

    let s = shared.snapshot(cbreaker::monotonic::now);
    let n = named.snapshot(cbreaker::monotonic::now);
    let b = breaker.snapshot(cbreaker::monotonic::now);
    let f = leaked.snapshot(cbreaker::monotonic::now);
    for (what, s) in [("tower", s), ("registry", n), ("breaker", b), ("static", f)] {
        assert!(
            s.rejected > 0 && s.transitions_into(cbreaker::State::Closed) > 0,
            "{what}: the run must trip, reject and close: {s:?}"
        );
    }
    let mut failed = 0;
    for (name, n) in &report {
        println!("{name}: {n} allocations");
        if *n != 0 {
            failed += 1;
        }
    }
    println!("{} passed, {failed} failed", report.len() - failed);
    assert_eq!(failed, 0, "a call path allocated");
}
