//! What every change of the state word decides, as pure functions: the word, a few config
//! numbers and a reading the caller took already (a deadline, a reclaim time) in; the next
//! word to write, or the final answer, out. No atomics and no clock here: `Breaker::update`
//! in `breaker.rs` is the one CAS loop that applies them (loom covers it once), and the
//! tests (`step/tests.rs`) cover the decisions alone, for any word.

use crate::config::limits::HALF_OPEN_FULL_RETRY_AFTER;
use crate::error::RejectReason;
use crate::permit::Outcome;
use crate::state::{K_MAX, State, Word};
use crate::transition::Cause;

/// A step's decision on one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step<A> {
    /// Replace the word by this one (one CAS from the word decided on); if it lands, do
    /// what [`After`] says. If it fails, the step decides again on the word found.
    Write(Word, After),
    /// Write nothing: the answer.
    Done(A),
}

/// What follows a landed write, done once by its writer (in this order: the anchor or the
/// window, then the transition event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum After {
    /// Nothing: a probe slot taken or freed, a success counted.
    Nothing,
    /// Open entered: publish its deadline (`now` + this trip's duration), then the event.
    Deadline(Cause),
    /// Open entered with a deadline the caller names (a fleet's): publish it, then the event.
    Until(Cause),
    /// A half-open generation started: publish `now` as its start (from which lost probes are
    /// reclaimed), then the event if there is one (`None`: a reclaim, which has none).
    Start(Option<Cause>),
    /// Closed entered: clear the window, then the event.
    Clear(Cause),
    /// The event only.
    Event(Cause),
}

impl After {
    /// The transition event this write is, if any.
    pub(crate) const fn cause(self) -> Option<Cause> {
        match self {
            After::Nothing | After::Start(None) => None,
            After::Deadline(c)
            | After::Until(c)
            | After::Start(Some(c))
            | After::Clear(c)
            | After::Event(c) => Some(c),
        }
    }
}

/// The reading [`acquire`] needs for a word, which the caller takes before asking it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reading {
    /// None: the word decides alone.
    Nothing,
    /// Open: the time left before the deadline.
    Deadline,
    /// Half-open with every slot out: the time left before the slots are reclaimed.
    Reclaim,
}

/// What [`acquire`] needs read for word `w` (`max`: `half_open_max_calls`).
#[inline]
pub(crate) const fn acquire_reads(w: Word, max: u32) -> Reading {
    match w.phase() {
        State::Open => Reading::Deadline,
        State::HalfOpen if w.probes() >= max => Reading::Reclaim,
        _ => Reading::Nothing,
    }
}

/// `try_acquire`'s answer without a write: the permit's bits, or a rejection with its advice.
pub(crate) type Acquired = Result<u32, (RejectReason, Option<u64>)>;

/// `try_acquire` on word `w`. `left` is the reading [`acquire_reads`] asked for: the time
/// left (`None`: passed); ignored when it asked for none. A write's permit is the new word's.
#[inline]
pub(crate) const fn acquire(w: Word, max: u32, left: Option<u64>) -> Step<Acquired> {
    match w.phase() {
        State::Closed | State::Disabled | State::MetricsOnly => Step::Done(Ok(w.permit_bits())),
        State::ForcedOpen => Step::Done(Err((RejectReason::ForcedOpen, None))),
        State::Open => match left {
            Some(left) => Step::Done(Err((RejectReason::Open, Some(left)))),
            // The deadline passed, but a fleet holds every probe slot (`probes` of an open
            // word: slots the half-open generation starts with taken, see `adopt`): no
            // probe here until the fleet hands this member a lease.
            None if w.probes() >= max => Step::Done(Err((
                RejectReason::HalfOpenFull,
                Some(HALF_OPEN_FULL_RETRY_AFTER.0),
            ))),
            // The deadline passed: half-open, and this call takes the first free probe.
            None => Step::Write(
                w.enter(State::HalfOpen, w.k(), false)
                    .with_probes(w.probes() + 1, 0),
                After::Start(Some(Cause::OpenElapsed)),
            ),
        },
        State::HalfOpen => {
            let (probes, succ) = (w.probes(), w.successes());
            if probes < max {
                return Step::Write(w.with_probes(probes + 1, succ), After::Nothing);
            }
            match left {
                Some(left) => Step::Done(Err((
                    RejectReason::HalfOpenFull,
                    Some(half_open_full_advice(left)),
                ))),
                // Every slot is out and none decided within `half_open_max_wait`: reclaim
                // them in a new generation, so their late outcomes are stale.
                None => Step::Write(w.reclaim(1), After::Start(None)),
            }
        }
    }
}

/// The retry advice while every half-open slot is out: `left` until the reclaim, but never
/// more than one probe's settling time is worth waiting.
pub(crate) const fn half_open_full_advice(left: u64) -> u64 {
    let cap = HALF_OPEN_FULL_RETRY_AFTER.0;
    if left < cap { left } else { cap }
}

/// A probe's outcome on word `w`, for permit bits `p`. `slow`: the probe was slow and the
/// slow-call rule is on; `threshold`: `success_threshold`. A stale permit (reclaimed, or its
/// generation decided already) changes nothing.
#[inline]
pub(crate) const fn probe(
    w: Word,
    p: u32,
    outcome: Outcome,
    slow: bool,
    threshold: u32,
) -> Step<()> {
    if w.permit_bits() != p {
        return Step::Done(());
    }
    let (probes, succ) = (w.probes(), w.successes());
    let reopen = w.enter(State::Open, next_k(w.k()), false);
    match outcome {
        Outcome::Ignored => Step::Write(
            w.with_probes(probes.saturating_sub(1), succ),
            After::Nothing,
        ),
        Outcome::Failure => Step::Write(reopen, After::Deadline(Cause::ProbeFailed)),
        Outcome::Success if slow => Step::Write(reopen, After::Deadline(Cause::ProbeSlow)),
        Outcome::Success if succ + 1 >= threshold => Step::Write(
            w.enter(State::Closed, 0, true),
            After::Clear(Cause::ProbesSucceeded),
        ),
        Outcome::Success => Step::Write(
            w.with_probes(probes.saturating_sub(1), succ + 1),
            After::Nothing,
        ),
    }
}

/// The trip rule's `cause` held for the window of permit bits `p`, checked on word `seen`.
/// One attempt: only `seen` trips, and only while it is of the permit's own generation, so
/// exactly one of many concurrent recorders trips (invariant 1); any other word was moved by
/// another decision.
#[inline]
pub(crate) const fn rule_trip(w: Word, seen: Word, p: u32, cause: Cause) -> Step<()> {
    if w.0 != seen.0 || w.permit_bits() != p {
        return Step::Done(());
    }
    Step::Write(w.enter(State::Open, 0, false), After::Deadline(cause))
}

/// A repair of word `found`, found damaged (it or the window holds what no operation
/// writes): closed, the window cleared, the backoff reset. One attempt: a word another call
/// moved first is left to the next check.
#[inline]
#[cfg_attr(all(test, loom), allow(dead_code))] // the models leave out the repair (`record_general`)
pub(crate) const fn repair(w: Word, found: Word) -> Step<()> {
    if w.0 != found.0 {
        return Step::Done(());
    }
    Step::Write(
        w.enter(State::Closed, 0, true),
        After::Clear(Cause::Repaired),
    )
}

/// A move by hand. Each is one transition from any state, even into the state it is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Move {
    ForceOpen,
    ForceClosed,
    MetricsOnly,
    Reset,
    Trip,
    HalfOpen,
}

impl Move {
    /// The cause of the transition this move is.
    pub(crate) const fn cause(self) -> Cause {
        match self {
            Move::ForceOpen => Cause::ForceOpen,
            Move::ForceClosed => Cause::ForceClosed,
            Move::MetricsOnly => Cause::MetricsOnly,
            Move::Reset => Cause::Reset,
            Move::Trip => Cause::Trip,
            Move::HalfOpen => Cause::HalfOpen,
        }
    }
}

/// Move `m` on word `w`: always a write.
#[inline]
pub(crate) const fn manual(w: Word, m: Move) -> Step<core::convert::Infallible> {
    let (next, after) = match m {
        Move::ForceOpen => (
            w.enter(State::ForcedOpen, w.k(), false),
            After::Event(m.cause()),
        ),
        Move::ForceClosed => (
            w.enter(State::Disabled, w.k(), false),
            After::Event(m.cause()),
        ),
        Move::MetricsOnly => (
            w.enter(State::MetricsOnly, w.k(), false),
            After::Event(m.cause()),
        ),
        Move::Reset => (w.enter(State::Closed, 0, true), After::Clear(m.cause())),
        // A trip from a state that admits calls is the first of a run (k = 0, as from
        // closed); from any other, one more consecutive trip (k + 1, as a failed probe).
        Move::Trip => {
            let k = match w.phase() {
                State::Closed | State::Disabled | State::MetricsOnly => 0,
                State::Open | State::HalfOpen | State::ForcedOpen => next_k(w.k()),
            };
            (w.enter(State::Open, k, false), After::Deadline(m.cause()))
        }
        // k kept: a failed probe re-opens with k + 1.
        Move::HalfOpen => (
            w.enter(State::HalfOpen, w.k(), false),
            After::Start(Some(m.cause())),
        ),
    };
    Step::Write(next, after)
}

/// A fleet's record adopted by the local breaker (see `crate::fleet`): one transition with
/// cause `fleet` into `target.state`, in a new generation. Open keeps `target.held` probe slots
/// taken for the half-open generation that follows (a fleet member probes only with a
/// lease); half-open starts with them taken.
#[inline]
pub(crate) const fn adopt(w: Word, target: Target, max: u32) -> Step<core::convert::Infallible> {
    let held = if target.held < max { target.held } else { max };
    let (next, after) = match target.state {
        State::Open => (
            w.enter(State::Open, target.k, false).with_probes(held, 0),
            After::Until(Cause::Fleet),
        ),
        State::HalfOpen => (
            w.enter(State::HalfOpen, target.k, false)
                .with_probes(held, 0),
            After::Start(Some(Cause::Fleet)),
        ),
        State::Closed => (w.enter(State::Closed, 0, true), After::Clear(Cause::Fleet)),
        state => (w.enter(state, w.k(), false), After::Event(Cause::Fleet)),
    };
    Step::Write(next, after)
}

/// What [`adopt`] moves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) state: State,
    pub(crate) k: u32,
    pub(crate) held: u32,
}

/// Frees `n` held probe slots of generation `generation` (a lease granted, or the fleet
/// left behind): only while that generation is open or half-open; no event.
#[inline]
pub(crate) const fn release(w: Word, generation: u32, n: u32) -> Step<bool> {
    if w.generation() != generation || !matches!(w.phase(), State::Open | State::HalfOpen) {
        return Step::Done(false);
    }
    let probes = w.probes();
    let left = probes.saturating_sub(n);
    if left == probes {
        return Step::Done(true);
    }
    Step::Write(w.with_probes(left, w.successes()), After::Nothing)
}

/// The backoff exponent of one more consecutive trip.
const fn next_k(k: u32) -> u32 {
    if k + 1 < K_MAX { k + 1 } else { K_MAX }
}

#[cfg(all(test, not(loom)))]
mod tests;
