//! `cb_transition`: the state change a call caused, as plain data.

use cbreaker::Transition;

use crate::names::{cb_cause, cb_state};

/// The state change one call caused. Functions that can cause one take an optional
/// `cb_transition *transition_out` (NULL = the caller does not care) and, on success, always
/// write it: `occurred` says whether there was a transition, the other fields are meaningful
/// only when it is true. Exactly one call sees each transition, across every thread and
/// process sharing the breaker, so this is the place to log it or fire a callback.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct cb_transition {
    /// Whether this call caused a transition.
    pub occurred: bool,
    /// The state before (`CB_STATE_*`).
    pub from: cb_state,
    /// The state after (`CB_STATE_*`).
    pub to: cb_state,
    /// Why (`CB_CAUSE_*`).
    pub cause: cb_cause,
    /// The generation it started (modulo 4096).
    pub generation: u32,
    /// The `now_ms` of the call that caused it.
    pub at_ms: u64,
}

/// "No transition": what a call that changed no state writes.
const NONE: cb_transition = cb_transition {
    occurred: false,
    from: 0,
    to: 0,
    cause: 0,
    generation: 0,
    at_ms: 0,
};

impl cb_transition {
    /// The C form of an optional core transition.
    #[must_use]
    pub fn from_core(t: Option<Transition>) -> cb_transition {
        match t {
            None => NONE,
            Some(t) => cb_transition {
                occurred: true,
                from: t.from as cb_state,
                to: t.to as cb_state,
                cause: t.cause as cb_cause,
                generation: t.generation,
                at_ms: t.at.0,
            },
        }
    }
}

/// Writes `t` to an optional out pointer.
pub(crate) fn put(out: *mut cb_transition, t: Option<Transition>) {
    if let Some(out) = opt_mut!(out) {
        *out = cb_transition::from_core(t);
    }
}
