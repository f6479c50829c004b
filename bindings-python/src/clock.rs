//! The clock: the process's monotonic clock (what `time.monotonic_ns()` reads), or a Python
//! callable returning nanoseconds (tests inject time). Read only when the core asks for it.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use cbreaker::Millis;
use pyo3::prelude::*;

static ORIGIN: OnceLock<Instant> = OnceLock::new();

/// Where a breaker reads `now`.
pub(crate) struct Clock {
    pub(crate) source: Option<Py<PyAny>>,
    /// The last reading, returned when an injected clock fails (the error is raised after the
    /// operation; the core tolerates a repeated `now`).
    last: AtomicU64,
}

impl Clock {
    pub(crate) fn new(source: Option<Py<PyAny>>) -> Self {
        ORIGIN.get_or_init(Instant::now);
        Clock {
            source,
            last: AtomicU64::new(0),
        }
    }

    /// Nanoseconds on this clock.
    pub(crate) fn now_ns(&self, py: Python<'_>, err: &mut Option<PyErr>) -> u64 {
        let Some(f) = &self.source else {
            return ORIGIN.get_or_init(Instant::now).elapsed().as_nanos() as u64;
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
