//! `opentelemetry` feature, on the real SDK (`opentelemetry_sdk`, in-memory exporter): after
//! a scripted trip → reject → recover, every instrument reads exactly the core's counters.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cbreaker::metrics::otel::{self, INSTRUMENTS, InstrumentKind, METER_NAME};
use cbreaker::otel::OtelMetrics;
use cbreaker::registry::Registry;
use cbreaker::{Calls as _, Config, Millis, Outcome, Snapshot, State, monotonic};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

/// `(instrument, sorted attributes) → value`, plus each instrument's unit and description.
type Points = HashMap<(String, Vec<(String, String)>), f64>;

fn collect(
    provider: &SdkMeterProvider,
    exporter: &InMemoryMetricExporter,
) -> (Points, HashMap<String, (String, String)>) {
    exporter.reset();
    provider.force_flush().unwrap();
    let mut points = Points::new();
    let mut meta = HashMap::new();
    for rm in exporter.get_finished_metrics().unwrap() {
        for sm in rm.scope_metrics() {
            assert_eq!(sm.scope().name(), METER_NAME);
            for m in sm.metrics() {
                meta.insert(
                    m.name().to_string(),
                    (m.unit().to_string(), m.description().to_string()),
                );
                let mut put = |attrs: Vec<(String, String)>, v: f64| {
                    let mut attrs = attrs;
                    attrs.sort();
                    points.insert((m.name().to_string(), attrs), v);
                };
                let kv = |it: &mut dyn Iterator<Item = &opentelemetry::KeyValue>| {
                    it.map(|kv| (kv.key.to_string(), kv.value.to_string()))
                        .collect::<Vec<_>>()
                };
                match m.data() {
                    AggregatedMetrics::U64(MetricData::Sum(s)) => {
                        for p in s.data_points() {
                            put(kv(&mut p.attributes()), p.value() as f64);
                        }
                    }
                    AggregatedMetrics::F64(MetricData::Gauge(g)) => {
                        for p in g.data_points() {
                            put(kv(&mut p.attributes()), p.value());
                        }
                    }
                    AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                        for p in h.data_points() {
                            put(kv(&mut p.attributes()), p.count() as f64);
                        }
                    }
                    other => panic!("{}: unexpected data {other:?}", m.name()),
                }
            }
        }
    }
    (points, meta)
}

fn attrs(name: &str, extra: Option<(&str, &str)>) -> Vec<(String, String)> {
    let mut v = vec![(otel::ATTR_NAME.to_string(), name.to_string())];
    if let Some((k, x)) = extra {
        v.push((k.to_string(), x.to_string()));
    }
    v.sort();
    v
}

/// Every observable instrument's every point equals the core's value, read from snapshots
/// taken just `before` and `after` the collection: a value that is not a function of time
/// (every counter, the state, the rates) is the same in both and must match exactly; one that
/// is (`retry_after` counts down) must lie between them.
fn assert_matches_core(points: &Points, name: &str, before: &Snapshot, after: &Snapshot) {
    let mut checked = 0;
    for i in INSTRUMENTS.iter().filter(|i| i.kind.is_observable()) {
        let mut later = Vec::new();
        otel::points(i, after, |_, v| later.push(v.as_f64()));
        let mut n = 0;
        otel::points(i, before, |extra, v| {
            let key = (i.name.to_string(), attrs(name, extra));
            let got = *points
                .get(&key)
                .unwrap_or_else(|| panic!("{key:?} not exported"));
            let (a, b) = (v.as_f64(), later[n]);
            assert!(
                got >= a.min(b) && got <= a.max(b),
                "{key:?}: exported {got}, the core read {a} before and {b} after"
            );
            n += 1;
            checked += 1;
        });
    }
    // status 6, calls 4, slow 1, transitions 6, rates 2, retry-after 1.
    assert_eq!(checked, 20);
}

#[test]
fn every_instrument_reads_the_cores_counters_after_trip_reject_recover() {
    let exporter = InMemoryMetricExporter::default();
    let provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    let registry: Arc<Registry> = Arc::new(
        Registry::new(Config {
            slow_call_duration: Millis(5),
            ..Config::consecutive(2)
        })
        .unwrap(),
    );
    let metrics = OtelMetrics::register(&provider, registry.clone());
    let api = registry.get_or_create("api");

    // Trip: a success, a slow failure, a failure.
    assert_eq!(api.call(|| Ok::<_, ()>(())), Ok(()));
    let _ = api.call(|| {
        std::thread::sleep(Duration::from_millis(6));
        Err::<(), _>(())
    });
    let _ = api.call(|| Err::<(), _>(()));
    // Reject twice; an ignored call on another breaker.
    assert!(api.call(|| Ok::<_, ()>(())).unwrap_err().is_rejected());
    assert!(api.call(|| Ok::<_, ()>(())).unwrap_err().is_rejected());
    drop(registry.get_or_create("db").guard().unwrap());

    let now = monotonic::now();
    let (points, meta) = collect(&provider, &exporter);
    let after = monotonic::now();
    let s = api.snapshot(now);
    assert_eq!(s.state, State::Open);
    assert_matches_core(&points, "api", &s, &api.snapshot(after));
    let db = registry.get("db").unwrap();
    assert_matches_core(&points, "db", &db.snapshot(now), &db.snapshot(after));
    let calls = |o: &str| {
        points[&(
            "circuit_breaker.calls".into(),
            attrs("api", Some((otel::ATTR_OUTCOME, o))),
        )]
    };
    assert_eq!(
        [
            calls("success"),
            calls("failure"),
            calls("ignored"),
            calls("rejected")
        ],
        [1.0, 2.0, 0.0, 2.0]
    );
    assert_eq!(
        points[&("circuit_breaker.slow_calls".into(), attrs("api", None))],
        1.0
    );

    // Recover: a probe after the open duration closes it; a manual move is reported as an
    // event with its cause.
    let t = now.0 + 120_000;
    let p = api.try_acquire(Millis(t)).unwrap().permit;
    let closed = api.record(p, Outcome::Success, None, Millis(t)).unwrap();
    metrics.transition("api", &closed);
    metrics.record_duration("api", Duration::from_millis(3));
    let (points, meta2) = collect(&provider, &exporter);
    let s = api.snapshot(Millis(t));
    assert_eq!(s.state, State::Closed);
    assert_matches_core(&points, "api", &s, &s);
    let into = |st: &str| {
        points[&(
            "circuit_breaker.transitions".into(),
            attrs("api", Some((otel::ATTR_STATE, st))),
        )]
    };
    assert_eq!(
        [into("open"), into("half_open"), into("closed")],
        [1.0, 1.0, 1.0]
    );
    let mut change = attrs("api", None);
    change
        .extend(otel::transition_attributes(&closed).map(|(k, v)| (k.to_string(), v.to_string())));
    change.sort();
    assert_eq!(
        points[&("circuit_breaker.state_changes".into(), change)],
        1.0
    );
    assert_eq!(
        points[&("circuit_breaker.call.duration".into(), attrs("api", None))],
        1.0
    );

    // Every instrument of the core's table is exported, with its unit and description.
    let meta: HashMap<_, _> = meta.into_iter().chain(meta2).collect();
    for i in INSTRUMENTS {
        let (unit, description) = meta
            .get(i.name)
            .unwrap_or_else(|| panic!("{} not exported", i.name));
        assert_eq!(
            (unit.as_str(), description.as_str()),
            (i.unit, i.description),
            "{}",
            i.name
        );
        if i.kind == InstrumentKind::Counter {
            assert!(!i.kind.is_observable());
        }
    }
}

/// `time_calls`: every call that ran to a success or a failure is one histogram point, on
/// breakers made before and after (`get_or_create`, `register`); rejected and cancelled calls
/// are not; a second sink is refused.
#[test]
fn time_calls_feeds_the_duration_histogram_from_the_call_helpers() {
    let exporter = InMemoryMetricExporter::default();
    let provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    let registry: Arc<Registry> = Arc::new(Registry::new(Config::consecutive(2)).unwrap());
    let before = registry.get_or_create("before");
    let metrics = OtelMetrics::register(&provider, registry.clone());
    let histogram = |points: &Points, name: &str| {
        points
            .get(&("circuit_breaker.call.duration".into(), attrs(name, None)))
            .copied()
            .unwrap_or(0.0)
    };
    let _ = before.call(|| Ok::<_, ()>(()));
    let (points, _) = collect(&provider, &exporter);
    assert_eq!(histogram(&points, "before"), 0.0, "off until time_calls");

    metrics.time_calls(&registry).unwrap();
    assert_eq!(metrics.time_calls(&registry), Err(cbreaker::SinkTaken));
    let registered = registry
        .register("registered", Config::consecutive(2))
        .unwrap();
    let after = registry.get_or_create("after");
    for b in [&before, &registered, &after] {
        assert!(b.has_duration_sink());
        let _ = b.call(|| Ok::<_, ()>(()));
        let _ = b.call(|| Err::<(), _>(()));
        let _ = b.call(|| Err::<(), _>(()));
        assert!(b.call(|| Ok::<_, ()>(())).unwrap_err().is_rejected());
    }
    drop(registry.get_or_create("cancelled").guard().unwrap());
    let (points, _) = collect(&provider, &exporter);
    for name in ["before", "registered", "after"] {
        // Cumulative: the call before time_calls was not timed for the sink.
        assert_eq!(histogram(&points, name), 3.0, "{name}");
    }
    assert_eq!(histogram(&points, "cancelled"), 0.0);
}
