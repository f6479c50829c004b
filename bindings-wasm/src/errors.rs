//! Every core error as a JS error object (docs/errors.md): one place, exhaustive matches.
//!
//! Messages name the JS option (`openDurationMs`, never the core's `open_duration`) and state
//! the range in the JS option's terms; the JS layer adds the value as the caller gave it.

use cbreaker::{ConfigError, limits};
use js_sys::{Error, RangeError, Reflect, TypeError};
use wasm_bindgen::JsValue;

/// The code of every config error (a `RangeError` out of range, a `TypeError` of the wrong
/// type or a missing or conflicting option).
pub(crate) const INVALID_CONFIG: &str = "ERR_CB_INVALID_CONFIG";

/// The JS option a config field is set by (docs/errors.md, column "JS option").
#[must_use]
pub const fn option_name(e: ConfigError) -> &'static str {
    match e {
        ConfigError::WindowSize => "windowSize",
        ConfigError::WindowDuration => "windowDurationMs",
        ConfigError::WindowBuckets => "windowBuckets",
        ConfigError::FailureRateThreshold => "failureRateThreshold",
        ConfigError::SlowCallRateThreshold => "slowCallRateThreshold",
        ConfigError::SlowCallDuration => "slowCallDurationMs",
        ConfigError::ConsecutiveFailures => "consecutiveFailures",
        ConfigError::OpenDuration => "openDurationMs",
        ConfigError::OpenDurationMax => "openDurationMaxMs",
        ConfigError::OpenDurationMultiplier => "openDurationMultiplier",
        ConfigError::JitterPercent => "jitterPercent",
        ConfigError::HalfOpenMaxCalls => "halfOpenMaxCalls",
        ConfigError::SuccessThreshold => "successThreshold",
        ConfigError::HalfOpenMaxWait => "halfOpenMaxWaitMs",
    }
}

/// The allowed values of the option, in the JS option's terms: the numbers are the core's
/// limits. (The core's own `allowed()` names Rust fields and the storage of a fixed-size
/// breaker; this front door sizes the storage from the config, so only the limits apply.)
#[must_use]
pub fn allowed(e: ConfigError) -> String {
    let max_ms = limits::MAX_DURATION.0;
    match e {
        ConfigError::WindowSize => format!("an integer from 1 to {}", limits::MAX_COUNT_WINDOW),
        ConfigError::WindowDuration => {
            format!("from 1 to {max_ms} ms and a multiple of windowBuckets")
        }
        ConfigError::WindowBuckets => format!("an integer from 1 to {}", limits::MAX_BUCKETS),
        ConfigError::FailureRateThreshold | ConfigError::SlowCallRateThreshold => {
            "0 (off) to 100 percent".into()
        }
        ConfigError::SlowCallDuration => format!("from 0 to {max_ms} ms"),
        ConfigError::ConsecutiveFailures => format!(
            "0 (off) to {}, and at least 1 with window 'consecutive'",
            limits::MAX_CONSECUTIVE_FAILURES
        ),
        ConfigError::OpenDuration | ConfigError::HalfOpenMaxWait => {
            format!("from 1 to {max_ms} ms")
        }
        ConfigError::OpenDurationMax => {
            format!("0 (no cap) or from openDurationMs to {max_ms} ms")
        }
        ConfigError::OpenDurationMultiplier => {
            // An integer: formatting an f64 would link core::fmt's float printer (~18 KB).
            format!("from 1 to {}", limits::MAX_MULTIPLIER as u32)
        }
        ConfigError::JitterPercent => {
            format!("from 0 to {} percent", limits::MAX_JITTER_PERCENT)
        }
        ConfigError::HalfOpenMaxCalls | ConfigError::SuccessThreshold => {
            format!("an integer from 1 to {}", limits::MAX_HALF_OPEN_CALLS)
        }
    }
}

fn with_props(err: &Error, props: &[(&str, &str)]) -> JsValue {
    for (k, v) in props {
        // Setting a property on a fresh Error object cannot fail.
        let _ = Reflect::set(err, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    err.clone().into()
}

/// A `RangeError` with `code: "ERR_CB_INVALID_CONFIG"` and `option`, for a core check.
#[must_use]
pub(crate) fn config_error(e: ConfigError) -> JsValue {
    let option = option_name(e);
    range_error(option, &format!("{option} must be {}", allowed(e)))
}

/// A `RangeError` for `option`: `invalid config: {message}`.
#[must_use]
pub(crate) fn range_error(option: &str, message: &str) -> JsValue {
    let err: Error = RangeError::new(&format!("invalid config: {message}")).into();
    with_props(&err, &[("code", INVALID_CONFIG), ("option", option)])
}

/// A `TypeError` for `option` (missing or conflicting): `invalid config: {message}`.
#[must_use]
pub(crate) fn type_error(option: &str, message: &str) -> JsValue {
    let err: Error = TypeError::new(&format!("invalid config: {message}")).into();
    with_props(&err, &[("code", INVALID_CONFIG), ("option", option)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_js_options_only() {
        for e in ConfigError::ALL {
            let text = allowed(e);
            // No core field name (snake_case) and no storage talk leaks into a JS message.
            assert!(!text.contains('_'), "{e:?}: {text}");
            assert!(!text.contains("slot"), "{e:?}: {text}");
            assert!(option_name(e).chars().all(|c| c.is_ascii_alphabetic()));
        }
    }
}
