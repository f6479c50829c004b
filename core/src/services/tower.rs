//! `tower`: a [`Layer`] and [`Service`] that run every request through a [`ServiceBreaker`].
//!
//! - A request the breaker refuses never reaches the inner service: its future resolves at
//!   once to [`CallError::Rejected`] with the `retry_after` (map it to `503 Service
//!   Unavailable` and a `Retry-After` header, for example with axum's `HandleErrorLayer`).
//! - The permit is taken in `call` and settled when the response future completes, with the
//!   outcome a [`Classify`] gives (by default: `Ok` is a success, `Err` a failure; for HTTP, a
//!   closure that also counts 5xx responses as failures). A response future dropped before
//!   it completes (a cancelled request, a timeout layer outside this one) records `Ignored`.
//! - The service is `Clone` and cheap: the inner service, an `Arc` and the classifier (a
//!   closure, usually zero-sized). Per request: one `Arc` clone, no allocation.
//!
//! ```
//! use std::sync::Arc;
//! use cbreaker::{CallError, Config, Outcome, ServiceBreaker, tower::CircuitBreakerLayer};
//! use tower_layer::Layer;
//! use tower_service::Service;
//!
//! # struct Echo;
//! # impl Service<u16> for Echo {
//! #     type Response = u16; type Error = std::convert::Infallible;
//! #     type Future = std::future::Ready<Result<u16, Self::Error>>;
//! #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> { std::task::Poll::Ready(Ok(())) }
//! #     fn call(&mut self, status: u16) -> Self::Future { std::future::ready(Ok(status)) }
//! # }
//! let breaker: Arc<ServiceBreaker> = Arc::new(ServiceBreaker::new(Config::consecutive(1)).unwrap());
//! // Here the "response" is a status code: 5xx is a failure.
//! let layer = CircuitBreakerLayer::new(breaker.clone()).classify(
//!     |r: &Result<u16, std::convert::Infallible>| match r {
//!         Ok(status) if *status < 500 => Outcome::Success,
//!         _ => Outcome::Failure,
//!     },
//! );
//! let mut svc = layer.layer(Echo);
//! # use std::future::Future;
//! # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! let first = std::pin::pin!(svc.call(503)).as_mut().poll(&mut cx); // a failure: trips
//! assert!(matches!(first, std::task::Poll::Ready(Ok(503))));
//! let second = std::pin::pin!(svc.call(200)).as_mut().poll(&mut cx);
//! let std::task::Poll::Ready(Err(CallError::Rejected { retry_after, .. })) = second
//! else { panic!("not rejected") };
//! assert!(retry_after.is_some());
//! ```

extern crate alloc;
extern crate std;

use alloc::sync::Arc;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::call::CallError;
use crate::error::Rejected;
use crate::monotonic;
use crate::permit::Outcome;
use crate::protocol::{Call, End};
use crate::service::ServiceBreaker;
use crate::time::Millis;

/// Decides the [`Outcome`] of a finished request.
pub trait Classify<T, E> {
    /// The outcome of `result`.
    fn classify(&self, result: &Result<T, E>) -> Outcome;
}

impl<T, E, F: Fn(&Result<T, E>) -> Outcome> Classify<T, E> for F {
    #[inline]
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        self(result)
    }
}

/// The default [`Classify`]: `Ok` is a success, `Err` a failure.
#[derive(Clone, Copy, Debug, Default)]
pub struct ErrorsAreFailures;

impl<T, E> Classify<T, E> for ErrorsAreFailures {
    #[inline]
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        crate::call::errors_are_failures(result)
    }
}

/// How a layer holds its breaker: an `Arc`, or a `&'static` (a `static`, a `LazyLock`, a
/// leaked box), which spares each request an `Arc` clone and drop.
#[derive(Debug)]
enum Handle<const SLOTS: usize> {
    Shared(Arc<ServiceBreaker<SLOTS>>),
    Static(&'static ServiceBreaker<SLOTS>),
}

impl<const SLOTS: usize> Clone for Handle<SLOTS> {
    fn clone(&self) -> Self {
        match self {
            Handle::Shared(a) => Handle::Shared(a.clone()),
            Handle::Static(s) => Handle::Static(s),
        }
    }
}

impl<const SLOTS: usize> Handle<SLOTS> {
    #[inline]
    fn get(&self) -> &ServiceBreaker<SLOTS> {
        match self {
            Handle::Shared(a) => a,
            Handle::Static(s) => s,
        }
    }

    /// What a response future keeps to settle its permit.
    #[inline]
    fn settler(&self) -> Settler {
        match self {
            Handle::Shared(a) => Settler::Shared(a.clone()),
            Handle::Static(s) => Settler::Static(*s),
        }
    }
}

/// Wraps services in a [`CircuitBreakerService`] sharing one breaker.
#[derive(Debug)]
pub struct CircuitBreakerLayer<C = ErrorsAreFailures, const SLOTS: usize = 32> {
    breaker: Handle<SLOTS>,
    classify: C,
}

impl<C: Clone, const SLOTS: usize> Clone for CircuitBreakerLayer<C, SLOTS> {
    fn clone(&self) -> Self {
        CircuitBreakerLayer {
            breaker: self.breaker.clone(),
            classify: self.classify.clone(),
        }
    }
}

impl<const SLOTS: usize> CircuitBreakerLayer<ErrorsAreFailures, SLOTS> {
    /// A layer over `breaker` (for example one from a
    /// [`Registry`](crate::registry::Registry)), counting errors as failures.
    #[must_use]
    pub fn new(breaker: Arc<ServiceBreaker<SLOTS>>) -> Self {
        CircuitBreakerLayer {
            breaker: Handle::Shared(breaker),
            classify: ErrorsAreFailures,
        }
    }

    /// A layer over a breaker that lives for the whole program (a `static`, a `LazyLock`):
    /// requests then clone no `Arc`.
    ///
    /// ```
    /// use std::sync::LazyLock;
    /// use cbreaker::{Config, ServiceBreaker, tower::CircuitBreakerLayer};
    /// static QUOTES: LazyLock<ServiceBreaker> =
    ///     LazyLock::new(|| ServiceBreaker::new(Config::for_http_api()).unwrap());
    /// let layer = CircuitBreakerLayer::from_static(&QUOTES);
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn from_static(breaker: &'static ServiceBreaker<SLOTS>) -> Self {
        CircuitBreakerLayer {
            breaker: Handle::Static(breaker),
            classify: ErrorsAreFailures,
        }
    }
}

impl<C, const SLOTS: usize> CircuitBreakerLayer<C, SLOTS> {
    /// The same layer with `classify` deciding each request's outcome.
    #[must_use]
    pub fn classify<D>(self, classify: D) -> CircuitBreakerLayer<D, SLOTS> {
        CircuitBreakerLayer {
            breaker: self.breaker,
            classify,
        }
    }

    /// The breaker.
    #[must_use]
    pub fn breaker(&self) -> &ServiceBreaker<SLOTS> {
        self.breaker.get()
    }
}

impl<S, C: Clone, const SLOTS: usize> Layer<S> for CircuitBreakerLayer<C, SLOTS> {
    type Service = CircuitBreakerService<S, C, SLOTS>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreakerService {
            inner,
            breaker: self.breaker.clone(),
            classify: self.classify.clone(),
        }
    }
}

/// A service behind a breaker. See the [module docs](self).
#[derive(Debug)]
pub struct CircuitBreakerService<S, C = ErrorsAreFailures, const SLOTS: usize = 32> {
    inner: S,
    breaker: Handle<SLOTS>,
    classify: C,
}

impl<S: Clone, C: Clone, const SLOTS: usize> Clone for CircuitBreakerService<S, C, SLOTS> {
    fn clone(&self) -> Self {
        CircuitBreakerService {
            inner: self.inner.clone(),
            breaker: self.breaker.clone(),
            classify: self.classify.clone(),
        }
    }
}

impl<S, C, const SLOTS: usize> CircuitBreakerService<S, C, SLOTS> {
    /// The breaker.
    #[must_use]
    pub fn breaker(&self) -> &ServiceBreaker<SLOTS> {
        self.breaker.get()
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, C, Req, const SLOTS: usize> Service<Req> for CircuitBreakerService<S, C, SLOTS>
where
    S: Service<Req>,
    C: Classify<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = CallError<S::Error>;
    type Future = ResponseFuture<S::Future, C>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Never refuse here: a rejection is per request, and a `poll_ready` error would
        // poison shared services (`Buffer`) for every caller.
        self.inner.poll_ready(cx).map_err(CallError::Inner)
    }

    #[inline]
    fn call(&mut self, req: Req) -> Self::Future {
        let breaker = self.breaker.get();
        match breaker.begin(monotonic::now, breaker.feeds_durations()) {
            Ok(begun) => ResponseFuture {
                settle: Some(Settle {
                    breaker: self.breaker.settler(),
                    start: begun.call.is_timed().then(Instant::now),
                    call: begun.call,
                    classify: self.classify.clone(),
                }),
                inner: Some(self.inner.call(req)),
                rejected: None,
            },
            Err(rejected) => ResponseFuture {
                inner: None,
                rejected: Some(rejected),
                settle: None,
            },
        }
    }
}

/// What a response future needs to settle its call, whatever the breaker's `SLOTS`.
trait Settles: Send + Sync {
    fn finish(&self, call: &mut Call, end: End, took: Option<Duration>);
}

impl<const SLOTS: usize> Settles for ServiceBreaker<SLOTS> {
    #[inline]
    fn finish(&self, call: &mut Call, end: End, took: Option<Duration>) {
        // Each `Settle` finishes its call once (`finish` consumes it, `drop` checks).
        let done = match took {
            Some(took) => self.breaker().finish_measured(
                call,
                end,
                monotonic::now,
                Millis(monotonic::millis(took)),
            ),
            None => self.breaker().finish(call, end, monotonic::now),
        };
        let Ok(done) = done else { return };
        // `observe` feeds the histogram and the sink each only if this breaker has it.
        if let (Some(_), Some(took)) = (done.observed(), took) {
            self.observe(done.outcome, took);
        }
    }
}

/// A response future's hold on its breaker, whatever the breaker's `SLOTS`.
enum Settler {
    Shared(Arc<dyn Settles>),
    Static(&'static dyn Settles),
}

impl core::ops::Deref for Settler {
    type Target = dyn Settles;
    #[inline]
    fn deref(&self) -> &(dyn Settles + 'static) {
        match self {
            Settler::Shared(a) => &**a,
            Settler::Static(s) => *s,
        }
    }
}

struct Settle<C> {
    breaker: Settler,
    call: Call,
    /// When a timed call started, for the histogram's finer-grained duration.
    start: Option<Instant>,
    classify: C,
}

impl<C> Settle<C> {
    #[inline]
    fn finish<T, E>(mut self, result: &Result<T, E>)
    where
        C: Classify<T, E>,
    {
        let took = self.start.map(|start| start.elapsed());
        let end = End::from(self.classify.classify(result));
        self.breaker.finish(&mut self.call, end, took);
    }
}

impl<C> Drop for Settle<C> {
    fn drop(&mut self) {
        // Dropped before the response came: a cancelled request.
        if !self.call.is_settled() {
            self.breaker.finish(&mut self.call, End::Cancelled, None);
        }
    }
}

impl<C> core::fmt::Debug for Settle<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Settle")
            .field("call", &self.call)
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// The response future of a [`CircuitBreakerService`]: resolves at once when the breaker
    /// refused the request, else when the inner future does (then records the outcome).
    #[derive(Debug)]
    pub struct ResponseFuture<F, C> {
        #[pin]
        inner: Option<F>,
        rejected: Option<Rejected>,
        settle: Option<Settle<C>>,
    }
}

impl<F, C, T, E> Future for ResponseFuture<F, C>
where
    F: Future<Output = Result<T, E>>,
    C: Classify<T, E>,
{
    type Output = Result<T, CallError<E>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.inner.as_pin_mut() {
            None => Poll::Ready(Err(this
                .rejected
                .take()
                .expect("ResponseFuture polled after completion")
                .into())),
            Some(fut) => {
                let result = core::task::ready!(fut.poll(cx));
                if let Some(settle) = this.settle.take() {
                    settle.finish(&result);
                }
                Poll::Ready(result.map_err(CallError::Inner))
            }
        }
    }
}
