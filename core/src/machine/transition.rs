//! Transitions as values, and the pure rules that decide them. No atomics here: every
//! function takes plain numbers, so proptest and the reference model can check them alone.

use crate::config::{Compiled, Kind};
use crate::state::{K_MAX, State};
use crate::time::Millis;

/// Why a transition happened.
///
/// ```
/// use cbreaker::{Breaker, Cause, Config, Millis};
/// let breaker: Breaker = Breaker::new(Config::count(10)).unwrap();
/// let t = breaker.reset(Millis(0));
/// assert_eq!((t.cause, t.cause.name()), (Cause::Reset, "reset"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Cause {
    /// Closed → Open: the window's failure rate reached the threshold.
    FailureRate = 0,
    /// Closed → Open: the window's slow-call rate reached the threshold.
    SlowCallRate = 1,
    /// Closed → Open: the run of consecutive failures reached the threshold.
    ConsecutiveFailures = 2,
    /// Open → HalfOpen: the open duration passed and a call arrived.
    OpenElapsed = 3,
    /// HalfOpen → Open: a probe failed.
    ProbeFailed = 4,
    /// HalfOpen → Open: a probe was slow (slow-call tripping on).
    ProbeSlow = 5,
    /// HalfOpen → Closed: enough probes succeeded.
    ProbesSucceeded = 6,
    /// `force_open`.
    ForceOpen = 7,
    /// `force_closed`.
    ForceClosed = 8,
    /// `metrics_only`.
    MetricsOnly = 9,
    /// `reset`.
    Reset = 10,
    /// `trip`: Open by hand, with the deadline an automatic trip would get.
    Trip = 11,
    /// `half_open`: HalfOpen by hand, probes admitted as after a deadline.
    HalfOpen = 12,
    /// Closed with an empty window: the breaker found a word out of its range (memory
    /// written by something else: a wild write, a bit flip, a process of another build) and
    /// repaired itself.
    Repaired = 13,
    /// A fleet member's breaker followed its fleet's record (`crate::fleet`): the fleet
    /// tripped, probed, closed, or an operator moved it.
    Fleet = 14,
    /// A fleet's Closed → Open: `k` of its members tripped on their own within the fleet's
    /// window (quorum mode). Fleet records only.
    Quorum = 15,
}

impl Cause {
    /// Every cause, in discriminant order (for bindings' tables; `ALL[c as usize] == c`).
    pub const ALL: [Cause; 16] = [
        Cause::FailureRate,
        Cause::SlowCallRate,
        Cause::ConsecutiveFailures,
        Cause::OpenElapsed,
        Cause::ProbeFailed,
        Cause::ProbeSlow,
        Cause::ProbesSucceeded,
        Cause::ForceOpen,
        Cause::ForceClosed,
        Cause::MetricsOnly,
        Cause::Reset,
        Cause::Trip,
        Cause::HalfOpen,
        Cause::Repaired,
        Cause::Fleet,
        Cause::Quorum,
    ];

    /// The snake_case name used in logs and bindings.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Cause::FailureRate => "failure_rate",
            Cause::SlowCallRate => "slow_call_rate",
            Cause::ConsecutiveFailures => "consecutive_failures",
            Cause::OpenElapsed => "open_elapsed",
            Cause::ProbeFailed => "probe_failed",
            Cause::ProbeSlow => "probe_slow",
            Cause::ProbesSucceeded => "probes_succeeded",
            Cause::ForceOpen => "force_open",
            Cause::ForceClosed => "force_closed",
            Cause::MetricsOnly => "metrics_only",
            Cause::Reset => "reset",
            Cause::Trip => "trip",
            Cause::HalfOpen => "half_open",
            Cause::Repaired => "repaired",
            Cause::Fleet => "fleet",
            Cause::Quorum => "quorum",
        }
    }
}

/// One state change, returned by the one call that caused it.
///
/// ```
/// use cbreaker::{Breaker, Cause, Config, Millis, Outcome, State};
/// let breaker: Breaker = Breaker::new(Config::consecutive(2)).unwrap();
/// let mut seen = Vec::new();
/// for t in 0..2 {
///     let p = breaker.try_acquire(Millis(t)).unwrap().permit;
///     seen.extend(breaker.record(p, Outcome::Failure, None, Millis(t)));
/// }
/// let t = seen[0];
/// assert_eq!((t.from, t.to, t.cause, t.at), (State::Closed, State::Open, Cause::ConsecutiveFailures, Millis(1)));
/// assert_eq!(seen.len(), 1, "exactly one caller sees each transition");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Transition {
    /// The state before.
    pub from: State,
    /// The state after.
    pub to: State,
    /// The `now` of the call that caused it.
    pub at: Millis,
    /// The generation it started (modulo 4,096).
    pub generation: u32,
    /// Why.
    pub cause: Cause,
}

/// What the window holds, as the trip rule sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    pub(crate) calls: u32,
    pub(crate) failures: u32,
    pub(crate) slow: u32,
    pub(crate) consecutive: u32,
}

/// Whether the closed window should trip, and why. Rate rules need `minimum_calls` outcomes
/// in the window; the consecutive rule does not.
pub(crate) fn trip_cause(cfg: &Compiled, s: Stats) -> Option<Cause> {
    if cfg.kind() != Kind::Consecutive && s.calls > 0 && s.calls >= cfg.minimum_calls {
        let calls = u64::from(s.calls);
        if cfg.failure_rate > 0
            && u64::from(s.failures) * 100 >= u64::from(cfg.failure_rate) * calls
        {
            return Some(Cause::FailureRate);
        }
        if cfg.slow_rate > 0 && u64::from(s.slow) * 100 >= u64::from(cfg.slow_rate) * calls {
            return Some(Cause::SlowCallRate);
        }
    }
    if cfg.consecutive > 0 && s.consecutive >= cfg.consecutive {
        return Some(Cause::ConsecutiveFailures);
    }
    None
}

/// The open duration of a trip: `min(base × multiplier^k, max)`, then ± jitter, clamped to
/// `1..=max`. Integer arithmetic (multiplier in permille), so every target agrees; every
/// division is a 32-bit one (see [`permille_of`], [`mod_small`]), so a 32-bit core links no
/// 64-bit division routine for it.
pub(crate) fn open_duration(cfg: &Compiled, k: u32, generation: u32) -> u64 {
    let max = cfg.open_max_ms;
    let mut d = cfg.open_ms.min(max);
    if cfg.multiplier_permille > 1000 {
        for _ in 0..k.min(K_MAX) {
            // `d ≤ max ≤ u32::MAX` here: the loop stops at `max`.
            let next = permille_of(d, cfg.multiplier_permille);
            if next >= u64::from(max) {
                d = max;
                break;
            }
            d = next as u32;
        }
    }
    let mut d = u64::from(d);
    if cfg.jitter_percent > 0 {
        let span = u32::from(cfg.jitter_percent) * 10; // permille either side
        let r = mod_small(
            splitmix64(cfg.jitter_seed() ^ (u64::from(generation) << 32 | u64::from(k))),
            2 * span + 1,
        );
        let delta = permille_of(d as u32, r);
        let minus = permille_of(d as u32, span);
        // d + d·(r − span)/1000, computed without signed arithmetic.
        d = (d + delta).saturating_sub(minus);
    }
    d.clamp(1, u64::from(max.max(1)))
}

/// `floor(d × p / 1000)`, exactly, with 32-bit divisions only: `p = 1000a + b` and
/// `d = 1000h + l` give `d·p/1000 = d·a + h·b + floor(l·b / 1000)`.
pub(crate) const fn permille_of(d: u32, p: u32) -> u64 {
    let (a, b) = (p / 1000, p % 1000);
    let (h, l) = (d / 1000, d % 1000);
    d as u64 * a as u64 + h as u64 * b as u64 + (l * b / 1000) as u64
}

/// `x mod m` for `1 ≤ m < 2^16`, exactly, with 32-bit divisions only:
/// `x = hi·2^32 + lo` gives `((hi mod m)(2^32 mod m) + lo mod m) mod m`, every term < 2^32.
pub(crate) const fn mod_small(x: u64, m: u32) -> u32 {
    let m = if m == 0 { 1 } else { m };
    let hi = ((x >> 32) as u32) % m;
    let lo = (x as u32) % m;
    let two32 = ((u32::MAX % m) + 1) % m;
    (hi * two32 % m + lo) % m
}

/// The retry-after a rejection reports: the time left, never more than `cap` (a `now` that
/// went backwards must not push a deadline past the configured duration).
pub(crate) fn remaining(deadline: u64, now: u64, cap: u64) -> Option<u64> {
    let left = time_diff(deadline, now);
    if left > 0 {
        Some((left as u64).min(cap))
    } else {
        None
    }
}

/// `a − b` for 52-bit wrapping timestamps, as a signed difference.
pub(crate) fn time_diff(a: u64, b: u64) -> i64 {
    let d = a.wrapping_sub(b) & TIME_MASK;
    if d & (1 << (TIME_BITS - 1)) != 0 {
        d as i64 - (1i64 << TIME_BITS)
    } else {
        d as i64
    }
}

/// Timestamps are stored modulo 2^52 ms (about 142,000 years): only differences matter.
pub(crate) const TIME_BITS: u32 = 52;
pub(crate) const TIME_MASK: u64 = (1 << TIME_BITS) - 1;

/// A fixed, well-known mixer (SplitMix64): deterministic jitter from a seed.
pub(crate) const fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}
