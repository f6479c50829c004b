//! Every conformance vector against the Rust core and against the reference model.
//!
//! One failing vector fails the test, which lists every failure (vector, step, expected vs
//! actual). Vectors that show a known core bug are listed in `CORE_BUGS`: the core skips them
//! in `vectors_core`, and each has its own ignored test below that runs it, so
//! `cargo test -p cbreaker-conformance --test vectors -- --ignored` shows the bugs.

use cbreaker_conformance::reference::ModelSubject;
use cbreaker_conformance::{
    CoreSubject, Failure, Subject, Vector, load_vectors, run_all, run_vector,
};

/// `(vector name, why)`: vectors the core fails because of a reported core bug.
const CORE_BUGS: &[(&str, &str)] = &[];

fn vectors() -> Vec<Vector> {
    match load_vectors() {
        Ok(v) => v,
        Err(errors) => panic!("vectors that do not parse:\n  {}", errors.join("\n  ")),
    }
}

fn check<S: Subject>(who: &str, vectors: &[Vector]) {
    let failures: Vec<Failure> = run_all::<S>(vectors);
    let list: Vec<String> = failures.iter().map(ToString::to_string).collect();
    assert!(
        list.is_empty(),
        "{who}: {} of {} vectors failed:\n  {}",
        list.len(),
        vectors.len(),
        list.join("\n  ")
    );
}

#[test]
fn there_are_enough_vectors() {
    let v = vectors();
    assert!(v.len() >= 36, "only {} vectors", v.len());
    let mut names: Vec<&str> = v.iter().map(|v| v.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), v.len(), "two vectors share a name");
}

#[test]
fn vectors_core() {
    let all = vectors();
    let run: Vec<Vector> = all
        .into_iter()
        .filter(|v| !CORE_BUGS.iter().any(|(n, _)| *n == v.name))
        .collect();
    check::<CoreSubject>("core", &run);
}

#[test]
fn vectors_reference_model() {
    check::<ModelSubject>("reference model", &vectors());
}

/// For an ignored test per `CORE_BUGS` entry:
/// `#[test] #[ignore = "core bug: ..."] fn core_bug_NAME() { run_named_on_core("NAME"); }`
#[allow(
    dead_code,
    reason = "used by the ignored tests of CORE_BUGS, when there are any"
)]
fn run_named_on_core(name: &str) {
    let v = vectors()
        .into_iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("no vector {name}"));
    if let Err(f) = run_vector::<CoreSubject>(&v) {
        panic!("{f}");
    }
}

#[test]
fn core_bug_list_names_real_vectors() {
    let all = vectors();
    for (name, _) in CORE_BUGS {
        assert!(
            all.iter().any(|v| v.name == *name),
            "CORE_BUGS names {name}, which is not a vector"
        );
    }
}

/// The runner itself: a vector with one wrong expectation fails at that step, on both subjects.
#[test]
fn a_wrong_expectation_fails_at_its_step() {
    let text = r#"{ "name": "wrong", "config": { "window": {"kind": "count", "size": 4}, "minimum_calls": 4 },
        "steps": [ { "at": 0, "op": "call", "outcome": "failure", "times": 4, "expect_transitions": ["closed->open"] },
                   { "at": 1, "op": "acquire", "expect": "rejected", "retry_after_ms": 59998 } ] }"#;
    let v = Vector::from_json(text).expect("parses");
    for f in [
        run_vector::<CoreSubject>(&v),
        run_vector::<ModelSubject>(&v),
    ] {
        let f = f.expect_err("retry_after_ms is 59999, not 59998");
        assert_eq!(f.step, Some(1), "{f}");
        assert!(
            f.message.contains("59998") && f.message.contains("59999"),
            "{f}"
        );
    }
    let bad_key = text.replace("\"times\"", "\"tims\"");
    assert!(
        Vector::from_json(&bad_key).is_err(),
        "an unknown key must not parse"
    );
}
