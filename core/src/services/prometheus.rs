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
use crate::metrics::{Durations, Row, write_text};
use crate::registry::Registry;
use crate::service::ServiceBreaker;
use crate::time::{Clock, Millis};

/// The text format's content type, for the HTTP response.
pub const CONTENT_TYPE: &str = crate::metrics::CONTENT_TYPE;

/// Every breaker of `registry`, in the text format.
pub fn text<const SLOTS: usize>(registry: &Registry<SLOTS>, now: impl Clock) -> String {
    let entries = registry.entries();
    let mut out = String::new();
    render(
        &mut out,
        entries.iter().map(|(name, b)| (&**name, &**b)),
        now,
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
    let _ = write_text(out, &rows);
}

impl<const SLOTS: usize> Registry<SLOTS> {
    /// [`text`] of this registry.
    pub fn prometheus_text(&self, now: impl Clock) -> String {
        text(self, now)
    }
}
