//! `opentelemetry`: the core's instruments ([`crate::metrics::otel`], docs/metrics.md) on
//! the `opentelemetry` crate's metrics API, over a [`Registry`]. This file only maps the
//! core's table onto the API: names, kinds, units, descriptions, attribute keys and values
//! all come from the core.
//!
//! Counters and gauges are observable: each collection reads every breaker's snapshot, so a
//! call through a breaker costs the same with the instruments registered or not, and the
//! figures are the core's own counters (nothing counted twice).
//!
//! ```
//! use std::sync::Arc;
//! use cbreaker::{Calls, Config, otel::OtelMetrics, registry::Registry};
//! # use opentelemetry_sdk::metrics::SdkMeterProvider;
//! let breakers: Arc<Registry> = Arc::new(Registry::new(Config::for_http_api()).unwrap());
//! let provider = SdkMeterProvider::builder().build(); // or opentelemetry::global::meter_provider()
//! let otel = OtelMetrics::register(&provider, breakers.clone());
//! let _ = breakers.get_or_create("payments").call(|| Ok::<_, ()>(()));
//! // A transition the caller received (a manual move): counted with its cause.
//! let t = breakers.get_or_create("payments").force_open(cbreaker::monotonic::now());
//! otel.transition("payments", &t);
//! ```

extern crate alloc;
extern crate std;

use alloc::borrow::Cow;
use alloc::string::ToString;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{
    AsyncInstrument, Counter, Histogram, MeterProvider, ObservableCounter, ObservableGauge,
};

use crate::metrics::otel::{
    self, ATTR_NAME, CALL_DURATION, INSTRUMENTS, Instrument, InstrumentKind, METER_NAME,
    STATE_CHANGES,
};
use crate::monotonic;
use crate::registry::Registry;
use crate::service::SinkTaken;
use crate::transition::Transition;

/// The registered instruments. Observable ones stay registered with the meter provider;
/// keep this value to feed the event-fed ones ([`transition`](Self::transition),
/// [`record_duration`](Self::record_duration)).
#[derive(Debug)]
pub struct OtelMetrics {
    state_changes: Counter<u64>,
    duration: Histogram<f64>,
    _counters: Vec<ObservableCounter<u64>>,
    _gauges: Vec<ObservableGauge<f64>>,
}

/// Reads every breaker of `registry` and reports `instrument`'s points for each.
fn observe<const SLOTS: usize>(
    registry: &Registry<SLOTS>,
    instrument: &Instrument,
    mut report: impl FnMut(crate::metrics::Value, &[KeyValue]),
) {
    let now = monotonic::now();
    for (name, b) in registry.entries() {
        let s = b.snapshot(now);
        otel::points(instrument, &s, |attr, v| {
            let name = KeyValue::new(ATTR_NAME, name.as_ref().to_string());
            match attr {
                Some((k, v2)) => report(v, &[name, KeyValue::new(k, v2)]),
                None => report(v, &[name]),
            }
        });
    }
}

impl OtelMetrics {
    /// Registers every instrument of the core's table on `provider`'s meter
    /// [`METER_NAME`], reading `registry` at each collection.
    pub fn register<const SLOTS: usize>(
        provider: &impl MeterProvider,
        registry: Arc<Registry<SLOTS>>,
    ) -> OtelMetrics {
        let meter = provider.meter(METER_NAME);
        let (mut counters, mut gauges) = (Vec::new(), Vec::new());
        for i in INSTRUMENTS {
            let (name, description, unit) = (
                Cow::Borrowed(i.name),
                Cow::Borrowed(i.description),
                Cow::Borrowed(i.unit),
            );
            let registry = registry.clone();
            match i.kind {
                InstrumentKind::ObservableCounter => counters.push(
                    meter
                        .u64_observable_counter(name)
                        .with_description(description)
                        .with_unit(unit)
                        .with_callback(move |o: &dyn AsyncInstrument<u64>| {
                            // Counters are whole counts (`num / 1`).
                            observe(&registry, &i, |v, attrs| o.observe(v.num, attrs));
                        })
                        .build(),
                ),
                InstrumentKind::ObservableGauge => gauges.push(
                    meter
                        .f64_observable_gauge(name)
                        .with_description(description)
                        .with_unit(unit)
                        .with_callback(move |o: &dyn AsyncInstrument<f64>| {
                            observe(&registry, &i, |v, attrs| o.observe(v.as_f64(), attrs));
                        })
                        .build(),
                ),
                // Event-fed: built below.
                InstrumentKind::Histogram | InstrumentKind::Counter => {}
            }
        }
        let state_changes = meter
            .u64_counter(STATE_CHANGES.name)
            .with_description(STATE_CHANGES.description)
            .with_unit(STATE_CHANGES.unit)
            .build();
        let duration = meter
            .f64_histogram(CALL_DURATION.name)
            .with_description(CALL_DURATION.description)
            .with_unit(CALL_DURATION.unit)
            .with_boundaries(crate::metrics::DURATION_BUCKETS.to_vec())
            .build();
        OtelMetrics {
            state_changes,
            duration,
            _counters: counters,
            _gauges: gauges,
        }
    }

    /// Counts one transition of the breaker `name` in `circuit_breaker.state_changes`, with
    /// its previous state, state entered and cause. Feed it each transition you receive
    /// (manual moves, `Registry::reset_all`, `begin`/`finish`); every transition, however
    /// it happened, is in `circuit_breaker.transitions` already.
    pub fn transition(&self, name: &str, t: &Transition) {
        let [a, b, c] = otel::transition_attributes(t);
        self.state_changes.add(
            1,
            &[
                KeyValue::new(ATTR_NAME, name.to_string()),
                KeyValue::new(a.0, a.1),
                KeyValue::new(b.0, b.1),
                KeyValue::new(c.0, c.1),
            ],
        );
    }

    /// Feeds `circuit_breaker.call.duration` from every call of `registry`'s breakers (now
    /// and created later) that runs through the call helpers or the Tower layer to a success
    /// or a failure: each such call is then timed (the core's timing rule: a duration sink is
    /// attached; a `ServiceBreaker` times its calls for its own histogram already, unless
    /// [`untimed`](crate::ServiceBreaker::untimed)). Off unless called, as in Python
    /// (`durations=True`) and JS (`durations: true`).
    ///
    /// # Errors
    /// [`SinkTaken`]: `registry` has a duration sink already
    /// ([`Registry::set_duration_sink`]); nothing changes.
    pub fn time_calls<const SLOTS: usize>(
        &self,
        registry: &Registry<SLOTS>,
    ) -> Result<(), SinkTaken> {
        let duration = self.duration.clone();
        registry.set_duration_sink(Arc::new(move |name: &Arc<str>, _, took| {
            // The name's `Arc`, not a copy of the string: one count, no allocation per call.
            duration.record(
                took.as_secs_f64(),
                &[KeyValue::new(ATTR_NAME, name.clone())],
            );
        }))
    }

    /// Records one call duration of the breaker `name` in `circuit_breaker.call.duration`,
    /// for calls timed outside the call helpers.
    pub fn record_duration(&self, name: &str, took: Duration) {
        self.duration.record(
            took.as_secs_f64(),
            &[KeyValue::new(ATTR_NAME, name.to_string())],
        );
    }
}
