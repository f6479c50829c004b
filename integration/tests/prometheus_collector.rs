//! `prometheus-collector`: the collector in a `prometheus::Registry` (the crate's default,
//! protobuf model) gives the same samples as `cbreaker::prometheus::text`.

use std::collections::BTreeMap;
use std::sync::Arc;

use cbreaker::Calls as _;
use cbreaker::prometheus_collector::RegistryCollector;
use cbreaker::registry::Registry;
use cbreaker::{Config, Millis};
use prometheus::{Encoder, TextEncoder};

/// `series → value` of every sample line.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            let v = if v == "+Inf" {
                f64::INFINITY
            } else {
                v.parse().unwrap()
            };
            (k.to_string(), v)
        })
        .collect()
}

#[test]
fn collector_matches_the_text_exposition() {
    let breakers: Arc<Registry> = Arc::new(
        Registry::new(Config {
            open_duration: Millis(3_600_000),
            ..Config::consecutive(2)
        })
        .unwrap(),
    );
    let prom = prometheus::Registry::new();
    prom.register(RegistryCollector::boxed(breakers.clone()))
        .unwrap();

    // Nothing registered yet: no samples, and the families come and go with the breakers.
    assert!(prom.gather().is_empty());

    let api = breakers.get_or_create("api");
    let db = breakers.get_or_create("db");
    let _ = api.call(|| Ok::<_, ()>(()));
    for _ in 0..2 {
        let _ = api.call(|| Err::<(), _>(()));
    }
    assert!(api.call(|| Ok::<_, ()>(())).unwrap_err().is_rejected());
    let _ = db.call(|| Ok::<_, ()>(()));

    let families = prom.gather();
    assert_eq!(families.len(), cbreaker::metrics::FAMILIES.len());
    let mut buf = Vec::new();
    TextEncoder::new().encode(&families, &mut buf).unwrap();
    let theirs = samples(&String::from_utf8(buf).unwrap());
    let ours = samples(&breakers.prometheus_text(cbreaker::monotonic::now));
    assert_eq!(theirs.len(), ours.len());
    for (k, v) in &ours {
        let t = theirs
            .get(k)
            .unwrap_or_else(|| panic!("{k} missing from the collector"));
        if k.contains("_sum") {
            assert!((t - v).abs() < 1e-3, "{k}: {t} vs {v}");
        } else {
            assert_eq!(t, v, "{k}");
        }
    }
    assert_eq!(ours["cbreaker_state{breaker=\"api\",state=\"open\"}"], 1.0);
    assert_eq!(
        ours["cbreaker_calls_total{breaker=\"api\",outcome=\"rejected\"}"],
        1.0
    );

    // A second collector with the same families is refused by the registry.
    assert!(
        prom.register(RegistryCollector::boxed(breakers.clone()))
            .is_err()
    );
}
