//! `registry` and `heapless` features: named breakers, with and without an allocator.

use std::sync::Arc;
use std::thread;

use cbreaker::fixed_registry::{FixedRegistry, FixedRegistryError};
use cbreaker::registry::Registry;
use cbreaker::{Cause, Config, ConfigError, Millis, Outcome, State, monotonic};

fn trip(b: &cbreaker::Breaker, now: Millis) {
    while b.state(now) == State::Closed {
        let p = b.try_acquire(now).unwrap().permit;
        let _ = b.record(p, Outcome::Failure, None, now);
    }
}

#[test]
fn get_or_create_returns_one_breaker_per_name_across_threads() {
    let reg: Arc<Registry> = Arc::new(Registry::new(Config::consecutive(3)).unwrap());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let reg = reg.clone();
            thread::spawn(move || {
                (0..100)
                    .map(|i| Arc::as_ptr(&reg.get_or_create(&format!("dep{}", i % 5))) as usize)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let all: Vec<Vec<usize>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for i in 0..100 {
        for t in &all {
            assert_eq!(t[i], all[0][i], "two breakers for dep{}", i % 5);
        }
    }
    assert_eq!(reg.len(), 5);
    assert_eq!(reg.names(), ["dep0", "dep1", "dep2", "dep3", "dep4"]);
}

#[test]
fn register_remove_stats_reset_all_and_health() {
    let reg: Registry = Registry::new(Config::for_http_api()).unwrap();
    assert!(reg.is_empty());
    let llm = reg.register("llm", Config::for_llm_service()).unwrap();
    let db = reg
        .get_or_create_with("db", Config::for_database())
        .unwrap();
    let api = reg.get_or_create("api");
    assert_eq!(api.config().minimum_calls, 20);
    assert_eq!(llm.config().consecutive_failures, 5);
    // An existing breaker keeps its config.
    let db2 = reg.get_or_create_with("db", Config::for_cache()).unwrap();
    assert!(Arc::ptr_eq(&db, &db2));
    assert_eq!(
        reg.register("bad", Config::count(0)).unwrap_err(),
        ConfigError::WindowSize
    );
    assert!(reg.get("bad").is_none());

    let now = monotonic::now();
    trip(llm.breaker(), now);
    let h = reg.health(now);
    assert_eq!(
        (h.count(State::Closed), h.count(State::Open), h.total()),
        (2, 1, 3)
    );
    assert!(!h.is_healthy());
    assert_eq!(
        h.to_string(),
        "closed=2 open=1 half_open=0 forced_open=0 disabled=0 metrics_only=0"
    );

    let stats = reg.stats(now);
    let names: Vec<&str> = stats.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["api", "db", "llm"]);
    assert_eq!(stats[2].1.state, State::Open);
    assert_eq!(stats[2].1.failures, 5);

    let resets = reg.reset_all(now);
    assert_eq!(resets.len(), 3);
    assert!(
        resets
            .iter()
            .all(|(_, t)| t.cause == Cause::Reset && t.to == State::Closed)
    );
    assert!(reg.health(now).is_healthy());

    let removed = reg.remove("db").unwrap();
    assert!(Arc::ptr_eq(&removed, &db));
    assert!(reg.remove("db").is_none());
    assert_eq!(reg.names(), ["api", "llm"]);

    // Replacing: the new breaker starts closed; the old Arc still works on its own.
    trip(api.breaker(), now);
    let api2 = reg.register("api", Config::for_http_api()).unwrap();
    assert_eq!(api2.state(now), State::Closed);
    assert_eq!(api.state(now), State::Open);
    assert!(Arc::ptr_eq(&reg.get("api").unwrap(), &api2));
}

#[test]
fn registry_rejects_a_default_that_does_not_fit() {
    assert_eq!(
        Registry::<32>::new(Config::count(1024)).unwrap_err(),
        ConfigError::WindowSize
    );
    assert!(Registry::<{ cbreaker::MAX_SLOTS }>::new(Config::count(1024)).is_ok());
}

#[test]
fn fixed_registry_fills_up_and_reports() {
    let mut reg: FixedRegistry<2, 32, 8> = FixedRegistry::new();
    reg.register("modem", Config::consecutive(1)).unwrap();
    assert_eq!(
        reg.register("modem", Config::consecutive(1)).unwrap_err(),
        FixedRegistryError::Exists
    );
    assert_eq!(
        reg.register("much-too-long", Config::consecutive(1))
            .unwrap_err(),
        FixedRegistryError::NameTooLong
    );
    assert_eq!(
        reg.register("x", Config::count(0)).unwrap_err(),
        FixedRegistryError::Config(ConfigError::WindowSize)
    );
    reg.get_or_create("gps", Config::count(8)).unwrap();
    assert_eq!(
        reg.register("radio", Config::consecutive(1)).unwrap_err(),
        FixedRegistryError::Full
    );
    // Existing: returned, not an error, even when full.
    assert!(reg.get_or_create("gps", Config::count(0)).is_ok());
    assert_eq!(reg.names().collect::<Vec<_>>(), ["modem", "gps"]);

    let now = Millis(100);
    let modem = reg.get("modem").unwrap();
    let p = modem.try_acquire(now).unwrap().permit;
    assert!(modem.record(p, Outcome::Failure, None, now).is_some());
    let h = reg.health(now);
    assert_eq!((h.count(State::Open), h.count(State::Closed)), (1, 1));
    let stats: Vec<_> = reg.stats(now).collect();
    assert_eq!(stats[0].0, "modem");
    assert_eq!(stats[0].1.failures, 1);
    assert_eq!(reg.reset_all(now), 2);
    assert!(reg.health(now).is_healthy());

    assert!(reg.remove("modem").is_some());
    assert_eq!(reg.len(), 1);
    reg.register("radio", Config::consecutive(1)).unwrap();
    assert_eq!(reg.names().collect::<Vec<_>>(), ["gps", "radio"]);
}
