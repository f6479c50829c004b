//! The fleet's record: the state every member follows, as one line of text the store keeps
//! and compares whole (a compare-and-set on it is a compare-and-set on its generation).
//!
//! ```text
//! cb1 <fingerprint: 16 hex> <generation> <state> <cause> <since ms> <deadline ms> <k>
//! ```
//!
//! Times are the store server's clock: no two hosts' clocks are ever compared.

use core::fmt;

use crate::state::State;
use crate::transition::Cause;

/// The length of a record's prefix (`cb1 ` and the config fingerprint and a space), which
/// the store compares before it applies a member's deltas.
pub const PREFIX_LEN: usize = 21;

/// A fleet's record.
///
/// ```
/// use cbreaker::fleet::Record;
/// use cbreaker::{Cause, State};
/// let r = Record { fingerprint: 0xabc, generation: 7, state: State::Open, cause: Cause::FailureRate,
///                  since: 1_000, deadline: 61_000, k: 0 };
/// let text = r.to_string();
/// assert_eq!(text, "cb1 0000000000000abc 7 open failure_rate 1000 61000 0");
/// assert_eq!(Record::parse(&text), Ok(r));
/// assert!(Record::parse("cb1 garbage").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// The fleet's config ([`Config::fingerprint`](crate::Config::fingerprint)): a member with
    /// another config is refused.
    pub fingerprint: u64,
    /// Bumped by every fleet transition.
    pub generation: u64,
    /// The fleet's state.
    pub state: State,
    /// Why the fleet entered it.
    pub cause: Cause,
    /// When it entered it (server ms).
    pub since: u64,
    /// Open: when probes may start (server ms); 0 otherwise.
    pub deadline: u64,
    /// Consecutive trips before this open period (backoff exponent).
    pub k: u32,
}

/// Why a stored record was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// Not a record of this format (another program's value, or a corrupted one).
    Garbage,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the fleet record is not a cbreaker record (cb1 ...)")
    }
}

impl Record {
    /// A new fleet: closed, generation 1.
    #[must_use]
    pub const fn first(fingerprint: u64, now: u64) -> Record {
        Record {
            fingerprint,
            generation: 1,
            state: State::Closed,
            cause: Cause::Reset,
            since: now,
            deadline: 0,
            k: 0,
        }
    }

    /// Reads a stored record.
    ///
    /// # Errors
    /// [`RecordError::Garbage`] for anything this module did not write.
    pub fn parse(text: &str) -> Result<Record, RecordError> {
        let mut f = text.split(' ');
        let mut next = || f.next().ok_or(RecordError::Garbage);
        if next()? != "cb1" {
            return Err(RecordError::Garbage);
        }
        let fp = next()?;
        if fp.len() != 16 {
            return Err(RecordError::Garbage);
        }
        let fingerprint = u64::from_str_radix(fp, 16).map_err(|_| RecordError::Garbage)?;
        let number = |s: &str| s.parse::<u64>().map_err(|_| RecordError::Garbage);
        let generation = number(next()?)?;
        let state_name = next()?;
        let state = State::ALL
            .into_iter()
            .find(|s| s.name() == state_name)
            .ok_or(RecordError::Garbage)?;
        let cause_name = next()?;
        let cause = Cause::ALL
            .into_iter()
            .find(|c| c.name() == cause_name)
            .ok_or(RecordError::Garbage)?;
        let since = number(next()?)?;
        let deadline = number(next()?)?;
        let k = number(next()?)?;
        if f.next().is_some() || k > u64::from(crate::state::K_MAX) {
            return Err(RecordError::Garbage);
        }
        Ok(Record {
            fingerprint,
            generation,
            state,
            cause,
            since,
            deadline,
            k: k as u32,
        })
    }

    /// The prefix every record of config `fingerprint` starts with.
    #[must_use]
    pub fn prefix(fingerprint: u64) -> [u8; PREFIX_LEN] {
        let mut out = *b"cb1 0000000000000000 ";
        for i in 0..16 {
            let nibble = (fingerprint >> (60 - 4 * i)) & 0xF;
            out[4 + i] = b"0123456789abcdef"[nibble as usize];
        }
        out
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cb1 {:016x} {} {} {} {} {} {}",
            self.fingerprint,
            self.generation,
            self.state.name(),
            self.cause.name(),
            self.since,
            self.deadline,
            self.k
        )
    }
}
