//! Keyword arguments (Python units: seconds as floats, rates as percent) → `cbreaker::Config`.
//! The base is the core's: `Config::default()`, or `Config::preset(preset)`; the keywords
//! override it. Values the core never sees (wrong type, NaN, infinities, negatives) are
//! refused here, naming the keyword; everything else is the core's `Config::validate`.

use cbreaker::{Config, ConfigError, Millis, WindowKind};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt};

use crate::errors::{PyCbError, keyword, secs};

fn bad(field: &'static str, what: &str, v: &Bound<'_, PyAny>) -> PyCbError {
    let got = v.repr().map_or_else(|_| "?".into(), |r| r.to_string());
    let message = format!("invalid config: {field} must be {what}, got {got}");
    PyCbError::Binding { field, message }
}

/// A finite, non-negative number (int or float, never bool).
fn number(field: &'static str, v: &Bound<'_, PyAny>) -> Result<f64, PyCbError> {
    let ok_type = !v.is_instance_of::<PyBool>()
        && (v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>());
    match v.extract::<f64>().ok().filter(|_| ok_type) {
        Some(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(bad(field, "a finite, non-negative number", v)),
    }
}

/// A whole number from 0 to `max` (an integral float too); above `max`, the core's error.
fn whole(field: &'static str, v: &Bound<'_, PyAny>, max: u64) -> Result<u64, PyCbError> {
    let n = if v.is_instance_of::<PyInt>() && !v.is_instance_of::<PyBool>() {
        v.extract::<u64>()
            .map_err(|_| bad(field, "a whole number from 0", v))?
    } else {
        let x = number(field, v)?;
        if x.fract() != 0.0 || x > max as f64 {
            return Err(bad(field, "a whole number", v));
        }
        x as u64
    };
    match (
        n > max,
        ConfigError::ALL.into_iter().find(|e| keyword(*e) == field),
    ) {
        (false, _) => Ok(n),
        (true, Some(e)) => Err(PyCbError::Core(e)),
        (true, None) => Err(bad(field, &format!("at most {max}"), v)),
    }
}

/// Seconds (float or int) → whole milliseconds, rounded to the nearest (saturating: the core
/// refuses a duration that large, naming the field).
fn seconds(field: &'static str, v: &Bound<'_, PyAny>) -> Result<Millis, PyCbError> {
    Ok(Millis((number(field, v)? * 1000.0).round() as u64))
}

/// Every keyword, window keywords first, in the order they are checked.
#[rustfmt::skip]
const KEYWORDS: [&str; 18] = [
    "preset", "window", "window_size", "window_duration", "window_buckets",
    "failure_rate_threshold", "slow_call_rate_threshold", "slow_call_duration",
    "consecutive_failures", "minimum_calls", "open_duration", "open_duration_max",
    "open_duration_multiplier", "jitter_percent", "jitter_seed", "half_open_max_calls",
    "success_threshold", "half_open_max_wait",
];
const U32: u64 = u32::MAX as u64;
const U8: u64 = u8::MAX as u64;

/// The config that `preset` and the keywords in `kw` describe (a `None` value is as absent).
pub(crate) fn build(kw: Option<&Bound<'_, PyDict>>) -> PyResult<Config> {
    let get = |k: &str| -> PyResult<Option<Bound<'_, PyAny>>> {
        Ok(kw
            .map(|d| d.get_item(k))
            .transpose()?
            .flatten()
            .filter(|v| !v.is_none()))
    };
    for k in kw.into_iter().flat_map(|d| d.keys()) {
        let k = k.extract::<String>()?;
        if !KEYWORDS.contains(&k.as_str()) {
            let msg = format!("invalid config: unknown option {k:?}");
            return Err(crate::errors::UnknownOptionError::new_err((msg, k)));
        }
    }
    let base = match get("preset")? {
        None => Config::DEFAULT,
        Some(p) => (p.extract::<String>().ok().and_then(|s| Config::preset(&s)))
            .ok_or_else(|| bad("preset", &format!("one of {:?}", Config::PRESETS), &p))?,
    };
    let (size, duration, buckets) = (get(KEYWORDS[2])?, get(KEYWORDS[3])?, get(KEYWORDS[4])?);
    let kind = match get("window")? {
        Some(w) => match w.extract::<String>().ok().as_deref() {
            Some("count") => "count",
            Some("time") => "time",
            Some("consecutive") => "consecutive",
            _ => return Err(bad("window", "\"count\", \"time\" or \"consecutive\"", &w).into()),
        },
        None if size.is_some() => "count",
        None if duration.is_some() || buckets.is_some() => "time",
        None => kind_name(base.window),
    };
    for (k, v, only) in [
        (2, &size, "count"),
        (3, &duration, "time"),
        (4, &buckets, "time"),
    ] {
        if let (Some(v), true) = (v, kind != only) {
            return Err(bad(KEYWORDS[k], &format!("unset unless window=\"{only}\""), v).into());
        }
    }
    let size = size.map(|v| whole("window_size", &v, U32)).transpose()?;
    let duration = duration
        .map(|v| seconds("window_duration", &v))
        .transpose()?;
    let buckets = buckets
        .map(|v| whole("window_buckets", &v, U32))
        .transpose()?;
    // Another kind than the base's starts from the core's defaults: the default count
    // window's size; no time window (the core has none: a part not given is 0, which the core
    // refuses, naming it); and the consecutive rule of a consecutive base stays with that window.
    let s0 = match (base.window, Config::DEFAULT.window) {
        (WindowKind::Count { size }, _) | (_, WindowKind::Count { size }) => size,
        _ => 0,
    };
    let (d0, b0) = match base.window {
        WindowKind::Time { duration, buckets } => (duration, buckets),
        _ => (Millis(0), 0),
    };
    let mut c = base;
    if base.window == WindowKind::Consecutive && kind != "consecutive" {
        c.consecutive_failures = Config::DEFAULT.consecutive_failures;
    }
    if let (Some(d), None, 0) = (duration, buckets, b0) {
        // Both parts are needed: a bad duration given is named before the buckets not given.
        Config::time(d, 1).validate().map_err(PyCbError::Core)?;
    }
    let (size, duration) = (size.map_or(s0, |n| n as u32), duration.unwrap_or(d0));
    let buckets = buckets.map_or(b0, |n| n as u32);
    c.window = match kind {
        "count" => WindowKind::Count { size },
        "time" => WindowKind::Time { duration, buckets },
        _ => WindowKind::Consecutive,
    };
    for f in &KEYWORDS[5..] {
        let Some(v) = get(f)? else { continue };
        match *f {
            "failure_rate_threshold" => c.failure_rate_threshold = whole(f, &v, U8)? as u8,
            "slow_call_rate_threshold" => c.slow_call_rate_threshold = whole(f, &v, U8)? as u8,
            "slow_call_duration" => c.slow_call_duration = seconds(f, &v)?,
            "consecutive_failures" => c.consecutive_failures = whole(f, &v, U32)? as u32,
            "minimum_calls" => c.minimum_calls = whole(f, &v, U32)? as u32,
            "open_duration" => c.open_duration = seconds(f, &v)?,
            "open_duration_max" => c.open_duration_max = seconds(f, &v)?,
            "open_duration_multiplier" => c.open_duration_multiplier = number(f, &v)?,
            "jitter_percent" => c.jitter_percent = whole(f, &v, U8)? as u8,
            "jitter_seed" => c.jitter_seed = whole(f, &v, u64::MAX)?,
            "half_open_max_calls" => c.half_open_max_calls = whole(f, &v, U32)? as u32,
            "success_threshold" => c.success_threshold = whole(f, &v, U32)? as u32,
            _ => c.half_open_max_wait = seconds(f, &v)?,
        }
    }
    Ok(c)
}

fn kind_name(w: WindowKind) -> &'static str {
    match w {
        WindowKind::Count { .. } => "count",
        WindowKind::Time { .. } => "time",
        WindowKind::Consecutive => "consecutive",
    }
}

/// The config as Python keywords (seconds as floats).
pub(crate) fn to_dict<'py>(py: Python<'py>, c: &Config) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("window", kind_name(c.window))?;
    match c.window {
        WindowKind::Count { size } => d.set_item("window_size", size)?,
        WindowKind::Time { duration, buckets } => {
            d.set_item("window_duration", secs(duration))?;
            d.set_item("window_buckets", buckets)?;
        }
        WindowKind::Consecutive => {}
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
