//! The clock: the process's monotonic clock (what `time.monotonic_ns()` reads), or a Python
//! callable returning nanoseconds (tests inject time). Read only when the core asks for it.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use cbreaker::Millis;
use pyo3::prelude::*;

/// The process's first reading: an `Instant` and what `time.monotonic_ns()` read then. Every
/// reading is `monotonic_ns at origin + elapsed`: CLOCK_MONOTONIC, one time base for every
/// process of a host, as a breaker in shared memory needs.
static ORIGIN: OnceLock<(Instant, u64)> = OnceLock::new();

fn origin(py: Python<'_>) -> (Instant, u64) {
    *ORIGIN.get_or_init(|| {
        let base = (py
            .import("time")
            .and_then(|t| t.call_method0("monotonic_ns")))
        .and_then(|v| v.extract::<u64>())
        .unwrap_or(0);
        (Instant::now(), base)
    })
}

/// The monotonic clock's reading in milliseconds, without Python: what a breaker with no
/// injected clock passes as `now` (the fleet agent's clock). Before any breaker exists it
/// starts the origin itself (at 0 rather than `time.monotonic_ns()`).
pub(crate) fn monotonic_ms() -> Millis {
    let (start, base) = *ORIGIN.get_or_init(|| (Instant::now(), 0));
    Millis((base + start.elapsed().as_nanos() as u64) / 1_000_000)
}

/// Where a breaker reads `now`.
pub(crate) struct Clock {
    pub(crate) source: Option<Py<PyAny>>,
    /// The last reading, returned when an injected clock fails (the error is raised after the
    /// operation; the core tolerates a repeated `now`).
    last: AtomicU64,
}

impl Clock {
    pub(crate) fn new(py: Python<'_>, source: Option<Py<PyAny>>) -> Self {
        origin(py);
        Clock {
            source,
            last: AtomicU64::new(0),
        }
    }

    /// Nanoseconds on this clock.
    pub(crate) fn now_ns(&self, py: Python<'_>, err: &mut Option<PyErr>) -> u64 {
        let Some(f) = &self.source else {
            let (start, base) = origin(py);
            return base + start.elapsed().as_nanos() as u64;
        };
        match f.call0(py).and_then(|v| v.extract::<u64>(py)) {
            Ok(ns) => {
                // Relaxed: a hint for the error path only; orders nothing.
                self.last.store(ns, Ordering::Relaxed);
                ns
            }
            Err(e) => {
                err.get_or_insert(e);
                self.last.load(Ordering::Relaxed)
            }
        }
    }

    pub(crate) fn now(&self, py: Python<'_>, err: &mut Option<PyErr>) -> Millis {
        Millis(self.now_ns(py, err) / 1_000_000)
    }
}
