//! Random-sequence driver shared by the proptest (`tests/tests/model.rs`) and the fuzz target:
//! runs the core and the reference model side by side and reports the first disagreement.

use cbreaker::{Breaker, Config, MAX_SLOTS, Millis, Permit, Snapshot, WindowKind};

use crate::core_subject::core_outcome;
use crate::reference::{Model, RefPermit};
use crate::vector::{ManualOp, OutcomeKind};

/// One operation of a random sequence. `dt` moves `now` before the operation (it may be
/// negative: time going backwards).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimedOp {
    /// Signed change of `now`, applied first (`now` saturates at 0 and at [`MAX_NOW`]).
    pub dt: i64,
    /// The operation.
    pub op: SeqOp,
}

/// What to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeqOp {
    /// `try_acquire`; a permit is kept.
    Acquire,
    /// Record the kept permit at `index % held` (nothing when none is held).
    Record {
        /// Which held permit.
        index: usize,
        /// How the call ended.
        outcome: OutcomeKind,
        /// Reported duration.
        duration_ms: Option<u64>,
    },
    /// Release the held permit at `index % held`.
    Drop {
        /// Which held permit.
        index: usize,
    },
    /// `state(now)`.
    State,
    /// `snapshot(now)`.
    Snapshot,
    /// A manual control.
    Manual(ManualOp),
}

/// `now` never goes past this: a time window tells bucket epochs apart for 2^32 bucket
/// widths (docs/state-machine.md#limits), and a 1 ms bucket is allowed.
pub const MAX_NOW: u64 = 3_000_000_000;

/// Where a time window's epochs must stay below for the core to keep every outcome: it
/// leaves out outcomes more than 1024 bucket widths after a slot's last write, and a fresh
/// breaker's outcomes at epochs 1025..=2047 mod 2048 (vectors
/// `time_window_counts_outcomes_after_long_idle`, `time_window_first_outcome_counts_at_any_time`).
/// Set to `u64::MAX` once fixed.
pub const TIME_WINDOW_EPOCH_LIMIT: u64 = 1024;

/// The `now` limit that keeps a time window below [`TIME_WINDOW_EPOCH_LIMIT`] epochs.
#[must_use]
pub fn max_now_for(config: &Config) -> u64 {
    match config.window {
        WindowKind::Time { duration, buckets }
            if buckets > 0 && TIME_WINDOW_EPOCH_LIMIT < u64::MAX =>
        {
            (duration.0 / u64::from(buckets))
                .saturating_mul(TIME_WINDOW_EPOCH_LIMIT)
                .saturating_sub(1)
                .min(MAX_NOW)
        }
        _ => MAX_NOW,
    }
}

/// Whether to compare the snapshot's `consecutive_failures` when the consecutive rule is
/// off. The core reports 0 there (see the vector
/// `snapshot_reports_the_run_with_the_consecutive_rule_off`); set to `true` once fixed.
pub const CHECK_RUN_WITH_RULE_OFF: bool = false;

/// Runs `ops` against a fresh core and a fresh model built from `config`, comparing every
/// result and, after every operation, the full snapshot.
///
/// # Errors
/// The first disagreement, with the operation index and both sides.
pub fn check_sequence(config: &Config, start: u64, ops: &[TimedOp]) -> Result<(), String> {
    check_sequence_until(config, start, ops, MAX_NOW)
}

/// [`check_sequence`] with `now` clamped to `max_now` (at most [`MAX_NOW`]).
///
/// # Errors
/// The first disagreement, with the operation index and both sides.
pub fn check_sequence_until(
    config: &Config,
    start: u64,
    ops: &[TimedOp],
    max_now: u64,
) -> Result<(), String> {
    let max_now = max_now.min(MAX_NOW);
    let core = Breaker::<MAX_SLOTS>::new(*config);
    let model = Model::new(config);
    let (core, mut model) = match (core, model) {
        (Ok(c), Ok(m)) => (c, m),
        (Err(e), Err(f)) => {
            // With several fields out of range, which one is named may differ.
            return if e.field() == f || !single_error(config) {
                Ok(())
            } else {
                Err(format!(
                    "config errors differ: core {}, model {f}",
                    e.field()
                ))
            };
        }
        (Ok(_), Err(f)) => return Err(format!("model refuses the config ({f}), core accepts it")),
        (Err(e), Ok(_)) => {
            return Err(format!(
                "core refuses the config ({}), model accepts it",
                e.field()
            ));
        }
    };
    let check_run = CHECK_RUN_WITH_RULE_OFF || config.consecutive_failures > 0;
    let mut now = start.min(max_now);
    let mut held: Vec<(Permit, RefPermit)> = Vec::new();
    for (i, TimedOp { dt, op }) in ops.iter().enumerate() {
        now = now.saturating_add_signed(*dt).min(max_now);
        let at = |what: String| format!("op {i} ({op:?}) at now={now}: {what}");
        match op {
            SeqOp::Acquire => {
                let c = core.try_acquire(Millis(now));
                let m = model.try_acquire(now);
                match (c, m) {
                    (Ok(a), Ok((p, t))) => {
                        if a.permit.generation() != p.generation || a.permit.state() != p.state {
                            return Err(at(format!(
                                "permit: core gen {} {:?}, model gen {} {:?}",
                                a.permit.generation(),
                                a.permit.state(),
                                p.generation,
                                p.state
                            )));
                        }
                        if a.transition != t {
                            return Err(at(format!(
                                "transition: core {:?}, model {t:?}",
                                a.transition
                            )));
                        }
                        held.push((a.permit, p));
                    }
                    (Err(r), Err(m)) => {
                        if r.retry_after.map(|x| x.0) != m {
                            return Err(at(format!(
                                "retry_after: core {:?}, model {m:?}",
                                r.retry_after
                            )));
                        }
                    }
                    (c, m) => return Err(at(format!("decision: core {c:?}, model {m:?}"))),
                }
            }
            SeqOp::Record {
                index,
                outcome,
                duration_ms,
            } => {
                if held.is_empty() {
                    continue;
                }
                let (cp, mp) = held.remove(index % held.len());
                let c = core.record(
                    cp,
                    core_outcome(*outcome),
                    duration_ms.map(Millis),
                    Millis(now),
                );
                let m = model.record(mp, *outcome, *duration_ms, now);
                if c != m {
                    return Err(at(format!("transition: core {c:?}, model {m:?}")));
                }
            }
            SeqOp::Drop { index } => {
                if held.is_empty() {
                    continue;
                }
                let (cp, mp) = held.remove(index % held.len());
                core.release(cp, Millis(now));
                model.release(mp, now);
            }
            SeqOp::State => {
                let (c, m) = (core.state(Millis(now)), model.state(now));
                if c != m {
                    return Err(at(format!("state: core {c:?}, model {m:?}")));
                }
            }
            SeqOp::Snapshot => {}
            SeqOp::Manual(op) => {
                let t = Millis(now);
                let c = match op {
                    ManualOp::ForceOpen => core.force_open(t),
                    ManualOp::ForceClosed => core.force_closed(t),
                    ManualOp::MetricsOnly => core.metrics_only(t),
                    ManualOp::Reset => core.reset(t),
                };
                let m = model.manual(*op, now);
                if c != m {
                    return Err(at(format!("transition: core {c:?}, model {m:?}")));
                }
            }
        }
        let (c, m) = (core.snapshot(Millis(now)), model.snapshot(now));
        if let Some(diff) = snapshot_diff(&c, &m, check_run) {
            return Err(at(format!(
                "snapshot {diff}\n  core:  {c:?}\n  model: {m:?}"
            )));
        }
    }
    Ok(())
}

/// Whether at most one field of `config` is out of range (then both must name it).
fn single_error(config: &Config) -> bool {
    // Fix each field in turn: if the config still fails after fixing one, there were two.
    let fixes: [fn(&mut Config); 6] = [
        |c| c.window = WindowKind::Count { size: 4 },
        |c| c.failure_rate_threshold = 50,
        |c| c.slow_call_rate_threshold = 0,
        |c| c.consecutive_failures = 1,
        |c| c.half_open_max_calls = 1,
        |c| c.success_threshold = 1,
    ];
    fixes.iter().any(|fix| {
        let mut c = *config;
        fix(&mut c);
        Model::new(&c).is_ok()
    })
}

/// The first field on which two snapshots differ (rates within 1e-9).
#[must_use]
pub fn snapshot_diff(c: &Snapshot, m: &Snapshot, check_run: bool) -> Option<&'static str> {
    let close = |a: f64, b: f64| (a - b).abs() <= crate::RATE_TOLERANCE;
    let fields: [(&'static str, bool); 16] = [
        ("state", c.state == m.state),
        ("generation", c.generation == m.generation),
        ("calls", c.calls == m.calls),
        ("successes", c.successes == m.successes),
        ("failures", c.failures == m.failures),
        ("ignored", c.ignored == m.ignored),
        ("slow", c.slow == m.slow),
        ("rejected", c.rejected == m.rejected),
        ("transitions", c.transitions == m.transitions),
        ("window_calls", c.window_calls == m.window_calls),
        ("window_failures", c.window_failures == m.window_failures),
        ("window_slow", c.window_slow == m.window_slow),
        ("failure_rate", close(c.failure_rate, m.failure_rate)),
        ("slow_rate", close(c.slow_rate, m.slow_rate)),
        (
            "consecutive_failures",
            !check_run || c.consecutive_failures == m.consecutive_failures,
        ),
        ("retry_after", c.retry_after == m.retry_after),
    ];
    fields.iter().find(|(_, same)| !same).map(|(name, _)| *name)
}
