//! A plain, single-threaded reference model of `docs/state-machine.md`.
//!
//! Written from the document alone, not from the core's code: plain integers, a `VecDeque`
//! for the count window, one struct per time bucket, no atomics, no packing. Where the core
//! packs (12-bit generations, 4-bit backoff exponent) the model keeps the documented
//! modulus/saturation, because those numbers are observable (permits, events, jitter).
//! Invariant 7 of DESIGN.md compares the two after every operation (`tests/tests/model.rs`).

use std::collections::VecDeque;

use cbreaker::{
    Cause, Config, HealthStatus, Millis, RejectReason, Snapshot, State, Transition, WindowKind,
};
use serde_json::{Map, Value};

use crate::core_subject::{config_map, core_config, snapshot_map, transition_name};
use crate::runner::{AcquireResult, Finished, Subject};
use crate::vector::{EndKind, ManualOp, OutcomeKind, VectorConfig};

/// The retry advice of a half-open rejection with every slot out, at most (ms).
pub const HALF_OPEN_FULL_RETRY_AFTER: u64 = 1_000;

/// Generations are counted modulo this.
pub const GENERATIONS: u32 = 4096;
/// The backoff exponent saturates here.
pub const K_MAX: u32 = 15;
/// The largest configured duration (ms).
pub const MAX_DURATION: u64 = 4_294_967_295;

/// A validated config, as plain numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct RefConfig {
    /// The window kind.
    pub window: RefWindow,
    /// Percent, 0 = off.
    pub failure_rate: u64,
    /// Percent, 0 = off.
    pub slow_rate: u64,
    /// A call this long or longer is slow.
    pub slow_ms: u64,
    /// 0 = off.
    pub consecutive: u64,
    /// Rate rules need this many outcomes in the window (already capped for a count window).
    pub minimum_calls: u64,
    /// First open duration.
    pub open_ms: u64,
    /// Cap (0 replaced by the limit).
    pub open_max_ms: u64,
    /// Multiplier × 1000, rounded.
    pub multiplier_permille: u64,
    /// Percent.
    pub jitter_percent: u64,
    /// Jitter seed.
    pub jitter_seed: u64,
    /// Probe slots.
    pub half_open_max: u32,
    /// Probe successes that close.
    pub success_threshold: u32,
    /// Reclaim after this long.
    pub half_open_wait_ms: u64,
}

/// The window kind, as plain numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefWindow {
    /// The last `size` outcomes.
    Count(usize),
    /// `buckets` buckets of `width` ms each.
    Time {
        /// Bucket width in ms.
        width: u64,
        /// How many buckets.
        buckets: u64,
    },
    /// Only the consecutive-failure run.
    Consecutive,
}

impl RefConfig {
    /// Validates `c` against the documented ranges (`ConfigError::allowed()` texts and the
    /// limits table), independently of `Config::validate`.
    ///
    /// # Errors
    /// The name of a field out of range (`ConfigError::field()` spelling).
    pub fn new(c: &Config) -> Result<RefConfig, &'static str> {
        let within = |v: u64, lo: u64, hi: u64| lo <= v && v <= hi;
        let window = match c.window {
            WindowKind::Count { size } => {
                if !within(u64::from(size), 1, 1024) {
                    return Err("window.size");
                }
                RefWindow::Count(size as usize)
            }
            WindowKind::Time { duration, buckets } => {
                // Buckets first: the duration must be a multiple of them.
                let b = u64::from(buckets);
                if !within(b, 1, 64) {
                    return Err("window.buckets");
                }
                if !within(duration.0, 1, MAX_DURATION) || duration.0 % b != 0 {
                    return Err("window.duration");
                }
                RefWindow::Time {
                    width: duration.0 / b,
                    buckets: b,
                }
            }
            WindowKind::Consecutive => {
                if c.consecutive_failures == 0 {
                    return Err("consecutive_failures");
                }
                RefWindow::Consecutive
            }
        };
        if c.failure_rate_threshold > 100 {
            return Err("failure_rate_threshold");
        }
        if c.slow_call_rate_threshold > 100 {
            return Err("slow_call_rate_threshold");
        }
        if c.slow_call_duration.0 > MAX_DURATION {
            return Err("slow_call_duration");
        }
        if c.consecutive_failures > 1 << 20 {
            return Err("consecutive_failures");
        }
        if !within(c.open_duration.0, 1, MAX_DURATION) {
            return Err("open_duration");
        }
        let open_max = if c.open_duration_max.0 == 0 {
            MAX_DURATION
        } else {
            c.open_duration_max.0
        };
        if !within(open_max, c.open_duration.0, MAX_DURATION) {
            return Err("open_duration_max");
        }
        let m = c.open_duration_multiplier;
        if !(1.0..=1000.0).contains(&m) {
            return Err("open_duration_multiplier");
        }
        if c.jitter_percent > 100 {
            return Err("jitter_percent");
        }
        if !within(u64::from(c.half_open_max_calls), 1, 31) {
            return Err("half_open_max_calls");
        }
        if !within(u64::from(c.success_threshold), 1, 31) {
            return Err("success_threshold");
        }
        if !within(c.half_open_max_wait.0, 1, MAX_DURATION) {
            return Err("half_open_max_wait");
        }
        let minimum_calls = match window {
            RefWindow::Count(size) => u64::from(c.minimum_calls).min(size as u64),
            _ => u64::from(c.minimum_calls),
        };
        Ok(RefConfig {
            window,
            failure_rate: u64::from(c.failure_rate_threshold),
            slow_rate: u64::from(c.slow_call_rate_threshold),
            slow_ms: c.slow_call_duration.0,
            consecutive: u64::from(c.consecutive_failures),
            minimum_calls,
            open_ms: c.open_duration.0,
            open_max_ms: open_max,
            multiplier_permille: (m * 1000.0).round() as u64,
            jitter_percent: u64::from(c.jitter_percent),
            jitter_seed: c.jitter_seed,
            half_open_max: c.half_open_max_calls,
            success_threshold: c.success_threshold,
            half_open_wait_ms: c.half_open_max_wait.0,
        })
    }
}

/// SplitMix64 (Steele, Lea, Flood; Vigna's constants): one step from state `x`.
#[must_use]
pub const fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The open duration of the `k`-th consecutive trip whose open state has `generation`,
/// exactly as docs/state-machine.md § Open computes it.
#[must_use]
pub fn open_duration(cfg: &RefConfig, k: u32, generation: u32) -> u64 {
    let max = cfg.open_max_ms;
    let mut d = cfg.open_ms.min(max);
    for _ in 0..k {
        if d >= max {
            break;
        }
        d = (d * cfg.multiplier_permille / 1000).min(max);
    }
    if cfg.jitter_percent > 0 {
        let span = 10 * cfg.jitter_percent;
        let x = cfg.jitter_seed ^ ((u64::from(generation) << 32) | u64::from(k));
        let r = splitmix64(x) % (2 * span + 1);
        let up = d * r / 1000;
        let down = d * span / 1000;
        d = (d + up).saturating_sub(down);
        d = d.clamp(1, max);
    }
    d
}

/// A permit of the model: the generation and state it was issued in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefPermit {
    /// Generation (mod 4096).
    pub generation: u32,
    /// `Closed`, `HalfOpen`, `Disabled` or `MetricsOnly`.
    pub state: State,
}

impl RefPermit {
    /// As an opaque handle (generation in the low 12 bits, state above).
    #[must_use]
    pub const fn to_bits(self) -> u32 {
        self.generation | ((self.state as u32) << 12)
    }

    /// From [`RefPermit::to_bits`].
    #[must_use]
    pub fn from_bits(bits: u32) -> RefPermit {
        let state = State::ALL
            .get((bits >> 12) as usize)
            .copied()
            .unwrap_or(State::Closed);
        RefPermit {
            generation: bits % GENERATIONS,
            state,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Bucket {
    /// The newest epoch written into this bucket; `None` = empty.
    epoch: Option<u64>,
    calls: u64,
    failures: u64,
    slow: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Figures {
    calls: u64,
    failures: u64,
    slow: u64,
}

/// The reference breaker.
#[derive(Clone, Debug)]
pub struct Model {
    cfg: RefConfig,
    state: State,
    generation: u32,
    k: u32,
    /// Open: when it ends, and the duration it was opened for.
    deadline: u64,
    open_for: u64,
    /// Half-open: when this generation began, slots taken, successes so far.
    start: u64,
    probes: u32,
    successes_ho: u32,
    /// Count window: (failure, slow), oldest first.
    count: VecDeque<(bool, bool)>,
    /// Time window: bucket `epoch mod buckets`.
    buckets: Vec<Bucket>,
    run: u64,
    successes: u64,
    failures: u64,
    ignored: u64,
    slow: u64,
    rejected: u64,
    transitions: [u32; 6],
}

impl Model {
    /// A closed breaker with an empty window.
    ///
    /// # Errors
    /// The field out of range.
    pub fn new(config: &Config) -> Result<Model, &'static str> {
        let cfg = RefConfig::new(config)?;
        let nb = match cfg.window {
            RefWindow::Time { buckets, .. } => buckets as usize,
            _ => 0,
        };
        Ok(Model {
            cfg,
            state: State::Closed,
            generation: 0,
            k: 0,
            deadline: 0,
            open_for: 0,
            start: 0,
            probes: 0,
            successes_ho: 0,
            count: VecDeque::new(),
            buckets: vec![Bucket::default(); nb],
            run: 0,
            successes: 0,
            failures: 0,
            ignored: 0,
            slow: 0,
            rejected: 0,
            transitions: [0; 6],
        })
    }

    /// The validated config.
    #[must_use]
    pub fn config(&self) -> &RefConfig {
        &self.cfg
    }

    /// The backoff exponent now.
    #[must_use]
    pub fn k(&self) -> u32 {
        self.k
    }

    fn enter(&mut self, to: State, cause: Cause, now: u64) -> Transition {
        let from = self.state;
        self.state = to;
        self.generation = (self.generation + 1) % GENERATIONS;
        self.transitions[to as usize] += 1;
        self.probes = 0;
        self.successes_ho = 0;
        if to == State::Closed {
            self.clear_window();
        }
        Transition {
            from,
            to,
            at: Millis(now),
            generation: self.generation,
            cause,
        }
    }

    fn clear_window(&mut self) {
        self.count.clear();
        // A cleared bucket is empty but still remembers the newest epoch written into it, so
        // an outcome from further back (time went back past the window) stays out after a
        // clear too. docs/state-machine.md does not say; this is the core's choice.
        for b in &mut self.buckets {
            *b = Bucket {
                epoch: b.epoch,
                ..Bucket::default()
            };
        }
        self.run = 0;
    }

    fn open(&mut self, cause: Cause, k: u32, now: u64) -> Transition {
        self.k = k;
        let t = self.enter(State::Open, cause, now);
        self.open_for = open_duration(&self.cfg, self.k, self.generation);
        self.deadline = now + self.open_for;
        t
    }

    fn epoch(&self, now: u64) -> u64 {
        match self.cfg.window {
            RefWindow::Time { width, .. } => now / width,
            _ => 0,
        }
    }

    /// Window figures as seen at `now`.
    fn figures(&self, now: u64) -> Figures {
        match self.cfg.window {
            RefWindow::Count(_) => Figures {
                calls: self.count.len() as u64,
                failures: self.count.iter().filter(|o| o.0).count() as u64,
                slow: self.count.iter().filter(|o| o.1).count() as u64,
            },
            RefWindow::Time { buckets, .. } => {
                let e = self.epoch(now);
                let oldest = (e + 1).saturating_sub(buckets);
                let mut f = Figures::default();
                for b in &self.buckets {
                    if let Some(be) = b.epoch {
                        if oldest <= be && be <= e {
                            f.calls += b.calls;
                            f.failures += b.failures;
                            f.slow += b.slow;
                        }
                    }
                }
                f
            }
            RefWindow::Consecutive => Figures::default(),
        }
    }

    /// Puts one success or failure into the run and the window. Returns false when the
    /// outcome is left out of the window (time went back past its bucket): it did not enter
    /// the window, so the trip rules are not checked ("after an outcome enters the window,
    /// the trip rules are checked"), but the run still counts it.
    fn enter_window(&mut self, failure: bool, slow: bool, now: u64) -> bool {
        if failure {
            self.run += 1;
        } else {
            self.run = 0;
        }
        match self.cfg.window {
            RefWindow::Count(size) => {
                self.count.push_back((failure, slow));
                if self.count.len() > size {
                    self.count.pop_front();
                }
            }
            RefWindow::Time { buckets, .. } => {
                let e = self.epoch(now);
                let b = &mut self.buckets[(e % buckets) as usize];
                let kept = match b.epoch {
                    // The bucket already holds a newer epoch: time went back by more than
                    // the window, and this outcome is left out of it.
                    Some(be) if be > e => false,
                    Some(be) if be == e => true,
                    _ => {
                        *b = Bucket {
                            epoch: Some(e),
                            ..Bucket::default()
                        };
                        true
                    }
                };
                if !kept {
                    return false;
                }
                b.calls += 1;
                b.failures += u64::from(failure);
                b.slow += u64::from(slow);
            }
            RefWindow::Consecutive => {}
        }
        true
    }

    fn trip_cause(&self, now: u64) -> Option<Cause> {
        if self.cfg.window != RefWindow::Consecutive {
            let f = self.figures(now);
            let enough = f.calls >= self.cfg.minimum_calls.max(1);
            if enough
                && self.cfg.failure_rate > 0
                && f.failures * 100 >= self.cfg.failure_rate * f.calls
            {
                return Some(Cause::FailureRate);
            }
            if enough && self.cfg.slow_rate > 0 && f.slow * 100 >= self.cfg.slow_rate * f.calls {
                return Some(Cause::SlowCallRate);
            }
        }
        if self.cfg.consecutive > 0 && self.run >= self.cfg.consecutive {
            return Some(Cause::ConsecutiveFailures);
        }
        None
    }

    fn permit(&self) -> RefPermit {
        RefPermit {
            generation: self.generation,
            state: self.state,
        }
    }

    /// `try_acquire(now)`.
    ///
    /// # Errors
    /// The retry advice of a refusal (`None` when forced open) and its reason.
    pub fn try_acquire(
        &mut self,
        now: u64,
    ) -> Result<(RefPermit, Option<Transition>), (Option<u64>, RejectReason)> {
        match self.state {
            State::Closed | State::Disabled | State::MetricsOnly => Ok((self.permit(), None)),
            State::ForcedOpen => {
                self.rejected += 1;
                Err((None, RejectReason::ForcedOpen))
            }
            State::Open => {
                if now >= self.deadline {
                    let t = self.enter(State::HalfOpen, Cause::OpenElapsed, now);
                    self.start = now;
                    self.probes = 1;
                    Ok((self.permit(), Some(t)))
                } else {
                    self.rejected += 1;
                    Err((
                        Some((self.deadline - now).min(self.open_for)),
                        RejectReason::Open,
                    ))
                }
            }
            State::HalfOpen => {
                if self.probes < self.cfg.half_open_max {
                    self.probes += 1;
                    Ok((self.permit(), None))
                } else if now >= self.start + self.cfg.half_open_wait_ms {
                    // Reclaim: a new generation, no event; successes so far are kept.
                    self.generation = (self.generation + 1) % GENERATIONS;
                    self.start = now;
                    self.probes = 1;
                    Ok((self.permit(), None))
                } else {
                    self.rejected += 1;
                    let reclaim_at = self.start + self.cfg.half_open_wait_ms;
                    let left = (reclaim_at - now).min(self.cfg.half_open_wait_ms);
                    Err((
                        Some(left.min(HALF_OPEN_FULL_RETRY_AFTER)),
                        RejectReason::HalfOpenFull,
                    ))
                }
            }
        }
    }

    fn is_slow(&self, outcome: OutcomeKind, duration: Option<u64>) -> bool {
        outcome != OutcomeKind::Ignored && duration.is_some_and(|d| d >= self.cfg.slow_ms)
    }

    /// `record(permit, outcome, duration, now)`.
    pub fn record(
        &mut self,
        permit: RefPermit,
        outcome: OutcomeKind,
        duration: Option<u64>,
        now: u64,
    ) -> Option<Transition> {
        let slow = self.is_slow(outcome, duration);
        match outcome {
            OutcomeKind::Success => self.successes += 1,
            OutcomeKind::Failure => self.failures += 1,
            OutcomeKind::Ignored => self.ignored += 1,
        }
        self.slow += u64::from(slow);
        if permit.generation != self.generation {
            return None;
        }
        let failure = outcome == OutcomeKind::Failure;
        match self.state {
            State::Closed | State::MetricsOnly => {
                if outcome == OutcomeKind::Ignored {
                    return None;
                }
                if !self.enter_window(failure, slow, now) {
                    return None;
                }
                if self.state == State::Closed {
                    if let Some(cause) = self.trip_cause(now) {
                        return Some(self.open(cause, 0, now));
                    }
                }
                None
            }
            State::HalfOpen => match outcome {
                OutcomeKind::Failure => {
                    Some(self.open(Cause::ProbeFailed, (self.k + 1).min(K_MAX), now))
                }
                OutcomeKind::Success if slow && self.cfg.slow_rate > 0 => {
                    Some(self.open(Cause::ProbeSlow, (self.k + 1).min(K_MAX), now))
                }
                OutcomeKind::Success => {
                    self.probes = self.probes.saturating_sub(1);
                    self.successes_ho += 1;
                    if self.successes_ho >= self.cfg.success_threshold {
                        self.k = 0;
                        Some(self.enter(State::Closed, Cause::ProbesSucceeded, now))
                    } else {
                        None
                    }
                }
                OutcomeKind::Ignored => {
                    self.probes = self.probes.saturating_sub(1);
                    None
                }
            },
            State::Disabled | State::Open | State::ForcedOpen => None,
        }
    }

    /// `release(permit, now)`: counted as ignored, frees a half-open slot.
    pub fn release(&mut self, permit: RefPermit, _now: u64) {
        self.ignored += 1;
        if permit.generation == self.generation && self.state == State::HalfOpen {
            self.probes = self.probes.saturating_sub(1);
        }
    }

    /// A manual control.
    pub fn manual(&mut self, op: ManualOp, now: u64) -> Transition {
        match op {
            ManualOp::ForceOpen => self.enter(State::ForcedOpen, Cause::ForceOpen, now),
            ManualOp::ForceClosed => self.enter(State::Disabled, Cause::ForceClosed, now),
            ManualOp::MetricsOnly => self.enter(State::MetricsOnly, Cause::MetricsOnly, now),
            ManualOp::Reset => {
                self.k = 0;
                self.enter(State::Closed, Cause::Reset, now)
            }
            // As an automatic trip: the first of a run from a state that admits calls, one
            // more consecutive trip otherwise.
            ManualOp::Trip => {
                let k = match self.state {
                    State::Closed | State::Disabled | State::MetricsOnly => 0,
                    State::Open | State::HalfOpen | State::ForcedOpen => (self.k + 1).min(K_MAX),
                };
                self.open(Cause::Trip, k, now)
            }
            // Probes admitted as after a deadline; this generation starts now.
            ManualOp::HalfOpen => {
                let t = self.enter(State::HalfOpen, Cause::HalfOpen, now);
                self.start = now;
                t
            }
        }
    }

    /// `state(now)`: what a `try_acquire` at `now` would see.
    #[must_use]
    pub fn state(&self, now: u64) -> State {
        match self.state {
            State::Open if now >= self.deadline => State::HalfOpen,
            s => s,
        }
    }

    fn retry_after(&self, now: u64) -> Option<u64> {
        match self.state {
            State::Open if now < self.deadline => Some((self.deadline - now).min(self.open_for)),
            State::HalfOpen if self.probes >= self.cfg.half_open_max => {
                let reclaim_at = self.start + self.cfg.half_open_wait_ms;
                (now < reclaim_at).then(|| {
                    (reclaim_at - now)
                        .min(self.cfg.half_open_wait_ms)
                        .min(HALF_OPEN_FULL_RETRY_AFTER)
                })
            }
            _ => None,
        }
    }

    /// `snapshot(now)`, in the core's [`Snapshot`] shape.
    #[must_use]
    pub fn snapshot(&self, now: u64) -> Snapshot {
        let f = self.figures(now);
        let rate = |x: u64| {
            if f.calls == 0 {
                0.0
            } else {
                100.0 * x as f64 / f.calls as f64
            }
        };
        Snapshot {
            state: self.state(now),
            generation: self.generation,
            calls: self.successes + self.failures + self.ignored,
            successes: self.successes,
            failures: self.failures,
            ignored: self.ignored,
            slow: self.slow,
            rejected: self.rejected,
            transitions: self.transitions,
            window_calls: f.calls as u32,
            window_failures: f.failures as u32,
            window_slow: f.slow as u32,
            failure_rate: rate(f.failures),
            slow_rate: rate(f.slow),
            consecutive_failures: self.run as u32,
            retry_after: self.retry_after(now).map(Millis),
        }
    }
}

fn names(t: Option<Transition>) -> Vec<String> {
    t.map(|t| transition_name(&t)).into_iter().collect()
}

/// A call of the model's call protocol: its permit, when timing started, whether settled.
#[derive(Clone, Copy, Debug)]
pub struct RefCall {
    permit: RefPermit,
    started: Option<u64>,
    settled: bool,
}

/// The reference model with the calls its `begin` gave (the [`Subject`] the runner drives).
#[derive(Clone, Debug)]
pub struct ModelSubject {
    /// The model.
    pub model: Model,
    /// The config it was built from.
    pub config: Config,
    calls: Vec<RefCall>,
}

impl Subject for ModelSubject {
    fn new(config: &VectorConfig) -> Result<Self, String> {
        let config = core_config(config)?;
        Ok(ModelSubject {
            model: Model::new(&config).map_err(str::to_string)?,
            config,
            calls: Vec::new(),
        })
    }

    fn acquire(&mut self, now: u64) -> AcquireResult {
        match self.model.try_acquire(now) {
            Ok((p, t)) => AcquireResult::Permitted {
                permit: p.to_bits(),
                transitions: names(t),
                timed: false,
            },
            Err((retry_after_ms, reason)) => AcquireResult::Rejected {
                retry_after_ms,
                reason: reason.name().to_string(),
            },
        }
    }

    fn begin(&mut self, now: u64, sink: bool) -> AcquireResult {
        // The timing rule, written from DESIGN.md: the slow-call rule on, or a sink.
        let timed = sink || self.config.slow_call_rate_threshold > 0;
        match self.acquire(now) {
            AcquireResult::Permitted {
                permit,
                transitions,
                ..
            } => {
                self.calls.push(RefCall {
                    permit: RefPermit::from_bits(permit),
                    started: timed.then_some(now),
                    settled: false,
                });
                AcquireResult::Permitted {
                    permit: (self.calls.len() - 1) as u32,
                    transitions,
                    timed,
                }
            }
            rejected => rejected,
        }
    }

    fn finish(&mut self, call: u32, end: EndKind, now: u64) -> Result<Finished, String> {
        let c = &mut self.calls[call as usize];
        if c.settled {
            return Err("permit_settled".into());
        }
        c.settled = true;
        let duration = c.started.map(|s| now.saturating_sub(s));
        let outcome = match end {
            EndKind::Success => OutcomeKind::Success,
            EndKind::Failure | EndKind::Timeout => OutcomeKind::Failure,
            EndKind::Ignored | EndKind::Cancelled => OutcomeKind::Ignored,
        };
        let permit = c.permit;
        let t = self.model.record(permit, outcome, duration, now);
        Ok(Finished {
            duration_ms: duration,
            transitions: names(t),
        })
    }

    fn health(&mut self, now: u64) -> String {
        let bad = matches!(
            self.model.state(now),
            State::Open | State::HalfOpen | State::ForcedOpen
        );
        let h = if bad {
            HealthStatus::Unhealthy
        } else {
            HealthStatus::Healthy
        };
        h.name().to_string()
    }

    fn config(&mut self) -> Map<String, Value> {
        let mut c = self.config;
        // A zero cap stands for the limit, and reads back as it.
        if c.open_duration_max.0 == 0 {
            c.open_duration_max = Millis(MAX_DURATION);
        }
        config_map(&c)
    }

    fn record(
        &mut self,
        permit: u32,
        outcome: OutcomeKind,
        duration_ms: Option<u64>,
        now: u64,
    ) -> Vec<String> {
        names(
            self.model
                .record(RefPermit::from_bits(permit), outcome, duration_ms, now),
        )
    }

    fn drop_permit(&mut self, permit: u32, now: u64) -> Vec<String> {
        self.model.release(RefPermit::from_bits(permit), now);
        Vec::new()
    }

    fn state(&mut self, now: u64) -> String {
        self.model.state(now).name().to_string()
    }

    fn snapshot(&mut self, now: u64) -> Map<String, Value> {
        snapshot_map(&self.model.snapshot(now))
    }

    fn manual(&mut self, op: ManualOp, now: u64) -> Vec<String> {
        names(Some(self.model.manual(op, now)))
    }
}
