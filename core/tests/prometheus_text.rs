//! `prometheus` feature: the text exposition, checked line by line.

use std::collections::HashMap;

use cbreaker::Calls as _;
use cbreaker::registry::Registry;
use cbreaker::{Config, Millis, Outcome, State, monotonic};

/// `name{labels} value` lines, keyed by `name{labels}`; also checks the text's shape.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    let mut typed = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let name = rest.split(' ').next().unwrap().to_string();
            assert!(!typed.contains(&name), "TYPE {name} twice");
            typed.push(name);
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (key, value) = line.rsplit_once(' ').expect(line);
        let family = key.split('{').next().unwrap();
        let base = family
            .trim_end_matches("_bucket")
            .trim_end_matches("_sum")
            .trim_end_matches("_count");
        assert!(
            typed.last().is_some_and(|t| t == family || t == base),
            "{line}: sample outside its family"
        );
        assert!(
            samples
                .insert(key.to_string(), value.parse::<f64>().expect(line))
                .is_none()
        );
    }
    assert!(text.ends_with('\n'));
    samples
}

#[test]
fn exposition_reports_state_calls_rejections_slow_transitions_and_durations() {
    let reg: Registry = Registry::new(Config {
        slow_call_duration: Millis(5),
        ..Config::consecutive(2)
    })
    .unwrap();
    let api = reg.get_or_create("api");
    let db = reg.get_or_create("db");
    assert_eq!(api.call(|| Ok::<_, ()>(())), Ok(()));
    let _ = api.call(|| {
        std::thread::sleep(std::time::Duration::from_millis(6));
        Err::<(), _>(())
    });
    let _ = api.call(|| Err::<(), _>(()));
    assert!(api.call(|| Ok::<_, ()>(())).unwrap_err().is_rejected());
    assert!(api.call(|| Ok::<_, ()>(())).unwrap_err().is_rejected());
    drop(db.guard().unwrap());

    let text = reg.prometheus_text(monotonic::now);
    let m = parse(&text);
    let get = |k: &str| {
        *m.get(k)
            .unwrap_or_else(|| panic!("{k} missing from\n{text}"))
    };

    for state in State::ALL {
        let want = if state == State::Open { 1.0 } else { 0.0 };
        assert_eq!(
            get(&format!(
                "cbreaker_state{{breaker=\"api\",state=\"{}\"}}",
                state.name()
            )),
            want
        );
    }
    assert_eq!(get("cbreaker_state{breaker=\"db\",state=\"closed\"}"), 1.0);
    assert_eq!(
        get("cbreaker_calls_total{breaker=\"api\",outcome=\"success\"}"),
        1.0
    );
    assert_eq!(
        get("cbreaker_calls_total{breaker=\"api\",outcome=\"failure\"}"),
        2.0
    );
    assert_eq!(
        get("cbreaker_calls_total{breaker=\"db\",outcome=\"ignored\"}"),
        1.0
    );
    assert_eq!(
        get("cbreaker_calls_total{breaker=\"api\",outcome=\"rejected\"}"),
        2.0
    );
    assert_eq!(get("cbreaker_slow_calls_total{breaker=\"api\"}"), 1.0);
    assert_eq!(
        get("cbreaker_transitions_total{breaker=\"api\",state=\"open\"}"),
        1.0
    );
    assert_eq!(
        get("cbreaker_transitions_total{breaker=\"api\",state=\"closed\"}"),
        0.0
    );
    assert_eq!(
        get("cbreaker_call_duration_seconds_count{breaker=\"api\"}"),
        3.0
    );
    assert_eq!(
        get("cbreaker_call_duration_seconds_bucket{breaker=\"api\",le=\"+Inf\"}"),
        3.0
    );
    assert_eq!(
        get("cbreaker_call_duration_seconds_bucket{breaker=\"api\",le=\"0.001\"}"),
        2.0
    );
    assert_eq!(
        get("cbreaker_call_duration_seconds_bucket{breaker=\"api\",le=\"0.005\"}"),
        2.0
    );
    assert_eq!(
        get("cbreaker_call_duration_seconds_bucket{breaker=\"api\",le=\"0.01\"}"),
        3.0
    );
    assert!(get("cbreaker_call_duration_seconds_sum{breaker=\"api\"}") >= 0.006);
    assert_eq!(
        get("cbreaker_call_duration_seconds_count{breaker=\"db\"}"),
        0.0
    );

    // Buckets are cumulative.
    let mut last = 0.0;
    for le in cbreaker::histogram::BUCKETS {
        let v = get(&format!(
            "cbreaker_call_duration_seconds_bucket{{breaker=\"api\",le=\"{le}\"}}"
        ));
        assert!(v >= last);
        last = v;
    }

    // After a recovery the gauge and the transition counters follow.
    let t = monotonic::now().0 + 120_000;
    let p = api.try_acquire(Millis(t)).unwrap().permit;
    let _ = api.record(p, Outcome::Success, None, Millis(t));
    let m = parse(&reg.prometheus_text(Millis(t)));
    assert_eq!(m["cbreaker_state{breaker=\"api\",state=\"closed\"}"], 1.0);
    assert_eq!(
        m["cbreaker_transitions_total{breaker=\"api\",state=\"half_open\"}"],
        1.0
    );
    assert_eq!(
        m["cbreaker_transitions_total{breaker=\"api\",state=\"closed\"}"],
        1.0
    );
}

#[test]
fn label_values_are_escaped() {
    let reg: Registry = Registry::new(Config::count(10)).unwrap();
    let _ = reg.get_or_create("a\"b\\c\nd");
    let text = cbreaker::prometheus::text(&reg, Millis(0));
    assert!(
        text.contains("cbreaker_calls_total{breaker=\"a\\\"b\\\\c\\nd\",outcome=\"rejected\"} 0\n"),
        "{text}"
    );
    // state 6, calls 4, slow 1, transitions 6, failure and slow rates, retry-after, histogram 18.
    assert_eq!(parse(&text).len(), 6 + 4 + 1 + 6 + 1 + 1 + 1 + 18);
}

#[test]
fn an_empty_registry_still_declares_every_family() {
    let reg: Registry = Registry::new(Config::count(10)).unwrap();
    let text = reg.prometheus_text(Millis(0));
    assert_eq!(
        text.matches("# TYPE ").count(),
        cbreaker::metrics::FAMILIES.len()
    );
    assert!(parse(&text).is_empty());
}
