//! Keyword arguments (Python units: seconds as floats, rates as percent) → `cbreaker::Config`.
//! Values the core never sees (wrong type, NaN, infinities, negatives) are refused here, naming
//! the keyword; everything else is the core's `Config::validate`.

use cbreaker::{Config, ConfigError, Millis, WindowKind};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString};

use crate::errors::{PyCbError, keyword};

/// The constructor's config keywords, as passed.
#[derive(Default)]
pub(crate) struct Raw<'a, 'py> {
    pub(crate) window: Option<&'a Bound<'py, PyAny>>,
    pub(crate) window_size: Option<&'a Bound<'py, PyAny>>,
    pub(crate) window_duration: Option<&'a Bound<'py, PyAny>>,
    pub(crate) window_buckets: Option<&'a Bound<'py, PyAny>>,
    pub(crate) failure_rate_threshold: Option<&'a Bound<'py, PyAny>>,
    pub(crate) slow_call_rate_threshold: Option<&'a Bound<'py, PyAny>>,
    pub(crate) slow_call_duration: Option<&'a Bound<'py, PyAny>>,
    pub(crate) consecutive_failures: Option<&'a Bound<'py, PyAny>>,
    pub(crate) minimum_calls: Option<&'a Bound<'py, PyAny>>,
    pub(crate) open_duration: Option<&'a Bound<'py, PyAny>>,
    pub(crate) open_duration_max: Option<&'a Bound<'py, PyAny>>,
    pub(crate) open_duration_multiplier: Option<&'a Bound<'py, PyAny>>,
    pub(crate) jitter_percent: Option<&'a Bound<'py, PyAny>>,
    pub(crate) jitter_seed: Option<&'a Bound<'py, PyAny>>,
    pub(crate) half_open_max_calls: Option<&'a Bound<'py, PyAny>>,
    pub(crate) success_threshold: Option<&'a Bound<'py, PyAny>>,
    pub(crate) half_open_max_wait: Option<&'a Bound<'py, PyAny>>,
}

fn bad(field: &'static str, what: &str, v: &Bound<'_, PyAny>) -> PyCbError {
    let got = v
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "?".into());
    PyCbError::Binding {
        field,
        message: format!("invalid config: {field} must be {what}, got {got}"),
    }
}

/// A finite, non-negative number (int or float, never bool).
fn number(field: &'static str, v: &Bound<'_, PyAny>) -> Result<f64, PyCbError> {
    let ok_type = !v.is_instance_of::<PyBool>()
        && (v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>());
    let x = if ok_type {
        v.extract::<f64>().ok()
    } else {
        None
    };
    match x {
        Some(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(bad(field, "a finite, non-negative number", v)),
    }
}

/// A whole number from 0 to `max`; a float is accepted when it is integral.
fn whole(
    field: &'static str,
    v: &Bound<'_, PyAny>,
    max: u64,
    core: Option<ConfigError>,
) -> Result<u64, PyCbError> {
    let n = if v.is_instance_of::<PyInt>() && !v.is_instance_of::<PyBool>() {
        match v.extract::<u64>() {
            Ok(n) => n,
            Err(_) => return Err(bad(field, "a whole number from 0", v)),
        }
    } else {
        let x = number(field, v)?;
        if x.fract() != 0.0 || x > max as f64 {
            return Err(bad(field, "a whole number", v));
        }
        x as u64
    };
    if n > max {
        return Err(match core {
            Some(e) => PyCbError::Core(e),
            None => bad(field, &format!("at most {max}"), v),
        });
    }
    Ok(n)
}

/// Seconds (float or int) → whole milliseconds, rounded to the nearest.
fn seconds(
    field: &'static str,
    v: &Bound<'_, PyAny>,
    core: ConfigError,
) -> Result<Millis, PyCbError> {
    let ms = (number(field, v)? * 1000.0).round();
    if ms > u64::MAX as f64 / 2.0 {
        return Err(PyCbError::Core(core));
    }
    Ok(Millis(ms as u64))
}

fn bad_kind(kind: &str) -> PyCbError {
    PyCbError::Binding {
        field: "window",
        message: format!("invalid config: unknown window kind {kind:?}"),
    }
}

fn core_whole(v: &Bound<'_, PyAny>, e: ConfigError, max: u64) -> Result<u64, PyCbError> {
    whole(keyword(e), v, max, Some(e))
}

impl Raw<'_, '_> {
    /// The config these keywords describe, validated by the core for `slots` slots.
    pub(crate) fn build(&self) -> Result<Config, PyCbError> {
        use ConfigError as E;
        let kind = match self.window {
            None => "count".to_owned(),
            Some(w) => match w.cast::<PyString>() {
                Ok(s) => s.to_string(),
                Err(_) => return Err(bad("window", "\"count\", \"time\" or \"consecutive\"", w)),
            },
        };
        let mut c = match kind.as_str() {
            "count" => {
                let size = match self.window_size {
                    Some(v) => core_whole(v, E::WindowSize, u64::from(u32::MAX))? as u32,
                    None => 100,
                };
                Config::count(size)
            }
            "time" => {
                let duration = match self.window_duration {
                    Some(v) => seconds("window_duration", v, E::WindowDuration)?,
                    None => Millis(60_000),
                };
                let buckets = match self.window_buckets {
                    Some(v) => core_whole(v, E::WindowBuckets, u64::from(u32::MAX))? as u32,
                    None => 10,
                };
                Config::time(duration, buckets)
            }
            "consecutive" => Config::consecutive(0),
            _ => {
                let w = self.window.ok_or_else(|| bad_kind(&kind))?;
                return Err(bad("window", "\"count\", \"time\" or \"consecutive\"", w));
            }
        };
        if let Some(v) = self.failure_rate_threshold {
            c.failure_rate_threshold = core_whole(v, E::FailureRateThreshold, 255)? as u8;
        }
        if let Some(v) = self.slow_call_rate_threshold {
            c.slow_call_rate_threshold = core_whole(v, E::SlowCallRateThreshold, 255)? as u8;
        }
        if let Some(v) = self.slow_call_duration {
            c.slow_call_duration = seconds("slow_call_duration", v, E::SlowCallDuration)?;
        }
        if let Some(v) = self.consecutive_failures {
            c.consecutive_failures =
                core_whole(v, E::ConsecutiveFailures, u64::from(u32::MAX))? as u32;
        }
        if let Some(v) = self.minimum_calls {
            c.minimum_calls = whole("minimum_calls", v, u64::from(u32::MAX), None)? as u32;
        }
        if let Some(v) = self.open_duration {
            c.open_duration = seconds("open_duration", v, E::OpenDuration)?;
        }
        if let Some(v) = self.open_duration_max {
            c.open_duration_max = seconds("open_duration_max", v, E::OpenDurationMax)?;
        }
        if let Some(v) = self.open_duration_multiplier {
            c.open_duration_multiplier = number("open_duration_multiplier", v)?;
        }
        if let Some(v) = self.jitter_percent {
            c.jitter_percent = core_whole(v, E::JitterPercent, 255)? as u8;
        }
        if let Some(v) = self.jitter_seed {
            c.jitter_seed = whole("jitter_seed", v, u64::MAX, None)?;
        }
        if let Some(v) = self.half_open_max_calls {
            c.half_open_max_calls = core_whole(v, E::HalfOpenMaxCalls, u64::from(u32::MAX))? as u32;
        }
        if let Some(v) = self.success_threshold {
            c.success_threshold = core_whole(v, E::SuccessThreshold, u64::from(u32::MAX))? as u32;
        }
        if let Some(v) = self.half_open_max_wait {
            c.half_open_max_wait = seconds("half_open_max_wait", v, E::HalfOpenMaxWait)?;
        }
        if let (true, Some(v)) = (kind != "count", self.window_size) {
            return Err(bad("window_size", "unset unless window=\"count\"", v));
        }
        if kind != "time" {
            if let Some(v) = self.window_duration.or(self.window_buckets) {
                let field = if self.window_duration.is_some() {
                    "window_duration"
                } else {
                    "window_buckets"
                };
                return Err(bad(field, "unset unless window=\"time\"", v));
            }
        }
        Ok(c)
    }
}

/// The config as Python keywords (seconds as floats).
pub(crate) fn to_dict<'py>(
    py: Python<'py>,
    c: &Config,
) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
    use crate::errors::secs;
    let d = pyo3::types::PyDict::new(py);
    match c.window {
        WindowKind::Count { size } => {
            d.set_item("window", "count")?;
            d.set_item("window_size", size)?;
        }
        WindowKind::Time { duration, buckets } => {
            d.set_item("window", "time")?;
            d.set_item("window_duration", secs(duration))?;
            d.set_item("window_buckets", buckets)?;
        }
        WindowKind::Consecutive => d.set_item("window", "consecutive")?,
    }
    d.set_item("failure_rate_threshold", c.failure_rate_threshold)?;
    d.set_item("slow_call_rate_threshold", c.slow_call_rate_threshold)?;
    d.set_item("slow_call_duration", secs(c.slow_call_duration))?;
    d.set_item("consecutive_failures", c.consecutive_failures)?;
    d.set_item("minimum_calls", c.minimum_calls)?;
    d.set_item("open_duration", secs(c.open_duration))?;
    d.set_item("open_duration_max", secs(c.open_duration_max))?;
    d.set_item("open_duration_multiplier", c.open_duration_multiplier)?;
    d.set_item("jitter_percent", c.jitter_percent)?;
    d.set_item("jitter_seed", c.jitter_seed)?;
    d.set_item("half_open_max_calls", c.half_open_max_calls)?;
    d.set_item("success_threshold", c.success_threshold)?;
    d.set_item("half_open_max_wait", secs(c.half_open_max_wait))?;
    Ok(d)
}
