//! Breaker configuration and its validation.

use crate::error::ConfigError;
use crate::time::Millis;

/// Documented limits. Each is checked by [`Config::validate`] and listed in
/// `docs/state-machine.md#limits`.
///
/// ```
/// use cbreaker::{limits, Breaker, Config, ConfigError, MAX_SLOTS};
/// assert!(Breaker::<MAX_SLOTS>::new(Config::count(limits::MAX_COUNT_WINDOW)).is_ok());
/// let too_big = Config::count(limits::MAX_COUNT_WINDOW + 1);
/// assert_eq!(too_big.validate(), Err(ConfigError::WindowSize));
/// ```
pub mod limits {
    use crate::time::Millis;

    /// Largest count-window size (`window: count`).
    pub const MAX_COUNT_WINDOW: u32 = 1024;
    /// Largest number of time-window buckets.
    pub const MAX_BUCKETS: u32 = 64;
    /// Largest duration anywhere in the config: 2^32 − 1 ms, about 49.7 days.
    pub const MAX_DURATION: Millis = Millis(u32::MAX as u64);
    /// Largest `half_open_max_calls` and `success_threshold` (5 bits in the state word).
    pub const MAX_HALF_OPEN_CALLS: u32 = 31;
    /// Largest `consecutive_failures`.
    pub const MAX_CONSECUTIVE_FAILURES: u32 = 1 << 20;
    /// Largest open-duration multiplier.
    pub const MAX_MULTIPLIER: f64 = 1000.0;
    /// Largest jitter, in percent.
    pub const MAX_JITTER_PERCENT: u8 = 100;
    /// The retry advice of a half-open rejection with every probe slot taken (capped by the
    /// time until the slots are reclaimed): a slot frees as soon as one probe settles, which
    /// is one call's time, not `half_open_max_wait`.
    pub const HALF_OPEN_FULL_RETRY_AFTER: Millis = Millis(1_000);
}

/// Which outcomes the breaker looks at while closed.
///
/// ```
/// use cbreaker::{Config, Millis, WindowKind};
/// assert_eq!(Config::count(100).window, WindowKind::Count { size: 100 });
/// // A minute in 6 buckets of 10 s: the window covers the last 50 to 60 seconds.
/// let config = Config::time(Millis::from_secs(60), 6);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WindowKind {
    /// The last `size` outcomes (1 to [`limits::MAX_COUNT_WINDOW`]).
    Count {
        /// How many outcomes the window holds.
        size: u32,
    },
    /// The outcomes of the last `duration`, in `buckets` equal buckets. The window covers the
    /// current bucket and the `buckets − 1` before it; `duration` must be a multiple of
    /// `buckets`.
    Time {
        /// The span the window covers.
        duration: Millis,
        /// How many buckets it is cut into (1 to [`limits::MAX_BUCKETS`]).
        buckets: u32,
    },
    /// No window: only the run of consecutive failures (needs `consecutive_failures ≥ 1`).
    Consecutive,
}

/// How a breaker decides. Build one with [`Config::count`], [`Config::time`] or
/// [`Config::consecutive`], then set fields:
///
/// ```
/// use cbreaker::{Config, Millis};
/// let config = Config {
///     failure_rate_threshold: 50,
///     minimum_calls: 10,
///     open_duration: Millis::from_secs(30),
///     ..Config::count(20)
/// };
/// assert!(config.validate().is_ok());
/// ```
///
/// Zero turns a trip condition off (`failure_rate_threshold`, `slow_call_rate_threshold`,
/// `consecutive_failures`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    /// The window kind. No default.
    pub window: WindowKind,
    /// Trip when the window's failure rate is at least this many percent (0 = off, 1..=100).
    /// Default 50.
    pub failure_rate_threshold: u8,
    /// Trip when the window's slow-call rate is at least this many percent (0 = off, 1..=100).
    /// Default 0 (off). When on, a slow probe in half-open also re-opens.
    pub slow_call_rate_threshold: u8,
    /// A call whose reported duration is at least this is slow. Default 60 s.
    pub slow_call_duration: Millis,
    /// Trip after this many failures in a row (0 = off). Ignores `minimum_calls`. Default 0.
    pub consecutive_failures: u32,
    /// Rate conditions apply only once the window holds at least this many outcomes. For a
    /// count window, a value above the size is capped at the size. Default 100.
    pub minimum_calls: u32,
    /// How long the first trip stays open. Default 60 s.
    pub open_duration: Millis,
    /// Cap for the backed-off open duration; zero means [`limits::MAX_DURATION`]. Default 0.
    pub open_duration_max: Millis,
    /// The k-th consecutive trip stays open `min(open_duration × multiplier^k, max)`
    /// (1.0 to [`limits::MAX_MULTIPLIER`], three decimals). Default 1.0.
    pub open_duration_multiplier: f64,
    /// ± this many percent of deterministic jitter on each open duration. Default 0.
    pub jitter_percent: u8,
    /// Seed of the jitter generator: the same seed gives the same durations everywhere.
    pub jitter_seed: u64,
    /// Probe permits out at once in half-open (1..=31). Default 1.
    pub half_open_max_calls: u32,
    /// Probe successes that close the circuit (1..=31). Default 1.
    pub success_threshold: u32,
    /// When every probe slot is taken and none has been decided for this long since the
    /// half-open generation began, the slots are reclaimed (a new generation, no event).
    /// Must be at least 1 ms. Default 60 s.
    pub half_open_max_wait: Millis,
}

impl Config {
    const fn with_window(window: WindowKind) -> Config {
        Config {
            window,
            failure_rate_threshold: 50,
            slow_call_rate_threshold: 0,
            slow_call_duration: Millis(60_000),
            consecutive_failures: 0,
            minimum_calls: 100,
            open_duration: Millis(60_000),
            open_duration_max: Millis(0),
            open_duration_multiplier: 1.0,
            jitter_percent: 0,
            jitter_seed: 0,
            half_open_max_calls: 1,
            success_threshold: 1,
            half_open_max_wait: Millis(60_000),
        }
    }

    /// Defaults with a count window of the last `size` outcomes.
    #[must_use]
    pub const fn count(size: u32) -> Config {
        Config::with_window(WindowKind::Count { size })
    }

    /// Defaults with a time window of `duration` in `buckets` buckets.
    ///
    /// A bucket counts up to 262,143 outcomes of each kind; once one count is there, it keeps
    /// the figures of those first outcomes until it is reused, so keep `duration / buckets`
    /// short enough for the peak call rate (docs/state-machine.md#limits).
    #[must_use]
    pub const fn time(duration: Millis, buckets: u32) -> Config {
        Config::with_window(WindowKind::Time { duration, buckets })
    }

    /// Defaults with no window, tripping after `failures` consecutive failures.
    #[must_use]
    pub const fn consecutive(failures: u32) -> Config {
        let mut config = Config::with_window(WindowKind::Consecutive);
        config.consecutive_failures = failures;
        config
    }

    /// A 64-bit digest of every field (FNV-1a over them in declaration order): two configs
    /// that decide alike have the same one, on every target. A fleet refuses a member whose
    /// config digest differs from the fleet's.
    ///
    /// ```
    /// use cbreaker::Config;
    /// assert_eq!(Config::count(10).fingerprint(), Config::count(10).fingerprint());
    /// assert_ne!(Config::count(10).fingerprint(), Config::count(11).fingerprint());
    /// ```
    #[must_use]
    pub fn fingerprint(&self) -> u64 {
        let (kind, a, b) = match self.window {
            WindowKind::Count { size } => (0u64, u64::from(size), 0),
            WindowKind::Time { duration, buckets } => (1, duration.0, u64::from(buckets)),
            WindowKind::Consecutive => (2, 0, 0),
        };
        let fields = [
            kind,
            a,
            b,
            u64::from(self.failure_rate_threshold),
            u64::from(self.slow_call_rate_threshold),
            self.slow_call_duration.0,
            u64::from(self.consecutive_failures),
            u64::from(self.minimum_calls),
            self.open_duration.0,
            self.open_duration_max.0,
            self.open_duration_multiplier.to_bits(),
            u64::from(self.jitter_percent),
            self.jitter_seed,
            u64::from(self.half_open_max_calls),
            u64::from(self.success_threshold),
            self.half_open_max_wait.0,
        ];
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for field in fields {
            for byte in field.to_le_bytes() {
                h = (h ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        h
    }

    /// Checks every field against its documented range. A [`Breaker`](crate::Breaker) with
    /// fewer slots than [`MAX_SLOTS`](crate::MAX_SLOTS) also checks that the window fits it.
    ///
    /// # Errors
    /// The first field out of range, as a [`ConfigError`] that names it and its range.
    pub const fn validate(&self) -> Result<(), ConfigError> {
        match self.compile(crate::MAX_SLOTS) {
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Validates and precomputes what the hot paths need. `slots` is the breaker's storage.
    pub(crate) const fn compile(&self, slots: usize) -> Result<Compiled, ConfigError> {
        let max_dur = limits::MAX_DURATION.0;
        let (kind, size, bucket_ms) = match self.window {
            WindowKind::Count { size } => {
                // A build without the count window has room for none.
                if !COUNT_WINDOW {
                    return Err(ConfigError::WindowSize);
                }
                let cap = min_u32(
                    if slots > u32::MAX as usize / 4 {
                        u32::MAX
                    } else {
                        slots as u32 * 4
                    },
                    limits::MAX_COUNT_WINDOW,
                );
                if size == 0 || size > cap {
                    return Err(ConfigError::WindowSize);
                }
                (Kind::Count, size, 0)
            }
            WindowKind::Time { duration, buckets } => {
                // A build without the time window has room for none.
                if !TIME_WINDOW {
                    return Err(ConfigError::WindowBuckets);
                }
                let cap = min_u32(
                    if slots / 4 > u32::MAX as usize {
                        u32::MAX
                    } else {
                        (slots / 4) as u32
                    },
                    limits::MAX_BUCKETS,
                );
                if buckets == 0 || buckets > cap {
                    return Err(ConfigError::WindowBuckets);
                }
                if duration.0 == 0 || duration.0 > max_dur || duration.0 % (buckets as u64) != 0 {
                    return Err(ConfigError::WindowDuration);
                }
                (Kind::Time, buckets, (duration.0 / (buckets as u64)) as u32)
            }
            WindowKind::Consecutive => {
                if self.consecutive_failures == 0 {
                    return Err(ConfigError::ConsecutiveFailures);
                }
                (Kind::Consecutive, 0, 0)
            }
        };
        if self.failure_rate_threshold > 100 {
            return Err(ConfigError::FailureRateThreshold);
        }
        if self.slow_call_rate_threshold > 100 {
            return Err(ConfigError::SlowCallRateThreshold);
        }
        if self.slow_call_duration.0 > max_dur {
            return Err(ConfigError::SlowCallDuration);
        }
        if self.consecutive_failures > limits::MAX_CONSECUTIVE_FAILURES {
            return Err(ConfigError::ConsecutiveFailures);
        }
        if self.open_duration.0 == 0 || self.open_duration.0 > max_dur {
            return Err(ConfigError::OpenDuration);
        }
        let open_max = if self.open_duration_max.0 == 0 {
            max_dur
        } else {
            self.open_duration_max.0
        };
        if open_max > max_dur || open_max < self.open_duration.0 {
            return Err(ConfigError::OpenDurationMax);
        }
        let m = self.open_duration_multiplier;
        if !(m >= 1.0 && m <= limits::MAX_MULTIPLIER) {
            // Also rejects NaN: every comparison with NaN is false.
            return Err(ConfigError::OpenDurationMultiplier);
        }
        if self.jitter_percent > limits::MAX_JITTER_PERCENT {
            return Err(ConfigError::JitterPercent);
        }
        if self.half_open_max_calls == 0 || self.half_open_max_calls > limits::MAX_HALF_OPEN_CALLS {
            return Err(ConfigError::HalfOpenMaxCalls);
        }
        if self.success_threshold == 0 || self.success_threshold > limits::MAX_HALF_OPEN_CALLS {
            return Err(ConfigError::SuccessThreshold);
        }
        if self.half_open_max_wait.0 == 0 || self.half_open_max_wait.0 > max_dur {
            return Err(ConfigError::HalfOpenMaxWait);
        }
        let minimum_calls = match kind {
            Kind::Count => min_u32(self.minimum_calls, size),
            _ => self.minimum_calls,
        };
        Ok(Compiled {
            kind_bits: kind as u8,
            size,
            bucket_ms,
            failure_rate: self.failure_rate_threshold,
            slow_rate: self.slow_call_rate_threshold,
            slow_ms: self.slow_call_duration.0 as u32,
            consecutive: self.consecutive_failures,
            minimum_calls,
            open_ms: self.open_duration.0 as u32,
            open_max_ms: open_max as u32,
            // Three decimals, rounded: integer arithmetic keeps every target and binding exact.
            multiplier_permille: (m * 1000.0 + 0.5) as u32,
            jitter_percent: self.jitter_percent,
            jitter_seed: [self.jitter_seed as u32, (self.jitter_seed >> 32) as u32],
            half_open_max: self.half_open_max_calls,
            success_threshold: self.success_threshold,
            half_open_wait_ms: self.half_open_max_wait.0 as u32,
        })
    }
}

/// `u32::min` for `const fn`s (`Ord::min` is not `const`).
const fn min_u32(a: u32, b: u32) -> u32 {
    if a < b { a } else { b }
}

/// Whether this build links the count window (cargo feature `count-window`, on by default).
pub(crate) const COUNT_WINDOW: bool = cfg!(feature = "count-window");
/// Whether this build links the time window (cargo feature `time-window`, on by default).
pub(crate) const TIME_WINDOW: bool = cfg!(feature = "time-window");
/// Whether `record` takes the inline success fast paths (cargo feature `fast-paths`, on by
/// default): a success of one RMW, for more flash (docs/firmware.md).
pub(crate) const FAST_PATHS: bool = cfg!(feature = "fast-paths");

/// The window kind without its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    Count = 0,
    Time = 1,
    Consecutive = 2,
}

/// A validated config in the form the hot paths use.
///
/// `repr(C)`, the jitter seed first: it is read only to draw a jittered open duration, so
/// the lifetime counters just before it in `Breaker` may share its cache line. Kept as two
/// `u32` so the config is 4-aligned: no padding after the counters on 32-bit targets.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub(crate) struct Compiled {
    /// Low, high.
    pub(crate) jitter_seed: [u32; 2],
    /// Count: window size. Time: bucket count. Consecutive: 0.
    pub(crate) size: u32,
    pub(crate) bucket_ms: u32,
    pub(crate) slow_ms: u32,
    pub(crate) consecutive: u32,
    pub(crate) minimum_calls: u32,
    pub(crate) open_ms: u32,
    pub(crate) open_max_ms: u32,
    pub(crate) multiplier_permille: u32,
    pub(crate) half_open_max: u32,
    pub(crate) success_threshold: u32,
    pub(crate) half_open_wait_ms: u32,
    /// A [`Kind`] as its discriminant: a plain byte, so any memory content decodes (see
    /// [`Compiled::kind`]).
    pub(crate) kind_bits: u8,
    pub(crate) failure_rate: u8,
    pub(crate) slow_rate: u8,
    pub(crate) jitter_percent: u8,
}

impl Compiled {
    /// The window kind. A kind this build does not link, or a byte no kind has (memory
    /// written by something else), reads as `Consecutive`: no window is ever indexed.
    #[inline]
    pub(crate) const fn kind(&self) -> Kind {
        match self.kind_bits {
            0 if COUNT_WINDOW => Kind::Count,
            1 if TIME_WINDOW => Kind::Time,
            _ => Kind::Consecutive,
        }
    }

    pub(crate) const fn jitter_seed(&self) -> u64 {
        (self.jitter_seed[1] as u64) << 32 | self.jitter_seed[0] as u64
    }

    /// The config this was compiled from, in its public form.
    pub(crate) fn public(&self) -> Config {
        let window = match self.kind() {
            Kind::Count => WindowKind::Count { size: self.size },
            Kind::Time => WindowKind::Time {
                duration: Millis(u64::from(self.bucket_ms) * u64::from(self.size)),
                buckets: self.size,
            },
            Kind::Consecutive => WindowKind::Consecutive,
        };
        Config {
            window,
            failure_rate_threshold: self.failure_rate,
            slow_call_rate_threshold: self.slow_rate,
            slow_call_duration: Millis(u64::from(self.slow_ms)),
            consecutive_failures: self.consecutive,
            minimum_calls: self.minimum_calls,
            open_duration: Millis(u64::from(self.open_ms)),
            open_duration_max: Millis(u64::from(self.open_max_ms)),
            open_duration_multiplier: f64::from(self.multiplier_permille) / 1000.0,
            jitter_percent: self.jitter_percent,
            jitter_seed: self.jitter_seed(),
            half_open_max_calls: self.half_open_max,
            success_threshold: self.success_threshold,
            half_open_max_wait: Millis(u64::from(self.half_open_wait_ms)),
        }
    }
}
