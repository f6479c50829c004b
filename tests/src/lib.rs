//! # cbreaker-conformance
//!
//! The conformance vectors of `tests/vectors/` (format: `tests/vectors/README.md`), a runner
//! that drives any implementation through them, and an independent reference model of
//! `docs/state-machine.md`.
//!
//! A front door takes part by implementing [`Subject`], seven methods over plain numbers and
//! strings, so the same runner checks the Rust core ([`CoreSubject`]), the reference model
//! ([`reference::Model`]) and, say, the C ABI over its `extern "C"` functions:
//!
//! ```
//! use cbreaker_conformance::{load_vectors, run_all, CoreSubject};
//!
//! let vectors = load_vectors().expect("every vector parses");
//! let failures = run_all::<CoreSubject>(&vectors);
//! for f in &failures {
//!     println!("{f}"); // vector name, step index, expected vs actual
//! }
//! ```
//!
//! - [`Subject::new`] gets the vector's config; it returns the invalid field's name
//!   (`cbreaker::ConfigError::field()` spelling) when the config is refused.
//! - [`Subject::acquire`] returns an opaque `u32` permit handle that the runner hands back to
//!   [`Subject::record`] / [`Subject::drop_permit`].
//! - Every method that can change state returns the transitions it caused as `"from->to"`.
//! - [`Subject::snapshot`] returns the keys of [`SNAPSHOT_KEYS`]; a vector checks those it
//!   names (rates with a tolerance of [`RATE_TOLERANCE`]).
//!
//! [`load_vectors`] reads `tests/vectors/*.json` and every `*.json` in each directory of the
//! colon-separated `CBREAKER_VECTORS` environment variable.

pub mod ops;
pub mod reference;

mod core_subject;
mod runner;
mod vector;

pub use core_subject::{CoreSubject, core_config, core_outcome, snapshot_map, transition_name};
pub use runner::{
    AcquireResult, Failure, RATE_TOLERANCE, Subject, load_dir, load_vectors, run_all, run_vector,
    vectors_dir,
};
pub use vector::{
    Decision, ManualOp, Op, OutcomeKind, ParseError, SNAPSHOT_KEYS, STATE_NAMES, Step, Vector,
    VectorConfig, VectorWindow,
};
