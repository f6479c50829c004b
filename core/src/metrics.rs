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
//! let row = metrics::Row { breaker: "payments", snapshot: breaker.snapshot(Millis(0)), durations: None, minimum_calls: 10 };
//! let mut text = String::new();
//! metrics::write_text(&mut text, &[row]).unwrap();
//! assert!(text.contains("cbreaker_state{breaker=\"payments\",state=\"closed\"} 1\n"));
//! assert!(text.contains("cbreaker_calls_total{breaker=\"payments\",outcome=\"rejected\"} 0\n"));
//! ```
//!
//! Values are written exactly, with integer arithmetic (a rate of 2 in 3 is
//! `66.66666666666666666666`): no float formatting is linked.

use core::fmt::{self, Write};

use crate::snapshot::Snapshot;
use crate::state::State;

pub mod fleet;
pub mod otel;
pub mod resilience4j;

/// Which names the Prometheus output uses: cbreaker's own families, or the names
/// resilience4j's Micrometer binding exposes (so a dashboard built on those keeps working).
/// The mapping is [`resilience4j::FAMILIES`]; docs/metrics.md has the table.
///
/// ```
/// use cbreaker::metrics::Naming;
/// assert_eq!(Naming::parse("resilience4j"), Ok(Naming::Resilience4j));
/// assert_eq!(Naming::default().name(), "cbreaker");
/// assert!(Naming::parse("micrometer").unwrap_err().to_string().contains("cbreaker, resilience4j"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Naming {
    /// [`FAMILIES`]: `cbreaker_state`, `cbreaker_calls_total`, ...
    #[default]
    Cbreaker,
    /// [`resilience4j::FAMILIES`]: `resilience4j_circuitbreaker_state`, ...
    Resilience4j,
}

impl Naming {
    /// Every naming, in the order of their names' list.
    pub const ALL: [Naming; 2] = [Naming::Cbreaker, Naming::Resilience4j];

    /// The option's spelling in every front door (`"cbreaker"`, `"resilience4j"`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Naming::Cbreaker => "cbreaker",
            Naming::Resilience4j => "resilience4j",
        }
    }

    /// The naming spelled `name`.
    ///
    /// # Errors
    /// [`UnknownNaming`] (its message lists the names) for any other text.
    pub fn parse(name: &str) -> Result<Naming, UnknownNaming> {
        Naming::ALL
            .into_iter()
            .find(|n| n.name() == name)
            .ok_or(UnknownNaming)
    }

    /// The families written under this naming, in the order they are written.
    #[must_use]
    pub const fn families(self) -> &'static [Family] {
        match self {
            Naming::Cbreaker => &FAMILIES,
            Naming::Resilience4j => &resilience4j::FAMILIES,
        }
    }
}

/// A naming that is not one of [`Naming::ALL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownNaming;

impl fmt::Display for UnknownNaming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown metric naming: expected one of cbreaker, resilience4j")
    }
}

impl core::error::Error for UnknownNaming {}

/// A family's Prometheus type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// A value that goes up and down.
    Gauge,
    /// A monotonic count.
    Counter,
    /// Observations in buckets.
    Histogram,
    /// A count and a sum of observations (resilience4j's call timers, as Micrometer
    /// exposes them).
    Summary,
}

impl MetricType {
    /// The name in a `# TYPE` line.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            MetricType::Gauge => "gauge",
            MetricType::Counter => "counter",
            MetricType::Histogram => "histogram",
            MetricType::Summary => "summary",
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

/// [`DURATION_BUCKETS`] as their `le` labels (written as text, so the writer needs no float
/// formatting).
pub const DURATION_BUCKET_LABELS: [&str; 15] = [
    "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
    "10", "30", "60",
];

/// A call-duration histogram's figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Durations<'a> {
    /// `cumulative[i]`: observations ≤ `DURATION_BUCKETS[i]` (one per bucket).
    pub cumulative: &'a [u64],
    /// The sum of every observation, in microseconds.
    pub sum_micros: u64,
    /// How many observations.
    pub count: u64,
}

/// A sample's value, exactly: `scale × num / den` (a count is `n / 1`). The text writer
/// prints it with integer arithmetic (no float formatting: a few KB less in every image that
/// links it, and the same digits everywhere); [`Value::as_f64`] is for metric clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Value {
    /// Numerator.
    pub num: u64,
    /// Denominator (0 reads as a value of 0).
    pub den: u64,
    /// Multiplier (100 for a percentage).
    pub scale: u64,
    /// Whether the value is below zero (only resilience4j's `-1`, "fewer calls than
    /// `minimum_calls`").
    pub negative: bool,
}

impl Value {
    /// A whole count.
    #[must_use]
    pub const fn count(n: u64) -> Value {
        Value {
            num: n,
            den: 1,
            scale: 1,
            negative: false,
        }
    }

    /// `scale × num / den`, not negative.
    #[must_use]
    pub const fn ratio(num: u64, den: u64, scale: u64) -> Value {
        Value {
            num,
            den,
            scale,
            negative: false,
        }
    }

    /// `-1`: resilience4j's rate while the window holds fewer than `minimum_calls` outcomes.
    pub const MINUS_ONE: Value = Value {
        num: 1,
        den: 1,
        scale: 1,
        negative: true,
    };

    /// As a float, for metric clients.
    #[must_use]
    pub fn as_f64(self) -> f64 {
        let x = if self.den == 0 {
            0.0
        } else if self.den == 1 && self.scale == 1 {
            self.num as f64
        } else {
            self.scale as f64 * self.num as f64 / self.den as f64
        };
        if self.negative { -x } else { x }
    }
}

impl fmt::Display for Value {
    /// The exact decimal, cut after 20 decimal places, trailing zeros dropped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 0 {
            return f.write_str("0");
        }
        if self.negative && self.num != 0 {
            f.write_str("-")?;
        }
        // In u64: counts are scaled by 1, window rates (≤ 2^32 outcomes) by 100, durations
        // by 1; `saturating` only for values no breaker reports. (No u128: its formatting and
        // division routines are kilobytes in a WASM image.)
        let (num, den) = (self.num.saturating_mul(self.scale), self.den);
        write!(f, "{}", num / den)?;
        let mut rest = num % den;
        if rest == 0 {
            return Ok(());
        }
        // 20 decimals: parsing the text gives the float `as_f64` computes (a unit test checks
        // every rate of a window up to 1,024 outcomes).
        let mut digits = [0u8; 20];
        let mut len = 0;
        for d in &mut digits {
            // `rest < den`, and `den` is a window's size or 1,000,000 at most: no overflow.
            rest = rest.saturating_mul(10);
            *d = (rest / den) as u8;
            rest %= den;
            len += 1;
            if rest == 0 {
                break;
            }
        }
        while len > 0 && digits[len - 1] == 0 {
            len -= 1;
        }
        f.write_str(".")?;
        for d in &digits[..len] {
            write!(f, "{d}")?;
        }
        Ok(())
    }
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
    /// Its config's `minimum_calls`: under [`Naming::Resilience4j`] the window rates read
    /// `-1` while the window holds fewer outcomes (resilience4j's convention). Unused by
    /// cbreaker's own names.
    pub minimum_calls: u32,
}

/// The Prometheus text exposition format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The value of each sample of `family` for `snapshot`, exactly, with its second label's
/// value (`""` where the family has only `breaker`). Not for [`CALL_DURATION`] (see
/// [`Durations`]).
pub fn values(family: &Family, s: &Snapshot, mut each: impl FnMut(&'static str, Value)) {
    let percent = |n: u32| Value::ratio(u64::from(n), u64::from(s.window_calls), 100);
    match family.name {
        "cbreaker_state" => {
            for state in State::ALL {
                each(state.name(), Value::count(u64::from(s.state == state)));
            }
        }
        "cbreaker_calls_total" => {
            for (outcome, v) in
                OUTCOMES
                    .iter()
                    .zip([s.successes, s.failures, s.ignored, s.rejected])
            {
                each(outcome, Value::count(v));
            }
        }
        "cbreaker_slow_calls_total" => each("", Value::count(s.slow)),
        "cbreaker_transitions_total" => {
            for state in State::ALL {
                each(
                    state.name(),
                    Value::count(u64::from(s.transitions_into(state))),
                );
            }
        }
        "cbreaker_window_failure_rate_percent" => each("", percent(s.window_failures)),
        "cbreaker_window_slow_rate_percent" => each("", percent(s.window_slow)),
        "cbreaker_retry_after_seconds" => {
            each("", Value::ratio(s.retry_after.map_or(0, |m| m.0), 1000, 1));
        }
        _ => {}
    }
}

/// [`values`] as floats, for front doors that register families with their own client
/// (Python's `prometheus_client`, the `prometheus` crate).
pub fn samples(family: &Family, s: &Snapshot, mut each: impl FnMut(&'static str, f64)) {
    values(family, s, |label, v| each(label, v.as_f64()));
}

/// Writes every family for `rows` in the text exposition format (version 0.0.4), under
/// cbreaker's own names ([`write_text_named`] with [`Naming::Cbreaker`]).
///
/// # Errors
/// Only what `out` returns.
pub fn write_text<W: Write>(out: &mut W, rows: &[Row<'_>]) -> fmt::Result {
    write_text_named(out, rows, Naming::Cbreaker)
}

/// Writes every family of `naming` for `rows` in the text exposition format (version 0.0.4).
///
/// ```
/// use cbreaker::{Breaker, Config, Millis, metrics::{self, Naming}};
/// let breaker: Breaker = Breaker::new(Config::count(10)).unwrap();
/// let row = metrics::Row { breaker: "payments", snapshot: breaker.snapshot(Millis(0)), durations: None, minimum_calls: 10 };
/// let mut text = String::new();
/// metrics::write_text_named(&mut text, &[row], Naming::Resilience4j).unwrap();
/// assert!(text.contains("resilience4j_circuitbreaker_state{name=\"payments\",state=\"closed\"} 1\n"));
/// assert!(text.contains("resilience4j_circuitbreaker_failure_rate{name=\"payments\"} -1\n"));
/// ```
///
/// # Errors
/// Only what `out` returns.
pub fn write_text_named<W: Write>(out: &mut W, rows: &[Row<'_>], naming: Naming) -> fmt::Result {
    for family in naming.families() {
        writeln!(out, "# HELP {} {}", family.name, family.help)?;
        writeln!(out, "# TYPE {} {}", family.name, family.kind.name())?;
        let first = family.labels.first().copied().unwrap_or(LABEL_BREAKER);
        for row in rows {
            let breaker = Escaped(row.breaker);
            if family.kind == MetricType::Histogram {
                if let Some(d) = row.durations {
                    write_histogram(out, family.name, &breaker, &d)?;
                }
                continue;
            }
            // A summary's samples carry a suffix (`_count`); a plain family's none.
            let suffix = if family.kind == MetricType::Summary {
                "_count"
            } else {
                ""
            };
            let mut result = Ok(());
            let mut sample = |second: &str, v: Value| {
                if result.is_err() {
                    return;
                }
                result = match family.labels.get(1) {
                    Some(label) => writeln!(
                        out,
                        "{}{suffix}{{{first}=\"{breaker}\",{label}=\"{second}\"}} {v}",
                        family.name
                    ),
                    None => writeln!(out, "{}{suffix}{{{first}=\"{breaker}\"}} {v}", family.name),
                };
            };
            match naming {
                Naming::Cbreaker => values(family, &row.snapshot, &mut sample),
                Naming::Resilience4j => {
                    resilience4j::values(family, &row.snapshot, row.minimum_calls, &mut sample);
                }
            }
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
    for (le, n) in DURATION_BUCKET_LABELS.iter().zip(d.cumulative) {
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
    let sum = Value::ratio(d.sum_micros, 1_000_000, 1);
    writeln!(out, "{name}_sum{{breaker=\"{breaker}\"}} {sum}")?;
    writeln!(out, "{name}_count{{breaker=\"{breaker}\"}} {}", d.count)
}

/// A label value with `\`, `"` and newlines escaped, as the text format requires.
pub(crate) struct Escaped<'a>(&'a str);

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

#[cfg(test)]
mod tests {
    use super::{DURATION_BUCKET_LABELS, DURATION_BUCKETS, Naming, Value, otel, resilience4j};
    use crate::{Breaker, Config, Millis, Outcome};
    use std::string::ToString;
    use std::vec::Vec;

    #[test]
    fn every_family_and_observable_instrument_reads_the_snapshot() {
        let b: Breaker = Breaker::new(Config::count(4)).unwrap();
        let p = b.try_acquire(Millis(0)).unwrap().permit;
        let _ = b.record(p, Outcome::Failure, None, Millis(0));
        let s = b.snapshot(Millis(0));
        for naming in Naming::ALL {
            assert_eq!(Naming::parse(naming.name()), Ok(naming));
            for family in naming.families() {
                if family.kind == super::MetricType::Histogram {
                    continue;
                }
                let mut n = 0;
                match naming {
                    Naming::Cbreaker => super::values(family, &s, |_, _| n += 1),
                    Naming::Resilience4j => resilience4j::values(family, &s, 1, |_, _| n += 1),
                }
                assert!(n > 0, "{} has no samples", family.name);
            }
        }
        for i in otel::INSTRUMENTS {
            let mut n = 0;
            otel::points(&i, &s, |_, _| n += 1);
            assert_eq!(n > 0, i.kind.is_observable(), "{}", i.name);
            assert_eq!(i.attributes[0], otel::ATTR_NAME);
        }
        let names: Vec<_> = otel::INSTRUMENTS.iter().map(|i| i.name).collect();
        for key in [
            otel::ATTR_NAME,
            otel::ATTR_STATE,
            otel::ATTR_OUTCOME,
            otel::ATTR_CAUSE,
        ] {
            assert!(
                !names.contains(&key),
                "{key}: a metric and an attribute share a name"
            );
        }
    }

    #[test]
    fn resilience4j_rates_are_minus_one_below_minimum_calls() {
        assert_eq!(resilience4j::rate(1, 0, 0), Value::MINUS_ONE);
        assert_eq!(resilience4j::rate(1, 3, 4), Value::MINUS_ONE);
        assert_eq!(resilience4j::rate(1, 4, 4), Value::ratio(1, 4, 100));
        assert_eq!(Value::MINUS_ONE.to_string(), "-1");
        assert_eq!(Value::MINUS_ONE.as_f64(), -1.0);
    }

    #[test]
    fn bucket_labels_are_the_buckets() {
        for (label, b) in DURATION_BUCKET_LABELS.iter().zip(DURATION_BUCKETS) {
            assert_eq!(label.parse::<f64>().unwrap(), b);
        }
    }

    #[test]
    fn values_print_exactly_and_parse_back_to_the_clients_float() {
        let v = Value::ratio;
        assert_eq!(v(2, 3, 100).to_string(), "66.66666666666666666666");
        assert_eq!(v(1, 4, 100).to_string(), "25");
        assert_eq!(v(1, 8, 1).to_string(), "0.125");
        assert_eq!(v(1500, 1000, 1).to_string(), "1.5");
        assert_eq!(v(7, 0, 100).to_string(), "0");
        assert_eq!(Value::count(u64::MAX).to_string(), u64::MAX.to_string());
        // Every rate a window up to 1,024 outcomes can have reads back as the client's float
        // (up to 24 under miri, which runs this a thousand times slower).
        let largest = if cfg!(miri) { 24 } else { 1024u64 };
        for den in 1..=largest {
            for num in 0..=den {
                let x = v(num, den, 100);
                assert_eq!(
                    x.to_string().parse::<f64>().unwrap(),
                    x.as_f64(),
                    "{num}/{den}"
                );
            }
        }
    }
}
