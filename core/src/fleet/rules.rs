//! The fleet's rules: when the fleet trips, probes, closes or re-opens, from its totals and
//! its record. Pure: the store's reading in, the next record out.

use super::record::Record;
use crate::config::{Config, WindowKind};
use crate::state::{K_MAX, State};
use crate::time::Millis;
use crate::transition::Cause;

/// How a fleet trips.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The config's rate rules over the fleet's totals in the fleet window (`minimum_calls`
    /// counted fleet-wide).
    Rate,
    /// When this many members tripped on their own within the fleet window: one bad host
    /// cannot open the fleet.
    Quorum(u32),
}

/// A fleet's rules beside its breaker config.
///
/// ```
/// use cbreaker::fleet::{Mode, Rules};
/// use cbreaker::{Config, Millis};
/// let rules = Rules::for_config(&Config::time(Millis::from_secs(30), 6));
/// assert_eq!((rules.mode, rules.window, rules.sync_interval), (Mode::Rate, Millis(30_000), Millis(200)));
/// assert_eq!(Rules::for_config(&Config::count(100)).window, Millis(10_000));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Rate or quorum.
    pub mode: Mode,
    /// The span of outcomes (rate) or local trips (quorum) the fleet looks at: whole seconds,
    /// 1 s to 1 h. Default: a time window's duration (rounded up to a second), else 10 s.
    pub window: Millis,
    /// How often a member syncs (10 ms to 60 s). Default 200 ms.
    pub sync_interval: Millis,
}

/// A fleet option, as an error names it (the same names in every language).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FleetField {
    /// The store's URL.
    Url,
    /// The breaker's name in the fleet.
    Name,
    /// The key prefix.
    Prefix,
    /// [`Rules::window`].
    Window,
    /// [`Rules::sync_interval`].
    SyncInterval,
    /// [`Mode::Quorum`]'s `k`.
    Quorum,
    /// The round-trip timeout.
    Timeout,
    /// The member's id.
    MemberId,
}

impl FleetField {
    /// Every field, in declaration order.
    pub const ALL: [FleetField; 8] = [
        FleetField::Url,
        FleetField::Name,
        FleetField::Prefix,
        FleetField::Window,
        FleetField::SyncInterval,
        FleetField::Quorum,
        FleetField::Timeout,
        FleetField::MemberId,
    ];

    /// The option's snake_case name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            FleetField::Url => "url",
            FleetField::Name => "name",
            FleetField::Prefix => "prefix",
            FleetField::Window => "window",
            FleetField::SyncInterval => "sync_interval",
            FleetField::Quorum => "quorum",
            FleetField::Timeout => "timeout",
            FleetField::MemberId => "member_id",
        }
    }
}

/// A rule out of range, naming the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RulesError {
    /// `window`: whole seconds, 1 s to 3,600 s.
    Window,
    /// `sync_interval`: 10 ms to 60,000 ms.
    SyncInterval,
    /// `quorum`: at least 1.
    Quorum,
}

impl RulesError {
    /// Every rule error.
    pub const ALL: [RulesError; 3] = [
        RulesError::Window,
        RulesError::SyncInterval,
        RulesError::Quorum,
    ];

    /// The field it names.
    #[must_use]
    pub const fn field(self) -> FleetField {
        match self {
            RulesError::Window => FleetField::Window,
            RulesError::SyncInterval => FleetField::SyncInterval,
            RulesError::Quorum => FleetField::Quorum,
        }
    }
}

impl core::fmt::Display for RulesError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            RulesError::Window => "fleet window must be whole seconds, 1 s to 3600 s",
            RulesError::SyncInterval => "fleet sync_interval must be 10 ms to 60000 ms",
            RulesError::Quorum => "fleet quorum must be at least 1",
        })
    }
}

impl Rules {
    /// The defaults for `config`.
    #[must_use]
    pub fn for_config(config: &Config) -> Rules {
        let window = match config.window {
            WindowKind::Time { duration, .. } => duration.0.div_ceil(1000).clamp(1, 3600) * 1000,
            _ => 10_000,
        };
        Rules {
            mode: Mode::Rate,
            window: Millis(window),
            sync_interval: Millis(200),
        }
    }

    /// Checks every field.
    ///
    /// # Errors
    /// The first field out of range.
    pub const fn validate(&self) -> Result<(), RulesError> {
        let w = self.window.0;
        if w == 0 || w % 1000 != 0 || w > 3_600_000 {
            return Err(RulesError::Window);
        }
        if self.sync_interval.0 < 10 || self.sync_interval.0 > 60_000 {
            return Err(RulesError::SyncInterval);
        }
        if let Mode::Quorum(0) = self.mode {
            return Err(RulesError::Quorum);
        }
        Ok(())
    }

    /// How long a member counts as alive after its last sync: three intervals.
    #[must_use]
    pub const fn member_ttl(&self) -> Millis {
        Millis(self.sync_interval.0 * 3)
    }
}

/// Outcomes summed over members.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Successes.
    pub successes: u64,
    /// Failures.
    pub failures: u64,
    /// Slow calls (of either outcome).
    pub slow: u64,
}

impl Counts {
    /// Successes and failures.
    #[must_use]
    pub const fn calls(&self) -> u64 {
        self.successes + self.failures
    }
}

/// What one sync read from the store, for the record's generation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reading {
    /// The store server's time (ms).
    pub server_now: u64,
    /// Closed: the outcomes in the fleet window. Half-open: the probes' outcomes.
    pub counts: Counts,
    /// Members that tripped on their own within the fleet window (quorum mode).
    pub tripped: u32,
}

/// The fleet transition `reading` calls for on `record`, if any: the next record (its
/// generation one more), with its cause.
///
/// ```
/// use cbreaker::fleet::{Counts, Reading, Record, Rules, decide};
/// use cbreaker::{Cause, Config, Millis, State};
/// let config = Config { minimum_calls: 10, open_duration: Millis(5_000), ..Config::count(100) };
/// let rules = Rules::for_config(&config);
/// let closed = Record::first(1, 0);
/// let few = Reading { server_now: 10, counts: Counts { successes: 0, failures: 9, slow: 0 }, tripped: 0 };
/// assert_eq!(decide(&config, &rules, &closed, &few), None); // below minimum_calls, fleet-wide
/// let enough = Reading { counts: Counts { successes: 5, failures: 5, slow: 0 }, ..few };
/// let open = decide(&config, &rules, &closed, &enough).unwrap();
/// assert_eq!((open.state, open.cause, open.generation, open.deadline), (State::Open, Cause::FailureRate, 2, 5_010));
/// ```
#[must_use]
pub fn decide(
    config: &Config,
    rules: &Rules,
    record: &Record,
    reading: &Reading,
) -> Option<Record> {
    let now = reading.server_now;
    let c = reading.counts;
    match record.state {
        State::Closed => {
            let cause = match rules.mode {
                Mode::Rate => rate_cause(config, c)?,
                Mode::Quorum(k) if reading.tripped >= k => Cause::Quorum,
                Mode::Quorum(_) => return None,
            };
            Some(open(config, record, 0, cause, now))
        }
        State::Open if now >= record.deadline => {
            Some(next(record, State::HalfOpen, Cause::OpenElapsed, now))
        }
        State::HalfOpen => {
            let k = (record.k + 1).min(K_MAX);
            if c.failures > 0 {
                Some(open(config, record, k, Cause::ProbeFailed, now))
            } else if config.slow_call_rate_threshold > 0 && c.slow > 0 {
                Some(open(config, record, k, Cause::ProbeSlow, now))
            } else if c.successes >= u64::from(config.success_threshold) {
                Some(next(record, State::Closed, Cause::ProbesSucceeded, now))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The rate rule over fleet totals: `minimum_calls` fleet-wide, then the failure rate, then
/// the slow-call rate.
fn rate_cause(config: &Config, c: Counts) -> Option<Cause> {
    let calls = c.calls();
    if calls == 0 || calls < u64::from(config.minimum_calls) {
        return None;
    }
    let rate = |n: u64, threshold: u8| threshold > 0 && n * 100 >= u64::from(threshold) * calls;
    if rate(c.failures, config.failure_rate_threshold) {
        Some(Cause::FailureRate)
    } else if rate(c.slow, config.slow_call_rate_threshold) {
        Some(Cause::SlowCallRate)
    } else {
        None
    }
}

fn next(record: &Record, state: State, cause: Cause, now: u64) -> Record {
    Record {
        generation: record.generation + 1,
        state,
        cause,
        since: now,
        deadline: 0,
        k: if state == State::Closed { 0 } else { record.k },
        ..*record
    }
}

/// Open for the open duration of trip `k` (the config's backoff and jitter, as a local trip).
fn open(config: &Config, record: &Record, k: u32, cause: Cause, now: u64) -> Record {
    let duration = match config.compile(crate::MAX_SLOTS) {
        Ok(compiled) => {
            crate::transition::open_duration(&compiled, k, (record.generation + 1) as u32 % 4096)
        }
        Err(_) => config.open_duration.0,
    };
    Record {
        deadline: now + duration,
        k,
        ..next(record, State::Open, cause, now)
    }
}

/// What an operator can do to a whole fleet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    /// Every member rejects every call until reset or forced closed.
    ForceOpen,
    /// Every member admits every call and never trips.
    ForceClosed,
    /// Closed, the fleet window empty, the backoff reset.
    Reset,
}

impl Operator {
    /// Every move.
    pub const ALL: [Operator; 3] = [Operator::ForceOpen, Operator::ForceClosed, Operator::Reset];

    /// `force_open`, `force_closed` or `reset`: the verbs every front door uses.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Operator::ForceOpen => "force_open",
            Operator::ForceClosed => "force_closed",
            Operator::Reset => "reset",
        }
    }

    /// The move named `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|o| o.name() == name)
    }
}

/// The record after operator move `op` on `record` (`None`: no record yet) at server time
/// `now`, for a fleet of config `fingerprint`.
#[must_use]
pub fn operate(record: Option<&Record>, op: Operator, fingerprint: u64, now: u64) -> Record {
    let base = record.copied().unwrap_or(Record {
        generation: 0,
        ..Record::first(fingerprint, now)
    });
    let (state, cause) = match op {
        Operator::ForceOpen => (State::ForcedOpen, Cause::ForceOpen),
        Operator::ForceClosed => (State::Disabled, Cause::ForceClosed),
        Operator::Reset => (State::Closed, Cause::Reset),
    };
    Record {
        fingerprint,
        ..next(&base, state, cause, now)
    }
}
