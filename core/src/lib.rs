//! # cbreaker
//!
//! A lock-free, allocation-free circuit breaker: one `no_std` state machine, built from
//! 32-bit atomics, that the C ABI, Python, WASM and firmware all share.
//!
//! The core never reads a clock: every operation takes `now` (a [`Millis`] or a closure
//! returning one, see [`Clock`]).
//!
//! ```
//! use cbreaker::{Breaker, Config, Millis, Outcome, State};
//!
//! let breaker: Breaker = Breaker::new(Config { minimum_calls: 4, ..Config::count(10) }).unwrap();
//! for t in 0..4 {
//!     let admitted = breaker.try_acquire(Millis(t)).unwrap();
//!     breaker.record(admitted.permit, Outcome::Failure, None, Millis(t));
//! }
//! assert_eq!(breaker.state(Millis(10)), State::Open);
//! let rejected = breaker.try_acquire(Millis(10)).unwrap_err();
//! assert_eq!(rejected.retry_after, Some(Millis(59_993)));
//! ```
//!
//! See `docs/state-machine.md` for the states, the packed word layout and the limits, and
//! `docs/memory-ordering.md` for every atomic operation and the loom model that covers it.

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(test)]
extern crate std;

// The verified state machine: `no_std`, no allocation, atomics only (docs/state-machine.md,
// docs/memory-ordering.md). Its modules are re-exported here so every `crate::x` path stays
// short.
mod machine;
pub(crate) use machine::{
    adoption, anchor, breaker, config, counters, permit, snapshot, state, sync, time, transition,
    window,
};

// The contract around it, also `no_std`: errors, the call protocol, defaults and presets, the
// health rule and the metric vocabulary (docs/defaults.md, docs/metrics.md).
mod error;
pub mod fleet;
mod health;
pub mod metrics;
mod presets;
mod protocol;

// Storage sized at run time (`alloc`), and the firmware registry (`heapless`).
#[cfg(feature = "heapless")]
pub mod fixed_registry;
#[cfg(feature = "alloc")]
mod sized;

// Rust services (docs/rust.md), behind `std` and the features above it.
#[cfg(feature = "std")]
mod services;
#[cfg(feature = "tracing")]
pub use services::events;
#[cfg(feature = "fleet")]
pub use services::fleet_agent;
#[cfg(feature = "opentelemetry")]
pub use services::otel;
#[cfg(feature = "prometheus")]
pub use services::prometheus;
#[cfg(feature = "prometheus-collector")]
pub use services::prometheus_collector;
#[cfg(feature = "registry")]
pub use services::registry;
#[cfg(feature = "tower")]
pub use services::tower;
#[cfg(feature = "std")]
pub(crate) use services::{call, service};
#[cfg(feature = "std")]
pub use services::{histogram, monotonic};

pub use adoption::Adoption;
pub use breaker::{Breaker, MAX_SLOTS, WORD_LAYOUT};
pub use config::{Config, WindowKind, limits};
pub use error::{ConfigError, PermitSettled, RejectReason, Rejected};
pub use health::{Health, HealthStatus};

pub use permit::{Admitted, Outcome, Permit};
pub use protocol::{Begun, Call, End, Finished};
pub use snapshot::Snapshot;
pub use state::State;
pub use time::{Clock, Millis};
pub use transition::{Cause, Transition};

#[cfg(feature = "std")]
pub use call::{CallError, CallSite, Calls, PermitGuard, errors_are_failures};
#[cfg(feature = "std")]
pub use service::{DurationSink, ServiceBreaker, SinkTaken};
#[cfg(feature = "alloc")]
pub use sized::{SMALL_SLOTS, SizedBreaker};
