//! `prometheus-collector`: the same families as [`prometheus::text`](crate::prometheus::text),
//! as a `Collector` for the `prometheus` crate (0.14), so a service that already serves a
//! `prometheus::Registry` gets the breakers in it:
//!
//! ```
//! # use prometheus_crate as prometheus; // in your code: the `prometheus` crate
//! use std::sync::Arc;
//! use cbreaker::{Calls, Config, prometheus_collector::RegistryCollector, registry::Registry};
//!
//! let breakers: Arc<Registry> = Arc::new(Registry::new(Config::for_http_api()).unwrap());
//! let prom = prometheus::Registry::new(); // or prometheus::default_registry()
//! prom.register(RegistryCollector::boxed(breakers.clone())).unwrap();
//! let _ = breakers.get_or_create("payments").call(|| Ok::<_, ()>(()));
//! assert_eq!(prom.gather().len(), cbreaker::metrics::FAMILIES.len());
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

use crate::histogram::BUCKETS;
use crate::metrics::{self, Family, Naming};
use crate::monotonic;
use crate::registry::Registry;

fn proto_type(f: &Family) -> MetricType {
    match f.kind {
        metrics::MetricType::Gauge => MetricType::GAUGE,
        metrics::MetricType::Counter => MetricType::COUNTER,
        metrics::MetricType::Histogram => MetricType::HISTOGRAM,
        // Only resilience4j's call timers, written as their `_count` alone (no sum is kept
        // per outcome): a counter of that name, so no sum is invented.
        metrics::MetricType::Summary => MetricType::COUNTER,
    }
}

/// A `prometheus::core::Collector` over a [`Registry`].
#[derive(Debug)]
pub struct RegistryCollector<const SLOTS: usize = 32> {
    registry: Arc<Registry<SLOTS>>,
    descs: Vec<Desc>,
    naming: Naming,
}

/// A family's exposed name: a summary is written as its `_count` alone.
fn exposed(f: &Family) -> String {
    match f.kind {
        metrics::MetricType::Summary => alloc::format!("{}_count", f.name),
        _ => String::from(f.name),
    }
}

impl<const SLOTS: usize> RegistryCollector<SLOTS> {
    /// A collector reading `registry` at every scrape.
    ///
    /// # Panics
    /// Never: the family names and labels are fixed and valid.
    #[must_use]
    pub fn new(registry: Arc<Registry<SLOTS>>) -> Self {
        Self::with_naming(registry, Naming::Cbreaker)
    }

    /// A collector writing the families of `naming` (resilience4j's names for a dashboard
    /// built on them: docs/metrics.md).
    ///
    /// # Panics
    /// Never: the family names and labels are fixed and valid.
    #[must_use]
    pub fn with_naming(registry: Arc<Registry<SLOTS>>, naming: Naming) -> Self {
        let descs = naming
            .families()
            .iter()
            .map(|f| {
                Desc::new(
                    exposed(f),
                    f.help.to_string(),
                    f.labels.iter().map(|l| l.to_string()).collect(),
                    HashMap::new(),
                )
                .expect("fixed, valid metric names")
            })
            .collect();
        RegistryCollector {
            registry,
            descs,
            naming,
        }
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

fn counter(pairs: &[(&str, &str)], v: f64) -> Metric {
    let mut m = labels(pairs);
    let mut c = Counter::default();
    c.set_value(v);
    m.set_counter(c);
    m
}

impl<const SLOTS: usize> Collector for RegistryCollector<SLOTS> {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let now = monotonic::now();
        let rows: Vec<_> = self
            .registry
            .entries()
            .into_iter()
            .map(|(name, b)| {
                let h = b.keeps_histogram().then(|| b.histogram().snapshot());
                (name, b.snapshot(now), h, b.config().minimum_calls)
            })
            .collect();
        let families = self.naming.families();
        let mut out = Vec::with_capacity(families.len());
        for family in families {
            let mut family_metrics = Vec::new();
            for (name, s, h, minimum_calls) in &rows {
                let name: &str = name;
                if family.kind == metrics::MetricType::Histogram {
                    let Some(h) = h else { continue };
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
                    family_metrics.push(m);
                    continue;
                }
                let first = family.labels.first().copied().unwrap_or("breaker");
                let mut sample = |second: &str, v: f64| {
                    let pairs: &[(&str, &str)] = match family.labels.get(1) {
                        Some(label) => &[(first, name), (label, second)],
                        None => &[(first, name)],
                    };
                    family_metrics.push(match family.kind {
                        metrics::MetricType::Counter | metrics::MetricType::Summary => {
                            counter(pairs, v)
                        }
                        _ => gauge(pairs, v),
                    });
                };
                match self.naming {
                    Naming::Cbreaker => metrics::samples(family, s, &mut sample),
                    Naming::Resilience4j => {
                        metrics::resilience4j::samples(family, s, *minimum_calls, &mut sample);
                    }
                }
            }
            if family_metrics.is_empty() {
                continue;
            }
            let mut f = MetricFamily::default();
            f.set_name(exposed(family));
            f.set_help(String::from(family.help));
            f.set_field_type(proto_type(family));
            f.set_metric(family_metrics);
            out.push(f);
        }
        out
    }
}
