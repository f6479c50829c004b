//! The [`Subject`] trait and the runner that drives one through a [`Vector`].

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::vector::{Decision, EndKind, ManualOp, Op, OutcomeKind, Vector, VectorConfig};

/// What `acquire` returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AcquireResult {
    /// Admitted: an opaque permit handle and the transitions the acquire caused
    /// (`"open->half_open"` at most).
    Permitted {
        /// Handed back to [`Subject::record`] / [`Subject::drop_permit`] (from `acquire`) or
        /// [`Subject::finish`] (from `begin`).
        permit: u32,
        /// `"from->to:cause"` strings.
        transitions: Vec<String>,
        /// From `begin`: whether the call is timed (`acquire` reports `false`).
        timed: bool,
    },
    /// Refused, with the retry advice (`None` when forced open) and the reason.
    Rejected {
        /// In ms.
        retry_after_ms: Option<u64>,
        /// `"open"`, `"half_open_full"` or `"forced_open"`.
        reason: String,
    },
}

/// What a successful `finish` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finished {
    /// The duration reported (`None` for an untimed call).
    pub duration_ms: Option<u64>,
    /// `"from->to:cause"` strings.
    pub transitions: Vec<String>,
}

/// A breaker implementation under test: the Rust core, the reference model, the C ABI, ...
///
/// Every method takes `now` in ms; transitions are returned as `"from->to"` strings using
/// the state names of `docs/state-machine.md` (`closed`, `open`, `half_open`, `forced_open`,
/// `disabled`, `metrics_only`).
pub trait Subject: Sized {
    /// Builds a breaker, or returns the field the config got wrong, spelled as
    /// `cbreaker::ConfigError::field()` (`window.size`, `open_duration`, ...).
    ///
    /// # Errors
    /// The name of the invalid field.
    fn new(config: &VectorConfig) -> Result<Self, String>;
    /// `try_acquire(now)`.
    fn acquire(&mut self, now: u64) -> AcquireResult;
    /// `record(permit, outcome, duration, now)`; the transitions it caused.
    fn record(
        &mut self,
        permit: u32,
        outcome: OutcomeKind,
        duration_ms: Option<u64>,
        now: u64,
    ) -> Vec<String>;
    /// Gives a permit back unrecorded (`release`); the transitions it caused.
    fn drop_permit(&mut self, permit: u32, now: u64) -> Vec<String>;
    /// `state(now)` as a state name.
    fn state(&mut self, now: u64) -> String;
    /// `snapshot(now)` with every key of [`SNAPSHOT_KEYS`](crate::SNAPSHOT_KEYS): counters and
    /// window figures as integers, rates as floats (percent), `state` as a name,
    /// `retry_after_ms` as an integer or `null`.
    fn snapshot(&mut self, now: u64) -> Map<String, Value>;
    /// A manual control; the transitions it caused.
    fn manual(&mut self, op: ManualOp, now: u64) -> Vec<String>;
    /// The call protocol's `begin(now, sink)`; a permitted call's handle goes to `finish`.
    fn begin(&mut self, now: u64, sink: bool) -> AcquireResult;
    /// The call protocol's `finish(call, end, now)`.
    ///
    /// # Errors
    /// The error's code (`"permit_settled"`) when the call was settled already.
    fn finish(&mut self, call: u32, end: EndKind, now: u64) -> Result<Finished, String>;
    /// The health rule for this breaker at `now`: `"healthy"`, `"degraded"` or
    /// `"unhealthy"`.
    fn health(&mut self, now: u64) -> String;
    /// The config as built, with the keys of [`CONFIG_KEYS`](crate::CONFIG_KEYS) but
    /// `preset` (`window` as the vector object, durations in ms).
    fn config(&mut self) -> Map<String, Value>;
}

/// One way a vector did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The vector's name.
    pub vector: String,
    /// The step index (0-based), or `None` for the config.
    pub step: Option<usize>,
    /// What was expected and what happened.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.step {
            Some(i) => write!(f, "{}: step {i}: {}", self.vector, self.message),
            None => write!(f, "{}: config: {}", self.vector, self.message),
        }
    }
}

/// Tolerance for `failure_rate` and `slow_rate`.
pub const RATE_TOLERANCE: f64 = 1e-9;

/// Runs one vector against a fresh `S`. Stops at the first step that does not hold (later
/// steps would only repeat it).
///
/// # Errors
/// The first [`Failure`]: vector name, step index, expected and actual.
pub fn run_vector<S: Subject>(vector: &Vector) -> Result<(), Failure> {
    let fail = |step: Option<usize>, message: String| Failure {
        vector: vector.name.clone(),
        step,
        message,
    };
    let mut subject = match (S::new(&vector.config), &vector.expect_config_error) {
        (Ok(_), Some(field)) => {
            return Err(fail(
                None,
                format!("expected config error on {field:?}, got a breaker"),
            ));
        }
        (Err(got), Some(field)) if got == *field => return Ok(()),
        (Err(got), Some(field)) => {
            return Err(fail(
                None,
                format!("expected config error on {field:?}, got one on {got:?}"),
            ));
        }
        (Err(got), None) => return Err(fail(None, format!("unexpected config error on {got:?}"))),
        (Ok(s), None) => s,
    };
    let mut permits: HashMap<String, u32> = HashMap::new();
    // Calls from `begin`: the subject's handle and the `at` of the begin.
    let mut calls: HashMap<String, (u32, u64)> = HashMap::new();
    for (i, step) in vector.steps.iter().enumerate() {
        let now = step.at;
        let here = |msg: String| fail(Some(i), format!("{} at {now}: {msg}", step.op.name()));
        let transitions = match &step.op {
            Op::Acquire {
                name,
                expect,
                retry_after_ms,
                reason,
            } => {
                let got = subject.acquire(now);
                let (handle, _, transitions) =
                    check_decision(got, *expect, retry_after_ms.as_ref(), reason.as_deref())
                        .map_err(&here)?;
                if let (Some(name), Some(p)) = (name, handle) {
                    permits.insert(name.clone(), p);
                }
                transitions
            }
            Op::Begin {
                name,
                expect,
                retry_after_ms,
                reason,
                sink,
                expect_timed,
            } => {
                let got = subject.begin(now, *sink);
                let (handle, timed, transitions) =
                    check_decision(got, *expect, retry_after_ms.as_ref(), reason.as_deref())
                        .map_err(&here)?;
                if let (Some(want), Some(got)) = (expect_timed, timed) {
                    if *want != got {
                        return Err(here(format!("expected timed {want}, got {got}")));
                    }
                }
                if let (Some(name), Some(c)) = (name, handle) {
                    calls.insert(name.clone(), (c, now));
                }
                transitions
            }
            Op::Finish {
                call,
                end,
                expect_duration_ms,
                expect_error,
            } => {
                let Some(&(c, _)) = calls.get(call) else {
                    return Err(here(format!("no call named {call:?}")));
                };
                match (subject.finish(c, *end, now), expect_error) {
                    (Ok(done), None) => {
                        if let Some(want) = expect_duration_ms {
                            if *want != done.duration_ms {
                                return Err(here(format!(
                                    "expected duration_ms {}, got {}",
                                    show(*want),
                                    show(done.duration_ms)
                                )));
                            }
                        }
                        done.transitions
                    }
                    (Ok(_), Some(code)) => {
                        return Err(here(format!("expected error {code}, got a finish")));
                    }
                    (Err(got), None) => return Err(here(format!("unexpected error {got}"))),
                    (Err(got), Some(code)) if got == *code => Vec::new(),
                    (Err(got), Some(code)) => {
                        return Err(here(format!("expected error {code}, got {got}")));
                    }
                }
            }
            Op::Health { expect_health } => {
                let got = subject.health(now);
                if got != *expect_health {
                    return Err(here(format!("expected health {expect_health}, got {got}")));
                }
                Vec::new()
            }
            Op::Config { expect } => {
                let got = subject.config();
                let mut wrong = Vec::new();
                for (key, want) in expect {
                    let actual = got.get(key).unwrap_or(&Value::Null);
                    if !same_config(key, want, actual) {
                        wrong.push(format!("{key}: expected {want}, got {actual}"));
                    }
                }
                if !wrong.is_empty() {
                    return Err(here(format!(
                        "{} (full config: {})",
                        wrong.join("; "),
                        Value::Object(got)
                    )));
                }
                Vec::new()
            }
            Op::Record {
                permit,
                outcome,
                duration_ms,
            } => {
                let Some(&p) = permits.get(permit) else {
                    return Err(here(format!("no permit named {permit:?}")));
                };
                subject.record(p, *outcome, *duration_ms, now)
            }
            Op::Drop { permit } => {
                let Some(&p) = permits.get(permit) else {
                    return Err(here(format!("no permit named {permit:?}")));
                };
                subject.drop_permit(p, now)
            }
            Op::Call {
                outcome,
                duration_ms,
                times,
            } => {
                let mut all = Vec::new();
                for _ in 0..*times {
                    if let AcquireResult::Permitted {
                        permit,
                        transitions,
                        ..
                    } = subject.acquire(now)
                    {
                        all.extend(transitions);
                        all.extend(subject.record(permit, *outcome, *duration_ms, now));
                    }
                }
                all
            }
            Op::State { expect_state } => {
                let got = subject.state(now);
                if got != *expect_state {
                    return Err(here(format!("expected state {expect_state}, got {got}")));
                }
                Vec::new()
            }
            Op::Snapshot { expect } => {
                let got = subject.snapshot(now);
                let mut wrong = Vec::new();
                for (key, want) in expect {
                    let actual = got.get(key).unwrap_or(&Value::Null);
                    if !same(key, want, actual) {
                        wrong.push(format!("{key}: expected {want}, got {actual}"));
                    }
                }
                if !wrong.is_empty() {
                    return Err(here(format!(
                        "{} (full snapshot: {})",
                        wrong.join("; "),
                        Value::Object(got)
                    )));
                }
                Vec::new()
            }
            Op::Manual(m) => subject.manual(*m, now),
        };
        if let Some(want) = &step.expect_transitions {
            if !same_transitions(want, &transitions) {
                return Err(here(format!(
                    "expected transitions {want:?}, got {transitions:?}"
                )));
            }
        }
    }
    Ok(())
}

/// A checked decision: the permit or call handle (if admitted), whether the call is timed
/// (if admitted), and the transitions.
type Checked = (Option<u32>, Option<bool>, Vec<String>);

/// Checks a decision against `expect` (and the rejection's advice and reason when given);
/// returns the permit or call handle, whether it is timed, and the transitions.
fn check_decision(
    got: AcquireResult,
    expect: Decision,
    retry_after_ms: Option<&Option<u64>>,
    reason: Option<&str>,
) -> Result<Checked, String> {
    match (got, expect) {
        (
            AcquireResult::Permitted {
                permit,
                transitions,
                timed,
            },
            Decision::Permitted,
        ) => Ok((Some(permit), Some(timed), transitions)),
        (
            AcquireResult::Rejected {
                retry_after_ms: got,
                reason: got_reason,
            },
            Decision::Rejected,
        ) => {
            if let Some(want) = retry_after_ms {
                if *want != got {
                    return Err(format!(
                        "expected retry_after_ms {}, got {}",
                        show(*want),
                        show(got)
                    ));
                }
            }
            if let Some(want) = reason {
                if want != got_reason {
                    return Err(format!("expected reason {want}, got {got_reason}"));
                }
            }
            Ok((None, None, Vec::new()))
        }
        (AcquireResult::Permitted { .. }, Decision::Rejected) => {
            Err("expected rejected, got permitted".into())
        }
        (
            AcquireResult::Rejected {
                retry_after_ms: got,
                reason,
            },
            Decision::Permitted,
        ) => Err(format!(
            "expected permitted, got rejected ({reason}, retry_after_ms {})",
            show(got)
        )),
    }
}

/// Whether the transitions match: an expected `"from->to"` matches `"from->to:cause"`.
fn same_transitions(want: &[String], got: &[String]) -> bool {
    want.len() == got.len()
        && want.iter().zip(got).all(|(w, g)| {
            if w.contains(':') {
                w == g
            } else {
                g.split(':').next() == Some(w.as_str())
            }
        })
}

fn same_config(key: &str, want: &Value, got: &Value) -> bool {
    if key == "open_duration_multiplier" {
        return match (want.as_f64(), got.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() <= RATE_TOLERANCE,
            _ => false,
        };
    }
    same(key, want, got)
}

fn show(v: Option<u64>) -> String {
    v.map_or_else(|| "null".to_string(), |v| v.to_string())
}

fn same(key: &str, want: &Value, got: &Value) -> bool {
    if key == "failure_rate" || key == "slow_rate" {
        return match (want.as_f64(), got.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() <= RATE_TOLERANCE,
            _ => false,
        };
    }
    match (want, got) {
        (Value::Number(a), Value::Number(b)) => match (a.as_u64(), b.as_u64()) {
            (Some(a), Some(b)) => a == b,
            _ => a.as_f64() == b.as_f64(),
        },
        _ => want == got,
    }
}

/// Runs every vector; returns every failure (empty = all hold).
#[must_use]
pub fn run_all<S: Subject>(vectors: &[Vector]) -> Vec<Failure> {
    vectors
        .iter()
        .filter_map(|v| run_vector::<S>(v).err())
        .collect()
}

/// The directory of the vectors shipped with this crate (`tests/vectors`).
#[must_use]
pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

/// Every `*.json` in `tests/vectors/`, then in each directory of the colon-separated
/// `CBREAKER_VECTORS` environment variable, sorted by file name within each directory.
///
/// # Errors
/// Every file that could not be read or parsed, or whose `name` differs from its file name.
pub fn load_vectors() -> Result<Vec<Vector>, Vec<String>> {
    let mut dirs = vec![vectors_dir()];
    if let Ok(extra) = std::env::var("CBREAKER_VECTORS") {
        dirs.extend(
            extra
                .split(':')
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
        );
    }
    let mut vectors = Vec::new();
    let mut errors = Vec::new();
    for dir in dirs {
        match load_dir(&dir) {
            Ok((ok, bad)) => {
                vectors.extend(ok);
                errors.extend(bad);
            }
            Err(e) => errors.push(format!("{}: {e}", dir.display())),
        }
    }
    if errors.is_empty() {
        Ok(vectors)
    } else {
        Err(errors)
    }
}

/// Every `*.json` in `dir`, sorted by file name: the parsed vectors and the errors.
///
/// # Errors
/// The directory cannot be listed.
pub fn load_dir(dir: &Path) -> std::io::Result<(Vec<Vector>, Vec<String>)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for path in paths {
        let parsed = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| Vector::from_json(&text).map_err(|e| e.to_string()));
        match parsed {
            Ok(v) => {
                let stem = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default();
                if v.name == stem {
                    ok.push(v);
                } else {
                    bad.push(format!(
                        "{}: name {:?} differs from the file name",
                        path.display(),
                        v.name
                    ));
                }
            }
            Err(e) => bad.push(format!("{}: {e}", path.display())),
        }
    }
    Ok((ok, bad))
}
