//! `tracing`: transitions as `tracing` events, so they reach whatever the service routes
//! events to (logs, spans of a trace, an OpenTelemetry bridge).
//!
//! Every transition a call helper (`call`, `call_async`, guards, the Tower layer) receives
//! is emitted as it happens, inside the caller's span; pass the others (manual moves,
//! `Registry::reset_all`) to [`transition`] with the breaker's name. One event per
//! transition: target [`TARGET`], level INFO (WARN when the breaker stops admitting calls),
//! message `"circuit breaker transition"`, and the fields of the core's
//! `metrics::otel::transition_attributes` plus `circuit_breaker.name` (when known),
//! `at_ms` and `generation`.
//!
//! ```
//! use cbreaker::{Config, events, registry::Registry};
//! let registry: Registry = Registry::new(Config::for_http_api()).unwrap();
//! let t = registry.get_or_create("payments").force_open(cbreaker::monotonic::now());
//! events::transition(Some("payments"), &t); // a WARN event, target "cbreaker"
//! ```

use crate::metrics::otel;
use crate::transition::Transition;

/// The events' target (filter on it: `RUST_LOG=cbreaker=info`).
pub const TARGET: &str = "cbreaker";
/// The events' message.
pub const MESSAGE: &str = "circuit breaker transition";

/// Emits one event for `t` of the breaker `name` (`None` where the name is not known).
#[cold]
pub fn transition(name: Option<&str>, t: &Transition) {
    let [(_, from), (_, to), (_, cause)] = otel::transition_attributes(t);
    let name = name.unwrap_or("");
    // The field names are the core's attribute keys (NB: sync with metrics::otel).
    if t.to.admits() {
        tracing::event!(
            target: TARGET,
            tracing::Level::INFO,
            circuit_breaker.name = name,
            circuit_breaker.previous_state = from,
            circuit_breaker.state = to,
            circuit_breaker.cause = cause,
            at_ms = t.at.0,
            generation = t.generation,
            "{MESSAGE}"
        );
    } else {
        tracing::event!(
            target: TARGET,
            tracing::Level::WARN,
            circuit_breaker.name = name,
            circuit_breaker.previous_state = from,
            circuit_breaker.state = to,
            circuit_breaker.cause = cause,
            at_ms = t.at.0,
            generation = t.generation,
            "{MESSAGE}"
        );
    }
}
