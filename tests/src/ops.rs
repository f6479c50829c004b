//! Random-sequence driver shared by the proptest (`tests/tests/model.rs`) and the fuzz target:
//! runs the core and the reference model side by side and reports the first disagreement.

use cbreaker::{Breaker, Config, MAX_SLOTS, Millis, Permit, Snapshot, State, WindowKind};

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

/// How far a sequence may take `now` and how long it runs: a way to steer random
/// sequences around a known core bug while it is being fixed (write a vector for the bug).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `now` is clamped to this (and to [`MAX_NOW`]).
    pub max_now: u64,
    /// `now` never goes back more than this below the largest `now` seen so far.
    pub max_back: u64,
    /// The sequence stops (as a pass) once the breaker has entered `closed` this many times.
    pub max_closes: u32,
    /// The sequence stops (as a pass) once this many successes and failures were recorded.
    pub max_outcomes: u64,
}

impl Limits {
    /// No limit but [`MAX_NOW`].
    pub const NONE: Limits = Limits {
        max_now: MAX_NOW,
        max_back: u64::MAX,
        max_closes: u32::MAX,
        max_outcomes: u64::MAX,
    };
}

/// Runs `ops` against a fresh core and a fresh model built from `config`, comparing every
/// result and, after every operation, the full snapshot.
///
/// # Errors
/// The first disagreement, with the operation index and both sides.
pub fn check_sequence(config: &Config, start: u64, ops: &[TimedOp]) -> Result<(), String> {
    check_sequence_within(config, start, ops, Limits::NONE)
}

/// [`check_sequence`] with `now` kept within `limits`.
///
/// # Errors
/// The first disagreement, with the operation index and both sides.
pub fn check_sequence_within(
    config: &Config,
    start: u64,
    ops: &[TimedOp],
    limits: Limits,
) -> Result<(), String> {
    let max_now = limits.max_now.min(MAX_NOW);
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
    let mut now = start.min(max_now);
    let mut high = now;
    let mut held: Vec<(Permit, RefPermit)> = Vec::new();
    for (i, TimedOp { dt, op }) in ops.iter().enumerate() {
        now = now
            .saturating_add_signed(*dt)
            .min(max_now)
            .max(high.saturating_sub(limits.max_back));
        high = high.max(now);
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
                    (Err(r), Err((m, reason))) => {
                        if r.retry_after.map(|x| x.0) != m || r.reason != reason {
                            return Err(at(format!(
                                "rejection: core {:?} {:?}, model {m:?} {reason:?}",
                                r.retry_after, r.reason
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
                    ManualOp::Trip => core.trip(t),
                    ManualOp::HalfOpen => core.half_open(t),
                };
                let m = model.manual(*op, now);
                if c != m {
                    return Err(at(format!("transition: core {c:?}, model {m:?}")));
                }
            }
        }
        let (c, m) = (core.snapshot(Millis(now)), model.snapshot(now));
        if let Some(diff) = snapshot_diff(&c, &m) {
            return Err(at(format!(
                "snapshot {diff}\n  core:  {c:?}\n  model: {m:?}"
            )));
        }
        if m.transitions_into(State::Closed) >= limits.max_closes
            || m.successes + m.failures >= limits.max_outcomes
        {
            return Ok(());
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
pub fn snapshot_diff(c: &Snapshot, m: &Snapshot) -> Option<&'static str> {
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
            c.consecutive_failures == m.consecutive_failures,
        ),
        ("retry_after", c.retry_after == m.retry_after),
    ];
    fields.iter().find(|(_, same)| !same).map(|(name, _)| *name)
}

/// Decodes fuzzer bytes into a config (valid or not, small ranges), a start time and an
/// operation sequence. Total: every byte string decodes; missing bytes read as zero.
#[must_use]
pub fn decode(data: &[u8]) -> (Config, u64, Vec<TimedOp>) {
    let mut r = Bytes(data);
    let window = match r.u8() % 3 {
        0 => WindowKind::Count {
            size: u32::from(r.u8() % 17) + u32::from(r.u8() == 255) * 1008,
        },
        1 => {
            let buckets = u32::from(r.u8() % 9);
            let width = u64::from(r.u8() % 60) + 1;
            let odd = u64::from(r.u8() == 255);
            WindowKind::Time {
                duration: Millis(width * u64::from(buckets) + odd),
                buckets,
            }
        }
        _ => WindowKind::Consecutive,
    };
    let open = u64::from(r.u16() % 500);
    let config = Config {
        window,
        failure_rate_threshold: r.u8() % 102,
        slow_call_rate_threshold: if r.u8() % 2 == 0 { 0 } else { r.u8() % 102 },
        slow_call_duration: Millis(u64::from(r.u8() % 40)),
        consecutive_failures: u32::from(r.u8() % 6),
        minimum_calls: u32::from(r.u8() % 20),
        open_duration: Millis(open),
        open_duration_max: Millis(match r.u8() % 3 {
            0 => 0,
            _ => open + u64::from(r.u16() % 2000),
        }),
        open_duration_multiplier: f64::from(r.u16() % 5000) / 1000.0 + 0.999,
        jitter_percent: if r.u8() % 2 == 0 { 0 } else { r.u8() % 102 },
        jitter_seed: r.u64(),
        half_open_max_calls: u32::from(r.u8() % 7),
        success_threshold: u32::from(r.u8() % 8),
        half_open_max_wait: Millis(u64::from(r.u16() % 400)),
    };
    let start = u64::from(r.u16()) * 16;
    let mut ops = Vec::new();
    while !r.0.is_empty() && ops.len() < 512 {
        let (a, b, c) = (r.u8(), r.u8(), r.u8());
        let dt = match a >> 5 {
            0..=2 => 0,
            3 | 4 => i64::from(b % 64),
            5 => i64::from(b) * 8,
            6 => -i64::from(b),
            _ => i64::from(b) * 10_000_000,
        };
        let outcome = match c % 3 {
            0 => OutcomeKind::Success,
            1 => OutcomeKind::Failure,
            _ => OutcomeKind::Ignored,
        };
        let op = match a & 31 {
            0..=10 => SeqOp::Acquire,
            11..=22 => SeqOp::Record {
                index: usize::from(c >> 2),
                outcome,
                duration_ms: (c & 128 != 0).then_some(u64::from(b % 48)),
            },
            23..=25 => SeqOp::Drop {
                index: usize::from(c),
            },
            26 => SeqOp::State,
            27 => SeqOp::Snapshot,
            28 => SeqOp::Manual(match c % 3 {
                0 => ManualOp::ForceOpen,
                1 => ManualOp::Trip,
                _ => ManualOp::HalfOpen,
            }),
            29 => SeqOp::Manual(ManualOp::ForceClosed),
            30 => SeqOp::Manual(ManualOp::MetricsOnly),
            _ => SeqOp::Manual(ManualOp::Reset),
        };
        ops.push(TimedOp { dt, op });
    }
    (config, start, ops)
}

/// Fuzz entry point: decodes `data`, runs core and model side by side, and panics on the
/// first disagreement.
///
/// # Panics
/// When the core and the reference model disagree.
pub fn fuzz_one(data: &[u8]) {
    let (config, start, ops) = decode(data);
    if let Err(e) = check_sequence(&config, start, &ops) {
        panic!(
            "core and reference model disagree: {e}\nconfig: {config:?}\nstart: {start}\nops: {ops:?}"
        );
    }
}

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |acc, _| (acc << 8) | u64::from(self.u8()))
    }
}
