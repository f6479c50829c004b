//! The fleet's metric families (docs/fleet.md): a member's standing and the fleet record it
//! follows, beside the breaker's own families. Same labels and writer rules as the rest.
//!
//! ```
//! use cbreaker::fleet::Status;
//! use cbreaker::metrics::fleet::{FleetRow, write_text};
//! use cbreaker::State;
//! let row = FleetRow { breaker: "payments", status: Status::Joined, state: Some(State::Open), generation: 7, members: 4, leases: 0 };
//! let mut text = String::new();
//! write_text(&mut text, &[row]).unwrap();
//! assert!(text.contains("cbreaker_fleet_status{breaker=\"payments\",status=\"joined\"} 1\n"));
//! assert!(text.contains("cbreaker_fleet_state{breaker=\"payments\",state=\"open\"} 1\n"));
//! assert!(text.contains("cbreaker_fleet_members{breaker=\"payments\"} 4\n"));
//! ```

use core::fmt::{self, Write};

use super::{Escaped, Family, MetricType};
use crate::fleet::Status;
use crate::state::State;

/// `status` label values, in the order they are written.
pub const STATUSES: [&str; 4] = Status::NAMES;

/// `cbreaker_fleet_status{breaker,status}`: 1 for the member's standing, 0 for the others.
pub const STATUS: Family = Family {
    name: "cbreaker_fleet_status",
    kind: MetricType::Gauge,
    help: "The member's standing with its fleet: 1 for the current one (joining, joined, degraded, refused).",
    unit: "",
    labels: &["breaker", "status"],
};
/// `cbreaker_fleet_state{breaker,state}`: the fleet record's state, one-hot (all 0 before
/// the first answer).
pub const STATE: Family = Family {
    name: "cbreaker_fleet_state",
    kind: MetricType::Gauge,
    help: "The fleet's state as the member last read it: 1 for the current one.",
    unit: "",
    labels: &["breaker", "state"],
};
/// `cbreaker_fleet_generation{breaker}`.
pub const GENERATION: Family = Family {
    name: "cbreaker_fleet_generation",
    kind: MetricType::Gauge,
    help: "The fleet record's generation as the member last read it (bumped by every fleet transition).",
    unit: "",
    labels: &["breaker"],
};
/// `cbreaker_fleet_members{breaker}`.
pub const MEMBERS: Family = Family {
    name: "cbreaker_fleet_members",
    kind: MetricType::Gauge,
    help: "Members of the fleet seen within three sync intervals.",
    unit: "",
    labels: &["breaker"],
};
/// `cbreaker_fleet_leases{breaker}`.
pub const LEASES: Family = Family {
    name: "cbreaker_fleet_leases",
    kind: MetricType::Gauge,
    help: "Probe leases this member holds.",
    unit: "",
    labels: &["breaker"],
};

/// Every fleet family, in the order [`write_text`] writes them.
pub const FAMILIES: [Family; 5] = [STATUS, STATE, GENERATION, MEMBERS, LEASES];

/// One member's fleet figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FleetRow<'a> {
    /// The `breaker` label.
    pub breaker: &'a str,
    /// Its standing.
    pub status: Status,
    /// The fleet's state, once read.
    pub state: Option<State>,
    /// The fleet's generation (0 before the first answer).
    pub generation: u64,
    /// Members counted by the store.
    pub members: u32,
    /// Leases held.
    pub leases: u32,
}

/// Each sample of `family` for `row`: its second label's value (`""` where there is none)
/// and its value.
pub fn values(family: &Family, row: &FleetRow<'_>, mut each: impl FnMut(&'static str, u64)) {
    match family.name {
        "cbreaker_fleet_status" => {
            for s in STATUSES {
                each(s, u64::from(row.status.name() == s));
            }
        }
        "cbreaker_fleet_state" => {
            for s in State::ALL {
                each(s.name(), u64::from(row.state == Some(s)));
            }
        }
        "cbreaker_fleet_generation" => each("", row.generation),
        "cbreaker_fleet_members" => each("", u64::from(row.members)),
        "cbreaker_fleet_leases" => each("", u64::from(row.leases)),
        _ => {}
    }
}

/// Writes every fleet family for `rows` in the text exposition format.
///
/// # Errors
/// Only what `out` returns.
pub fn write_text<W: Write>(out: &mut W, rows: &[FleetRow<'_>]) -> fmt::Result {
    for family in &FAMILIES {
        writeln!(out, "# HELP {} {}", family.name, family.help)?;
        writeln!(out, "# TYPE {} {}", family.name, family.kind.name())?;
        for row in rows {
            let breaker = Escaped(row.breaker);
            let mut result = Ok(());
            values(family, row, |second, v| {
                if result.is_ok() {
                    result = match family.labels.get(1) {
                        Some(label) => writeln!(
                            out,
                            "{}{{breaker=\"{breaker}\",{label}=\"{second}\"}} {v}",
                            family.name
                        ),
                        None => writeln!(out, "{}{{breaker=\"{breaker}\"}} {v}", family.name),
                    };
                }
            });
            result?;
        }
    }
    Ok(())
}
