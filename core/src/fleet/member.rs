//! One member's side of the fleet: what its agent sends each sync and what it does with the
//! answer. Pure and bounded: the agent does the I/O and reads the clocks.

use super::record::{Record, RecordError};
use super::rules::{Counts, Reading, Rules, decide};
use crate::adoption::Adoption;
use crate::config::Config;
use crate::snapshot::Snapshot;
use crate::state::State;
use crate::time::Millis;
use crate::transition::Transition;

/// How many sealed deltas a member keeps while the store does not acknowledge them (one a
/// sync; those older than the fleet window are dropped first, as they no longer count).
pub const MAX_PENDING: usize = 64;

/// A member's outcomes over one sync interval, numbered so the store applies it once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    /// The member's sequence number (from 1).
    pub seq: u64,
    /// The fleet generation the member followed meanwhile (0: none yet).
    pub generation: u64,
    /// Whether that generation was half-open (the outcomes are probes).
    pub probe: bool,
    /// When it was sealed (the member's own clock, ms): the store files it `now − at` ago.
    pub at: u64,
    /// The outcomes.
    pub counts: Counts,
    /// Whether the local breaker tripped on its own meanwhile (quorum mode).
    pub tripped: bool,
}

/// A member's standing with its fleet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// No answer from the store yet.
    Joining,
    /// Following the fleet's record.
    Joined,
    /// The store failed or timed out: running on the local breaker alone.
    Degraded,
    /// The fleet's config differs from this member's: running on the local breaker alone.
    Refused {
        /// The fleet's config fingerprint.
        fleet: u64,
    },
}

impl Status {
    /// Every status's name, in declaration order.
    pub const NAMES: [&'static str; 4] = ["joining", "joined", "degraded", "refused"];

    /// `joining`, `joined`, `degraded` or `refused`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Status::Joining => "joining",
            Status::Joined => "joined",
            Status::Degraded => "degraded",
            Status::Refused { .. } => "refused",
        }
    }
}

/// The probe leases a member asks the store for in a sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    /// How many it wants to hold after the sync: held ones above it are returned; with
    /// `renew`, free ones up to it are granted.
    pub want: u32,
    /// Whether calls are waiting: new leases are granted and held ones restart their expiry
    /// (`half_open_max_wait`). Without it, held ones only age (an idle or dead member's
    /// leases expire).
    pub renew: bool,
}

/// What the store answered a sync (besides the record's text and the counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The store server's time (ms).
    pub server_now: u64,
    /// The highest sequence number the store has applied for this member.
    pub acked: u64,
    /// The leases this member holds now.
    pub leases: u32,
    /// Members seen within the member time-to-live.
    pub members: u32,
}

/// What the agent does after a sync.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// A fleet transition to propose: compare-and-set from the record text just read (or
    /// its absence) to this one.
    pub propose: Option<Record>,
    /// A state for the local breaker to adopt (then tell [`Member::adopted`]).
    pub adopt: Option<Adoption>,
    /// Probe slots to free: `(local generation, how many)` for
    /// [`Breaker::release_slots`](crate::Breaker::release_slots).
    pub release: Option<(u32, u32)>,
}

/// One member's bookkeeping.
///
/// ```
/// use cbreaker::fleet::{Member, Reply, Rules, Status};
/// use cbreaker::{Breaker, Config, Millis, Outcome};
/// let config = Config { minimum_calls: 4, ..Config::count(10) };
/// let breaker: Breaker = Breaker::new(config).unwrap();
/// let mut member = Member::new(config, Rules::for_config(&config)).unwrap();
/// let p = breaker.try_acquire(Millis(0)).unwrap().permit;
/// breaker.record(p, Outcome::Failure, None, Millis(0));
/// member.seal(&breaker.snapshot(Millis(200)), 200);
/// assert_eq!(member.pending()[0].counts.failures, 1);
/// // The store applied it: acknowledged, gone.
/// let reply = Reply { server_now: 5_000, acked: 1, leases: 0, members: 1 };
/// let plan = member.on_reply(&reply, None, core::iter::empty(), core::iter::empty(), &breaker.snapshot(Millis(210)));
/// assert!(member.pending().is_empty());
/// assert_eq!(member.status(), Status::Joined);
/// assert!(plan.propose.is_some()); // no record yet: this member founds the fleet
/// ```
#[derive(Clone, Debug)]
pub struct Member {
    config: Config,
    rules: Rules,
    fingerprint: u64,
    seq: u64,
    pending: [Delta; MAX_PENDING],
    len: usize,
    base: Base,
    following: Option<Record>,
    /// The local generation of the member's last adoption, while it still holds.
    local: Option<u32>,
    leases: u32,
    /// Calls wanted probes since the last sync (admitted or refused).
    demand: bool,
    /// Holds were released (degraded, refused): adopt the fleet's record again on rejoining.
    released: bool,
    status: Status,
}

/// The lifetime counters at the last seal.
#[derive(Clone, Copy, Debug, Default)]
struct Base {
    successes: u64,
    failures: u64,
    slow: u64,
    rejected: u64,
    opens: u32,
    adopted_opens: u32,
}

impl Member {
    /// A member with `config` under fleet `rules`.
    ///
    /// # Errors
    /// The first rule out of range.
    pub fn new(config: Config, rules: Rules) -> Result<Member, super::RulesError> {
        rules.validate()?;
        Ok(Member {
            config,
            rules,
            fingerprint: config.fingerprint(),
            seq: 0,
            pending: [Delta::default(); MAX_PENDING],
            len: 0,
            base: Base::default(),
            following: None,
            local: None,
            leases: 0,
            demand: false,
            released: false,
            status: Status::Joining,
        })
    }

    /// The rules.
    #[must_use]
    pub const fn rules(&self) -> &Rules {
        &self.rules
    }

    /// This member's config fingerprint.
    #[must_use]
    pub const fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Its standing.
    #[must_use]
    pub const fn status(&self) -> Status {
        self.status
    }

    /// The fleet record it follows (the last one read).
    #[must_use]
    pub const fn following(&self) -> Option<&Record> {
        self.following.as_ref()
    }

    /// The probe leases it holds.
    #[must_use]
    pub const fn leases(&self) -> u32 {
        self.leases
    }

    /// The deltas the store has not acknowledged, oldest first: send them all each sync.
    #[must_use]
    pub fn pending(&self) -> &[Delta] {
        &self.pending[..self.len]
    }

    /// Seals the outcomes since the last seal (`snapshot` of the local breaker at local time
    /// `now`) into a new delta, if there are any. Deltas older than the fleet window are
    /// dropped (they no longer count), then the oldest if [`MAX_PENDING`] are kept.
    pub fn seal(&mut self, snapshot: &Snapshot, now: u64) {
        let b = self.base;
        let counts = Counts {
            successes: snapshot.successes.wrapping_sub(b.successes),
            failures: snapshot.failures.wrapping_sub(b.failures),
            slow: snapshot.slow.wrapping_sub(b.slow),
        };
        let opens = snapshot.transitions_into(State::Open);
        let own_opens = opens
            .wrapping_sub(b.opens)
            .saturating_sub(self.base.adopted_opens);
        let rejected = snapshot.rejected.wrapping_sub(b.rejected);
        self.demand = counts.calls() > 0 || rejected > 0;
        self.base = Base {
            successes: snapshot.successes,
            failures: snapshot.failures,
            slow: snapshot.slow,
            rejected: snapshot.rejected,
            opens,
            adopted_opens: 0,
        };
        let window = self.rules.window.0;
        let keep = |d: &Delta| now.saturating_sub(d.at) < window;
        let mut kept = 0;
        for i in 0..self.len {
            if keep(&self.pending[i]) {
                self.pending[kept] = self.pending[i];
                kept += 1;
            }
        }
        self.len = kept;
        if counts == Counts::default() && own_opens == 0 {
            return;
        }
        if self.len == MAX_PENDING {
            self.pending.copy_within(1.., 0);
            self.len -= 1;
        }
        self.seq += 1;
        let f = self.following;
        self.pending[self.len] = Delta {
            seq: self.seq,
            generation: f.map_or(0, |r| r.generation),
            probe: f.is_some_and(|r| r.state == State::HalfOpen),
            at: now,
            counts,
            tripped: own_opens > 0,
        };
        self.len += 1;
    }

    /// The leases to ask for: while the fleet is half-open and calls want probes, every
    /// slot (the store grants what is free) and the held ones renewed; otherwise keep what
    /// is held without renewing (an idle member's leases expire after
    /// `half_open_max_wait`).
    #[must_use]
    pub fn lease(&self) -> Lease {
        match self.following {
            Some(r) if r.state == State::HalfOpen && self.demand => Lease {
                want: self.config.half_open_max_calls,
                renew: true,
            },
            Some(r) if r.state == State::HalfOpen => Lease {
                want: self.leases,
                renew: false,
            },
            _ => Lease {
                want: 0,
                renew: false,
            },
        }
    }

    /// Takes a sync's answer: `record` is the stored text (`None`: no record), `counts` the
    /// count fields (`w.<generation>.<second>.<s|f|w>` for the window, `p.<generation>.<s|f|w>`
    /// for probes) and `trips` the quorum's entries within the window
    /// (`<generation>.<member>`). `local` is the local breaker now.
    pub fn on_reply<'a>(
        &mut self,
        reply: &Reply,
        record: Option<&str>,
        counts: impl IntoIterator<Item = (&'a str, u64)>,
        trips: impl IntoIterator<Item = &'a str>,
        local: &Snapshot,
    ) -> Plan {
        let acked = reply.acked;
        let mut kept = 0;
        for i in 0..self.len {
            if self.pending[i].seq > acked {
                self.pending[kept] = self.pending[i];
                kept += 1;
            }
        }
        self.len = kept;
        let now = reply.server_now;
        let record = match record.map(Record::parse) {
            // Lost (a store restarted empty) or overwritten: rebuild it from what this member
            // followed (one generation on), or found the fleet.
            None | Some(Err(RecordError::Garbage)) => {
                self.status = Status::Joined;
                let rebuilt = match self.following {
                    Some(r) => Record {
                        generation: r.generation + 1,
                        ..r
                    },
                    None => Record::first(self.fingerprint, now),
                };
                return Plan {
                    propose: Some(rebuilt),
                    ..Plan::default()
                };
            }
            Some(Ok(r)) => r,
        };
        if record.fingerprint != self.fingerprint {
            let plan = self.leave();
            self.status = Status::Refused {
                fleet: record.fingerprint,
            };
            return plan;
        }
        self.status = Status::Joined;
        let reading = self.reading(&record, now, counts, trips);
        let mut plan = self.follow(record, reply.leases, now, local);
        plan.propose = decide(&self.config, &self.rules, &record, &reading);
        plan
    }

    /// Sums the counts and trips of `record`'s generation.
    fn reading<'a>(
        &self,
        record: &Record,
        now: u64,
        counts: impl IntoIterator<Item = (&'a str, u64)>,
        trips: impl IntoIterator<Item = &'a str>,
    ) -> Reading {
        let first_second = (now / 1000).saturating_sub(self.rules.window.0 / 1000 - 1);
        let mut c = Counts::default();
        for (field, n) in counts {
            let mut parts = field.split('.');
            let (Some(kind), Some(generation)) = (parts.next(), parts.next()) else {
                continue;
            };
            if generation.parse::<u64>() != Ok(record.generation) {
                continue;
            }
            let which = match (record.state, kind) {
                (State::HalfOpen, "p") => parts.next(),
                (State::HalfOpen, _) | (_, "p") => continue,
                (_, "w") => match parts.next().map(str::parse::<u64>) {
                    Some(Ok(second)) if second >= first_second => parts.next(),
                    _ => continue,
                },
                _ => continue,
            };
            match which {
                Some("s") => c.successes += n,
                Some("f") => c.failures += n,
                Some("w") => c.slow += n,
                _ => {}
            }
        }
        let generation = record.generation;
        let mut tripped = 0;
        for entry in trips {
            if entry.split('.').next().and_then(|g| g.parse::<u64>().ok()) == Some(generation) {
                tripped += 1;
            }
        }
        Reading {
            server_now: now,
            counts: c,
            tripped,
        }
    }

    /// Follows `record` (read or just written) with `leases` held: what the local breaker
    /// adopts. `now` is the server's time when `record` was read, `local` the local breaker.
    pub fn follow(&mut self, record: Record, leases: u32, now: u64, local: &Snapshot) -> Plan {
        let before = self.following.replace(record);
        let changed = self.released || before.is_none_or(|b| b.generation != record.generation);
        self.released = false;
        let held_leases = core::mem::replace(&mut self.leases, leases);
        let max = self.config.half_open_max_calls;
        let mut plan = Plan::default();
        plan.adopt = match record.state {
            // Closed after a fleet episode; a member joining a closed fleet keeps its own state.
            State::Closed if changed && before.is_some_and(|b| b.state != State::Closed) => {
                (local.state != State::Closed).then(|| Adoption::state(State::Closed))
            }
            State::Closed => None,
            State::Open if changed => Some(Adoption::open(
                Millis(record.deadline.saturating_sub(now)),
                record.k,
                max,
            )),
            State::Open => None,
            State::HalfOpen => {
                // The local breaker still in the member's adoption (or in the half-open its
                // held open word entered by itself): leases apply to it. A breaker that
                // moved on by itself (its own probes closed or re-opened it) is left alone:
                // the fleet decides from those probes' outcomes.
                let ours = self.local.is_some_and(|g| {
                    g == local.generation
                        || ((g + 1) % 4096 == local.generation && local.state == State::HalfOpen)
                });
                let held_open = ours && before.is_some_and(|b| b.state == State::Open);
                if changed && !held_open {
                    // No lease yet: open with every slot held (refused as half-open full).
                    Some(Adoption::open(Millis(0), record.k, max))
                } else if !ours || leases == held_leases {
                    None
                } else if leases > held_leases {
                    plan.release = Some((local.generation, leases - held_leases));
                    None
                } else if leases > 0 {
                    // Leases expired (an idle member does not renew them): hold those slots.
                    Some(Adoption::half_open(record.k, max - leases.min(max)))
                } else {
                    Some(Adoption::open(Millis(0), record.k, max))
                }
            }
            state if changed => Some(Adoption::state(state)),
            _ => None,
        };
        plan
    }

    /// Records the transition the local breaker made adopting [`Plan::adopt`].
    pub fn adopted(&mut self, t: &Transition) {
        self.local = Some(t.generation);
        if t.to == State::Open {
            self.base.adopted_opens += 1;
        }
    }

    /// The store failed or timed out: the member runs on its local breaker alone (holds
    /// released) until a sync succeeds again.
    pub fn on_error(&mut self) -> Plan {
        self.status = Status::Degraded;
        self.leave()
    }

    /// Frees every held slot of the member's adoption, so the local breaker probes by itself.
    fn leave(&mut self) -> Plan {
        self.leases = 0;
        let plan = match (self.local, self.following) {
            (Some(generation), Some(r)) if matches!(r.state, State::Open | State::HalfOpen) => {
                Plan {
                    release: Some((generation, self.config.half_open_max_calls)),
                    ..Plan::default()
                }
            }
            _ => Plan::default(),
        };
        self.released = true;
        plan
    }
}
