//! Size probe: a typical guarded call in a loop, with the breaker (default) or without it
//! (`--features baseline`). The difference between the two builds is what the breaker adds
//! to a firmware image: `new` (config validation), `try_acquire`, `record`, the window and
//! the counters. Inputs and results pass through `black_box`, so nothing folds away at compile time.
//! It also runs on QEMU and exits 0.

#![no_std]
#![no_main]

use semihosting::process;

#[cfg(all(feature = "critical-section", target_arch = "arm"))]
use cortex_m as _;
#[cfg(all(feature = "critical-section", target_arch = "riscv32"))]
use riscv as _;

#[cfg(target_arch = "arm")]
use cortex_m_rt::entry;
#[cfg(target_arch = "riscv32")]
use riscv_rt::entry;

/// The usual size-conscious panic handler: no message formatting (that would pull in
/// `core::fmt`), just a non-zero exit.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    process::exit(101)
}

/// Stands in for a peripheral read: the dependency's answer, opaque to the optimiser.
fn bus_read(i: u32) -> bool {
    core::hint::black_box(i) % 5 != 0
}

/// Where results go, so the optimiser must keep them.
fn sink(v: u32) {
    core::hint::black_box(v);
}

#[entry]
fn main() -> ! {
    // The window this build links: a count window, else a time window, else none.
    #[cfg(all(not(feature = "baseline"), feature = "count-window"))]
    let window = cbreaker::Config::count(8);
    #[cfg(all(
        not(feature = "baseline"),
        not(feature = "count-window"),
        feature = "time-window"
    ))]
    let window = cbreaker::Config::time(cbreaker::Millis(800), 1);
    #[cfg(all(
        not(feature = "baseline"),
        not(feature = "count-window"),
        not(feature = "time-window")
    ))]
    let window = cbreaker::Config::consecutive(4);
    #[cfg(not(feature = "baseline"))]
    let breaker = match cbreaker::Breaker::<4>::new(cbreaker::Config {
        minimum_calls: 4,
        open_duration: cbreaker::Millis(500),
        ..window
    }) {
        Ok(b) => b,
        Err(_) => process::exit(2),
    };
    let mut i = 0u32;
    while i < 1_000 {
        let now = u64::from(core::hint::black_box(i)) * 10;
        #[cfg(not(feature = "baseline"))]
        match breaker.try_acquire(cbreaker::Millis(now)) {
            Ok(a) => {
                let ok = bus_read(i);
                let outcome = if ok {
                    cbreaker::Outcome::Success
                } else {
                    cbreaker::Outcome::Failure
                };
                let tr = breaker.record(a.permit, outcome, None, cbreaker::Millis(now));
                sink(u32::from(ok) + tr.map_or(0, |t| t.to as u32));
            }
            Err(r) => sink(r.retry_after.map_or(0, |m| m.0 as u32)),
        }
        #[cfg(feature = "baseline")]
        sink(u32::from(bus_read(i)) + now as u32);
        i += 1;
    }
    process::exit(0)
}
