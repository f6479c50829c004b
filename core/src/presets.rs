//! Config presets named after what they protect. Each is a starting point: every value is a
//! plain field, so adjust with `Config { minimum_calls: 50, ..Config::for_http_api() }`.
//!
//! All presets fit the default `Breaker` (32 slots: up to a 128-outcome count window or an
//! 8-bucket time window) and share these habits:
//! - open durations back off exponentially (× 2) with a cap, and carry jitter so that many
//!   instances that tripped together do not probe together;
//! - `half_open_max_wait` is longer than the slowest call the preset expects, so a probe in
//!   flight is never reclaimed as lost.

use crate::config::Config;
use crate::time::Millis;

/// The defaults: a count window of the last 100 outcomes, tripping at a 50 % failure rate
/// once 100 outcomes are in it; open 60 s; one probe, one success closes; lost probes
/// reclaimed after 60 s. The same table in every language (docs/defaults.md); a front door's
/// `{}` config is this one.
///
/// ```
/// use cbreaker::{Config, Millis, WindowKind};
/// let c = Config::default();
/// assert_eq!((c.window, c.minimum_calls, c.open_duration), (WindowKind::Count { size: 100 }, 100, Millis(60_000)));
/// ```
impl Default for Config {
    fn default() -> Config {
        Config::DEFAULT
    }
}

impl Config {
    /// [`Config::default()`] as a constant.
    pub const DEFAULT: Config = Config::count(100);

    /// The preset names [`Config::preset`] knows, in the order the docs list them.
    pub const PRESETS: [&'static str; 7] = [
        "agents_platform",
        "pybreaker",
        "http_api",
        "llm_service",
        "database",
        "notifications",
        "cache",
    ];

    /// A preset by name (one of [`Config::PRESETS`]): how every front door looks presets up.
    ///
    /// ```
    /// use cbreaker::Config;
    /// assert_eq!(Config::preset("pybreaker"), Some(Config::pybreaker()));
    /// assert_eq!(Config::preset("nope"), None);
    /// ```
    #[must_use]
    pub fn preset(name: &str) -> Option<Config> {
        Some(match name {
            "agents_platform" => Config::agents_platform(),
            "pybreaker" => Config::pybreaker(),
            "http_api" => Config::for_http_api(),
            "llm_service" => Config::for_llm_service(),
            "database" => Config::for_database(),
            "notifications" => Config::for_notifications(),
            "cache" => Config::for_cache(),
            _ => return None,
        })
    }

    /// The agents platform's breaker (its `CIRCUIT_BREAKER_*` defaults): 5 consecutive
    /// failures trip it, open 60 s (`RECOVERY_TIMEOUT`), 3 probes at once
    /// (`HALF_OPEN_CALLS`), 2 successes close (`SUCCESS_THRESHOLD`).
    #[must_use]
    pub const fn agents_platform() -> Config {
        Config {
            open_duration: Millis(60_000),
            half_open_max_calls: 3,
            success_threshold: 2,
            ..Config::consecutive(5)
        }
    }

    /// PyBreaker's defaults: 5 consecutive failures (`fail_max`), open 60 s
    /// (`reset_timeout`), 1 probe, 1 success closes (`success_threshold`).
    #[must_use]
    pub const fn pybreaker() -> Config {
        Config {
            open_duration: Millis(60_000),
            half_open_max_calls: 1,
            success_threshold: 1,
            ..Config::consecutive(5)
        }
    }

    /// A third-party HTTP API: moderate traffic that comes in bursts, latency in the tens to
    /// hundreds of milliseconds, outages that last seconds to minutes.
    ///
    /// - Time window, 30 s in 6 buckets of 5 s: traffic is bursty, so "the last 30 seconds"
    ///   reads better than "the last n calls", and a 5 s bucket drops old outcomes smoothly.
    /// - `failure_rate_threshold` 50 %, `minimum_calls` 20: half the calls failing is an
    ///   outage, not noise; 20 calls keep one unlucky second from tripping a quiet service.
    /// - Slow calls: ≥ 5 s is slow (well past any healthy p99), and 80 % slow trips: a
    ///   dependency that answers everything in 5 s is down in all but name, and holds our
    ///   connections meanwhile.
    /// - Open 30 s, doubling to at most 5 min, ± 10 % jitter: long enough for a restart or a
    ///   deploy rollback, capped so recovery is noticed within minutes.
    /// - Half-open: 3 probes at once, 2 successes close (one lucky request proves little);
    ///   `half_open_max_wait` 30 s, above a usual 10–30 s client timeout.
    #[must_use]
    pub const fn for_http_api() -> Config {
        Config {
            failure_rate_threshold: 50,
            minimum_calls: 20,
            slow_call_duration: Millis(5_000),
            slow_call_rate_threshold: 80,
            open_duration: Millis(30_000),
            open_duration_multiplier: 2.0,
            open_duration_max: Millis(300_000),
            jitter_percent: 10,
            half_open_max_calls: 3,
            success_threshold: 2,
            half_open_max_wait: Millis(30_000),
            ..Config::time(Millis(30_000), 6)
        }
    }

    /// An LLM completion service: few calls, each slow (seconds to a minute) and costly,
    /// rate-limited per minute by the provider.
    ///
    /// - Count window of the last 20 calls, `minimum_calls` 5: at a few calls a minute a time
    ///   window would rarely hold enough outcomes to decide.
    /// - `failure_rate_threshold` 50 % and `consecutive_failures` 5 (the agents platform's
    ///   `CIRCUIT_BREAKER_FAILURE_THRESHOLD`): five failures in a row trip even before the
    ///   window has 5 calls' worth of rate.
    /// - Slow-call tripping off: generation time follows the prompt, not the provider's health.
    ///   A call of 120 s or more is still counted as slow, for the metrics.
    /// - Open 60 s (the platform's `RECOVERY_TIMEOUT`; provider rate limits reset per
    ///   minute), doubling to at most 10 min, ± 20 % jitter: many agents share one provider
    ///   and must not all probe in the same second.
    /// - Half-open: 1 probe at a time (each costs tokens), 2 successes close (probes run in
    ///   turns); `half_open_max_wait` 180 s, above the longest generation.
    #[must_use]
    pub const fn for_llm_service() -> Config {
        Config {
            failure_rate_threshold: 50,
            minimum_calls: 5,
            consecutive_failures: 5,
            slow_call_duration: Millis(120_000),
            slow_call_rate_threshold: 0,
            open_duration: Millis(60_000),
            open_duration_multiplier: 2.0,
            open_duration_max: Millis(600_000),
            jitter_percent: 20,
            half_open_max_calls: 1,
            success_threshold: 2,
            half_open_max_wait: Millis(180_000),
            ..Config::count(20)
        }
    }

    /// A database: our own infrastructure, many fast calls (milliseconds), trouble that shows
    /// as slowness first (a saturated pool, lock contention) and outages that are failovers of
    /// a few seconds.
    ///
    /// - Count window of the last 100 calls, `minimum_calls` 20: at high volume the last 100
    ///   calls are the last fraction of a second, which is what a failover looks like.
    /// - `failure_rate_threshold` 50 %.
    /// - Slow calls: ≥ 1 s is slow (a healthy query is milliseconds), 50 % slow trips: shed
    ///   load before the pool is exhausted and every request queues behind it.
    /// - Open 5 s (a failover), doubling to at most 60 s, ± 10 % jitter: the database is on
    ///   every request's path, so come back quickly.
    /// - Half-open: 5 probes, 3 successes close (volume is high, so probes are cheap and a
    ///   majority is a better signal); `half_open_max_wait` 10 s.
    #[must_use]
    pub const fn for_database() -> Config {
        Config {
            failure_rate_threshold: 50,
            minimum_calls: 20,
            slow_call_duration: Millis(1_000),
            slow_call_rate_threshold: 50,
            open_duration: Millis(5_000),
            open_duration_multiplier: 2.0,
            open_duration_max: Millis(60_000),
            jitter_percent: 10,
            half_open_max_calls: 5,
            success_threshold: 3,
            half_open_max_wait: Millis(10_000),
            ..Config::count(100)
        }
    }

    /// A notification provider (email, SMS, push): work that can wait and be retried from a
    /// queue, with a background of failures that are the recipient's (bad addresses, expired
    /// tokens), not the provider's.
    ///
    /// - Count window of the last 50 calls, `minimum_calls` 10.
    /// - `failure_rate_threshold` 70 %: the usual per-recipient failures must not trip it.
    /// - Slow-call tripping off (delivery time varies); ≥ 10 s counts as slow for the metrics.
    /// - Open 120 s, doubling to at most 30 min, ± 20 % jitter: nothing is urgent (messages
    ///   wait in the queue), and a struggling provider gets room to recover.
    /// - Half-open: 2 probes, 2 successes close; `half_open_max_wait` 60 s.
    #[must_use]
    pub const fn for_notifications() -> Config {
        Config {
            failure_rate_threshold: 70,
            minimum_calls: 10,
            slow_call_duration: Millis(10_000),
            slow_call_rate_threshold: 0,
            open_duration: Millis(120_000),
            open_duration_multiplier: 2.0,
            open_duration_max: Millis(1_800_000),
            jitter_percent: 20,
            half_open_max_calls: 2,
            success_threshold: 2,
            half_open_max_wait: Millis(60_000),
            ..Config::count(50)
        }
    }

    /// A cache (Redis, memcached): sub-millisecond calls that are an optimisation. When it is
    /// down or slow, skipping it (going to the source) beats waiting on it.
    ///
    /// - Count window of the last 100 calls, `minimum_calls` 20.
    /// - `failure_rate_threshold` 25 %: a healthy cache fails almost never, so a quarter of
    ///   calls failing means it is broken, and a broken cache costs more than no cache.
    /// - Slow calls: ≥ 100 ms is slow (a hundred times a healthy call: the cache then costs
    ///   more than it saves), 50 % slow trips.
    /// - Open 2 s, × 1.5 to at most 30 s, ± 10 % jitter: being open only costs a bypass, so
    ///   probe often and use the cache again as soon as it is back.
    /// - Half-open: 3 probes, 2 successes close; `half_open_max_wait` 5 s.
    #[must_use]
    pub const fn for_cache() -> Config {
        Config {
            failure_rate_threshold: 25,
            minimum_calls: 20,
            slow_call_duration: Millis(100),
            slow_call_rate_threshold: 50,
            open_duration: Millis(2_000),
            open_duration_multiplier: 1.5,
            open_duration_max: Millis(30_000),
            jitter_percent: 10,
            half_open_max_calls: 3,
            success_threshold: 2,
            half_open_max_wait: Millis(5_000),
            ..Config::count(100)
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Breaker, Config, Millis, Outcome, State};

    const PRESETS: [(&str, Config); 5] = [
        ("http_api", Config::for_http_api()),
        ("llm_service", Config::for_llm_service()),
        ("database", Config::for_database()),
        ("notifications", Config::for_notifications()),
        ("cache", Config::for_cache()),
    ];

    #[test]
    fn presets_fit_the_default_breaker() {
        for (name, config) in PRESETS {
            assert!(Breaker::<32>::new(config).is_ok(), "{name}");
        }
    }

    #[test]
    fn presets_trip_on_failures_and_recover() {
        for (name, config) in PRESETS {
            let b: Breaker = Breaker::new(config).unwrap();
            let mut t = 0;
            while b.state(Millis(t)) == State::Closed {
                let p = b.try_acquire(Millis(t)).unwrap().permit;
                let _ = b.record(p, Outcome::Failure, Some(Millis(1)), Millis(t));
                t += 1;
                assert!(t <= 200, "{name} never tripped");
            }
            // Past the longest jittered open duration: a probe is admitted.
            let later = t + config.open_duration.0 * 2;
            assert_eq!(b.state(Millis(later)), State::HalfOpen, "{name}");
            for _ in 0..config.success_threshold {
                let p = b.try_acquire(Millis(later)).unwrap().permit;
                let _ = b.record(p, Outcome::Success, Some(Millis(1)), Millis(later));
            }
            assert_eq!(b.state(Millis(later)), State::Closed, "{name}");
        }
    }
}
