//! `prometheus`: the Prometheus text exposition format (version 0.0.4) for named breakers, as
//! a `String`, so any HTTP server can serve it.
//!
//! The families are the core's vocabulary ([`crate::metrics`], docs/metrics.md): the same
//! names, labels and help text that Python and JS emit. Label `breaker` = the registry name.
//!
//! ```
//! use cbreaker::{Calls, Config, registry::Registry};
//! let registry: Registry = Registry::new(Config::for_http_api()).unwrap();
//! let _ = registry.get_or_create("payments").call(|| Err::<(), _>("timeout"));
//! let text = cbreaker::prometheus::text(&registry, cbreaker::monotonic::now);
//! assert!(text.contains("cbreaker_state{breaker=\"payments\",state=\"closed\"} 1\n"));
//! assert!(text.contains("cbreaker_calls_total{breaker=\"payments\",outcome=\"failure\"} 1\n"));
//! ```

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

use crate::histogram::HistogramSnapshot;
use crate::metrics::{Durations, Naming, Row, write_text_named};
use crate::registry::Registry;
use crate::service::ServiceBreaker;
use crate::time::{Clock, Millis};

/// The text format's content type, for the HTTP response.
pub const CONTENT_TYPE: &str = crate::metrics::CONTENT_TYPE;

/// Every breaker of `registry`, in the text format.
pub fn text<const SLOTS: usize>(registry: &Registry<SLOTS>, now: impl Clock) -> String {
    text_named(registry, now, Naming::Cbreaker)
}

/// Every breaker of `registry`, in the text format, under `naming` (resilience4j's names
/// for a dashboard built on them: docs/metrics.md).
///
/// ```
/// use cbreaker::{Config, metrics::Naming, registry::Registry};
/// let registry: Registry = Registry::new(Config::for_http_api()).unwrap();
/// let _ = registry.get_or_create("payments");
/// let text = cbreaker::prometheus::text_named(&registry, cbreaker::monotonic::now, Naming::Resilience4j);
/// assert!(text.contains("resilience4j_circuitbreaker_state{name=\"payments\",state=\"closed\"} 1\n"));
/// ```
pub fn text_named<const SLOTS: usize>(
    registry: &Registry<SLOTS>,
    now: impl Clock,
    naming: Naming,
) -> String {
    let entries = registry.entries();
    let mut out = String::new();
    render_named(
        &mut out,
        entries.iter().map(|(name, b)| (&**name, &**b)),
        now,
        naming,
    );
    out
}

/// Appends the families for `breakers` (name, breaker) to `out`: for breakers kept outside a
/// [`Registry`].
pub fn render<'a, const SLOTS: usize>(
    out: &mut String,
    breakers: impl IntoIterator<Item = (&'a str, &'a ServiceBreaker<SLOTS>)>,
    now: impl Clock,
) {
    render_named(out, breakers, now, Naming::Cbreaker);
}

/// [`render`] under `naming`.
pub fn render_named<'a, const SLOTS: usize>(
    out: &mut String,
    breakers: impl IntoIterator<Item = (&'a str, &'a ServiceBreaker<SLOTS>)>,
    now: impl Clock,
    naming: Naming,
) {
    let now: Millis = now.now();
    // Read each breaker once, so every family shows the same moment.
    let read: Vec<(&str, crate::Snapshot, Option<HistogramSnapshot>, u32)> = breakers
        .into_iter()
        .map(|(name, b)| {
            (
                name,
                b.snapshot(now),
                b.keeps_histogram().then(|| b.histogram().snapshot()),
                b.config().minimum_calls,
            )
        })
        .collect();
    let rows: Vec<Row<'_>> = read
        .iter()
        .map(|(name, snapshot, h, minimum_calls)| Row {
            breaker: name,
            snapshot: *snapshot,
            durations: h.as_ref().map(|h| Durations {
                cumulative: &h.cumulative,
                sum_micros: h.sum_micros,
                count: h.count,
            }),
            minimum_calls: *minimum_calls,
        })
        .collect();
    // `fmt::Write` for `String` never fails.
    let _ = write_text_named(out, &rows, naming);
}

impl<const SLOTS: usize> Registry<SLOTS> {
    /// [`text`] of this registry.
    pub fn prometheus_text(&self, now: impl Clock) -> String {
        text(self, now)
    }

    /// [`text_named`] of this registry.
    pub fn prometheus_text_named(&self, now: impl Clock, naming: Naming) -> String {
        text_named(self, now, naming)
    }
}
