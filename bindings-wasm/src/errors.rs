//! Every core error as a JS error object (docs/errors.md): one place, exhaustive matches.

use cbreaker::ConfigError;
use js_sys::{Error, RangeError, Reflect, TypeError};
use wasm_bindgen::JsValue;

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

fn with_props(err: &Error, props: &[(&str, &str)]) -> JsValue {
    for (k, v) in props {
        // Setting a property on a fresh Error object cannot fail.
        let _ = Reflect::set(err, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    err.clone().into()
}

/// A `RangeError` with `code: "ERR_CB_INVALID_CONFIG"`, `option` and the core's message.
#[must_use]
pub fn config_error(e: ConfigError) -> JsValue {
    let err: Error = RangeError::new(e.message()).into();
    with_props(
        &err,
        &[
            ("code", "ERR_CB_INVALID_CONFIG"),
            ("option", option_name(e)),
        ],
    )
}

/// A `TypeError` with `code: "ERR_CB_INVALID_ARGUMENT"`.
pub(crate) fn invalid_argument(message: &str) -> JsValue {
    let err: Error = TypeError::new(message).into();
    with_props(&err, &[("code", "ERR_CB_INVALID_ARGUMENT")])
}
