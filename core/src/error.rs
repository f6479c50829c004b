//! The core's two error-like types: a rejection (a decision) and a config error (a mistake).

use core::fmt;

use crate::time::Millis;

/// Why `try_acquire` said no. Every front door reports it under these names.
///
/// ```
/// use cbreaker::RejectReason;
/// assert_eq!(RejectReason::HalfOpenFull.name(), "half_open_full");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RejectReason {
    /// The circuit is open: its deadline has not passed.
    Open = 0,
    /// The circuit is half-open and every probe slot is taken.
    HalfOpenFull = 1,
    /// The circuit was forced open by hand: no deadline.
    ForcedOpen = 2,
}

impl RejectReason {
    /// Every reason, in discriminant order (`ALL[r as usize] == r`).
    pub const ALL: [RejectReason; 3] = [
        RejectReason::Open,
        RejectReason::HalfOpenFull,
        RejectReason::ForcedOpen,
    ];

    /// The snake_case name used in vectors, metrics and bindings.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            RejectReason::Open => "open",
            RejectReason::HalfOpenFull => "half_open_full",
            RejectReason::ForcedOpen => "forced_open",
        }
    }
}

/// `try_acquire` said no. A decision, not a failure: the circuit is protecting its dependency.
///
/// Implements [`core::error::Error`] so that `?` works in code that treats it as an error.
///
/// ```
/// use cbreaker::{Breaker, Config, Millis, Outcome, RejectReason};
/// let breaker: Breaker = Breaker::new(Config { open_duration: Millis(5_000), ..Config::consecutive(1) }).unwrap();
/// let p = breaker.try_acquire(Millis(0)).unwrap().permit;
/// breaker.record(p, Outcome::Failure, None, Millis(0));
/// let rejected = breaker.try_acquire(Millis(1_000)).unwrap_err();
/// assert_eq!(rejected.retry_after, Some(Millis(4_000)));
/// assert_eq!(rejected.reason, RejectReason::Open);
/// assert_eq!(rejected.to_string(), "circuit open: retry after 4000ms");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// How long a client should wait before trying again, or `None` while the breaker is
    /// forced open (no deadline: it stays open until released by hand). Open: the time left
    /// until the deadline. Half-open with every slot taken: the smaller of
    /// [`HALF_OPEN_FULL_RETRY_AFTER`](crate::limits::HALF_OPEN_FULL_RETRY_AFTER) and the time
    /// until the slots are reclaimed (a probe usually settles long before that).
    pub retry_after: Option<Millis>,
    /// Why the call was refused.
    pub reason: RejectReason,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.reason, self.retry_after) {
            (RejectReason::HalfOpenFull, Some(after)) => {
                write!(
                    f,
                    "circuit half-open, every probe slot taken: retry after {after}"
                )
            }
            (_, Some(after)) => write!(f, "circuit open: retry after {after}"),
            (_, None) => f.write_str("circuit forced open"),
        }
    }
}

impl core::error::Error for Rejected {}

/// A call's permit was settled already: each permit is settled exactly once, and a second
/// `finish` (or `record` through a front door's permit object) is this error everywhere.
///
/// ```
/// use cbreaker::{Breaker, Config, Millis, Outcome, PermitSettled};
/// let breaker: Breaker = Breaker::new(Config::count(10)).unwrap();
/// let mut call = breaker.begin(Millis(0), false).unwrap().call;
/// assert!(breaker.finish(&mut call, Outcome::Success.into(), Millis(1)).is_ok());
/// assert_eq!(breaker.finish(&mut call, Outcome::Success.into(), Millis(2)), Err(PermitSettled));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PermitSettled;

impl PermitSettled {
    /// The stable code every front door uses (`docs/errors.md`).
    pub const CODE: &'static str = "permit_settled";
    /// The message every front door uses.
    pub const MESSAGE: &'static str = "permit already settled: a permit is settled exactly once";
}

impl fmt::Display for PermitSettled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::MESSAGE)
    }
}

impl core::error::Error for PermitSettled {}

/// A config field is outside its documented range. Each variant names one field; the
/// message gives the allowed range. Bindings map every variant (no wildcard arms), so this
/// enum is deliberately exhaustive.
///
/// ```
/// use cbreaker::{Breaker, Config, ConfigError};
/// let err = Breaker::<32>::new(Config { failure_rate_threshold: 101, ..Config::count(10) }).unwrap_err();
/// assert_eq!(err, ConfigError::FailureRateThreshold);
/// assert_eq!(err.field(), "failure_rate_threshold");
/// assert_eq!(err.to_string(), "invalid config: failure_rate_threshold must be 0 (off) to 100 percent");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConfigError {
    /// `window.size` (count window).
    WindowSize,
    /// `window.duration` (time window).
    WindowDuration,
    /// `window.buckets` (time window).
    WindowBuckets,
    /// `failure_rate_threshold`.
    FailureRateThreshold,
    /// `slow_call_rate_threshold`.
    SlowCallRateThreshold,
    /// `slow_call_duration`.
    SlowCallDuration,
    /// `consecutive_failures`.
    ConsecutiveFailures,
    /// `open_duration`.
    OpenDuration,
    /// `open_duration_max`.
    OpenDurationMax,
    /// `open_duration_multiplier`.
    OpenDurationMultiplier,
    /// `jitter_percent`.
    JitterPercent,
    /// `half_open_max_calls`.
    HalfOpenMaxCalls,
    /// `success_threshold`.
    SuccessThreshold,
    /// `half_open_max_wait`.
    HalfOpenMaxWait,
}

impl ConfigError {
    /// Every variant, in declaration order (for tests and binding tables).
    pub const ALL: [ConfigError; 14] = [
        ConfigError::WindowSize,
        ConfigError::WindowDuration,
        ConfigError::WindowBuckets,
        ConfigError::FailureRateThreshold,
        ConfigError::SlowCallRateThreshold,
        ConfigError::SlowCallDuration,
        ConfigError::ConsecutiveFailures,
        ConfigError::OpenDuration,
        ConfigError::OpenDurationMax,
        ConfigError::OpenDurationMultiplier,
        ConfigError::JitterPercent,
        ConfigError::HalfOpenMaxCalls,
        ConfigError::SuccessThreshold,
        ConfigError::HalfOpenMaxWait,
    ];

    /// The config field, spelled as in [`Config`](crate::Config) (snake_case).
    #[must_use]
    pub const fn field(self) -> &'static str {
        match self {
            ConfigError::WindowSize => "window.size",
            ConfigError::WindowDuration => "window.duration",
            ConfigError::WindowBuckets => "window.buckets",
            ConfigError::FailureRateThreshold => "failure_rate_threshold",
            ConfigError::SlowCallRateThreshold => "slow_call_rate_threshold",
            ConfigError::SlowCallDuration => "slow_call_duration",
            ConfigError::ConsecutiveFailures => "consecutive_failures",
            ConfigError::OpenDuration => "open_duration",
            ConfigError::OpenDurationMax => "open_duration_max",
            ConfigError::OpenDurationMultiplier => "open_duration_multiplier",
            ConfigError::JitterPercent => "jitter_percent",
            ConfigError::HalfOpenMaxCalls => "half_open_max_calls",
            ConfigError::SuccessThreshold => "success_threshold",
            ConfigError::HalfOpenMaxWait => "half_open_max_wait",
        }
    }

    /// The allowed values, in words.
    #[must_use]
    pub const fn allowed(self) -> &'static str {
        match self {
            ConfigError::WindowSize => {
                "1 to 1024, and no more than the breaker's capacity (4 per slot)"
            }
            ConfigError::WindowDuration => "1 ms to 4294967295 ms, a multiple of window.buckets",
            ConfigError::WindowBuckets => {
                "1 to 64, and no more than the breaker's capacity (4 slots per bucket)"
            }
            ConfigError::FailureRateThreshold => "0 (off) to 100 percent",
            ConfigError::SlowCallRateThreshold => "0 (off) to 100 percent",
            ConfigError::SlowCallDuration => "0 ms to 4294967295 ms",
            ConfigError::ConsecutiveFailures => {
                "0 (off) to 1048576; at least 1 with a consecutive window"
            }
            ConfigError::OpenDuration => "1 ms to 4294967295 ms",
            ConfigError::OpenDurationMax => "0 (no cap) or open_duration to 4294967295 ms",
            ConfigError::OpenDurationMultiplier => "1.0 to 1000.0",
            ConfigError::JitterPercent => "0 to 100 percent",
            ConfigError::HalfOpenMaxCalls => "1 to 31",
            ConfigError::SuccessThreshold => "1 to 31",
            ConfigError::HalfOpenMaxWait => "1 ms to 4294967295 ms",
        }
    }

    /// The full message, as a static string (the C ABI returns exactly this text).
    #[must_use]
    pub const fn message(self) -> &'static str {
        match self {
            ConfigError::WindowSize => {
                "invalid config: window.size must be 1 to 1024, and no more than the breaker's capacity (4 per slot)"
            }
            ConfigError::WindowDuration => {
                "invalid config: window.duration must be 1 ms to 4294967295 ms, a multiple of window.buckets"
            }
            ConfigError::WindowBuckets => {
                "invalid config: window.buckets must be 1 to 64, and no more than the breaker's capacity (4 slots per bucket)"
            }
            ConfigError::FailureRateThreshold => {
                "invalid config: failure_rate_threshold must be 0 (off) to 100 percent"
            }
            ConfigError::SlowCallRateThreshold => {
                "invalid config: slow_call_rate_threshold must be 0 (off) to 100 percent"
            }
            ConfigError::SlowCallDuration => {
                "invalid config: slow_call_duration must be 0 ms to 4294967295 ms"
            }
            ConfigError::ConsecutiveFailures => {
                "invalid config: consecutive_failures must be 0 (off) to 1048576; at least 1 with a consecutive window"
            }
            ConfigError::OpenDuration => {
                "invalid config: open_duration must be 1 ms to 4294967295 ms"
            }
            ConfigError::OpenDurationMax => {
                "invalid config: open_duration_max must be 0 (no cap) or open_duration to 4294967295 ms"
            }
            ConfigError::OpenDurationMultiplier => {
                "invalid config: open_duration_multiplier must be 1.0 to 1000.0"
            }
            ConfigError::JitterPercent => "invalid config: jitter_percent must be 0 to 100 percent",
            ConfigError::HalfOpenMaxCalls => "invalid config: half_open_max_calls must be 1 to 31",
            ConfigError::SuccessThreshold => "invalid config: success_threshold must be 1 to 31",
            ConfigError::HalfOpenMaxWait => {
                "invalid config: half_open_max_wait must be 1 ms to 4294967295 ms"
            }
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for ConfigError {}
