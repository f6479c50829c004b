//! `prometheus-registry`: the same families as [`prometheus::text`](crate::prometheus::text),
//! as a `Collector` for the `prometheus` crate (0.14), so a service that already serves a
//! `prometheus::Registry` gets the breakers in it:
//!
//! ```
//! # use prometheus_crate as prometheus; // in your code: the `prometheus` crate
//! use std::sync::Arc;
//! use cbreaker::{Config, prometheus_registry::RegistryCollector, registry::Registry};
//!
//! let breakers: Arc<Registry> = Arc::new(Registry::new(Config::for_http_api()).unwrap());
//! let prom = prometheus::Registry::new(); // or prometheus::default_registry()
//! prom.register(RegistryCollector::boxed(breakers.clone())).unwrap();
//! let _ = breakers.get_or_create("payments").call(|| Ok::<_, ()>(()));
//! assert_eq!(prom.gather().len(), 7);
//! ```
//!
//! Each scrape reads every breaker once, at the std clock's `now`. Works with the
//! `prometheus` crate's default (protobuf) model and without it.

extern crate alloc;
extern crate std;

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use std::collections::HashMap;

use prometheus_crate::core::{Collector, Desc};
use prometheus_crate::proto::{
    Bucket, Counter, Gauge, Histogram, LabelPair, Metric, MetricFamily, MetricType,
};

use crate::clock;
use crate::histogram::BUCKETS;
use crate::registry::Registry;
use crate::state::State;

/// Name, type, help and variable labels of each family, in exposition order.
const FAMILIES: [(&str, MetricType, &str, &[&str]); 7] = [
    (
        "cbreaker_state",
        MetricType::GAUGE,
        "The breaker's state: 1 for the current one, 0 for the others.",
        &["breaker", "state"],
    ),
    (
        "cbreaker_calls_total",
        MetricType::COUNTER,
        "Calls that ran, by the outcome recorded.",
        &["breaker", "outcome"],
    ),
    (
        "cbreaker_rejected_total",
        MetricType::COUNTER,
        "Calls the breaker refused.",
        &["breaker"],
    ),
    (
        "cbreaker_slow_calls_total",
        MetricType::COUNTER,
        "Calls at or above slow_call_duration.",
        &["breaker"],
    ),
    (
        "cbreaker_transitions_total",
        MetricType::COUNTER,
        "State transitions, by the state entered.",
        &["breaker", "to"],
    ),
    (
        "cbreaker_failure_rate_percent",
        MetricType::GAUGE,
        "Failures in the window, in percent of the window's calls.",
        &["breaker"],
    ),
    (
        "cbreaker_call_duration_seconds",
        MetricType::HISTOGRAM,
        "Duration of the calls run through the breaker (success or failure).",
        &["breaker"],
    ),
];

/// A `prometheus::core::Collector` over a [`Registry`].
#[derive(Debug)]
pub struct RegistryCollector<const SLOTS: usize = 32> {
    registry: Arc<Registry<SLOTS>>,
    descs: Vec<Desc>,
}

impl<const SLOTS: usize> RegistryCollector<SLOTS> {
    /// A collector reading `registry` at every scrape.
    ///
    /// # Panics
    /// Never: the family names and labels are fixed and valid.
    #[must_use]
    pub fn new(registry: Arc<Registry<SLOTS>>) -> Self {
        let descs = FAMILIES
            .iter()
            .map(|(name, _, help, labels)| {
                Desc::new(
                    name.to_string(),
                    help.to_string(),
                    labels.iter().map(|l| l.to_string()).collect(),
                    HashMap::new(),
                )
                .expect("fixed, valid metric names")
            })
            .collect();
        RegistryCollector { registry, descs }
    }

    /// Boxed, for `prometheus::Registry::register`.
    #[must_use]
    pub fn boxed(registry: Arc<Registry<SLOTS>>) -> Box<Self> {
        Box::new(Self::new(registry))
    }
}

fn labels(pairs: &[(&str, &str)]) -> Metric {
    Metric::from_label(
        pairs
            .iter()
            .map(|(k, v)| {
                let mut p = LabelPair::default();
                p.set_name(k.to_string());
                p.set_value(v.to_string());
                p
            })
            .collect(),
    )
}

fn gauge(pairs: &[(&str, &str)], v: f64) -> Metric {
    let mut m = labels(pairs);
    let mut g = Gauge::default();
    g.set_value(v);
    m.set_gauge(g);
    m
}

fn counter(pairs: &[(&str, &str)], v: u64) -> Metric {
    let mut m = labels(pairs);
    let mut c = Counter::default();
    c.set_value(v as f64);
    m.set_counter(c);
    m
}

impl<const SLOTS: usize> Collector for RegistryCollector<SLOTS> {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let now = clock::now();
        let rows: Vec<_> = self
            .registry
            .entries()
            .into_iter()
            .map(|(name, b)| (name, b.snapshot(now), b.histogram().snapshot()))
            .collect();
        let mut metrics: [Vec<Metric>; 7] = Default::default();
        for (name, s, h) in &rows {
            let name: &str = name;
            for state in State::ALL {
                let v = f64::from(u8::from(s.state == state));
                metrics[0].push(gauge(&[("breaker", name), ("state", state.name())], v));
            }
            for (outcome, v) in [
                ("success", s.successes),
                ("failure", s.failures),
                ("ignored", s.ignored),
            ] {
                metrics[1].push(counter(&[("breaker", name), ("outcome", outcome)], v));
            }
            metrics[2].push(counter(&[("breaker", name)], s.rejected));
            metrics[3].push(counter(&[("breaker", name)], s.slow));
            for state in State::ALL {
                let v = u64::from(s.transitions_into(state));
                metrics[4].push(counter(&[("breaker", name), ("to", state.name())], v));
            }
            metrics[5].push(gauge(&[("breaker", name)], s.failure_rate));
            let mut hist = Histogram::default();
            hist.set_sample_count(h.count);
            hist.set_sample_sum(h.sum_seconds);
            // `+Inf` is implied by the sample count.
            hist.set_bucket(
                BUCKETS
                    .iter()
                    .zip(&h.cumulative)
                    .map(|(le, n)| {
                        let mut b = Bucket::default();
                        b.set_upper_bound(*le);
                        b.set_cumulative_count(*n);
                        b
                    })
                    .collect(),
            );
            let mut m = labels(&[("breaker", name)]);
            m.set_histogram(hist);
            metrics[6].push(m);
        }
        FAMILIES
            .iter()
            .zip(metrics)
            .filter(|(_, m)| !m.is_empty())
            .map(|((name, kind, help, _), m)| {
                let mut f = MetricFamily::default();
                f.set_name(String::from(*name));
                f.set_help(String::from(*help));
                f.set_field_type(*kind);
                f.set_metric(m);
                f
            })
            .collect()
    }
}
