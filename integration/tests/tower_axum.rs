//! The Tower layer in front of a real axum (hyper) server on 127.0.0.1 whose handler fails on
//! demand, driven over TCP: trip, reject without reaching the handler, a failed probe with
//! backoff, a probe that keeps others out, recovery, and the `/metrics` text of all of it.
//! Plus the layer's own guarantees without a server: cancellation and cheap clones.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cbreaker::registry::Registry;
use cbreaker::tower::CircuitBreakerLayer;
use cbreaker::{CallError, Config, Millis, Outcome, ServiceBreaker, State, monotonic};
use cbreaker_integration::get as http_get;
use tokio::time::sleep;
use tower::{Layer, Service, ServiceBuilder, service_fn};

#[derive(Default)]
struct Dependency {
    failing: AtomicBool,
    delay_ms: AtomicU64,
    hits: AtomicU32,
}

fn classify(result: &Result<Response, Infallible>) -> Outcome {
    match result {
        Ok(r) if r.status().is_server_error() => Outcome::Failure,
        _ => Outcome::Success,
    }
}

async fn rejected(err: CallError<Infallible>) -> Response {
    let CallError::Rejected { retry_after, .. } = err;
    let secs = retry_after.map_or(60, |d| d.0.div_ceil(1_000).max(1));
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, secs.to_string())],
        "circuit open",
    )
        .into_response()
}

async fn serve(registry: Arc<Registry>, dep: Arc<Dependency>) -> SocketAddr {
    let layer = CircuitBreakerLayer::new(registry.get_or_create("upstream")).classify(classify);
    let handler = move || {
        let dep = dep.clone();
        async move {
            dep.hits.fetch_add(1, Ordering::SeqCst);
            sleep(Duration::from_millis(dep.delay_ms.load(Ordering::SeqCst))).await;
            if dep.failing.load(Ordering::SeqCst) {
                (StatusCode::BAD_GATEWAY, "upstream down")
            } else {
                (StatusCode::OK, "ok")
            }
        }
    };
    let metrics = {
        let registry = registry.clone();
        move || {
            let text = registry.prometheus_text(monotonic::now);
            async move {
                (
                    [(header::CONTENT_TYPE, cbreaker::prometheus::CONTENT_TYPE)],
                    text,
                )
            }
        }
    };
    let app = Router::new()
        .route(
            "/upstream",
            get(handler).route_layer(
                ServiceBuilder::new()
                    .layer(HandleErrorLayer::new(rejected))
                    .layer(layer),
            ),
        )
        .route("/metrics", get(metrics));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn metrics(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn trip_reject_probe_recover_and_metrics_over_http() {
    let registry = Arc::new(
        Registry::new(Config {
            open_duration: Millis(300),
            open_duration_multiplier: 3.0, // a failed probe re-opens for 900 ms
            slow_call_duration: Millis(100),
            ..Config::consecutive(3)
        })
        .unwrap(),
    );
    let dep = Arc::new(Dependency::default());
    let addr = serve(registry.clone(), dep.clone()).await;
    let hits = || dep.hits.load(Ordering::SeqCst);
    let status = |path| async move { http_get(addr, path).await.status };

    // Healthy.
    assert_eq!(status("/upstream").await, 200);
    assert_eq!(status("/upstream").await, 200);

    // Three 502s trip it; the fourth request never reaches the handler.
    dep.failing.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        assert_eq!(status("/upstream").await, 502);
    }
    assert_eq!(hits(), 5);
    let reply = http_get(addr, "/upstream").await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_eq!(hits(), 5);

    // After the open duration one probe goes through; it fails: open again, for longer.
    sleep(Duration::from_millis(350)).await;
    assert_eq!(status("/upstream").await, 502);
    assert_eq!(hits(), 6);
    assert_eq!(status("/upstream").await, 503);
    dep.failing.store(false, Ordering::SeqCst);
    sleep(Duration::from_millis(350)).await;
    assert_eq!(status("/upstream").await, 503, "backoff: 900 ms now");
    assert_eq!(hits(), 6);

    // The next probe is slow; while it runs, the only half-open slot is taken.
    sleep(Duration::from_millis(650)).await;
    dep.delay_ms.store(300, Ordering::SeqCst);
    let probe = tokio::spawn(http_get(addr, "/upstream"));
    sleep(Duration::from_millis(100)).await;
    assert_eq!(status("/upstream").await, 503);
    assert_eq!(probe.await.unwrap().status, 200);
    dep.delay_ms.store(0, Ordering::SeqCst);
    assert_eq!(hits(), 7);

    // Closed again.
    assert_eq!(status("/upstream").await, 200);
    assert_eq!(hits(), 8);

    let reply = http_get(addr, "/metrics").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some(cbreaker::prometheus::CONTENT_TYPE)
    );
    let m = metrics(&reply.body);
    let get = |name: &str, labels: &str| m[&format!("{name}{{breaker=\"upstream\"{labels}}}")];
    assert_eq!(get("cbreaker_state", ",state=\"closed\""), 1.0);
    assert_eq!(get("cbreaker_state", ",state=\"open\""), 0.0);
    assert_eq!(get("cbreaker_calls_total", ",outcome=\"success\""), 4.0);
    assert_eq!(get("cbreaker_calls_total", ",outcome=\"failure\""), 4.0);
    assert_eq!(get("cbreaker_calls_total", ",outcome=\"ignored\""), 0.0);
    assert_eq!(get("cbreaker_calls_total", ",outcome=\"rejected\""), 4.0);
    assert_eq!(get("cbreaker_slow_calls_total", ""), 1.0);
    assert_eq!(get("cbreaker_transitions_total", ",state=\"open\""), 2.0);
    assert_eq!(
        get("cbreaker_transitions_total", ",state=\"half_open\""),
        2.0
    );
    assert_eq!(get("cbreaker_transitions_total", ",state=\"closed\""), 1.0);
    assert_eq!(get("cbreaker_call_duration_seconds_count", ""), 8.0);
    assert_eq!(
        get("cbreaker_call_duration_seconds_bucket", ",le=\"0.25\""),
        7.0
    );
    assert!(get("cbreaker_call_duration_seconds_sum", "") >= 0.3);
    assert_eq!(registry.health(monotonic::now).count(State::Closed), 1);
}

fn poll<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn a_dropped_response_future_records_ignored_and_frees_the_probe_slot() {
    let breaker: Arc<ServiceBreaker> = Arc::new(
        ServiceBreaker::new(Config {
            open_duration: Millis(1),
            ..Config::consecutive(1)
        })
        .unwrap(),
    );
    let hang = AtomicBool::new(false);
    let mut svc = CircuitBreakerLayer::new(breaker.clone()).layer(service_fn(|fail: bool| {
        let hang = hang.load(Ordering::SeqCst);
        async move {
            if hang {
                std::future::pending::<()>().await;
            }
            if fail { Err("down") } else { Ok("up") }
        }
    }));
    assert!(matches!(
        poll(pin!(svc.call(true))),
        Poll::Ready(Err(CallError::Inner("down")))
    ));
    std::thread::sleep(Duration::from_millis(5));
    hang.store(true, Ordering::SeqCst);
    {
        let mut probe = pin!(svc.call(false));
        assert!(poll(probe.as_mut()).is_pending());
        assert_eq!(breaker.state(monotonic::now), State::HalfOpen);
        assert!(matches!(
            poll(pin!(svc.call(false))),
            Poll::Ready(Err(CallError::Rejected { .. }))
        ));
    } // the pending probe is dropped here: cancelled
    assert_eq!(breaker.snapshot(monotonic::now).ignored, 1);
    hang.store(false, Ordering::SeqCst);
    assert!(matches!(poll(pin!(svc.call(false))), Poll::Ready(Ok("up"))));
    assert_eq!(breaker.state(monotonic::now), State::Closed);
    // Only the failure and the successful probe were timed.
    assert_eq!(breaker.histogram().snapshot().count, 2);
}

#[test]
fn clones_share_one_breaker_and_stay_small() {
    let breaker: Arc<ServiceBreaker> =
        Arc::new(ServiceBreaker::new(Config::consecutive(2)).unwrap());
    let svc = CircuitBreakerLayer::new(breaker.clone())
        .layer(service_fn(|()| async { Err::<(), _>(()) }));
    let mut a = svc.clone();
    let mut b = svc.clone();
    assert!(poll(pin!(a.call(()))).is_ready());
    assert!(poll(pin!(b.call(()))).is_ready());
    assert_eq!(breaker.state(monotonic::now), State::Open);
    assert!(matches!(
        poll(pin!(a.call(()))),
        Poll::Ready(Err(CallError::Rejected {
            retry_after: Some(_),
            ..
        }))
    ));
    // The inner service (zero-sized here), a tagged Arc-or-&'static, a zero-sized classifier.
    assert_eq!(
        std::mem::size_of_val(&svc),
        2 * std::mem::size_of::<usize>()
    );
    assert_eq!(Arc::strong_count(&breaker), 4);
}

#[test]
fn a_static_breaker_serves_the_same_way() {
    let breaker: &'static ServiceBreaker = Box::leak(Box::new(
        ServiceBreaker::untimed(Config::consecutive(1)).unwrap(),
    ));
    let layer = CircuitBreakerLayer::from_static(breaker);
    let mut svc = layer.layer(service_fn(|ok: bool| async move {
        if ok { Ok(()) } else { Err(()) }
    }));
    assert!(matches!(poll(pin!(svc.call(true))), Poll::Ready(Ok(()))));
    assert!(matches!(
        poll(pin!(svc.call(false))),
        Poll::Ready(Err(CallError::Inner(())))
    ));
    assert!(matches!(
        poll(pin!(svc.call(true))),
        Poll::Ready(Err(CallError::Rejected { .. }))
    ));
    let s = breaker.snapshot(monotonic::now);
    assert_eq!((s.successes, s.failures, s.rejected), (1, 1, 1));
    assert!(std::ptr::eq(layer.breaker(), breaker));
    assert_eq!(breaker.histogram().snapshot().count, 0, "untimed");
}

/// A duration sink on an untimed breaker: the layer times its calls for the sink alone (the
/// histogram stays empty), each success and failure once, the rejection not at all.
#[test]
fn the_layer_feeds_a_duration_sink() {
    use std::sync::Mutex;
    let breaker: Arc<ServiceBreaker> =
        Arc::new(ServiceBreaker::untimed(Config::consecutive(1)).unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let sink: cbreaker::DurationSink = Arc::new(move |o, d| s.lock().unwrap().push((o, d)));
    breaker.set_duration_sink(sink).unwrap();
    let mut svc =
        CircuitBreakerLayer::new(breaker.clone()).layer(service_fn(|ok: bool| async move {
            if ok { Ok(()) } else { Err(()) }
        }));
    let _ = poll(pin!(svc.call(true)));
    let _ = poll(pin!(svc.call(false)));
    let _ = poll(pin!(svc.call(true)));
    let outcomes: Vec<_> = seen.lock().unwrap().iter().map(|(o, _)| *o).collect();
    assert_eq!(
        outcomes,
        [cbreaker::Outcome::Success, cbreaker::Outcome::Failure]
    );
    assert_eq!(
        breaker.histogram().snapshot().count,
        0,
        "untimed: the sink alone"
    );
}
