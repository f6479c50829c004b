//! The resilience4j-named Prometheus output (the text, and the `prometheus` crate
//! collector), parsed by a Prometheus text parser (`prometheus-parse`): after a scripted
//! trip → reject → recover, every sample is the core's figure.

use std::collections::HashMap;
use std::sync::Arc;

use cbreaker::metrics::Naming;
use cbreaker::prometheus_collector::RegistryCollector;
use cbreaker::registry::Registry;
use cbreaker::{Calls as _, Config, Millis, Outcome, State, monotonic};
use prometheus_crate as prometheus;

/// `name{labels}` (labels sorted) → value, through `prometheus-parse`.
fn parse(text: &str) -> HashMap<String, f64> {
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut out = HashMap::new();
    for s in scrape.samples {
        let mut labels: Vec<_> = s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        labels.sort();
        let v = match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            other => panic!("{}: unexpected {other:?}", s.metric),
        };
        assert!(
            out.insert(format!("{}{{{}}}", s.metric, labels.join(",")), v)
                .is_none()
        );
    }
    out
}

fn collector_text(registry: &Arc<Registry>) -> String {
    let prom = prometheus::Registry::new();
    prom.register(Box::new(RegistryCollector::with_naming(
        registry.clone(),
        Naming::Resilience4j,
    )))
    .unwrap();
    prometheus::TextEncoder::new()
        .encode_to_string(&prom.gather())
        .unwrap()
}

fn check(m: &HashMap<String, f64>, state: State, calls: [f64; 4], buffered: [f64; 2], rate: f64) {
    let get = |k: &str| *m.get(k).unwrap_or_else(|| panic!("{k} missing: {m:?}"));
    for s in State::ALL {
        assert_eq!(
            get(&format!(
                "resilience4j_circuitbreaker_state{{name=api,state={}}}",
                s.name()
            )),
            f64::from(u8::from(s == state))
        );
    }
    for (kind, want) in ["successful", "failed", "ignored"].iter().zip(calls) {
        assert_eq!(
            get(&format!(
                "resilience4j_circuitbreaker_calls_seconds_count{{kind={kind},name=api}}"
            )),
            want,
            "{kind}"
        );
    }
    assert_eq!(
        get("resilience4j_circuitbreaker_not_permitted_calls_total{kind=not_permitted,name=api}"),
        calls[3]
    );
    assert_eq!(
        get("resilience4j_circuitbreaker_buffered_calls{kind=successful,name=api}"),
        buffered[0]
    );
    assert_eq!(
        get("resilience4j_circuitbreaker_buffered_calls{kind=failed,name=api}"),
        buffered[1]
    );
    assert_eq!(
        get("resilience4j_circuitbreaker_failure_rate{name=api}"),
        rate
    );
    assert!(m.contains_key("resilience4j_circuitbreaker_slow_calls{kind=all,name=api}"));
    assert!(m.contains_key("resilience4j_circuitbreaker_slow_call_rate{name=api}"));
}

#[test]
fn resilience4j_names_read_the_cores_counts_in_the_text_and_the_collector() {
    let registry: Arc<Registry> = Arc::new(
        Registry::new(Config {
            minimum_calls: 2,
            failure_rate_threshold: 50,
            ..Config::count(4)
        })
        .unwrap(),
    );
    let api = registry.get_or_create("api");
    // One success: below minimum_calls, the rate reads -1.
    assert_eq!(api.call(|| Ok::<_, ()>(())), Ok(()));
    for text in [
        registry.prometheus_text_named(monotonic::now, Naming::Resilience4j),
        collector_text(&registry),
    ] {
        check(
            &parse(&text),
            State::Closed,
            [1.0, 0.0, 0.0, 0.0],
            [1.0, 0.0],
            -1.0,
        );
    }
    // Trip (1 of 2 failed: 50 %), reject twice.
    let _ = api.call(|| Err::<(), _>(()));
    assert!(api.call(|| Ok::<_, ()>(())).unwrap_err().is_rejected());
    assert!(api.call(|| Ok::<_, ()>(())).unwrap_err().is_rejected());
    for text in [
        registry.prometheus_text_named(monotonic::now, Naming::Resilience4j),
        collector_text(&registry),
    ] {
        check(
            &parse(&text),
            State::Open,
            [1.0, 1.0, 0.0, 2.0],
            [1.0, 1.0],
            50.0,
        );
    }
    // Recover: the probe closes it and the window is cleared (rate -1 again).
    let t = Millis(monotonic::now().0 + 120_000);
    let p = api.try_acquire(t).unwrap().permit;
    assert!(api.record(p, Outcome::Success, None, t).is_some());
    let text = registry.prometheus_text_named(t, Naming::Resilience4j);
    check(
        &parse(&text),
        State::Closed,
        [2.0, 1.0, 0.0, 2.0],
        [0.0, 0.0],
        -1.0,
    );
    // Every family is declared once, with resilience4j's type.
    assert!(text.contains("# TYPE resilience4j_circuitbreaker_calls_seconds summary\n"));
    assert!(
        text.contains("# TYPE resilience4j_circuitbreaker_not_permitted_calls_total counter\n")
    );
    assert_eq!(
        text.matches("# TYPE ").count(),
        Naming::Resilience4j.families().len()
    );
}
