//! `cb_config`: the breaker's configuration as a plain C struct.

use cbreaker::{Config, Millis, WindowKind};

use crate::names::{
    CB_WINDOW_KIND_CONSECUTIVE, CB_WINDOW_KIND_COUNT, CB_WINDOW_KIND_TIME, cb_window_kind,
};
use crate::status::{CB_STATUS_INVALID_ARGUMENT, CB_STATUS_OK, cb_status, config_status};

/// How a breaker decides. Start from `cb_config_default()` and set fields; a breaker
/// constructor validates it and names the first bad field in its status (200–299).
/// Durations are milliseconds. Zero turns a trip condition off (`failure_rate_threshold`,
/// `slow_call_rate_threshold`, `consecutive_failures`). Plain data: copy it freely.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct cb_config {
    /// `CB_WINDOW_KIND_COUNT` (default), `_TIME` or `_CONSECUTIVE`; anything else gives
    /// `CB_STATUS_INVALID_ARGUMENT`.
    pub window_kind: cb_window_kind,
    /// Count window: how many outcomes it holds, 1 to 1024. Default 100.
    pub window_size: u32,
    /// Time window: the span it covers, a multiple of `window_buckets`. Default 60000.
    pub window_duration_ms: u64,
    /// Time window: how many buckets, 1 to 64. Default 10.
    pub window_buckets: u32,
    /// Trip at this failure rate, percent (0 = off). Default 50.
    pub failure_rate_threshold: u8,
    /// Trip at this slow-call rate, percent (0 = off). Default 0.
    pub slow_call_rate_threshold: u8,
    /// A call at least this long is slow. Default 60000.
    pub slow_call_duration_ms: u64,
    /// Trip after this many failures in a row (0 = off; ignores `minimum_calls`). Default 0.
    pub consecutive_failures: u32,
    /// Rate conditions apply once the window holds this many outcomes. Default 100.
    pub minimum_calls: u32,
    /// How long the first trip stays open. Default 60000.
    pub open_duration_ms: u64,
    /// Cap of the backed-off open duration (0 = the 2^32 − 1 ms limit). Default 0.
    pub open_duration_max_ms: u64,
    /// The k-th consecutive trip stays open `min(open_duration × multiplier^k, max)`,
    /// 1.0 to 1000.0, three decimals. Default 1.0.
    pub open_duration_multiplier: f64,
    /// ± this many percent of deterministic jitter on each open duration. Default 0.
    pub jitter_percent: u8,
    /// Seed of the jitter generator (same seed, same durations, in every language). Default 0.
    pub jitter_seed: u64,
    /// Probe permits out at once in half-open, 1 to 31. Default 1.
    pub half_open_max_calls: u32,
    /// Probe successes that close the circuit, 1 to 31. Default 1.
    pub success_threshold: u32,
    /// Half-open slots nobody decided within this long are reclaimed. Default 60000.
    pub half_open_max_wait_ms: u64,
}

const DEFAULT_SIZE: u32 = 100;
const DEFAULT_DURATION_MS: u64 = 60_000;
const DEFAULT_BUCKETS: u32 = 10;

impl cb_config {
    /// The defaults: the core's `Config::count(100)`, with a valid time window (60 s in 10
    /// buckets) ready should the caller switch `window_kind`.
    #[must_use]
    pub fn defaults() -> cb_config {
        let mut c = cb_config::from_core(&Config::count(DEFAULT_SIZE));
        c.window_duration_ms = DEFAULT_DURATION_MS;
        c.window_buckets = DEFAULT_BUCKETS;
        c.open_duration_max_ms = 0;
        c
    }

    /// The C form of a core config (`open_duration_max` copied as is).
    #[must_use]
    pub fn from_core(c: &Config) -> cb_config {
        let (window_kind, window_size, window_duration_ms, window_buckets) = match c.window {
            WindowKind::Count { size } => (CB_WINDOW_KIND_COUNT, size, 0, 0),
            WindowKind::Time { duration, buckets } => (CB_WINDOW_KIND_TIME, 0, duration.0, buckets),
            WindowKind::Consecutive => (CB_WINDOW_KIND_CONSECUTIVE, 0, 0, 0),
        };
        cb_config {
            window_kind,
            window_size,
            window_duration_ms,
            window_buckets,
            failure_rate_threshold: c.failure_rate_threshold,
            slow_call_rate_threshold: c.slow_call_rate_threshold,
            slow_call_duration_ms: c.slow_call_duration.0,
            consecutive_failures: c.consecutive_failures,
            minimum_calls: c.minimum_calls,
            open_duration_ms: c.open_duration.0,
            open_duration_max_ms: c.open_duration_max.0,
            open_duration_multiplier: c.open_duration_multiplier,
            jitter_percent: c.jitter_percent,
            jitter_seed: c.jitter_seed,
            half_open_max_calls: c.half_open_max_calls,
            success_threshold: c.success_threshold,
            half_open_max_wait_ms: c.half_open_max_wait.0,
        }
    }

    /// The core config, validated.
    ///
    /// # Errors
    /// `CB_STATUS_INVALID_ARGUMENT` for an unknown window kind, else the config status of
    /// the first field the core rejects.
    pub fn to_core(&self) -> Result<Config, cb_status> {
        let window = match self.window_kind {
            CB_WINDOW_KIND_COUNT => WindowKind::Count {
                size: self.window_size,
            },
            CB_WINDOW_KIND_TIME => WindowKind::Time {
                duration: Millis(self.window_duration_ms),
                buckets: self.window_buckets,
            },
            CB_WINDOW_KIND_CONSECUTIVE => WindowKind::Consecutive,
            _ => return Err(CB_STATUS_INVALID_ARGUMENT),
        };
        let config = Config {
            window,
            failure_rate_threshold: self.failure_rate_threshold,
            slow_call_rate_threshold: self.slow_call_rate_threshold,
            slow_call_duration: Millis(self.slow_call_duration_ms),
            consecutive_failures: self.consecutive_failures,
            minimum_calls: self.minimum_calls,
            open_duration: Millis(self.open_duration_ms),
            open_duration_max: Millis(self.open_duration_max_ms),
            open_duration_multiplier: self.open_duration_multiplier,
            jitter_percent: self.jitter_percent,
            jitter_seed: self.jitter_seed,
            half_open_max_calls: self.half_open_max_calls,
            success_threshold: self.success_threshold,
            half_open_max_wait: Millis(self.half_open_max_wait_ms),
        };
        config.validate().map_err(config_status)?;
        Ok(config)
    }
}

/// Writes the default config to `*config_out`: a count window of the last 100 outcomes,
/// trip at 50 % failures once 100 calls are in, open 60 s, one half-open probe; the time
/// window fields preset to 60 s in 10 buckets. The caller owns the struct (it holds no
/// pointers). Safe to call from any thread.
///
/// Errors: `CB_STATUS_NULL_PARAMETER` if `config_out` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn cb_config_default(config_out: *mut cb_config) -> cb_status {
    ffi_boundary! {
        let out = try_mut!(config_out);
        *out = cb_config::defaults();
        CB_STATUS_OK
    }
}

/// Checks `*config` as a breaker constructor would, without building one.
///
/// Returns `CB_STATUS_OK`, `CB_STATUS_INVALID_ARGUMENT` (unknown `window_kind`), or the
/// `CB_STATUS_CONFIG_*` status naming the first field out of range (`cb_status_str` gives the
/// allowed range). `CB_STATUS_NULL_PARAMETER` if `config` is NULL. Safe to call from any
/// thread.
#[unsafe(no_mangle)]
pub extern "C" fn cb_config_validate(config: *const cb_config) -> cb_status {
    ffi_boundary! {
        let config = try_ref!(config);
        match config.to_core() {
            Ok(_) => CB_STATUS_OK,
            Err(status) => status,
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::status::{
        CB_STATUS_CONFIG_CONSECUTIVE_FAILURES, CB_STATUS_CONFIG_FAILURE_RATE_THRESHOLD,
    };

    #[test]
    fn defaults_are_valid_for_count_and_time() {
        let mut c = cb_config::defaults();
        assert_eq!(cb_config_validate(&c), CB_STATUS_OK);
        c.window_kind = CB_WINDOW_KIND_TIME;
        assert_eq!(cb_config_validate(&c), CB_STATUS_OK);
        c.window_kind = CB_WINDOW_KIND_CONSECUTIVE;
        assert_eq!(
            cb_config_validate(&c),
            CB_STATUS_CONFIG_CONSECUTIVE_FAILURES
        );
        c.window_kind = 3;
        assert_eq!(cb_config_validate(&c), CB_STATUS_INVALID_ARGUMENT);
        let mut d = cb_config::defaults();
        d.failure_rate_threshold = 101;
        assert_eq!(
            cb_config_validate(&d),
            CB_STATUS_CONFIG_FAILURE_RATE_THRESHOLD
        );
    }

    #[test]
    fn round_trips_through_the_core() {
        let c = cb_config::defaults();
        assert_eq!(cb_config::from_core(&c.to_core().unwrap()).window_size, 100);
        assert_eq!(c.to_core().unwrap(), Config::count(100));
    }
}
