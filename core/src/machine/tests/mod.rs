//! In-crate tests: unit tests of the state machine, and the loom models (`--cfg loom`).
//!
//! Loom models: one file per DESIGN.md invariant, each model named for the property it checks.
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p cbreaker --lib --release loom_`
//! (`make test-loom`; about a minute on 2 cores). Loom treats SeqCst as AcqRel and does not
//! explore load buffering; the core uses no SeqCst, so the first limit does not bite.

#[cfg(not(loom))]
mod unit;

#[cfg(loom)]
mod loom_counters;
#[cfg(loom)]
mod loom_generation;
#[cfg(loom)]
mod loom_half_open;
#[cfg(loom)]
mod loom_progress;
#[cfg(loom)]
mod loom_trip;
#[cfg(loom)]
mod loom_window;

/// Shared helpers for the models.
#[cfg(loom)]
pub(crate) mod support {
    pub(crate) use loom::sync::Arc;
    pub(crate) use loom::thread;

    use crate::{Breaker, Config, Millis, Outcome, Transition};

    /// Four slots: a count window of up to 16 outcomes or one time bucket. Small on purpose:
    /// every extra word is more state for loom to explore.
    pub(crate) type Small = Breaker<4>;

    pub(crate) fn breaker(config: Config) -> Arc<Small> {
        Arc::new(Small::new(config).expect("valid config"))
    }

    /// Acquire + record; `None` if rejected, else the transitions the pair caused.
    pub(crate) fn call(b: &Small, t: u64, outcome: Outcome) -> Option<[Option<Transition>; 2]> {
        let a = b.try_acquire(Millis(t)).ok()?;
        Some([a.transition, b.record(a.permit, outcome, None, Millis(t))])
    }
}
