//! `prometheus`: the Prometheus text exposition format (version 0.0.4) for named breakers, as
//! a `String`, so any HTTP server can serve it.
//!
//! Families (label `breaker` = the registry name):
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `cbreaker_state` | gauge, 1 for the current state and 0 for the others | `state` |
//! | `cbreaker_calls_total` | counter | `outcome` = `success`, `failure`, `ignored` |
//! | `cbreaker_rejected_total` | counter | |
//! | `cbreaker_slow_calls_total` | counter | |
//! | `cbreaker_transitions_total` | counter | `to` = the target state |
//! | `cbreaker_failure_rate_percent` | gauge, the window's failure rate | |
//! | `cbreaker_call_duration_seconds` | histogram of the calls run by the std helpers | `le` |
//!
//! ```
//! use cbreaker::{Config, registry::Registry};
//! let registry: Registry = Registry::new(Config::for_http_api()).unwrap();
//! let _ = registry.get_or_create("payments").call(|| Err::<(), _>("timeout"));
//! let text = cbreaker::prometheus::text(&registry, cbreaker::clock::now);
//! assert!(text.contains("cbreaker_state{breaker=\"payments\",state=\"closed\"} 1\n"));
//! assert!(text.contains("cbreaker_calls_total{breaker=\"payments\",outcome=\"failure\"} 1\n"));
//! ```

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::histogram::{BUCKETS, HistogramSnapshot};
use crate::registry::Registry;
use crate::service::ServiceBreaker;
use crate::snapshot::Snapshot;
use crate::state::State;
use crate::time::{Clock, Millis};

/// The `Content-Type` of the text this module writes.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every breaker of `registry`, sorted by name, read at `now`.
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

/// Appends the exposition of `breakers` (name, breaker) to `out`, read at `now`. Each name
/// should appear once.
pub fn render<'a, const SLOTS: usize>(
    out: &mut String,
    breakers: impl IntoIterator<Item = (&'a str, &'a ServiceBreaker<SLOTS>)>,
    now: impl Clock,
) {
    let now: Millis = now.now();
    // Read each breaker once, so every family shows the same moment.
    let rows: Vec<(&str, Snapshot, HistogramSnapshot)> = breakers
        .into_iter()
        .map(|(name, b)| (name, b.snapshot(now), b.histogram().snapshot()))
        .collect();
    // `fmt::Write` for `String` never fails.
    let _ = write_families(out, &rows);
}

fn write_families(
    out: &mut String,
    rows: &[(&str, Snapshot, HistogramSnapshot)],
) -> core::fmt::Result {
    header(
        out,
        "cbreaker_state",
        "gauge",
        "The breaker's state: 1 for the current one, 0 for the others.",
    );
    for (name, s, _) in rows {
        for state in State::ALL {
            let v = u8::from(s.state == state);
            writeln!(
                out,
                "cbreaker_state{{breaker=\"{}\",state=\"{}\"}} {v}",
                Escaped(name),
                state.name()
            )?;
        }
    }
    header(
        out,
        "cbreaker_calls_total",
        "counter",
        "Calls that ran, by the outcome recorded.",
    );
    for (name, s, _) in rows {
        for (outcome, v) in [
            ("success", s.successes),
            ("failure", s.failures),
            ("ignored", s.ignored),
        ] {
            writeln!(
                out,
                "cbreaker_calls_total{{breaker=\"{}\",outcome=\"{outcome}\"}} {v}",
                Escaped(name)
            )?;
        }
    }
    header(
        out,
        "cbreaker_rejected_total",
        "counter",
        "Calls the breaker refused.",
    );
    for (name, s, _) in rows {
        writeln!(
            out,
            "cbreaker_rejected_total{{breaker=\"{}\"}} {}",
            Escaped(name),
            s.rejected
        )?;
    }
    header(
        out,
        "cbreaker_slow_calls_total",
        "counter",
        "Calls at or above slow_call_duration.",
    );
    for (name, s, _) in rows {
        writeln!(
            out,
            "cbreaker_slow_calls_total{{breaker=\"{}\"}} {}",
            Escaped(name),
            s.slow
        )?;
    }
    header(
        out,
        "cbreaker_transitions_total",
        "counter",
        "State transitions, by the state entered.",
    );
    for (name, s, _) in rows {
        for state in State::ALL {
            writeln!(
                out,
                "cbreaker_transitions_total{{breaker=\"{}\",to=\"{}\"}} {}",
                Escaped(name),
                state.name(),
                s.transitions_into(state)
            )?;
        }
    }
    header(
        out,
        "cbreaker_failure_rate_percent",
        "gauge",
        "Failures in the window, in percent of the window's calls.",
    );
    for (name, s, _) in rows {
        writeln!(
            out,
            "cbreaker_failure_rate_percent{{breaker=\"{}\"}} {}",
            Escaped(name),
            s.failure_rate
        )?;
    }
    header(
        out,
        "cbreaker_call_duration_seconds",
        "histogram",
        "Duration of the calls run through the breaker (success or failure).",
    );
    for (name, _, h) in rows {
        let name = Escaped(name);
        for (le, n) in BUCKETS.iter().zip(&h.cumulative) {
            writeln!(
                out,
                "cbreaker_call_duration_seconds_bucket{{breaker=\"{name}\",le=\"{le}\"}} {n}"
            )?;
        }
        writeln!(
            out,
            "cbreaker_call_duration_seconds_bucket{{breaker=\"{name}\",le=\"+Inf\"}} {}",
            h.count
        )?;
        writeln!(
            out,
            "cbreaker_call_duration_seconds_sum{{breaker=\"{name}\"}} {}",
            h.sum_seconds
        )?;
        writeln!(
            out,
            "cbreaker_call_duration_seconds_count{{breaker=\"{name}\"}} {}",
            h.count
        )?;
    }
    Ok(())
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value with `\`, `"` and newlines escaped, as the text format requires.
struct Escaped<'a>(&'a str);

impl core::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for c in self.0.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                '"' => f.write_str("\\\"")?,
                '\n' => f.write_str("\\n")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

impl<const SLOTS: usize> Registry<SLOTS> {
    /// [`text`] of this registry.
    pub fn prometheus_text(&self, now: impl Clock) -> String {
        text(self, now)
    }
}
