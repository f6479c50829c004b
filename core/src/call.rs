//! `std`: run a call through a breaker. `call`, `call_async`, `call_with_fallback`, a
//! classifier for which results count as failures, and a permit guard that records `Ignored`
//! when it is dropped unsettled (a cancelled future, a panic, an early return).

extern crate std;

use core::fmt;
use core::future::Future;
use std::time::Instant;

use crate::breaker::Breaker;
use crate::clock;
use crate::error::Rejected;
use crate::histogram::Histogram;
use crate::permit::{Outcome, Permit};
use crate::time::Millis;
use crate::transition::Transition;

/// Why a call through a breaker returned no value: the breaker refused it, or it ran and
/// failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallError<E> {
    /// The breaker did not let the call run (the dependency was not touched).
    Rejected {
        /// How long until a call may be admitted again; `None` while forced open.
        retry_after: Option<Millis>,
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
            CallError::Rejected { retry_after } => CallError::Rejected { retry_after },
        }
    }
}

impl<E> From<Rejected> for CallError<E> {
    fn from(r: Rejected) -> Self {
        CallError::Rejected {
            retry_after: r.retry_after,
        }
    }
}

impl<E: fmt::Display> fmt::Display for CallError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Rejected { retry_after } => fmt::Display::fmt(
                &Rejected {
                    retry_after: *retry_after,
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
/// the call's duration when the breaker times calls); dropping the guard unsettled (the
/// future that held it was cancelled, the code panicked or returned early) releases the
/// permit, which counts as `Ignored` and frees a half-open slot.
#[must_use = "dropping the guard at once releases the permit as Ignored"]
#[derive(Debug)]
pub struct PermitGuard<'a, const SLOTS: usize> {
    breaker: &'a Breaker<SLOTS>,
    histogram: Option<&'a Histogram>,
    permit: Option<Permit>,
    /// When the call started, if it is timed.
    start: Option<Instant>,
}

/// Whether calls through `breaker` need their duration: only its slow-call rule uses it.
#[inline]
pub(crate) fn slow_rule<const SLOTS: usize>(breaker: &Breaker<SLOTS>) -> bool {
    breaker.config().slow_call_rate_threshold > 0
}

impl<'a, const SLOTS: usize> PermitGuard<'a, SLOTS> {
    /// Takes a permit (the clock is read only if the state needs it). The call is timed when
    /// `timed`; its duration goes to `histogram`, if any.
    #[inline]
    pub(crate) fn acquire(
        breaker: &'a Breaker<SLOTS>,
        histogram: Option<&'a Histogram>,
        timed: bool,
    ) -> Result<(Self, Option<Transition>), Rejected> {
        let admitted = breaker.try_acquire(clock::now)?;
        Ok((
            PermitGuard {
                breaker,
                histogram,
                permit: Some(admitted.permit),
                start: timed.then(Instant::now),
            },
            admitted.transition,
        ))
    }

    /// The permit this guard holds.
    pub fn permit(&self) -> Permit {
        self.permit.unwrap_or(Permit::from_bits(0))
    }

    /// Reports the outcome, with the time since the permit was taken as the call's duration
    /// if the call is timed (the breaker compares it with `slow_call_duration`). Returns the
    /// transition it caused, if any.
    #[inline]
    pub fn record(mut self, outcome: Outcome) -> Option<Transition> {
        let permit = self.permit.take()?;
        let duration = self.start.map(|start| {
            let took = start.elapsed();
            if let (Some(h), false) = (self.histogram, outcome == Outcome::Ignored) {
                h.observe(took);
            }
            Millis(clock::millis(took))
        });
        self.breaker.record(permit, outcome, duration, clock::now)
    }

    /// Gives the permit back unused (counted as `Ignored`). Dropping the guard does the same.
    pub fn release(mut self) {
        if let Some(permit) = self.permit.take() {
            self.breaker.release(permit, clock::now);
        }
    }
}

impl<const SLOTS: usize> Drop for PermitGuard<'_, SLOTS> {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            self.breaker.release(permit, clock::now);
        }
    }
}

/// The call helpers, shared by [`Breaker`] and [`ServiceBreaker`](crate::ServiceBreaker).
#[inline]
pub(crate) fn run<const SLOTS: usize, T, E>(
    breaker: &Breaker<SLOTS>,
    histogram: Option<&Histogram>,
    timed: bool,
    classify: impl FnOnce(&Result<T, E>) -> Outcome,
    f: impl FnOnce() -> Result<T, E>,
) -> Result<T, CallError<E>> {
    let (guard, _) = PermitGuard::acquire(breaker, histogram, timed)?;
    let result = f();
    guard.record(classify(&result));
    result.map_err(CallError::Inner)
}

#[inline]
pub(crate) async fn run_async<const SLOTS: usize, T, E>(
    breaker: &Breaker<SLOTS>,
    histogram: Option<&Histogram>,
    timed: bool,
    classify: impl FnOnce(&Result<T, E>) -> Outcome,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, CallError<E>> {
    // The permit is taken on the first poll; a future dropped before that took nothing, and
    // one dropped while `fut` is pending drops the guard, which records Ignored.
    let (guard, _) = PermitGuard::acquire(breaker, histogram, timed)?;
    let result = fut.await;
    guard.record(classify(&result));
    result.map_err(CallError::Inner)
}

/// `std` call helpers. Each reads the std [`clock`] only where the decision needs the time
/// (a rejection, a half-open probe, a trip): a closed success reads no clock. A call is
/// timed (`Instant` before and after, for `slow_call_duration`) only when the slow-call rule
/// is on (`slow_call_rate_threshold > 0`); [`ServiceBreaker`](crate::ServiceBreaker) also
/// times calls for its histogram.
impl<const SLOTS: usize> Breaker<SLOTS> {
    /// Takes a permit wrapped in a [`PermitGuard`], for calls that do not fit a closure.
    ///
    /// # Errors
    /// [`Rejected`] while the breaker refuses calls.
    ///
    /// ```
    /// use cbreaker::{Breaker, Config, Outcome};
    /// let breaker: Breaker = Breaker::new(Config::consecutive(1)).unwrap();
    /// let guard = breaker.guard().unwrap();
    /// drop(guard); // cancelled: counted as ignored, nothing trips
    /// assert_eq!(breaker.snapshot(cbreaker::clock::now).ignored, 1);
    /// let guard = breaker.guard().unwrap();
    /// assert!(guard.record(Outcome::Failure).is_some()); // tripped
    /// ```
    #[inline]
    pub fn guard(&self) -> Result<PermitGuard<'_, SLOTS>, Rejected> {
        PermitGuard::acquire(self, None, slow_rule(self)).map(|(g, _)| g)
    }

    /// Runs `f` if the breaker admits it; `Err` counts as a failure, `Ok` as a success.
    ///
    /// # Errors
    /// [`CallError::Rejected`] without running `f`, or [`CallError::Inner`] with `f`'s error.
    ///
    /// ```
    /// use cbreaker::{Breaker, CallError, Config};
    /// let breaker: Breaker = Breaker::new(Config::consecutive(2)).unwrap();
    /// for _ in 0..2 {
    ///     assert_eq!(breaker.call(|| Err::<(), _>("down")), Err(CallError::Inner("down")));
    /// }
    /// assert!(breaker.call(|| Ok::<_, &str>(1)).unwrap_err().is_rejected());
    /// ```
    #[inline]
    pub fn call<T, E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, CallError<E>> {
        run(self, None, slow_rule(self), errors_are_failures, f)
    }

    /// [`call`](Self::call) with a classifier deciding each result's outcome: for example, a
    /// "not found" error as a success, a caller's mistake as `Ignored`.
    ///
    /// # Errors
    /// As [`call`](Self::call).
    #[inline]
    pub fn call_classified<T, E>(
        &self,
        classify: impl FnOnce(&Result<T, E>) -> Outcome,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, CallError<E>> {
        run(self, None, slow_rule(self), classify, f)
    }

    /// Runs `f`, or `fallback` when the breaker rejects the call or `f` fails.
    #[inline]
    pub fn call_with_fallback<T, E>(
        &self,
        f: impl FnOnce() -> Result<T, E>,
        fallback: impl FnOnce(CallError<E>) -> T,
    ) -> T {
        self.call(f).unwrap_or_else(fallback)
    }

    /// Awaits `fut` if the breaker admits it. The permit is taken when the returned future
    /// is first polled; dropping it while `fut` is pending records `Ignored`.
    ///
    /// # Errors
    /// [`CallError::Rejected`] without polling `fut`, or [`CallError::Inner`].
    pub async fn call_async<T, E>(
        &self,
        fut: impl Future<Output = Result<T, E>>,
    ) -> Result<T, CallError<E>> {
        run_async(self, None, slow_rule(self), errors_are_failures, fut).await
    }

    /// [`call_async`](Self::call_async) with a classifier.
    ///
    /// # Errors
    /// As [`call_async`](Self::call_async).
    pub async fn call_async_classified<T, E>(
        &self,
        classify: impl FnOnce(&Result<T, E>) -> Outcome,
        fut: impl Future<Output = Result<T, E>>,
    ) -> Result<T, CallError<E>> {
        run_async(self, None, slow_rule(self), classify, fut).await
    }

    /// [`call_async`](Self::call_async), or `fallback` on a rejection or an error.
    pub async fn call_async_with_fallback<T, E>(
        &self,
        fut: impl Future<Output = Result<T, E>>,
        fallback: impl FnOnce(CallError<E>) -> T,
    ) -> T {
        self.call_async(fut).await.unwrap_or_else(fallback)
    }
}
