//! [`Breaker`]: the one public state-machine type. It owns the one CAS loop on the state word
//! ([`Breaker::update`]), and what follows a landed write ([`Breaker::land`]); every decision
//! is a pure function in `step.rs` (on the words of `state.rs`, the rules of `transition.rs`).

use super::step::{self, After, Move, Reading, Step};
use crate::adoption::Adoption;
use crate::anchor::Anchor;
use crate::config::{Compiled, Config, FAST_PATHS, Kind};
use crate::counters::Counters;
use crate::error::{ConfigError, RejectReason, Rejected};
use crate::permit::{Admitted, Outcome, Permit};
use crate::snapshot::Snapshot;
use crate::state::{State, Word};
use crate::sync::{AtomicU32, HEAD_COUNTS_SUCCESSES, Ordering, const_unless_loom};
use crate::time::{Clock, LazyNow, Millis};
use crate::transition::{
    Cause, Stats, Transition, open_duration, remaining, time_diff, trip_cause,
};
use crate::window::{Marks, Window};

/// The storage a breaker needs for the largest windows (a 1,024-outcome count window or a
/// 64-bucket time window): 256 slots, 1 KiB.
pub const MAX_SLOTS: usize = 256;

/// What the breaker's words mean, as a number that changes whenever that does (bit layouts,
/// which word counts what). Code that shares one breaker between builds (the C ABI's
/// `cb_breaker_attach` on shared memory) mixes it into its check, so two builds that read
/// the words differently never attach to each other's breakers.
///
/// 2: time-window buckets count successes (not calls), the hint and folded-successes words.
/// 3: count-window head keeps laps since the clear (not the fill); cells have a pending bit.
/// 4: count-window head and `counts` carry the clear count; wider head lap, 21-bit successes.
/// 5: fields in a fixed order (`repr(C)`): counters, config, state, anchor, window (`head` last).
/// 6: an open word's `probes` are slots held for the next half-open generation (a fleet's).
#[doc(hidden)]
pub const WORD_LAYOUT: u32 = 6;

/// A lock-free circuit breaker. `Sync`: share it by `&`, `Arc`, a `static`, or memory
/// shared between processes (it holds no pointers and no heap).
///
/// `SLOTS` is the window storage, in 32-bit words: a count window needs one per four
/// outcomes, a time window four per bucket. The default (32) fits a 128-outcome count window
/// or an 8-bucket time window; [`MAX_SLOTS`] fits every window the config allows.
///
/// Every method takes `now` (see [`Clock`]); the breaker never reads a clock.
///
/// ```
/// use cbreaker::{Breaker, Config, Millis, Outcome, State};
///
/// let breaker: Breaker = Breaker::new(Config::consecutive(2)).unwrap();
/// for t in [1, 2] {
///     let p = breaker.try_acquire(Millis(t)).unwrap().permit;
///     if let Some(tr) = breaker.record(p, Outcome::Failure, None, Millis(t)) {
///         assert_eq!((tr.from, tr.to), (State::Closed, State::Open));
///     }
/// }
/// assert!(breaker.try_acquire(Millis(3)).is_err());
/// ```
// `repr(C)`: the words every call reads (the config, the state word, the anchor, the run of
// failures) sit a cache line away from the words one call writes on a hot path: the lifetime
// counters before them, the count window's `head` after the window's cells. So two threads
// on one breaker do not pass the read words' cache lines back and forth (see `layout` below;
// the two-thread figures are in docs/benchmarks.md).
#[repr(C)]
pub struct Breaker<const SLOTS: usize = 32> {
    counters: Counters,
    cfg: Compiled,
    /// The packed state word: see `state.rs` and docs/state-machine.md#packed-word.
    state: AtomicU32,
    anchor: Anchor,
    window: Window<SLOTS>,
}

impl<const SLOTS: usize> core::fmt::Debug for Breaker<SLOTS> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let w = self.load();
        f.debug_struct("Breaker")
            .field("phase", &w.phase())
            .field("generation", &w.generation())
            .field("config", &self.config())
            .finish_non_exhaustive()
    }
}

impl<const SLOTS: usize> Breaker<SLOTS> {
    const_unless_loom! {
    /// A closed breaker with an empty window. A `const fn`: a breaker can live in a `static`,
    /// and a bad config in one is a compile error.
    ///
    /// ```
    /// use cbreaker::{Breaker, Config};
    /// static BREAKER: Breaker = match Breaker::new(Config::consecutive(5)) {
    ///     Ok(b) => b,
    ///     Err(_) => panic!("bad config"),
    /// };
    /// assert!(BREAKER.try_acquire(cbreaker::Millis(0)).is_ok());
    /// ```
    ///
    /// # Errors
    /// [`ConfigError`] naming the first field out of range, or [`ConfigError::WindowSize`] /
    /// [`ConfigError::WindowBuckets`] when the window does not fit in `SLOTS`.
    // `?` is not allowed in a `const fn`, which this is outside loom builds.
    #[allow(clippy::question_mark)]
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        let cfg = match config.compile(SLOTS) {
            Ok(cfg) => cfg,
            Err(e) => return Err(e),
        };
        Ok(Breaker {
            state: AtomicU32::new(Word::INITIAL.0),
            anchor: Anchor::new(),
            window: Window::new(),
            counters: Counters::new(),
            cfg,
        })
    }
    }

    /// The config, as validated (the multiplier rounded to three decimals, a zero
    /// `open_duration_max` shown as the limit it stands for).
    #[must_use]
    pub fn config(&self) -> Config {
        self.cfg.public()
    }

    #[inline]
    pub(crate) fn load(&self) -> Word {
        // Acquire: pairs with the Release half of every CAS below, so whoever sees a new
        // generation also sees what its publisher wrote before (the anchor, window epoch).
        Word(self.state.load(Ordering::Acquire))
    }

    #[inline]
    pub(crate) fn cas(&self, from: Word, to: Word) -> Result<(), Word> {
        // AcqRel: Release publishes the new phase to every Acquire load; Acquire on success
        // orders our anchor/window work after whatever the previous owner published.
        self.state
            .compare_exchange(from.0, to.0, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(Word)
    }

    /// Whether the slow-call rule is on (it needs every call's duration).
    #[inline]
    pub(crate) fn slow_rule_on(&self) -> bool {
        self.cfg.slow_rate > 0
    }

    fn generation_now(&self) -> u32 {
        self.load().generation()
    }

    fn epoch_now(&self) -> u32 {
        self.load().epoch()
    }

    /// The one CAS loop on the state word: `step` decides on the word (starting from `w`), and
    /// either answers without a write (`Err`) or names the next word, which one CAS writes;
    /// if another call moved the word first, `step` decides again on the word found. A
    /// landed write comes back as `(from, to, after)`, for [`land`](Self::land).
    #[inline]
    fn update<A>(
        &self,
        mut w: Word,
        mut step: impl FnMut(Word) -> Step<A>,
    ) -> Result<(Word, Word, After), A> {
        loop {
            match step(w) {
                Step::Done(answer) => return Err(answer),
                Step::Write(next, after) => match self.cas(w, next) {
                    Ok(()) => return Ok((w, next, after)),
                    Err(actual) => w = actual,
                },
            }
        }
    }

    /// What follows the landed write `from → to`, done once, by its writer: the anchor (the
    /// open deadline, or the half-open start) or the window clear, then the transition event
    /// (counted, and returned). `at` is the caller's `now`, read only if needed.
    #[inline]
    fn land(
        &self,
        from: Word,
        to: Word,
        after: After,
        at: impl FnOnce() -> Millis,
    ) -> Option<Transition> {
        if after == After::Nothing {
            return None;
        }
        self.land_at(from, to, after, at())
    }

    /// [`land`](Self::land) at `at`: one copy for every caller (the window clear and the
    /// anchor publish are not small).
    #[inline(never)]
    fn land_at(&self, from: Word, to: Word, after: After, at: Millis) -> Option<Transition> {
        let g = to.generation();
        match after {
            After::Deadline(_) => {
                let d = open_duration(&self.cfg, to.k(), g);
                self.anchor
                    .publish(g, at.0.wrapping_add(d), || self.generation_now());
            }
            // The generation's start, from which lost probes are reclaimed.
            After::Start(_) => self.anchor.publish(g, at.0, || self.generation_now()),
            After::Clear(_) => self.window.clear(&self.cfg, to.epoch()),
            // The caller published the deadline it names (`adopt`).
            After::Nothing | After::Event(_) | After::Until(_) => {}
        }
        Some(self.transition(from, to, at, after.cause()?))
    }

    /// Counts the transition `from → to` and builds its event.
    fn transition(&self, from: Word, to: Word, at: Millis, cause: Cause) -> Transition {
        self.counters.entered(to.phase());
        Transition {
            from: from.phase(),
            to: to.phase(),
            at,
            generation: to.generation(),
            cause,
        }
    }

    /// Whether `w` or the window holds something no operation writes: memory written by
    /// something else (shared memory, firmware RAM). Checked on the slow paths; every
    /// operation is total over any content anyway, this only decides when to repair.
    #[cfg_attr(all(test, loom), allow(dead_code))] // see `record_general`
    fn damaged(&self, w: Word) -> bool {
        w.damaged(self.cfg.half_open_max, self.cfg.success_threshold)
            || self.window.damaged(&self.cfg, w.epoch())
    }

    /// Time left before open word `w` admits a probe, publishing a deadline from `now` if the
    /// tripping thread has not published one yet (see `anchor.rs`).
    #[inline]
    fn open_remaining(&self, w: Word, now: u64) -> Option<u64> {
        let g = w.generation();
        let deadline = match self.anchor.read(g) {
            Some(deadline) => deadline,
            None => {
                let d = open_duration(&self.cfg, w.k(), g);
                self.anchor
                    .read_or_publish(g, now.wrapping_add(d), || self.generation_now())
            }
        };
        let left = time_diff(deadline, now);
        if left <= 0 {
            return None;
        }
        // The cap (a `now` that went backwards) can only bite above the shortest duration a
        // trip can have; below it, skip computing this trip's duration.
        let left = left as u64;
        if self.cfg.jitter_percent == 0
            && left <= u64::from(self.cfg.open_ms.min(self.cfg.open_max_ms))
        {
            return Some(left);
        }
        remaining(deadline, now, open_duration(&self.cfg, w.k(), g))
    }

    fn reject(&self, reason: RejectReason, retry_after: Option<u64>) -> Rejected {
        Counters::bump(&self.counters.rejected);
        Rejected {
            retry_after: retry_after.map(Millis),
            reason,
        }
    }

    /// Time left before half-open word `w`, every slot out, reclaims its slots, publishing
    /// `now` as the generation's start if nobody has yet (see `anchor.rs`).
    fn reclaim_remaining(&self, w: Word, now: u64) -> Option<u64> {
        let wait = u64::from(self.cfg.half_open_wait_ms);
        let start = self
            .anchor
            .read_or_publish(w.generation(), now, || self.generation_now());
        remaining(start.wrapping_add(wait), now, wait)
    }

    /// Asks to make one call.
    ///
    /// Closed, `Disabled` and `MetricsOnly` admit without writing anything. Open rejects until
    /// its deadline; the first call at or after it moves to half-open (the returned
    /// [`Admitted::transition`]) and gets the first probe permit. Half-open admits up to
    /// `half_open_max_calls` probes at once.
    ///
    /// # Errors
    /// [`Rejected`] with the time until a call may be admitted (`None` when forced open).
    #[inline]
    pub fn try_acquire(&self, now: impl Clock) -> Result<Admitted, Rejected> {
        let w = self.load();
        if matches!(
            w.phase(),
            State::Closed | State::Disabled | State::MetricsOnly
        ) {
            // The common case: admitted, nothing written.
            return Ok(Admitted {
                permit: Permit(w.permit_bits()),
                transition: None,
            });
        }
        self.try_acquire_slow(w, now)
    }

    /// `try_acquire` when the breaker is open, half-open or forced open.
    #[inline(never)]
    fn try_acquire_slow(&self, w: Word, now: impl Clock) -> Result<Admitted, Rejected> {
        let mut now = LazyNow::new(now);
        let max = self.cfg.half_open_max;
        let landed = self.update(w, |w| {
            let left = match step::acquire_reads(w, max) {
                Reading::Nothing => None,
                Reading::Deadline => self.open_remaining(w, now.get().0),
                Reading::Reclaim => self.reclaim_remaining(w, now.get().0),
            };
            step::acquire(w, max, left)
        });
        match landed {
            Ok((from, next, after)) => Ok(Admitted {
                permit: Permit(next.permit_bits()),
                transition: self.land(from, next, after, || now.get()),
            }),
            Err(Ok(bits)) => Ok(Admitted {
                permit: Permit(bits),
                transition: None,
            }),
            Err(Err((reason, advice))) => Err(self.reject(reason, advice)),
        }
    }

    /// Reports how a call ended. `duration`, if given, marks the call slow when it is at or
    /// above `slow_call_duration`. Returns the transition this outcome caused, if any.
    ///
    /// An outcome from an older generation (the breaker moved on while the call ran) counts
    /// in the lifetime counters only.
    #[inline]
    pub fn record(
        &self,
        permit: Permit,
        outcome: Outcome,
        duration: Option<Millis>,
        now: impl Clock,
    ) -> Option<Transition> {
        let p = Word(permit.0);
        // The common case, straight-line: a plain success in a closed count or time window
        // whose run of failures is zero. Anything else (or a stale permit) takes the general
        // path, which is also where this one goes if it finds nothing to do.
        if FAST_PATHS
            && outcome == Outcome::Success
            && duration.is_none()
            && p.phase() == State::Closed
            && self.load().permit_bits() == p.0
        {
            let live = || self.epoch_now();
            match self.cfg.kind() {
                Kind::Count => {
                    if let Some(check) = self.window.count_success_fast(&self.cfg, p.epoch(), &live)
                    {
                        // A count window's figures do not depend on `now`.
                        return self.fast_success_done(p, HEAD_COUNTS_SUCCESSES, check, 0, now);
                    }
                }
                Kind::Time => {
                    let t = now.now();
                    return match self
                        .window
                        .time_success_fast(&self.cfg, p.epoch(), t.0, &live)
                    {
                        Some((counted, check)) => self.fast_success_done(p, counted, check, t.0, t),
                        None => self.record_general(permit, outcome, duration, t),
                    };
                }
                Kind::Consecutive => {}
            }
        }
        self.record_general(permit, outcome, duration, now)
    }

    /// The rest of a fast-path success: the lifetime counter when the window did not count
    /// it (`counted`), and the trip rules when the window asks for them (`check`), on its
    /// figures at `at`.
    #[inline]
    fn fast_success_done(
        &self,
        p: Word,
        counted: bool,
        check: bool,
        at: u64,
        now: impl Clock,
    ) -> Option<Transition> {
        if !counted {
            Counters::bump(&self.counters.successes);
        }
        if !check {
            return None;
        }
        self.check_trip(p, self.window.stats(&self.cfg, p.epoch(), at), now)
    }

    /// Trips the breaker if the window figures `stats` (just after an outcome of permit `p`
    /// entered the window) meet a rule.
    #[inline(never)]
    fn check_trip(&self, p: Word, stats: Stats, now: impl Clock) -> Option<Transition> {
        let cause = trip_cause(&self.cfg, stats)?;
        // Only a word of the permit's own generation may trip: exactly one of many
        // concurrent recorders wins this CAS (invariant 1).
        let seen = self.load();
        let (from, next, after) = self
            .update(seen, |w| step::rule_trip(w, seen, p.0, cause))
            .ok()?;
        self.land(from, next, after, || now.now())
    }

    #[inline(never)]
    fn record_general(
        &self,
        permit: Permit,
        outcome: Outcome,
        duration: Option<Millis>,
        now: impl Clock,
    ) -> Option<Transition> {
        let slow = outcome != Outcome::Ignored
            && duration.is_some_and(|d| d.0 >= u64::from(self.cfg.slow_ms));
        match outcome {
            // A success is counted below: by the window's head if it claims a position there,
            // else by the lifetime counter.
            Outcome::Success => {}
            Outcome::Failure => Counters::bump(&self.counters.failures),
            Outcome::Ignored => Counters::bump(&self.counters.ignored),
        }
        if slow {
            Counters::bump(&self.counters.slow);
        }
        let p = Word(permit.0);
        let mut now = LazyNow::new(now);
        let w = self.load();
        // Only memory written by something else is damaged: never a state loom reaches, so the
        // models leave out the window read rather than explore every schedule around it.
        #[cfg(not(all(test, loom)))]
        {
            if self.damaged(w) {
                // Repaired: closed, window cleared. The outcome counted above; its generation
                // ends with the repair.
                let (from, next, after) = self.update(w, |cur| step::repair(cur, w)).ok()?;
                return self.land(from, next, after, || now.get());
            }
        }
        let success = outcome == Outcome::Success;
        let in_window = matches!(p.phase(), State::Closed | State::MetricsOnly)
            && outcome != Outcome::Ignored
            && w.permit_bits() == p.0;
        if !in_window {
            if success {
                Counters::bump(&self.counters.successes);
            }
            return match p.phase() {
                State::HalfOpen => self.record_probe(p, outcome, slow, &mut now),
                _ => None, // stale, ignored, or a state that keeps no window
            };
        }
        let marks = Marks {
            failure: outcome == Outcome::Failure,
            slow,
        };
        let (counted, stats) =
            self.window
                .record(&self.cfg, p.epoch(), marks, success, &mut now, &|| {
                    self.epoch_now()
                });
        if success && !counted {
            Counters::bump(&self.counters.successes);
        }
        if p.phase() != State::Closed {
            return None; // MetricsOnly never trips
        }
        self.check_trip(p, stats?, move || now.get())
    }

    fn record_probe<C: Clock>(
        &self,
        p: Word,
        outcome: Outcome,
        slow: bool,
        now: &mut LazyNow<C>,
    ) -> Option<Transition> {
        let (slow, threshold) = (slow && self.cfg.slow_rate > 0, self.cfg.success_threshold);
        let (from, next, after) = self
            .update(self.load(), |w| {
                step::probe(w, p.0, outcome, slow, threshold)
            })
            .ok()?;
        self.land(from, next, after, || now.get())
    }

    /// Gives a permit back unused (a call abandoned before it ran): counted as ignored, and
    /// frees its half-open slot.
    pub fn release(&self, permit: Permit, now: impl Clock) {
        let _ = self.record(permit, Outcome::Ignored, None, now);
    }

    /// Manual move `m`: always exactly one transition.
    fn manual(&self, m: Move, now: impl Clock) -> Transition {
        let at = now.now();
        let Ok((from, next, after)) = self.update(self.load(), |w| step::manual(w, m));
        // Every move's write is a transition, with the move's own cause.
        self.land(from, next, after, || at)
            .unwrap_or_else(|| self.transition(from, next, at, m.cause()))
    }

    /// Rejects every call until `reset`, `force_closed` or `metrics_only`.
    pub fn force_open(&self, now: impl Clock) -> Transition {
        self.manual(Move::ForceOpen, now)
    }

    /// Admits every call and never trips (state `Disabled`) until `reset`, `force_open` or
    /// `metrics_only`.
    pub fn force_closed(&self, now: impl Clock) -> Transition {
        self.manual(Move::ForceClosed, now)
    }

    /// Admits every call, keeps the window and the metrics, never trips.
    pub fn metrics_only(&self, now: impl Clock) -> Transition {
        self.manual(Move::MetricsOnly, now)
    }

    /// Back to `Closed` with an empty window and the backoff reset. Lifetime counters stay.
    pub fn reset(&self, now: impl Clock) -> Transition {
        self.manual(Move::Reset, now)
    }

    /// Opens the circuit by hand, as an automatic trip would: the deadline is the open
    /// duration of this trip, and the breaker moves to half-open by itself after it (unlike
    /// [`force_open`](Self::force_open)). From a state that admits calls (`Closed`,
    /// `Disabled`, `MetricsOnly`) it is the first trip of a run (backoff exponent 0, as a
    /// trip from `Closed`); from `Open`, `HalfOpen` or `ForcedOpen` it is one more
    /// consecutive trip (exponent k + 1, as a failed probe). The window is kept.
    ///
    /// ```
    /// use cbreaker::{Breaker, Cause, Config, Millis, State};
    /// let breaker: Breaker = Breaker::new(Config { open_duration: Millis(500), ..Config::count(10) }).unwrap();
    /// let t = breaker.trip(Millis(0));
    /// assert_eq!((t.from, t.to, t.cause), (State::Closed, State::Open, Cause::Trip));
    /// assert_eq!(breaker.try_acquire(Millis(100)).unwrap_err().retry_after, Some(Millis(400)));
    /// assert!(breaker.try_acquire(Millis(500)).is_ok()); // recovers by itself
    /// ```
    pub fn trip(&self, now: impl Clock) -> Transition {
        self.manual(Move::Trip, now)
    }

    /// Moves the circuit to half-open by hand: probes are admitted (up to
    /// `half_open_max_calls`) as after an open deadline, and their outcomes close or re-open
    /// it. The backoff exponent is kept, so a failed probe re-opens with k + 1. The window
    /// is kept until the circuit closes.
    ///
    /// ```
    /// use cbreaker::{Breaker, Cause, Config, Millis, Outcome, State};
    /// let breaker: Breaker = Breaker::new(Config::count(10)).unwrap();
    /// breaker.force_open(Millis(0));
    /// let t = breaker.half_open(Millis(1));
    /// assert_eq!((t.from, t.to, t.cause), (State::ForcedOpen, State::HalfOpen, Cause::HalfOpen));
    /// let probe = breaker.try_acquire(Millis(2)).unwrap().permit;
    /// let closed = breaker.record(probe, Outcome::Success, None, Millis(3)).unwrap();
    /// assert_eq!(closed.to, State::Closed);
    /// ```
    pub fn half_open(&self, now: impl Clock) -> Transition {
        self.manual(Move::HalfOpen, now)
    }

    /// Follows a fleet's record: one transition with cause [`Cause::Fleet`] into
    /// `adoption.state`, in a new generation (outcomes of calls admitted before it are
    /// stale). Open gets the fleet's deadline (`open_for` from `now`, capped as any open
    /// deadline is); open and half-open keep `held` probe slots taken, so the member probes
    /// only with the leases the fleet handed it ([`release_slots`](Self::release_slots)
    /// frees them). Closed clears the window. Used by the fleet agent (`crate::fleet`).
    ///
    /// ```
    /// use cbreaker::{Adoption, Breaker, Cause, Config, Millis, State};
    /// let breaker: Breaker = Breaker::new(Config { half_open_max_calls: 2, ..Config::count(10) }).unwrap();
    /// let t = breaker.adopt(Adoption::open(Millis(500), 0, 2), Millis(0));
    /// assert_eq!((t.to, t.cause), (State::Open, Cause::Fleet));
    /// assert_eq!(breaker.try_acquire(Millis(100)).unwrap_err().retry_after, Some(Millis(400)));
    /// // The deadline passed, but both probe slots are held: no probe without a lease.
    /// assert!(breaker.try_acquire(Millis(600)).is_err());
    /// assert!(breaker.release_slots(t.generation, 1));
    /// assert!(breaker.try_acquire(Millis(601)).is_ok());
    /// assert!(breaker.try_acquire(Millis(602)).is_err());
    /// ```
    pub fn adopt(&self, adoption: Adoption, now: impl Clock) -> Transition {
        let at = now.now();
        let target = step::Target {
            state: adoption.state,
            k: adoption.k.min(crate::state::K_MAX),
            held: adoption.held,
        };
        let max = self.cfg.half_open_max;
        let Ok((from, next, after)) = self.update(self.load(), |w| step::adopt(w, target, max));
        if let After::Until(_) = after {
            let cap = open_duration(&self.cfg, next.k(), next.generation());
            let deadline = at.0.wrapping_add(adoption.open_for.0.min(cap));
            self.anchor
                .publish(next.generation(), deadline, || self.generation_now());
        }
        self.land_at(from, next, after, at)
            .unwrap_or_else(|| self.transition(from, next, at, Cause::Fleet))
    }

    /// Frees `n` probe slots held by [`adopt`](Self::adopt) in generation `generation`, while
    /// the breaker is still open or half-open in it. Returns whether it was.
    pub fn release_slots(&self, generation: u32, n: u32) -> bool {
        match self.update(self.load(), |w| step::release(w, generation, n)) {
            Ok(_) => true,
            Err(still) => still,
        }
    }

    /// The state a `try_acquire` at `now` would see. Takes no permit and changes nothing.
    pub fn state(&self, now: impl Clock) -> State {
        let w = self.load();
        match w.phase() {
            State::Open if self.open_left(w, now.now().0).is_none() => State::HalfOpen,
            phase => phase,
        }
    }

    /// Time left open, read-only (an unpublished deadline counts from `now`).
    fn open_left(&self, w: Word, now: u64) -> Option<u64> {
        let d = open_duration(&self.cfg, w.k(), w.generation());
        let deadline = self
            .anchor
            .read(w.generation())
            .unwrap_or(now.wrapping_add(d));
        remaining(deadline, now, d)
    }

    /// State, window figures and lifetime counters at `now`. Takes no permit and changes
    /// nothing.
    pub fn snapshot(&self, now: impl Clock) -> Snapshot {
        let t = now.now().0;
        let w = self.load();
        let (state, retry_after) = match w.phase() {
            State::Open => match self.open_left(w, t) {
                Some(left) => (State::Open, Some(Millis(left))),
                None => (State::HalfOpen, None),
            },
            State::HalfOpen if w.probes() >= self.cfg.half_open_max => {
                let wait = u64::from(self.cfg.half_open_wait_ms);
                let left = self
                    .anchor
                    .read(w.generation())
                    .and_then(|s| remaining(s.wrapping_add(wait), t, wait));
                (
                    State::HalfOpen,
                    left.map(|l| Millis(step::half_open_full_advice(l))),
                )
            }
            phase => (phase, None),
        };
        let stats = self.window.stats(&self.cfg, w.epoch(), t);
        let c = &self.counters;
        let (successes, failures, ignored) = (
            Counters::read(&c.successes).wrapping_add(self.window.successes(&self.cfg)),
            Counters::read(&c.failures),
            Counters::read(&c.ignored),
        );
        let rate = |n: u32| {
            if stats.calls == 0 {
                0.0
            } else {
                100.0 * f64::from(n) / f64::from(stats.calls)
            }
        };
        Snapshot {
            state,
            generation: w.generation(),
            // Wrapping, like the counters themselves on 32-bit targets.
            calls: successes.wrapping_add(failures).wrapping_add(ignored),
            successes,
            failures,
            ignored,
            slow: Counters::read(&c.slow),
            rejected: Counters::read(&c.rejected),
            transitions: core::array::from_fn(|i| c.transitions[i].load(Ordering::Relaxed)),
            window_calls: stats.calls,
            window_failures: stats.failures,
            window_slow: stats.slow,
            failure_rate: rate(stats.failures),
            slow_rate: rate(stats.slow),
            consecutive_failures: stats.consecutive,
            retry_after,
        }
    }
}

#[cfg(all(test, loom))]
impl<const SLOTS: usize> Breaker<SLOTS> {
    /// `(window_calls, window_failures)` read as [`snapshot`](Self::snapshot) reads them,
    /// without the lifetime counters: a model that checks only the window's bounds gives loom
    /// a dozen fewer loads to interleave per check.
    pub(crate) fn window_counts(&self) -> (u32, u32) {
        let w = self.load();
        let s = self.window.stats(&self.cfg, w.epoch(), 0);
        (s.calls, s.failures)
    }

    /// The raw window words, for loom failure messages.
    pub(crate) fn window_debug(&self) -> std::string::String {
        use crate::sync::Ordering::SeqCst;
        std::format!(
            "state={:#x} head={:#x} counts={:#x} cells={:#x}",
            self.state.load(SeqCst),
            self.window.head.load(SeqCst),
            self.window.counts.load(SeqCst),
            self.window.slots[0].load(SeqCst)
        )
    }
}

#[cfg(all(test, not(loom)))]
impl<const SLOTS: usize> Breaker<SLOTS> {
    /// The raw words, for tests that write what no operation writes.
    pub(crate) fn raw(&mut self) -> (&AtomicU32, &Window<SLOTS>, &mut Compiled) {
        (&self.state, &self.window, &mut self.cfg)
    }
}

#[allow(dead_code)]
fn assert_sync() {
    fn is_sync<T: Sync + Send>() {}
    is_sync::<Breaker>();
    let _ = time_diff;
}

#[cfg(all(test, not(loom)))]
mod layout {
    use super::Breaker;
    use crate::counters::Counters;
    use crate::window::Window;
    use core::mem::offset_of;
    use core::ops::Range;

    const LINE: usize = 64;

    /// Whether byte ranges `a` and `b` of a breaker can share a cache line, wherever the
    /// breaker starts (it is 8-aligned).
    fn may_share(a: &Range<usize>, b: &Range<usize>) -> bool {
        (0..LINE).step_by(8).any(|base| {
            let lines = |r: &Range<usize>| (base + r.start) / LINE..=(base + r.end - 1) / LINE;
            let (a, b) = (lines(a), lines(b));
            a.start() <= b.end() && b.start() <= a.end()
        })
    }

    fn field(at: usize, len: usize) -> Range<usize> {
        at..at + len
    }

    /// Every call reads the config (all but the jitter seed), the state word, the anchor and
    /// the run of failures. A count-window success writes `head`; a consecutive-only success
    /// the `successes` counter; a rejection the `rejected` counter. None of those may share a
    /// line with the words every call reads, so two threads on one breaker do not take those
    /// lines from each other.
    fn check<const S: usize>() {
        let counters = offset_of!(Breaker<S>, counters);
        let window = offset_of!(Breaker<S>, window);
        let cfg = offset_of!(Breaker<S>, cfg) + 8; // the jitter seed is read only to jitter
        let read = [
            field(cfg, size_of::<crate::config::Compiled>() - 8),
            field(offset_of!(Breaker<S>, state), 4),
            field(offset_of!(Breaker<S>, anchor), 8),
            field(window + offset_of!(Window<S>, run), 4),
        ];
        let counter = size_of::<crate::sync::AtomicCounter>();
        let written = [
            ("head", field(window + offset_of!(Window<S>, head), 8)),
            (
                "rejected",
                field(counters + offset_of!(Counters, rejected), counter),
            ),
            (
                "successes",
                field(counters + offset_of!(Counters, successes), counter),
            ),
        ];
        for (name, w) in &written {
            if *name == "head" && S < 16 {
                continue; // a window of a few cells: too small to keep the head a line away
            }
            for r in &read {
                assert!(
                    !may_share(w, r),
                    "Breaker<{S}>: {name} at {w:?} may share a line with {r:?}"
                );
            }
        }
    }

    #[test]
    fn words_read_on_every_call_keep_off_the_lines_hot_paths_write() {
        check::<0>();
        check::<32>();
        check::<40>();
        check::<{ crate::MAX_SLOTS }>();
    }
}
