//! One breaker for a fleet of processes and hosts: the decisions, as pure functions. No I/O,
//! no clock, no allocation (`no_std`): a store (Redis, by the `fleet` feature's agent; a
//! simulated one in the conformance vectors) only keeps what these functions write, and
//! every front door runs the same decisions.
//!
//! A member process keeps deciding each call with its local [`Breaker`](crate::Breaker).
//! Once per sync interval its agent:
//! 1. seals the outcomes since the last sync into a numbered [`Delta`] ([`Member::seal`]);
//! 2. sends the unacknowledged deltas, its lease wish and the record it follows to the store,
//!    which applies each delta once (member id + sequence), and reads back the fleet's
//!    [`Record`], the counts of the record's generation, the quorum's trips and the server's
//!    time ([`Reply`]);
//! 3. lets [`Member::on_reply`] decide: a fleet transition to propose (a compare-and-set on
//!    the record: of many members deciding at once, one lands), and what the local breaker
//!    adopts ([`Breaker::adopt`](crate::Breaker::adopt), cause `fleet`).
//!
//! See docs/fleet.md for the protocol, the promises and every failure mode.

/// The sync script (Lua, for Redis and Valkey): stores a member's deltas once each, reads the
/// record, the counts and the quorum's trips, keeps the member list and the probe leases.
pub const SYNC_SCRIPT: &str = include_str!("scripts/sync.lua");
/// The transition script: a compare-and-set of the record, which also ends the leases and
/// probe counts of the generation before and appends the new record to the fleet's log.
pub const TRANSITION_SCRIPT: &str = include_str!("scripts/transition.lua");

#[cfg(feature = "alloc")]
pub mod driver;
mod member;
mod record;
mod rules;
#[cfg(feature = "alloc")]
pub mod sim;

pub use member::{Delta, Lease, MAX_PENDING, Member, Plan, Reply, Status};
pub use record::{PREFIX_LEN, Record, RecordError};
pub use rules::{Counts, FleetField, Mode, Operator, Reading, Rules, RulesError, decide, operate};
