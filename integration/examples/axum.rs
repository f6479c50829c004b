//! An axum service whose `/quote` route sits behind a circuit breaker, with the breakers'
//! Prometheus metrics on `/metrics` and counts by state on `/health/circuit-breaker`.
//!
//! `/quote` stands for a handler that calls a flaky dependency; `/fail/on` and `/fail/off`
//! switch its failures, so you can watch the breaker trip and recover:
//!
//! ```sh
//! cargo run -p cbreaker-integration --example axum        # listens on 127.0.0.1:3000
//! curl -i localhost:3000/quote; curl localhost:3000/fail/on
//! for i in 1 2 3 4 5 6; do curl -si localhost:3000/quote | head -1; done   # 500 ×5, then 503
//! curl localhost:3000/fail/off; sleep 5; curl -i localhost:3000/quote      # probe: 200
//! curl localhost:3000/metrics
//! ```
//!
//! `--smoke` serves on an ephemeral port, runs that scenario against itself and exits.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cbreaker::registry::Registry;
use cbreaker::tower::CircuitBreakerLayer;
use cbreaker::{CallError, Config, Millis, Outcome, monotonic};
use tower::ServiceBuilder;

/// 5xx responses are failures; everything else (4xx included: the caller's mistake) is a
/// success.
fn classify(result: &Result<Response, Infallible>) -> Outcome {
    match result {
        Ok(response) if response.status().is_server_error() => Outcome::Failure,
        _ => Outcome::Success,
    }
}

/// A refused request: `503` with the core's reason in the body and its retry advice as
/// `Retry-After` in whole seconds (rounded up); no `Retry-After` while forced open (no
/// deadline).
async fn rejected(err: CallError<Infallible>) -> Response {
    // The inner service is infallible, so a rejection is the only error there is.
    let CallError::Rejected {
        retry_after,
        reason,
    } = err;
    let body = format!("circuit {}\n", reason.name());
    match retry_after {
        Some(d) => {
            let secs = d.0.div_ceil(1_000).max(1);
            let retry = [(header::RETRY_AFTER, secs.to_string())];
            (StatusCode::SERVICE_UNAVAILABLE, retry, body).into_response()
        }
        None => (StatusCode::SERVICE_UNAVAILABLE, body).into_response(),
    }
}

fn app(registry: Arc<Registry>, failing: Arc<AtomicBool>) -> Router {
    let quotes = registry.get_or_create("quotes");
    let flag = failing.clone();
    let quote = move || {
        let failing = flag.load(Ordering::Relaxed);
        async move {
            if failing {
                (StatusCode::INTERNAL_SERVER_ERROR, "dependency down\n")
            } else {
                (StatusCode::OK, "a quote\n")
            }
        }
    };
    let switch = |on: bool| {
        let failing = failing.clone();
        move || {
            failing.store(on, Ordering::Relaxed);
            async {}
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
    let health = move || {
        let h = registry.health(monotonic::now);
        let status = if h.is_healthy() {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        async move { (status, format!("{h}\n")) }
    };
    Router::new()
        .route(
            "/quote",
            get(quote).route_layer(
                ServiceBuilder::new()
                    .layer(HandleErrorLayer::new(rejected))
                    .layer(CircuitBreakerLayer::new(quotes).classify(classify)),
            ),
        )
        .route("/fail/on", get(switch(true)))
        .route("/fail/off", get(switch(false)))
        .route("/metrics", get(metrics))
        .route("/health/circuit-breaker", get(health))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let open = if smoke { 300 } else { 5_000 };
    let registry = Arc::new(
        Registry::new(Config {
            open_duration: Millis(open),
            ..Config::consecutive(5)
        })
        .expect("valid config"),
    );
    let failing = Arc::new(AtomicBool::new(false));
    let addr = if smoke {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:3000"
    };
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("address");
    let server = axum::serve(listener, app(registry, failing));
    if !smoke {
        println!("listening on http://{addr}");
        server.await.expect("server");
        return;
    }
    tokio::spawn(async move { server.await.expect("server") });
    let get = |path: &'static str| cbreaker_integration::get(addr, path);
    let mut statuses = vec![get("/quote").await.status];
    get("/fail/on").await;
    for _ in 0..6 {
        statuses.push(get("/quote").await.status);
    }
    get("/fail/off").await;
    tokio::time::sleep(Duration::from_millis(open + 50)).await;
    statuses.push(get("/quote").await.status);
    println!("statuses: {statuses:?}");
    assert_eq!(statuses, [200, 500, 500, 500, 500, 500, 503, 200]);
    print!("{}", get("/health/circuit-breaker").await.body);
}
