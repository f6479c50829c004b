//! The metric vocabulary every front door emits: one table of families (name, type, labels,
//! help, unit) and one Prometheus text renderer, so a dashboard built on one language's
//! output reads every other's. `no_std`: the renderer writes to any [`core::fmt::Write`].
//!
//! Label `breaker` is the breaker's name; states, outcomes and reasons use the core's
//! snake_case names (`closed` … `metrics_only`; `success`, `failure`, `ignored`, `rejected`).
//!
//! ```
//! use cbreaker::{Breaker, Config, Millis, metrics};
//! let breaker: Breaker = Breaker::new(Config::count(10)).unwrap();
//! let row = metrics::Row { breaker: "payments", snapshot: breaker.snapshot(Millis(0)), durations: None };
//! let mut text = String::new();
//! metrics::write_text(&mut text, &[row]).unwrap();
//! assert!(text.contains("cbreaker_state{breaker=\"payments\",state=\"closed\"} 1\n"));
//! assert!(text.contains("cbreaker_calls_total{breaker=\"payments\",outcome=\"rejected\"} 0\n"));
//! ```

use core::fmt::{self, Write};

use crate::snapshot::Snapshot;
use crate::state::State;

/// A family's Prometheus type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// A value that goes up and down.
    Gauge,
    /// A monotonic count.
    Counter,
    /// Observations in buckets.
    Histogram,
}

impl MetricType {
    /// The name in a `# TYPE` line.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            MetricType::Gauge => "gauge",
            MetricType::Counter => "counter",
            MetricType::Histogram => "histogram",
        }
    }
}

/// One metric family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Family {
    /// The full name, as exposed (counters end in `_total`).
    pub name: &'static str,
    /// Its type.
    pub kind: MetricType,
    /// The `# HELP` text.
    pub help: &'static str,
    /// The unit (`""` for a plain count or flag).
    pub unit: &'static str,
    /// Its labels, `breaker` first (a histogram's `le` is implied).
    pub labels: &'static [&'static str],
}

/// The label naming the breaker.
pub const LABEL_BREAKER: &str = "breaker";
/// The outcome label values of [`CALLS`], in the order they are written.
pub const OUTCOMES: [&str; 4] = ["success", "failure", "ignored", "rejected"];

/// `cbreaker_state{breaker,state}`: 1 for the current state, 0 for the other five.
pub const STATE: Family = Family {
    name: "cbreaker_state",
    kind: MetricType::Gauge,
    help: "The breaker's state: 1 for the current one, 0 for the others.",
    unit: "",
    labels: &["breaker", "state"],
};
/// `cbreaker_calls_total{breaker,outcome}`: calls by outcome, rejections included.
pub const CALLS: Family = Family {
    name: "cbreaker_calls_total",
    kind: MetricType::Counter,
    help: "Calls by outcome: success, failure, ignored (ran), rejected (refused).",
    unit: "",
    labels: &["breaker", "outcome"],
};
/// `cbreaker_slow_calls_total{breaker}`.
pub const SLOW_CALLS: Family = Family {
    name: "cbreaker_slow_calls_total",
    kind: MetricType::Counter,
    help: "Calls that ran at or above slow_call_duration.",
    unit: "",
    labels: &["breaker"],
};
/// `cbreaker_transitions_total{breaker,state}`: transitions into each state.
pub const TRANSITIONS: Family = Family {
    name: "cbreaker_transitions_total",
    kind: MetricType::Counter,
    help: "State transitions, by the state entered.",
    unit: "",
    labels: &["breaker", "state"],
};
/// `cbreaker_window_failure_rate_percent{breaker}`.
pub const FAILURE_RATE: Family = Family {
    name: "cbreaker_window_failure_rate_percent",
    kind: MetricType::Gauge,
    help: "Failures in the window, in percent of the window's calls.",
    unit: "percent",
    labels: &["breaker"],
};
/// `cbreaker_window_slow_rate_percent{breaker}`.
pub const SLOW_RATE: Family = Family {
    name: "cbreaker_window_slow_rate_percent",
    kind: MetricType::Gauge,
    help: "Slow calls in the window, in percent of the window's calls.",
    unit: "percent",
    labels: &["breaker"],
};
/// `cbreaker_retry_after_seconds{breaker}`: the retry advice now (0 when calls are admitted
/// or the breaker is forced open).
pub const RETRY_AFTER: Family = Family {
    name: "cbreaker_retry_after_seconds",
    kind: MetricType::Gauge,
    help: "How long a rejected call is advised to wait (0 when calls are admitted or forced open).",
    unit: "seconds",
    labels: &["breaker"],
};
/// `cbreaker_call_duration_seconds{breaker}`: durations of timed calls that ran (success or
/// failure); only where the breaker feeds a duration sink.
pub const CALL_DURATION: Family = Family {
    name: "cbreaker_call_duration_seconds",
    kind: MetricType::Histogram,
    help: "Duration of the calls that ran through the breaker (success or failure).",
    unit: "seconds",
    labels: &["breaker"],
};

/// Every family, in the order [`write_text`] writes them.
pub const FAMILIES: [Family; 8] = [
    STATE,
    CALLS,
    SLOW_CALLS,
    TRANSITIONS,
    FAILURE_RATE,
    SLOW_RATE,
    RETRY_AFTER,
    CALL_DURATION,
];

/// The call-duration histogram's upper bounds, in seconds (`le` labels). Spans a cache hit
/// (1 ms) to an LLM completion (60 s); a call above the last bound lands only in `+Inf`.
pub const DURATION_BUCKETS: [f64; 15] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// A call-duration histogram's figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Durations<'a> {
    /// `cumulative[i]`: observations ≤ `DURATION_BUCKETS[i]` (one per bucket).
    pub cumulative: &'a [u64],
    /// The sum of every observation, in seconds.
    pub sum_seconds: f64,
    /// How many observations.
    pub count: u64,
}

/// One breaker's figures for [`write_text`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row<'a> {
    /// The `breaker` label.
    pub breaker: &'a str,
    /// Its snapshot (read once, so every family shows the same moment).
    pub snapshot: Snapshot,
    /// Its call-duration histogram, if it keeps one.
    pub durations: Option<Durations<'a>>,
}

/// The Prometheus text exposition format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The value of each sample of `family` for `snapshot`, with its second label's value
/// (`""` where the family has only `breaker`). Not for [`CALL_DURATION`] (see
/// [`Durations`]). Front doors that register families with their own client (Python's
/// `prometheus_client`) take the values from here.
pub fn samples(family: &Family, s: &Snapshot, mut each: impl FnMut(&'static str, f64)) {
    let secs = |ms: u64| ms as f64 / 1000.0;
    match family.name {
        "cbreaker_state" => {
            for state in State::ALL {
                each(state.name(), f64::from(u8::from(s.state == state)));
            }
        }
        "cbreaker_calls_total" => {
            for (outcome, v) in
                OUTCOMES
                    .iter()
                    .zip([s.successes, s.failures, s.ignored, s.rejected])
            {
                each(outcome, v as f64);
            }
        }
        "cbreaker_slow_calls_total" => each("", s.slow as f64),
        "cbreaker_transitions_total" => {
            for state in State::ALL {
                each(state.name(), f64::from(s.transitions_into(state)));
            }
        }
        "cbreaker_window_failure_rate_percent" => each("", s.failure_rate),
        "cbreaker_window_slow_rate_percent" => each("", s.slow_rate),
        "cbreaker_retry_after_seconds" => each("", secs(s.retry_after.map_or(0, |m| m.0))),
        _ => {}
    }
}

/// Writes every family for `rows` in the text exposition format (version 0.0.4).
///
/// # Errors
/// Only what `out` returns.
pub fn write_text<W: Write>(out: &mut W, rows: &[Row<'_>]) -> fmt::Result {
    for family in &FAMILIES {
        writeln!(out, "# HELP {} {}", family.name, family.help)?;
        writeln!(out, "# TYPE {} {}", family.name, family.kind.name())?;
        for row in rows {
            let breaker = Escaped(row.breaker);
            if family.kind == MetricType::Histogram {
                if let Some(d) = row.durations {
                    write_histogram(out, family.name, &breaker, &d)?;
                }
                continue;
            }
            let mut result = Ok(());
            samples(family, &row.snapshot, |second, v| {
                if result.is_err() {
                    return;
                }
                result = match family.labels.get(1) {
                    Some(label) => writeln!(
                        out,
                        "{}{{breaker=\"{breaker}\",{label}=\"{second}\"}} {}",
                        family.name,
                        Number(v)
                    ),
                    None => writeln!(
                        out,
                        "{}{{breaker=\"{breaker}\"}} {}",
                        family.name,
                        Number(v)
                    ),
                };
            });
            result?;
        }
    }
    Ok(())
}

fn write_histogram<W: Write>(
    out: &mut W,
    name: &str,
    breaker: &Escaped<'_>,
    d: &Durations<'_>,
) -> fmt::Result {
    for (le, n) in DURATION_BUCKETS.iter().zip(d.cumulative) {
        writeln!(
            out,
            "{name}_bucket{{breaker=\"{breaker}\",le=\"{le}\"}} {n}"
        )?;
    }
    writeln!(
        out,
        "{name}_bucket{{breaker=\"{breaker}\",le=\"+Inf\"}} {}",
        d.count
    )?;
    writeln!(
        out,
        "{name}_sum{{breaker=\"{breaker}\"}} {}",
        Number(d.sum_seconds)
    )?;
    writeln!(out, "{name}_count{{breaker=\"{breaker}\"}} {}", d.count)
}

/// A sample value: integers without a fraction (`3`, not `3.0`), others as Rust prints them.
struct Number(f64);

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if v.is_finite() && v == (v as i64) as f64 && v.abs() < 9.0e15 {
            write!(f, "{}", v as i64)
        } else {
            write!(f, "{v}")
        }
    }
}

/// A label value with `\`, `"` and newlines escaped, as the text format requires.
struct Escaped<'a>(&'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
