//! The call protocol every helper runs on, in every language: `begin` → [`Call`] →
//! `finish`. It owns the call layer's rules, so no binding decides them:
//! - whether a call is timed: the slow-call rule is on, or the caller feeds a duration sink;
//! - a timed call always reports its duration (`finish`'s `now` − `begin`'s `now`);
//! - a call is settled exactly once: a second `finish` is [`PermitSettled`];
//! - how a call ended ([`End`]) maps to an [`Outcome`]: a timeout is a failure, a
//!   cancellation (or a call dropped unsettled) is ignored.
//!
//! ```
//! use cbreaker::{Breaker, Config, End, Millis, Outcome};
//! let breaker: Breaker = Breaker::new(Config { slow_call_rate_threshold: 50, ..Config::count(10) }).unwrap();
//! let mut call = breaker.begin(Millis(100), false).unwrap().call;
//! assert!(call.is_timed()); // the slow-call rule needs durations
//! let done = breaker.finish(&mut call, End::TimedOut, Millis(350)).unwrap();
//! assert_eq!((done.outcome, done.duration), (Outcome::Failure, Some(Millis(250))));
//! ```

use crate::breaker::Breaker;
use crate::error::{PermitSettled, Rejected};
use crate::permit::{Outcome, Permit};
use crate::time::{Clock, Millis};
use crate::transition::Transition;

/// How a call through a helper ended, as the binding saw it. The core maps it to the
/// [`Outcome`] the breaker records ([`End::outcome`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum End {
    /// It returned a value the caller's classifier calls a success.
    Success = 0,
    /// It failed (an error, an exception, a rejected promise the classifier counts).
    Failure = 1,
    /// An excluded error: counts nowhere but `ignored`.
    Ignored = 2,
    /// The helper's own timeout fired before it returned: a failure.
    TimedOut = 3,
    /// The caller gave up on it (a cancelled task, an aborted signal, a permit dropped or
    /// collected unsettled): ignored.
    Cancelled = 4,
}

impl End {
    /// Every ending, in discriminant order (`ALL[e as usize] == e`).
    pub const ALL: [End; 5] = [
        End::Success,
        End::Failure,
        End::Ignored,
        End::TimedOut,
        End::Cancelled,
    ];

    /// The outcome the breaker records for this ending.
    #[must_use]
    pub const fn outcome(self) -> Outcome {
        match self {
            End::Success => Outcome::Success,
            End::Failure | End::TimedOut => Outcome::Failure,
            End::Ignored | End::Cancelled => Outcome::Ignored,
        }
    }

    /// The snake_case name used in vectors and bindings.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            End::Success => "success",
            End::Failure => "failure",
            End::Ignored => "ignored",
            End::TimedOut => "timeout",
            End::Cancelled => "cancelled",
        }
    }
}

impl From<Outcome> for End {
    fn from(outcome: Outcome) -> End {
        match outcome {
            Outcome::Success => End::Success,
            Outcome::Failure => End::Failure,
            Outcome::Ignored => End::Ignored,
        }
    }
}

/// One admitted call: its permit, when timing started (if the call is timed), and whether it
/// was settled. Plain data, so a binding can keep it in its own permit object; only
/// [`Breaker::finish`] settles it.
#[must_use = "a call must be settled with `finish`"]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Call {
    permit: Permit,
    started: Option<Millis>,
    settled: bool,
}

impl Call {
    /// The permit it holds.
    pub const fn permit(&self) -> Permit {
        self.permit
    }

    /// When timing started, for a timed call.
    #[must_use]
    pub const fn started(&self) -> Option<Millis> {
        self.started
    }

    /// Whether `finish` will report a duration.
    #[must_use]
    pub const fn is_timed(&self) -> bool {
        self.started.is_some()
    }

    /// Whether it was settled already.
    #[must_use]
    pub const fn is_settled(&self) -> bool {
        self.settled
    }

    /// A call rebuilt from its parts, for bindings that store it outside Rust (the C ABI's
    /// `cb_permit`). Any parts are memory-safe: a permit that matches no current generation
    /// is stale.
    pub const fn from_parts(permit: Permit, started: Option<Millis>, settled: bool) -> Call {
        Call {
            permit,
            started,
            settled,
        }
    }
}

/// A call was admitted: the call to settle, and the transition `begin` caused, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Begun {
    /// Settle it exactly once with [`Breaker::finish`].
    pub call: Call,
    /// `Open → HalfOpen` when the open duration had passed.
    pub transition: Option<Transition>,
}

/// What `finish` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finished {
    /// The outcome recorded.
    pub outcome: Outcome,
    /// The call's duration, for a timed call (whatever the ending).
    pub duration: Option<Millis>,
    /// The transition this outcome caused, if any.
    pub transition: Option<Transition>,
}

impl Finished {
    /// The duration a duration sink (a histogram) observes: a timed call that ran to a
    /// success or a failure. Ignored and cancelled calls are not observed.
    #[must_use]
    pub const fn observed(&self) -> Option<Millis> {
        match self.outcome {
            Outcome::Ignored => None,
            Outcome::Success | Outcome::Failure => self.duration,
        }
    }
}

impl<const SLOTS: usize> Breaker<SLOTS> {
    /// The one timing rule: calls are timed when the slow-call rule is on, or when the
    /// caller feeds their durations to a sink (`sink`).
    #[inline]
    #[must_use]
    pub fn times_calls(&self, sink: bool) -> bool {
        sink || self.slow_rule_on()
    }

    /// Starts one call at `now`: a permit, and the start time if the call is timed (see
    /// [`times_calls`](Self::times_calls)). An untimed call reads the clock only where the
    /// decision needs it.
    ///
    /// # Errors
    /// [`Rejected`], with its reason and retry advice.
    #[inline(always)]
    pub fn begin(&self, now: impl Clock, sink: bool) -> Result<Begun, Rejected> {
        let (admitted, started) = if self.times_calls(sink) {
            let t = now.now();
            (self.try_acquire(t)?, Some(t))
        } else {
            (self.try_acquire(now)?, None)
        };
        Ok(Begun {
            call: Call {
                permit: admitted.permit,
                started,
                settled: false,
            },
            transition: admitted.transition,
        })
    }

    /// Settles `call` at `now`: records the outcome of `end`, with the duration since
    /// `begin` when the call is timed (a `now` before the start counts as 0).
    ///
    /// # Errors
    /// [`PermitSettled`] if `call` was settled already; nothing is recorded then.
    #[inline(always)]
    pub fn finish(
        &self,
        call: &mut Call,
        end: End,
        now: impl Clock,
    ) -> Result<Finished, PermitSettled> {
        self.settle(call, end, now, None)
    }

    /// [`finish`](Self::finish) with the duration the caller measured on a finer clock than
    /// the one it passes as `now` (Rust's helpers pass a coarse `now` and time calls with
    /// `Instant`). The measurement is used only if the call is timed: the timing rule stays
    /// the core's.
    ///
    /// # Errors
    /// As [`finish`](Self::finish).
    #[inline(always)]
    pub fn finish_measured(
        &self,
        call: &mut Call,
        end: End,
        now: impl Clock,
        measured: Millis,
    ) -> Result<Finished, PermitSettled> {
        self.settle(call, end, now, Some(measured))
    }

    #[inline(always)]
    fn settle(
        &self,
        call: &mut Call,
        end: End,
        now: impl Clock,
        measured: Option<Millis>,
    ) -> Result<Finished, PermitSettled> {
        if call.settled {
            return Err(PermitSettled);
        }
        call.settled = true;
        let outcome = end.outcome();
        // `now` goes to `record` as it came (read only if the decision needs it), unless the
        // duration needs it first: one clock type per path, so `record` stays the same code
        // the plain verb runs.
        let (duration, transition) = match (call.started, measured) {
            (None, _) => (None, self.record(call.permit, outcome, None, now)),
            (Some(_), Some(took)) => (
                Some(took),
                self.record(call.permit, outcome, Some(took), now),
            ),
            (Some(start), None) => {
                let t = now.now();
                let took = Millis(t.0.saturating_sub(start.0));
                (Some(took), self.record(call.permit, outcome, Some(took), t))
            }
        };
        Ok(Finished {
            outcome,
            duration,
            transition,
        })
    }
}
