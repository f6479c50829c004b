//! Any bit pattern is a state: a live breaker whose memory is overwritten between operations
//! (a wild write, a bit flip, a process of another build on shared memory) must never
//! panic or hang, must keep its observable figures in range, and must be itself again after a
//! repair. Driven by the cargo-fuzz target `corrupt` and by `tests/tests/corruption.rs`.

use cbreaker::{Breaker, Cause, Millis, Outcome, Permit, State};

use crate::ops::decode;

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Operations run on the breaker.
    pub operations: u64,
    /// Bytes overwritten.
    pub corrupted_bytes: u64,
    /// Transitions with cause `repaired`.
    pub repairs: u64,
}

/// The breaker under test: the largest storage, so every config fits.
type Subject = Breaker<{ cbreaker::MAX_SLOTS }>;

/// Overwrites byte `offset % size` of `breaker` with `value`.
fn poke(breaker: &mut Subject, offset: usize, value: u8) {
    let size = core::mem::size_of::<Subject>();
    let p = core::ptr::from_mut(breaker).cast::<u8>();
    // SAFETY: `p` comes from a `&mut`, so nothing else reads or writes the breaker now, and
    // the offset is within its size. Every field of a `Breaker` is an integer or an atomic
    // integer (the config's window kind is a plain byte), so any byte value leaves every
    // field a valid value of its type; padding may hold anything.
    unsafe { p.add(offset % size).write_volatile(value) };
}

/// Checks what every observable figure must satisfy whatever the memory holds.
fn check_ranges(b: &Subject, now: u64) -> Result<(), String> {
    let s = b.snapshot(Millis(now));
    if s.window_failures > s.window_calls || s.window_slow > s.window_calls {
        return Err(format!("window figures out of range: {s:?}"));
    }
    if !(0.0..=100.0).contains(&s.failure_rate) || !(0.0..=100.0).contains(&s.slow_rate) {
        return Err(format!("rates out of range: {s:?}"));
    }
    // Invariant 6: a count window never holds more than its size (read within its range).
    if let cbreaker::WindowKind::Count { size } = b.config().window {
        if s.window_calls > size.clamp(1, cbreaker::limits::MAX_COUNT_WINDOW) {
            return Err(format!("more calls than the window holds ({size}): {s:?}"));
        }
    }
    Ok(())
}

/// Runs `data`: a config and operations (as [`decode`] reads them), with some operations
/// turned into byte writes into the live breaker. Panics only on a broken promise (no repair
/// after a reset, a figure out of range); a panic of the core itself is the bug this hunts.
///
/// # Errors
/// What did not hold, for the caller to report.
pub fn run(data: &[u8]) -> Result<Report, String> {
    let (config, start, ops) = decode(data);
    let Ok(mut breaker) = Subject::new(config) else {
        return Ok(Report::default());
    };
    let mut report = Report::default();
    let mut now = start;
    let mut held: Vec<Permit> = Vec::new();
    let note = |t: Option<cbreaker::Transition>, r: &mut Report| {
        if t.is_some_and(|t| t.cause == Cause::Repaired) {
            r.repairs += 1;
        }
    };
    for (i, op) in ops.iter().enumerate() {
        now = now.saturating_add_signed(op.dt).min(crate::ops::MAX_NOW);
        // Every third operation's bytes become a write into the breaker's memory instead.
        let bytes = data.get(i * 3..i * 3 + 3).unwrap_or(&[0, 0, 0]);
        if bytes[0] % 3 == 0 {
            let offset = usize::from(bytes[1]) * 7 + usize::from(bytes[2]);
            // A byte, or a whole aligned word of a value worth trying (zero and all-ones
            // are what wild writes and cleared RAM most often leave).
            let word: Option<u32> = match bytes[0] >> 5 {
                0 => Some(0),
                1 => Some(u32::MAX),
                2 => Some(u32::from(bytes[2] % 8)),
                3 => Some(u32::from_le_bytes([bytes[1], bytes[2], bytes[1], bytes[0]])),
                _ => None,
            };
            match word {
                Some(v) => {
                    for (k, byte) in v.to_le_bytes().into_iter().enumerate() {
                        poke(&mut breaker, (offset & !3) + k, byte);
                    }
                    report.corrupted_bytes += 4;
                }
                None => {
                    poke(&mut breaker, offset, bytes[1] ^ bytes[2].rotate_left(3));
                    report.corrupted_bytes += 1;
                }
            }
            continue;
        }
        report.operations += 1;
        let b = &breaker;
        match &op.op {
            crate::ops::SeqOp::Acquire => {
                if let Ok(a) = b.try_acquire(Millis(now)) {
                    note(a.transition, &mut report);
                    held.push(a.permit);
                }
            }
            crate::ops::SeqOp::Record {
                index,
                outcome,
                duration_ms,
            } => {
                if !held.is_empty() {
                    let p = held.remove(index % held.len());
                    let o = crate::core_outcome(*outcome);
                    note(
                        b.record(p, o, duration_ms.map(Millis), Millis(now)),
                        &mut report,
                    );
                }
            }
            crate::ops::SeqOp::Drop { index } => {
                if !held.is_empty() {
                    b.release(held.remove(index % held.len()), Millis(now));
                }
            }
            crate::ops::SeqOp::State => {
                let _ = b.state(Millis(now));
            }
            crate::ops::SeqOp::Snapshot => {
                let _ = b.snapshot(Millis(now));
            }
            crate::ops::SeqOp::Manual(m) => {
                let t = Millis(now);
                let _ = match m {
                    crate::ManualOp::ForceOpen => b.force_open(t),
                    crate::ManualOp::ForceClosed => b.force_closed(t),
                    crate::ManualOp::MetricsOnly => b.metrics_only(t),
                    crate::ManualOp::Reset => b.reset(t),
                    crate::ManualOp::Trip => b.trip(t),
                    crate::ManualOp::HalfOpen => b.half_open(t),
                };
            }
        }
        check_ranges(&breaker, now)?;
    }
    // Repaired by hand: a reset closes it, it admits again, and its figures stay in range
    // through a window's worth of successes. (A window word whose overwritten tag happens to
    // name the live window, the run of failures included, reads as that window's until a later
    // clear: the same rule that lets a write racing a reset count; docs/state-machine.md,
    // "Memory written by something else".)
    for p in held.drain(..) {
        breaker.release(p, Millis(now));
    }
    let t = breaker.reset(Millis(now));
    if t.to != State::Closed {
        return Err(format!("reset did not close: {t:?}"));
    }
    let (successes, step) = match breaker.config().window {
        cbreaker::WindowKind::Count { size } => (size.min(cbreaker::limits::MAX_COUNT_WINDOW), 0),
        cbreaker::WindowKind::Time { duration, .. } => (1, duration.0.min(1 << 32) + 1),
        cbreaker::WindowKind::Consecutive => (1, 0),
    };
    now = now.saturating_add(step).min(crate::ops::MAX_NOW);
    for i in 0..successes.max(1) {
        let a = match breaker.try_acquire(Millis(now)) {
            Ok(a) => a,
            // An aliased window word can still trip it (see above); never the first call.
            Err(r) if i == 0 => return Err(format!("a reset breaker rejected: {r:?}")),
            Err(_) => return check_ranges(&breaker, now).map(|()| report),
        };
        let _ = breaker.record(a.permit, Outcome::Success, None, Millis(now));
    }
    check_ranges(&breaker, now)?;
    Ok(report)
}
