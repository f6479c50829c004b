//! # cbreaker-conformance
//!
//! The conformance vectors of `tests/vectors/` (format: `tests/vectors/README.md`), a runner
//! that drives any implementation through them, and an independent reference model of
//! `docs/state-machine.md`.
//!
//! A front door takes part by implementing [`Subject`], eleven methods over plain numbers and
//! strings, so the same runner checks the Rust core ([`CoreSubject`]), the reference model
//! ([`reference::ModelSubject`]) and, say, the C ABI over its `extern "C"` functions:
//!
//! ```
//! use cbreaker_conformance::reference::ModelSubject;
//! use cbreaker_conformance::{load_vectors, run_all};
//!
//! let vectors = load_vectors().expect("every vector parses");
//! let failures = run_all::<ModelSubject>(&vectors); // or CoreSubject, or your own Subject
//! for f in &failures {
//!     println!("{f}"); // vector name, step index, expected vs actual
//! }
//! assert!(failures.is_empty());
//! ```
//!
//! - [`Subject::new`] gets the vector's config; it returns the invalid field's name
//!   (`cbreaker::ConfigError::field()` spelling) when the config is refused.
//! - [`Subject::acquire`] returns an opaque `u32` permit handle that the runner hands back to
//!   [`Subject::record`] / [`Subject::drop_permit`].
//! - Every method that can change state returns the transitions it caused as
//!   `"from->to:cause"` (a vector may check `"from->to"` alone).
//! - [`Subject::begin`] / [`Subject::finish`] run the call protocol (`begin(now, sink)` →
//!   `finish(call, end, now)`); [`Subject::health`] and [`Subject::config`] read the health
//!   rule and the config as built.
//! - [`Subject::snapshot`] returns the keys of [`SNAPSHOT_KEYS`]; a vector checks those it
//!   names (rates with a tolerance of [`RATE_TOLERANCE`]).
//!
//! [`load_vectors`] reads `tests/vectors/*.json` and every `*.json` in each directory of the
//! colon-separated `CBREAKER_VECTORS` environment variable.
//!
//! A front door over `extern "C"` functions fills in the same methods; a sketch:
//!
//! ```ignore
//! struct CAbi(*mut cb_breaker);
//! impl Subject for CAbi {
//!     fn new(c: &VectorConfig) -> Result<Self, String> {
//!         let config = to_cb_config(c);                   // defaults as in the vectors README
//!         let mut out = std::ptr::null_mut();
//!         match unsafe { cb_breaker_new(&config, &mut out) } {
//!             0 => Ok(CAbi(out)),
//!             status => Err(field_of_status(status)),     // 200 → "window.size", ...
//!         }
//!     }
//!     fn acquire(&mut self, now: u64) -> AcquireResult { /* cb_breaker_try_acquire */ }
//!     // record, drop_permit, state, snapshot, manual likewise
//! }
//! ```
//!
//! Modules: [`reference`](mod@reference) is the reference model; [`ops`] drives the core and the model side
//! by side over random operation sequences (invariant 7: `tests/tests/model.rs` and the
//! cargo-fuzz target `fuzz/fuzz_targets/ops.rs`).

pub mod corrupt;
pub mod fleet;
pub mod ops;
pub mod reference;

mod core_subject;
mod runner;
mod vector;

pub use core_subject::{
    CoreSubject, config_map, core_config, core_end, core_outcome, snapshot_map, transition_name,
};
pub use runner::{
    AcquireResult, Failure, Finished, RATE_TOLERANCE, Subject, load_dir, load_vectors, run_all,
    run_vector, vectors_dir,
};
pub use vector::{
    CAUSE_NAMES, CONFIG_KEYS, Decision, EndKind, HEALTH_NAMES, ManualOp, Op, OutcomeKind,
    ParseError, REASONS, SNAPSHOT_KEYS, STATE_NAMES, Step, Vector, VectorConfig, VectorWindow,
};
