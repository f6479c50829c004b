//! `std`: run a call through a breaker. `call`, `call_async`, `call_with_fallback` (the
//! [`Calls`] trait, written once for `Breaker` and `ServiceBreaker`), a classifier for which
//! results count as failures, and a permit guard that settles as cancelled (`Ignored`) when
//! it is dropped unsettled (a cancelled future, a panic, an early return).

extern crate std;

use core::fmt;
use core::future::Future;
use std::time::Instant;

use crate::breaker::Breaker;
use crate::error::RejectReason;
use crate::error::Rejected;
use crate::monotonic;
use crate::permit::{Outcome, Permit};
use crate::protocol::{Call, End};
use crate::service::ServiceBreaker;
use crate::time::Millis;
use crate::transition::Transition;

/// Why a call through a breaker returned no value: the breaker refused it, or it ran and
/// failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallError<E> {
    /// The breaker did not let the call run (the dependency was not touched).
    Rejected {
        /// How long a client should wait before trying again; `None` while forced open.
        retry_after: Option<Millis>,
        /// Why the call was refused.
        reason: RejectReason,
    },
    /// The call ran and returned this error.
    Inner(E),
}

impl<E> CallError<E> {
    /// Whether the breaker refused the call.
    #[must_use]
    pub const fn is_rejected(&self) -> bool {
        matches!(self, CallError::Rejected { .. })
    }

    /// The inner error, if the call ran.
    pub fn into_inner(self) -> Option<E> {
        match self {
            CallError::Inner(e) => Some(e),
            CallError::Rejected { .. } => None,
        }
    }

    /// Maps the inner error.
    pub fn map<F>(self, f: impl FnOnce(E) -> F) -> CallError<F> {
        match self {
            CallError::Inner(e) => CallError::Inner(f(e)),
            CallError::Rejected {
                retry_after,
                reason,
            } => CallError::Rejected {
                retry_after,
                reason,
            },
        }
    }
}

impl<E> From<Rejected> for CallError<E> {
    fn from(r: Rejected) -> Self {
        CallError::Rejected {
            retry_after: r.retry_after,
            reason: r.reason,
        }
    }
}

impl<E: fmt::Display> fmt::Display for CallError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Rejected {
                retry_after,
                reason,
            } => fmt::Display::fmt(
                &Rejected {
                    retry_after: *retry_after,
                    reason: *reason,
                },
                f,
            ),
            CallError::Inner(e) => e.fmt(f),
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for CallError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            CallError::Inner(e) => Some(e),
            CallError::Rejected { .. } => None,
        }
    }
}

/// The default classifier: `Ok` is a success, `Err` a failure.
#[inline]
pub fn errors_are_failures<T, E>(result: &Result<T, E>) -> Outcome {
    match result {
        Ok(_) => Outcome::Success,
        Err(_) => Outcome::Failure,
    }
}

/// A permit that settles itself. [`record`](PermitGuard::record) reports the outcome (with
/// the call's duration when the core's timing rule says the call is timed); dropping the
/// guard unsettled (the future that held it was cancelled, the code panicked or returned
/// early) settles it as [`End::Cancelled`], which counts as `Ignored` and frees a half-open
/// slot. Every rule is the core's call protocol ([`Breaker::begin`] / [`Breaker::finish`]).
#[must_use = "dropping the guard at once releases the permit as Ignored"]
#[derive(Debug)]
pub struct PermitGuard<'a, const SLOTS: usize> {
    breaker: &'a Breaker<SLOTS>,
    durations: Option<&'a ServiceBreaker<SLOTS>>,
    call: Call,
    /// When a timed call started: durations are measured with `Instant` (see `monotonic`).
    start: Option<Instant>,
}

impl<'a, const SLOTS: usize> PermitGuard<'a, SLOTS> {
    /// Begins a call (the clock is read only if the state or the timing rule needs it); its
    /// duration goes to the site's histogram and sink, if any.
    #[inline(always)]
    pub(crate) fn acquire(
        site: CallSite<'a, SLOTS>,
    ) -> Result<(Self, Option<Transition>), Rejected> {
        let CallSite { breaker, durations } = site;
        let begun = breaker.begin(monotonic::now, durations.is_some())?;
        #[cfg(feature = "tracing")]
        if let Some(t) = &begun.transition {
            crate::events::transition(None, t);
        }
        Ok((
            PermitGuard {
                breaker,
                durations,
                start: begun.call.is_timed().then(Instant::now),
                call: begun.call,
            },
            begun.transition,
        ))
    }

    /// The permit this guard holds.
    pub fn permit(&self) -> Permit {
        self.call.permit()
    }

    /// Whether the call is timed (the core's rule: the slow-call rule is on, or a histogram
    /// or a duration sink is fed).
    #[must_use]
    pub fn is_timed(&self) -> bool {
        self.call.is_timed()
    }

    /// Reports the outcome. Returns the transition it caused, if any.
    #[inline(always)]
    pub fn record(self, outcome: Outcome) -> Option<Transition> {
        self.finish(End::from(outcome))
    }

    /// Reports how the call ended ([`End::TimedOut`] counts as a failure,
    /// [`End::Cancelled`] as ignored). Returns the transition it caused, if any.
    #[inline(always)]
    pub fn finish(mut self, end: End) -> Option<Transition> {
        self.settle(end)
    }

    #[inline(always)]
    fn settle(&mut self, end: End) -> Option<Transition> {
        // A guard is settled once (record and finish consume it; drop checks), so this
        // never meets `PermitSettled`.
        let took = self.start.map(|start| start.elapsed());
        let done = match took {
            Some(took) => self.breaker.finish_measured(
                &mut self.call,
                end,
                monotonic::now,
                Millis(monotonic::millis(took)),
            ),
            None => self.breaker.finish(&mut self.call, end, monotonic::now),
        }
        .ok()?;
        if let (Some(d), Some(_), Some(took)) = (self.durations, done.observed(), took) {
            d.observe(done.outcome, took);
        }
        #[cfg(feature = "tracing")]
        if let Some(t) = &done.transition {
            crate::events::transition(None, t);
        }
        done.transition
    }

    /// Gives the permit back unused (counted as `Ignored`). Dropping the guard does the same.
    pub fn release(mut self) {
        self.settle(End::Cancelled);
    }
}

impl<const SLOTS: usize> Drop for PermitGuard<'_, SLOTS> {
    #[inline(always)]
    fn drop(&mut self) {
        if !self.call.is_settled() {
            self.settle(End::Cancelled);
        }
    }
}

/// Where a call runs: the breaker, and where timed calls' durations go, if anywhere.
#[derive(Clone, Copy, Debug)]
pub struct CallSite<'a, const SLOTS: usize> {
    /// The breaker that admits and records.
    pub breaker: &'a Breaker<SLOTS>,
    /// The service breaker whose histogram and duration sink timed calls feed (`Some` makes
    /// every call timed).
    pub durations: Option<&'a ServiceBreaker<SLOTS>>,
}

/// The `std` call helpers, written once for [`Breaker`] and
/// [`ServiceBreaker`](crate::ServiceBreaker) (which also feeds its histogram). Each runs the
/// core's call protocol: a call is timed only when the core's rule says so
/// ([`Breaker::times_calls`]), and the clock is read only where a decision needs it.
///
/// ```
/// use cbreaker::{Breaker, CallError, Calls, Config};
/// let breaker: Breaker = Breaker::new(Config::consecutive(2)).unwrap();
/// for _ in 0..2 {
///     assert_eq!(breaker.call(|| Err::<(), _>("down")), Err(CallError::Inner("down")));
/// }
/// assert!(breaker.call(|| Ok::<_, &str>(1)).unwrap_err().is_rejected());
/// ```
pub trait Calls<const SLOTS: usize> {
    /// The breaker and sink calls go through.
    fn site(&self) -> CallSite<'_, SLOTS>;

    /// Begins a call wrapped in a [`PermitGuard`], for calls that do not fit a closure.
    ///
    /// # Errors
    /// [`Rejected`] while the breaker refuses calls.
    ///
    /// ```
    /// use cbreaker::{Breaker, Calls, Config, Outcome};
    /// let breaker: Breaker = Breaker::new(Config::consecutive(1)).unwrap();
    /// let guard = breaker.guard().unwrap();
    /// drop(guard); // cancelled: counted as ignored, nothing trips
    /// assert_eq!(breaker.snapshot(cbreaker::monotonic::now).ignored, 1);
    /// let guard = breaker.guard().unwrap();
    /// assert!(guard.record(Outcome::Failure).is_some()); // tripped
    /// ```
    #[inline]
    fn guard(&self) -> Result<PermitGuard<'_, SLOTS>, Rejected> {
        PermitGuard::acquire(self.site()).map(|(g, _)| g)
    }

    /// Runs `f` if the breaker admits it; `Err` counts as a failure, `Ok` as a success.
    ///
    /// # Errors
    /// [`CallError::Rejected`] without running `f`, or [`CallError::Inner`] with `f`'s error.
    #[inline]
    fn call<T, E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, CallError<E>> {
        self.call_classified(errors_are_failures, f)
    }

    /// [`call`](Self::call) with a classifier deciding each result's outcome: for example, a
    /// "not found" error as a success, a caller's mistake as `Ignored`.
    ///
    /// # Errors
    /// As [`call`](Self::call).
    #[inline]
    fn call_classified<T, E>(
        &self,
        classify: impl FnOnce(&Result<T, E>) -> Outcome,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, CallError<E>> {
        let guard = self.guard()?;
        let result = f();
        guard.record(classify(&result));
        result.map_err(CallError::Inner)
    }

    /// Runs `f`, or `fallback` when the breaker rejects the call or `f` fails.
    #[inline]
    fn call_with_fallback<T, E>(
        &self,
        f: impl FnOnce() -> Result<T, E>,
        fallback: impl FnOnce(CallError<E>) -> T,
    ) -> T {
        self.call(f).unwrap_or_else(fallback)
    }

    /// Awaits `fut` if the breaker admits it. The permit is taken when the returned future
    /// is first polled; dropping it while `fut` is pending settles the call as cancelled
    /// (`Ignored`).
    ///
    /// # Errors
    /// [`CallError::Rejected`] without polling `fut`, or [`CallError::Inner`].
    fn call_async<T, E>(
        &self,
        fut: impl Future<Output = Result<T, E>>,
    ) -> impl Future<Output = Result<T, CallError<E>>> {
        self.call_async_classified(errors_are_failures, fut)
    }

    /// [`call_async`](Self::call_async) with a classifier.
    ///
    /// # Errors
    /// As [`call_async`](Self::call_async).
    fn call_async_classified<T, E>(
        &self,
        classify: impl FnOnce(&Result<T, E>) -> Outcome,
        fut: impl Future<Output = Result<T, E>>,
    ) -> impl Future<Output = Result<T, CallError<E>>> {
        let site = self.site();
        async move {
            // The permit is taken on the first poll; a future dropped before that took
            // nothing, and one dropped while `fut` is pending drops the guard (cancelled).
            let (guard, _) = PermitGuard::acquire(site)?;
            let result = fut.await;
            guard.record(classify(&result));
            result.map_err(CallError::Inner)
        }
    }

    /// [`call_async`](Self::call_async), or `fallback` on a rejection or an error.
    fn call_async_with_fallback<T, E>(
        &self,
        fut: impl Future<Output = Result<T, E>>,
        fallback: impl FnOnce(CallError<E>) -> T,
    ) -> impl Future<Output = T> {
        let call = self.call_async(fut);
        async move { call.await.unwrap_or_else(fallback) }
    }
}

impl<const SLOTS: usize> Calls<SLOTS> for Breaker<SLOTS> {
    #[inline]
    fn site(&self) -> CallSite<'_, SLOTS> {
        CallSite {
            breaker: self,
            durations: None,
        }
    }
}
