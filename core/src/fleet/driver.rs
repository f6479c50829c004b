//! One sync, start to end, over any store: the flow every member runs (the Redis agent, the
//! simulated store of the conformance vectors). The store only answers; the decisions are
//! [`Member`]'s.

extern crate alloc;

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::member::{Delta, Lease, Member, Plan, Reply};
use super::record::Record;
use crate::adoption::Adoption;
use crate::config::Config;
use crate::snapshot::Snapshot;
use crate::time::Millis;
use crate::transition::Transition;

/// The local breaker a member runs: what a sync reads and moves.
pub trait Local {
    /// Its snapshot at `now`.
    fn snapshot(&self, now: Millis) -> Snapshot;
    /// See [`Breaker::adopt`](crate::Breaker::adopt).
    fn adopt(&self, adoption: Adoption, now: Millis) -> Transition;
    /// See [`Breaker::release_slots`](crate::Breaker::release_slots).
    fn release_slots(&self, generation: u32, n: u32) -> bool;
    /// Its config.
    fn config(&self) -> Config;
}

/// `Local` for a breaker type whose inherent methods have the same names.
macro_rules! local_for {
    ($($generics:tt)*) => {
        impl $($generics)* {
            fn snapshot(&self, now: Millis) -> Snapshot {
                Self::snapshot(self, now)
            }
            fn adopt(&self, adoption: Adoption, now: Millis) -> Transition {
                Self::adopt(self, adoption, now)
            }
            fn release_slots(&self, generation: u32, n: u32) -> bool {
                Self::release_slots(self, generation, n)
            }
            fn config(&self) -> Config {
                Self::config(self)
            }
        }
    };
}

local_for!(<const SLOTS: usize> Local for crate::Breaker<SLOTS>);
local_for!(Local for crate::SizedBreaker);

/// What a sync sends (the arguments of `sync.lua`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncRequest<'a> {
    /// The member's id.
    pub member: &'a str,
    /// The record prefix of the member's config ([`Record::prefix`]).
    pub prefix: &'a str,
    /// The record text the member follows (`""`: none).
    pub following: &'a str,
    /// The leases it asks for.
    pub lease: Lease,
    /// `half_open_max_calls`: the leases the fleet has.
    pub max_leases: u32,
    /// A lease's lifetime (`half_open_max_wait`, ms).
    pub lease_ms: u64,
    /// The fleet window (ms).
    pub window_ms: u64,
    /// How long a member counts after its last sync (ms).
    pub member_ttl_ms: u64,
    /// The deltas not acknowledged yet, each with its age (ms).
    pub deltas: &'a [(Delta, u64)],
}

/// What a sync reads back (the answer of `sync.lua`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncAnswer {
    /// The server's time (ms).
    pub server_now: u64,
    /// The record's text (`None`: no record; `!<type>` for a key of another type).
    pub record: Option<String>,
    /// The highest sequence applied for this member.
    pub acked: u64,
    /// Leases the member holds now.
    pub leases: u32,
    /// Members seen within the time-to-live.
    pub members: u32,
    /// The count fields and values.
    pub counts: Vec<(String, u64)>,
    /// The quorum's trip entries within the window.
    pub trips: Vec<String>,
}

/// A fleet store: Redis through the two scripts, or the simulated one.
pub trait Store {
    /// Why a round trip failed.
    type Error;
    /// `sync.lua`.
    ///
    /// # Errors
    /// The round trip failed or timed out.
    fn sync(&mut self, request: &SyncRequest<'_>) -> Result<SyncAnswer, Self::Error>;
    /// The record's text (`None`: no record; `!<type>` for a key of another type) and the
    /// server's time.
    ///
    /// # Errors
    /// The round trip failed or timed out.
    fn read(&mut self) -> Result<(Option<String>, u64), Self::Error>;
    /// `transition.lua`: `(landed, the record text now)`.
    ///
    /// # Errors
    /// The round trip failed or timed out.
    fn transition(
        &mut self,
        expected: &str,
        next: &str,
        log: &str,
    ) -> Result<(bool, String), Self::Error>;
}

/// Seals, syncs, decides, proposes and adopts: one sync of `member` (id `id`) with `local`.
/// `on_transition` sees every local transition the fleet caused. On a store error, the
/// member runs degraded (its held slots freed) and the error comes back.
///
/// # Errors
/// The store's error.
pub fn sync_once<S: Store, L: Local + ?Sized>(
    member: &mut Member,
    id: &str,
    local: &L,
    store: &mut S,
    clock: &dyn Fn() -> Millis,
    on_transition: &mut dyn FnMut(&Transition),
) -> Result<u32, S::Error> {
    let now = clock();
    member.seal(&local.snapshot(now), now.0);
    match exchange(member, id, local, store, clock, on_transition) {
        Ok(members) => Ok(members),
        Err(e) => {
            fail(member, local, clock(), on_transition);
            Err(e)
        }
    }
}

/// The store failed, or the member leaves: it runs on its local breaker alone.
pub fn fail<L: Local + ?Sized>(
    member: &mut Member,
    local: &L,
    now: Millis,
    on_transition: &mut dyn FnMut(&Transition),
) {
    let plan = member.on_error();
    apply(member, local, &plan, now, on_transition);
}

fn exchange<S: Store, L: Local + ?Sized>(
    member: &mut Member,
    id: &str,
    local: &L,
    store: &mut S,
    clock: &dyn Fn() -> Millis,
    on_transition: &mut dyn FnMut(&Transition),
) -> Result<u32, S::Error> {
    let cfg = local.config();
    let rules = *member.rules();
    let following = member
        .following()
        .map(ToString::to_string)
        .unwrap_or_default();
    let prefix = Record::prefix(member.fingerprint());
    let sent = clock().0;
    let deltas: Vec<(Delta, u64)> = member
        .pending()
        .iter()
        .map(|d| (*d, sent.saturating_sub(d.at)))
        .collect();
    let answer = store.sync(&SyncRequest {
        member: id,
        prefix: core::str::from_utf8(&prefix).unwrap_or_default(),
        following: &following,
        lease: member.lease(),
        max_leases: cfg.half_open_max_calls,
        lease_ms: cfg.half_open_max_wait.0,
        window_ms: rules.window.0,
        member_ttl_ms: rules.member_ttl().0,
        deltas: &deltas,
    })?;
    let reply = Reply {
        server_now: answer.server_now,
        acked: answer.acked,
        leases: answer.leases,
        members: answer.members,
    };
    let now = clock();
    let plan = member.on_reply(
        &reply,
        answer.record.as_deref(),
        answer.counts.iter().map(|(f, n)| (f.as_str(), *n)),
        answer.trips.iter().map(String::as_str),
        &local.snapshot(now),
    );
    apply(member, local, &plan, now, on_transition);
    if let Some(next) = plan.propose {
        let expected = answer.record.clone().unwrap_or_default();
        let text = next.to_string();
        let (landed, found) = store.transition(&expected, &text, &alloc::format!("{id} {text}"))?;
        let record = if landed {
            Some(next)
        } else {
            Record::parse(&found).ok()
        };
        if let Some(record) = record.filter(|r| r.fingerprint == member.fingerprint()) {
            // A landed transition ended the generation's leases: none held in the new one.
            let leases = if landed { 0 } else { member.leases() };
            let now = clock();
            let plan = member.follow(record, leases, answer.server_now, &local.snapshot(now));
            apply(member, local, &plan, now, on_transition);
        }
    }
    Ok(answer.members)
}

/// Why an operator move failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperateError<E> {
    /// The store failed.
    Store(E),
    /// The fleet runs another config (its fingerprint).
    Refused(u64),
    /// The record changed under every attempt (8).
    Contended,
}

/// Operator move `op` on the whole fleet, by a member of config `fingerprint` (id `id`): a
/// compare-and-set from the record read, retried if another move landed first.
///
/// # Errors
/// See [`OperateError`].
pub fn operate<S: Store>(
    store: &mut S,
    fingerprint: u64,
    id: &str,
    op: super::rules::Operator,
) -> Result<Record, OperateError<S::Error>> {
    for _ in 0..8 {
        let (found, now) = store.read().map_err(OperateError::Store)?;
        let current = found.as_deref().and_then(|t| Record::parse(t).ok());
        if let Some(r) = current.filter(|r| r.fingerprint != fingerprint) {
            return Err(OperateError::Refused(r.fingerprint));
        }
        let next = super::rules::operate(current.as_ref(), op, fingerprint, now);
        let text = next.to_string();
        let (landed, _) = store
            .transition(
                found.as_deref().unwrap_or(""),
                &text,
                &alloc::format!("{id} {text}"),
            )
            .map_err(OperateError::Store)?;
        if landed {
            return Ok(next);
        }
    }
    Err(OperateError::Contended)
}

fn apply<L: Local + ?Sized>(
    member: &mut Member,
    local: &L,
    plan: &Plan,
    now: Millis,
    on_transition: &mut dyn FnMut(&Transition),
) {
    if let Some((generation, n)) = plan.release {
        local.release_slots(generation, n);
    }
    if let Some(adoption) = plan.adopt {
        let t = local.adopt(adoption, now);
        member.adopted(&t);
        on_transition(&t);
    }
}
