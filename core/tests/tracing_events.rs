//! `tracing` feature: each transition is one event (target `cbreaker`) with its previous
//! state, state entered and cause, from the call helpers and from `events::transition`.

use std::io;
use std::sync::{Arc, Mutex};

use cbreaker::registry::Registry;
use cbreaker::{Calls as _, Config, events, monotonic};

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn every_transition_is_one_event_with_its_cause() {
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let registry: Registry = Registry::new(Config::consecutive(2)).unwrap();
        let api = registry.get_or_create("api");
        for _ in 0..2 {
            let _ = api.call(|| Err::<(), _>(()));
        }
        assert!(api.call(|| Ok::<_, ()>(())).unwrap_err().is_rejected());
        let t = api.reset(monotonic::now());
        events::transition(Some("api"), &t);
    });
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].contains("WARN"), "{text}");
    for want in [
        "cbreaker:",
        events::MESSAGE,
        "circuit_breaker.previous_state=\"closed\"",
        "circuit_breaker.state=\"open\"",
        "circuit_breaker.cause=\"consecutive_failures\"",
    ] {
        assert!(lines[0].contains(want), "{want} missing: {text}");
    }
    for want in [
        "INFO",
        "circuit_breaker.name=\"api\"",
        "circuit_breaker.previous_state=\"open\"",
        "circuit_breaker.state=\"closed\"",
        "circuit_breaker.cause=\"reset\"",
    ] {
        assert!(lines[1].contains(want), "{want} missing: {text}");
    }
}
