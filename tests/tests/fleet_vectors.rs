//! Every fleet vector (`tests/vectors/fleet/`) against the Rust core and the simulated store.

use cbreaker_conformance::fleet::{load_fleet_vectors, run_fleet_vector};

#[test]
fn every_fleet_vector_passes() {
    let vectors = match load_fleet_vectors() {
        Ok(v) => v,
        Err(errors) => panic!(
            "fleet vectors that do not parse:\n  {}",
            errors.join("\n  ")
        ),
    };
    assert!(vectors.len() >= 10, "only {} fleet vectors", vectors.len());
    let failures: Vec<String> = vectors
        .iter()
        .filter_map(|v| {
            run_fleet_vector(v)
                .err()
                .map(|e| format!("{}: {e}", v.name))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} fleet vectors failed:\n  {}",
        failures.len(),
        vectors.len(),
        failures.join("\n  ")
    );
}
