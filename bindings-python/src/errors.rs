//! Every error the binding raises, mapped in one place. The exception classes are declared in
//! Python (`python/cbreaker/_errors.py`) so that `ConfigError` can also be a `ValueError`.

use pyo3::prelude::*;

pyo3::import_exception!(cbreaker._errors, CircuitBreakerError);
pyo3::import_exception!(cbreaker._errors, ConfigError);
pyo3::import_exception!(cbreaker._errors, UnknownOptionError);
pyo3::import_exception!(cbreaker._errors, CircuitBreakerOpenError);
pyo3::import_exception!(cbreaker._errors, PermitError);
pyo3::import_exception!(cbreaker._errors, PermitSettledError);

/// The one local error type (the orphan rule forbids `From<cbreaker::ConfigError> for PyErr`).
pub(crate) enum PyCbError {
    /// A field the core rejected.
    Core(cbreaker::ConfigError),
    /// A value the core never sees (wrong type, NaN, negative or infinite seconds, ...).
    Binding {
        field: &'static str,
        message: String,
    },
    /// The circuit said no.
    Rejected(cbreaker::Rejected),
    /// A permit settled twice: the core's `PermitSettled`.
    Settled(cbreaker::PermitSettled),
    /// A permit handed to a breaker that did not issue it.
    ForeignPermit,
}

/// The Python keyword argument for a core config field (docs/errors.md). Exhaustive: a new
/// core variant fails to compile here until it is mapped.
pub(crate) fn keyword(e: cbreaker::ConfigError) -> &'static str {
    use cbreaker::ConfigError as E;
    match e {
        E::WindowSize => "window_size",
        E::WindowDuration => "window_duration",
        E::WindowBuckets => "window_buckets",
        E::FailureRateThreshold => "failure_rate_threshold",
        E::SlowCallRateThreshold => "slow_call_rate_threshold",
        E::SlowCallDuration => "slow_call_duration",
        E::ConsecutiveFailures => "consecutive_failures",
        E::OpenDuration => "open_duration",
        E::OpenDurationMax => "open_duration_max",
        E::OpenDurationMultiplier => "open_duration_multiplier",
        E::JitterPercent => "jitter_percent",
        E::HalfOpenMaxCalls => "half_open_max_calls",
        E::SuccessThreshold => "success_threshold",
        E::HalfOpenMaxWait => "half_open_max_wait",
    }
}

/// A `ConfigError` for a value the core never sees: `field` must be `what`.
pub(crate) fn binding(field: &'static str, what: &str) -> PyErr {
    let message = format!("invalid config: {field} must be {what}");
    PyCbError::Binding { field, message }.into()
}

/// Seconds as Python sees them.
pub(crate) fn secs(ms: cbreaker::Millis) -> f64 {
    ms.0 as f64 / 1000.0
}

impl From<PyCbError> for PyErr {
    fn from(e: PyCbError) -> PyErr {
        match e {
            PyCbError::Core(c) => ConfigError::new_err((c.message(), keyword(c))),
            PyCbError::Binding { field, message } => ConfigError::new_err((message, field)),
            PyCbError::Rejected(r) => CircuitBreakerOpenError::new_err((
                r.retry_after.map(secs),
                None::<&str>,
                r.reason.name(),
            )),
            PyCbError::Settled(s) => PermitSettledError::new_err(s.to_string()),
            PyCbError::ForeignPermit => {
                PermitError::new_err("permit issued by another breaker: settle it with its own")
            }
        }
    }
}
