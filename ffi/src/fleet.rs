//! The fleet (`cb_fleet_*`, `std` builds only): one breaker across processes and hosts, on
//! Redis (docs/fleet.md). A `cb_fleet` is the core's agent (`cbreaker::fleet_agent::Fleet`)
//! over a `cb_breaker` the caller keeps alive: a background thread does one round trip every
//! sync interval, and calls go on through `cb_breaker_try_acquire`/`cb_breaker_record` as
//! before, never touching the network.
//!
//! Every decision is the core's; this file translates types, reads C strings, and maps the
//! core's `FleetError` to a `cb_status` that names the option.

use core::ffi::{CStr, c_char, c_void};
use core::ptr::NonNull;
use std::boxed::Box;
use std::string::{String, ToString};
use std::sync::Arc;
use std::time::Duration;

use cbreaker::fleet::{FleetField, Mode, Rules, RulesError, Status};
use cbreaker::fleet_agent::{Fleet, FleetError, FleetOptions, FleetStatus, Local, OnTransition};
use cbreaker::{Adoption, Breaker, Config, MAX_SLOTS, Millis, Snapshot, Transition};

use crate::names::cb_state;
use crate::placement::cb_breaker;
use crate::status::{
    CB_STATUS_FLEET_MEMBER_ID, CB_STATUS_FLEET_NAME, CB_STATUS_FLEET_OPTION,
    CB_STATUS_FLEET_PREFIX, CB_STATUS_FLEET_QUORUM, CB_STATUS_FLEET_REFUSED, CB_STATUS_FLEET_STORE,
    CB_STATUS_FLEET_SYNC_INTERVAL, CB_STATUS_FLEET_URL, CB_STATUS_FLEET_WINDOW, CB_STATUS_OK,
    cb_status,
};
use crate::transition::cb_transition;

/// A breaker's membership of its fleet: the agent thread of `cb_fleet_join`. Opaque: reach it
/// only through `cb_fleet_*` functions, free it with `cb_fleet_leave`.
pub struct cb_fleet {
    inner: Fleet,
}

/// How a breaker joins its fleet (`cb_fleet_join`). Start from `cb_fleet_options_init`, then
/// set `url` and `name`. Zero and NULL fields take the defaults (docs/fleet.md, "Rules").
/// Plain data owned by the caller; `cb_fleet_join` copies the strings, so they need not
/// outlive the call. Every member of one fleet uses the same `name`, `prefix`, `window_ms`,
/// `quorum` and breaker config.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct cb_fleet_options {
    /// `redis://[user:password@]host:port[/db]` (Redis or Valkey),
    /// `redis+cluster://host:port[,host:port...]` (a Redis Cluster from its seed nodes), or
    /// `rediss://` / `rediss+cluster://` for TLS in a library built with the `fleet-tls`
    /// feature. Required (NULL: `CB_STATUS_FLEET_URL`).
    pub url: *const c_char,
    /// The breaker's name, the same in every member: non-empty, no braces (its keys share one
    /// hash tag). Required (NULL: `CB_STATUS_FLEET_NAME`).
    pub name: *const c_char,
    /// Every key starts with this (no braces). NULL: `"cbreaker:"`.
    pub prefix: *const c_char,
    /// One round trip every this many milliseconds, 10 to 60000. 0: 200.
    pub sync_interval_ms: u64,
    /// The span of outcomes (rate) or local trips (quorum) the fleet counts: whole seconds,
    /// 1000 to 3600000. 0: a time window's duration (rounded up to a second), else 10000.
    pub window_ms: u64,
    /// 0: rate mode (the config's rate rules over the fleet's totals). k ≥ 1: quorum mode
    /// (the fleet opens when k members tripped on their own within the window).
    pub quorum: u32,
    /// A round trip slower than this makes the member degraded. 0: the sync interval.
    pub timeout_ms: u64,
    /// This member's id, unique per process (no `#`). NULL: host, pid and a random part.
    pub member_id: *const c_char,
    /// The clock the agent reads: it must be the clock the caller passes as `now_ms` to
    /// `cb_breaker_try_acquire`/`cb_breaker_record` (milliseconds, monotonic). Called on the
    /// agent's thread with `now_ms_ctx`; must be thread-safe and must not block or unwind.
    /// NULL: `CLOCK_MONOTONIC` in milliseconds (`tv_sec * 1000 + tv_nsec / 1000000`).
    pub now_ms: Option<unsafe extern "C" fn(ctx: *mut c_void) -> u64>,
    /// Passed to `now_ms`; must stay valid until `cb_fleet_leave` returns.
    pub now_ms_ctx: *mut c_void,
    /// Called on the agent's thread for every local transition the fleet causes (cause
    /// `CB_CAUSE_FLEET`: the fleet tripped, probed, closed, or an operator moved it), with
    /// `on_transition_ctx` and a transition valid during the call only. Must be thread-safe
    /// (it runs concurrently with the caller's threads), must not unwind, and must not call
    /// `cb_fleet_leave` on its own fleet. NULL: none.
    pub on_transition:
        Option<unsafe extern "C" fn(ctx: *mut c_void, transition: *const cb_transition)>,
    /// Passed to `on_transition`; must stay valid until `cb_fleet_leave` returns.
    pub on_transition_ctx: *mut c_void,
}

/// A member's standing in its fleet (`CB_MEMBERSHIP_*`), from `cb_fleet_status`.
pub type cb_membership = u32;
/// No answer from the store yet.
pub const CB_MEMBERSHIP_JOINING: cb_membership = 0;
/// Following the fleet's record.
pub const CB_MEMBERSHIP_JOINED: cb_membership = 1;
/// The store failed or timed out: running on the local breaker alone (calls go on).
pub const CB_MEMBERSHIP_DEGRADED: cb_membership = 2;
/// The fleet's breaker config differs from this member's: running on the local breaker alone.
pub const CB_MEMBERSHIP_REFUSED: cb_membership = 3;

/// The capacity of `cb_fleet_info.last_error`, terminator included.
pub const CB_FLEET_ERROR_CAP: usize = 256;

/// What a member knows of its fleet now (`cb_fleet_status`). Plain data owned by the caller.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct cb_fleet_info {
    /// `CB_MEMBERSHIP_JOINING`, `_JOINED`, `_DEGRADED` or `_REFUSED`.
    pub status: cb_membership,
    /// Whether the member has read the fleet's record yet (`state` is meaningful).
    pub has_state: bool,
    /// The fleet's state, as last read (`CB_STATE_*`).
    pub state: cb_state,
    /// The fleet record's generation, as last read (0: none yet).
    pub generation: u64,
    /// Members seen within three sync intervals.
    pub members: u32,
    /// Probe leases this member holds.
    pub leases: u32,
    /// Round trips done (failed ones included).
    pub syncs: u64,
    /// Round trips that failed.
    pub failures: u64,
    /// When refused: the fleet's config fingerprint (this member's is its breaker config's).
    /// Otherwise 0.
    pub fleet_fingerprint: u64,
    /// The last sync's error (the core's message, NUL-terminated, truncated to fit), or an
    /// empty string when the last sync worked.
    pub last_error: [c_char; CB_FLEET_ERROR_CAP],
}

/// The agent's handle on the caller's breaker.
struct BreakerRef(NonNull<cb_breaker>);

// SAFETY: a `cb_breaker` is `Sync` (its state is atomics; every function but `cb_breaker_free`
// may run concurrently, and `BreakerRef` calls only `&self` methods). The pointer stays valid
// while the agent runs: `cb_fleet_join`'s contract is that the breaker outlives the fleet, and
// `cb_fleet_leave` joins the agent's thread (which owns the only `BreakerRef`) before it
// returns.
unsafe impl Send for BreakerRef {}
// SAFETY: as above.
unsafe impl Sync for BreakerRef {}

impl BreakerRef {
    fn get(&self) -> &Breaker<MAX_SLOTS> {
        // SAFETY: see the `Send` impl: non-NULL (checked in `cb_fleet_join`) and alive for as
        // long as any `BreakerRef` exists.
        unsafe { self.0.as_ref() }.core()
    }
}

impl Local for BreakerRef {
    fn snapshot(&self, now: Millis) -> Snapshot {
        self.get().snapshot(now)
    }
    fn adopt(&self, adoption: Adoption, now: Millis) -> Transition {
        self.get().adopt(adoption, now)
    }
    fn release_slots(&self, generation: u32, n: u32) -> bool {
        self.get().release_slots(generation, n)
    }
    fn config(&self) -> Config {
        self.get().config()
    }
}

/// A C function and its context, moved to the agent's thread.
#[derive(Clone, Copy)]
struct Callback<F> {
    f: F,
    ctx: *mut c_void,
}

// SAFETY: `cb_fleet_options` documents both callbacks as thread-safe, their contexts as
// valid until `cb_fleet_leave` returns (which joins the agent's thread).
unsafe impl<F> Send for Callback<F> {}
// SAFETY: as above.
unsafe impl<F> Sync for Callback<F> {}

type ClockFn = unsafe extern "C" fn(*mut c_void) -> u64;
type TransitionFn = unsafe extern "C" fn(*mut c_void, *const cb_transition);

impl Callback<ClockFn> {
    fn now(&self) -> Millis {
        // SAFETY: the caller's clock, with its context, under `cb_fleet_options`' contract.
        Millis(unsafe { (self.f)(self.ctx) })
    }
}

impl Callback<TransitionFn> {
    fn notify(&self, t: &Transition) {
        let c = cb_transition::from_core(Some(*t));
        // SAFETY: the caller's callback, with its context, under `cb_fleet_options`'
        // contract; `c` lives for the call.
        unsafe { (self.f)(self.ctx, &raw const c) };
    }
}

/// `CLOCK_MONOTONIC` in milliseconds: what a C caller without a clock of its own passes as
/// `now_ms` (docs/c-api.md, "Time").
#[cfg(unix)]
fn clock_monotonic() -> Millis {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC exists on every Unix.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut ts) };
    if rc != 0 {
        return Millis(0);
    }
    Millis(ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000)
}

/// Elsewhere, the core's monotonic clock (callers there pass their own `now_ms`).
#[cfg(not(unix))]
fn clock_monotonic() -> Millis {
    cbreaker::monotonic::now()
}

/// A C string option: `Ok(None)` for NULL, `Err(status)` if not UTF-8.
fn string(p: *const c_char, status: cb_status) -> Result<Option<String>, cb_status> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL; `cb_fleet_options` documents its strings as NUL-terminated.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map(|s| Some(s.to_string())).map_err(|_| status)
}

/// The status of an option error, by the field the core names. Exhaustive, no wildcard: a
/// new core field fails to compile here until it has a code (and a row in `docs/errors.md`).
/// A zero timeout cannot come from C (0 is the default): `CB_STATUS_FLEET_OPTION`.
#[must_use]
pub const fn field_status(field: FleetField) -> cb_status {
    match field {
        FleetField::Url => CB_STATUS_FLEET_URL,
        FleetField::Name => CB_STATUS_FLEET_NAME,
        FleetField::Prefix => CB_STATUS_FLEET_PREFIX,
        FleetField::Window => CB_STATUS_FLEET_WINDOW,
        FleetField::SyncInterval => CB_STATUS_FLEET_SYNC_INTERVAL,
        FleetField::Quorum => CB_STATUS_FLEET_QUORUM,
        FleetField::MemberId => CB_STATUS_FLEET_MEMBER_ID,
        FleetField::Timeout => CB_STATUS_FLEET_OPTION,
    }
}

/// The status of a rules error.
#[must_use]
pub const fn rules_status(e: RulesError) -> cb_status {
    field_status(e.field())
}

/// The status of a core fleet error.
#[must_use]
pub fn fleet_status(e: &FleetError) -> cb_status {
    match e {
        FleetError::Store(_) => CB_STATUS_FLEET_STORE,
        FleetError::Refused { .. } => CB_STATUS_FLEET_REFUSED,
        FleetError::Options { field, .. } => field_status(*field),
        FleetError::Agent(_) => CB_STATUS_FLEET_OPTION,
    }
}

/// The core's options and clock from the C ones.
fn core_options(
    config: &Config,
    o: &cb_fleet_options,
) -> Result<(FleetOptions, Callback<Option<ClockFn>>), cb_status> {
    let url = string(o.url, CB_STATUS_FLEET_URL)?.ok_or(CB_STATUS_FLEET_URL)?;
    let name = string(o.name, CB_STATUS_FLEET_NAME)?.ok_or(CB_STATUS_FLEET_NAME)?;
    let mut rules = Rules::for_config(config);
    if o.sync_interval_ms != 0 {
        rules.sync_interval = Millis(o.sync_interval_ms);
    }
    if o.window_ms != 0 {
        rules.window = Millis(o.window_ms);
    }
    if o.quorum != 0 {
        rules.mode = Mode::Quorum(o.quorum);
    }
    let mut options = FleetOptions::new(&url, &name, rules);
    if let Some(prefix) = string(o.prefix, CB_STATUS_FLEET_PREFIX)? {
        options.prefix = prefix;
    }
    options.member_id = string(o.member_id, CB_STATUS_FLEET_MEMBER_ID)?;
    if o.timeout_ms != 0 {
        options.timeout = Some(Duration::from_millis(o.timeout_ms));
    }
    if let Some(f) = o.on_transition {
        let cb = Callback::<TransitionFn> {
            f,
            ctx: o.on_transition_ctx,
        };
        let call: OnTransition = Arc::new(move |t: &Transition| cb.notify(t));
        options.on_transition = Some(call);
    }
    let clock = Callback {
        f: o.now_ms,
        ctx: o.now_ms_ctx,
    };
    Ok((options, clock))
}

/// Writes the defaults to `*options_out`: every field 0 or NULL (URL and name still to set;
/// prefix `"cbreaker:"`, sync interval 200 ms, the window from the breaker's config, rate
/// mode, timeout the sync interval, a generated member id, `CLOCK_MONOTONIC`, no callback).
///
/// Errors: `CB_STATUS_NULL_PARAMETER` (nothing written). Safe to call from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn cb_fleet_options_init(options_out: *mut cb_fleet_options) -> cb_status {
    ffi_boundary! {
        let out = try_mut!(options_out);
        *out = cb_fleet_options {
            url: core::ptr::null(),
            name: core::ptr::null(),
            prefix: core::ptr::null(),
            sync_interval_ms: 0,
            window_ms: 0,
            quorum: 0,
            timeout_ms: 0,
            member_id: core::ptr::null(),
            now_ms: None,
            now_ms_ctx: core::ptr::null_mut(),
            on_transition: None,
            on_transition_ctx: core::ptr::null_mut(),
        };
        CB_STATUS_OK
    }
}

/// Joins `breaker` to the fleet `options->name` on the store at `options->url`, and writes the
/// membership to `*fleet_out`. Checks the options and starts the agent's thread; nothing here
/// waits on the store (the first sync runs at once on that thread: `cb_fleet_status` says
/// `CB_MEMBERSHIP_JOINING` until it answers). Calls then go through `breaker` exactly as
/// before, with `now_ms` from the same clock as `options->now_ms`.
///
/// Ownership: the caller owns the fleet and frees it exactly once with `cb_fleet_leave`. The
/// breaker (from `cb_breaker_new` or placed with `cb_breaker_init`) must stay alive and in
/// place until `cb_fleet_leave` has returned: free it after, never before. Join a breaker to
/// at most one fleet at a time, across every process sharing it (a second agent on the same
/// breaker would count its outcomes twice).
///
/// Errors (nothing written, no thread started): `CB_STATUS_NULL_PARAMETER` (`breaker`,
/// `options` or `fleet_out` NULL); 300–399 naming the option (`CB_STATUS_FLEET_URL`,
/// `_NAME`, `_PREFIX`, `_WINDOW`, `_SYNC_INTERVAL`, `_MEMBER_ID`, `_OPTION`). A config that
/// differs from the fleet's is not an error here: the member shows `CB_MEMBERSHIP_REFUSED`
/// after its first sync. Safe to call from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn cb_fleet_join(
    breaker: *const cb_breaker,
    options: *const cb_fleet_options,
    fleet_out: *mut *mut cb_fleet,
) -> cb_status {
    ffi_boundary! {
        let Some(breaker) = NonNull::new(breaker.cast_mut()) else {
            return crate::CB_STATUS_NULL_PARAMETER;
        };
        let o = try_ref!(options);
        let out = try_mut!(fleet_out);
        let local = BreakerRef(breaker);
        let (opts, clock) = match core_options(&local.get().config(), o) {
            Ok(v) => v,
            Err(status) => return status,
        };
        let joined = match clock.f {
            Some(f) => {
                let c = Callback { f, ctx: clock.ctx };
                Fleet::join(Arc::new(local), opts, move || c.now())
            }
            None => Fleet::join(Arc::new(local), opts, clock_monotonic),
        };
        match joined {
            Ok(fleet) => {
                *out = Box::into_raw(Box::new(cb_fleet { inner: fleet }));
                CB_STATUS_OK
            }
            Err(e) => fleet_status(&e),
        }
    }
}

/// The C form of a core membership status: `(status, fleet fingerprint if refused)`.
fn membership(s: Status) -> (cb_membership, u64) {
    match s {
        Status::Joining => (CB_MEMBERSHIP_JOINING, 0),
        Status::Joined => (CB_MEMBERSHIP_JOINED, 0),
        Status::Degraded => (CB_MEMBERSHIP_DEGRADED, 0),
        Status::Refused { fleet } => (CB_MEMBERSHIP_REFUSED, fleet),
    }
}

impl cb_fleet_info {
    /// The C form of a core fleet status.
    #[must_use]
    pub fn from_core(s: &FleetStatus) -> cb_fleet_info {
        let (status, fleet_fingerprint) = membership(s.status);
        let mut last_error = [0 as c_char; CB_FLEET_ERROR_CAP];
        if let Some(e) = &s.last_error {
            let mut n = e.len().min(CB_FLEET_ERROR_CAP - 1);
            while !e.is_char_boundary(n) {
                n -= 1;
            }
            for (d, b) in last_error.iter_mut().zip(&e.as_bytes()[..n]) {
                *d = *b as c_char;
            }
        }
        cb_fleet_info {
            status,
            has_state: s.state.is_some(),
            state: s.state.map_or(0, |st| st as cb_state),
            generation: s.generation,
            members: s.members,
            leases: s.leases,
            syncs: s.syncs,
            failures: s.failures,
            fleet_fingerprint,
            last_error,
        }
    }
}

/// Writes what the member knows of its fleet now to `*info_out` (no round trip: what the
/// agent's last sync saw). Safe to call concurrently, from any thread.
///
/// Errors: `CB_STATUS_NULL_PARAMETER` (nothing written).
#[unsafe(no_mangle)]
pub extern "C" fn cb_fleet_status(
    fleet: *const cb_fleet,
    info_out: *mut cb_fleet_info,
) -> cb_status {
    ffi_boundary! {
        let fleet = try_ref!(fleet);
        let out = try_mut!(info_out);
        *out = cb_fleet_info::from_core(&fleet.inner.status());
        CB_STATUS_OK
    }
}

/// One operator move, by the core.
fn operate(
    fleet: *const cb_fleet,
    op: fn(&Fleet) -> Result<cbreaker::fleet::Record, FleetError>,
) -> cb_status {
    ffi_boundary! {
        let fleet = try_ref!(fleet);
        match op(&fleet.inner) {
            Ok(_) => CB_STATUS_OK,
            Err(e) => fleet_status(&e),
        }
    }
}

/// Opens the whole fleet until `cb_fleet_reset` or `cb_fleet_force_closed`: every member
/// (this one included) adopts it within one sync interval, rejecting every call
/// (`CB_REJECT_FORCED_OPEN`). An operator's move, not for the call path: one synchronous
/// round trip (a compare-and-set on the fleet's record), at most about the timeout.
///
/// Errors (nothing moved): `CB_STATUS_NULL_PARAMETER`, `CB_STATUS_FLEET_STORE` (store
/// unreachable, too slow, or its record kept changing: retry), `CB_STATUS_FLEET_REFUSED`
/// (the fleet runs another config). Safe to call concurrently, from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn cb_fleet_force_open(fleet: *const cb_fleet) -> cb_status {
    operate(fleet, Fleet::force_open)
}

/// Makes every member of the fleet admit every call and never trip, until `cb_fleet_reset`
/// or `cb_fleet_force_open`. As `cb_fleet_force_open` otherwise.
#[unsafe(no_mangle)]
pub extern "C" fn cb_fleet_force_closed(fleet: *const cb_fleet) -> cb_status {
    operate(fleet, Fleet::force_closed)
}

/// Closes the whole fleet with an empty fleet window and the backoff reset (also releasing
/// `cb_fleet_force_open`/`_force_closed`). As `cb_fleet_force_open` otherwise.
#[unsafe(no_mangle)]
pub extern "C" fn cb_fleet_reset(fleet: *const cb_fleet) -> cb_status {
    operate(fleet, Fleet::reset)
}

/// Leaves the fleet and frees it: stops the agent and waits for its thread (at most about one
/// round trip). The breaker keeps the state it adopted last, with the probe slots it held for
/// the fleet freed, and runs alone; it may be freed once this returns. NULL is accepted and
/// does nothing (`CB_STATUS_OK`).
///
/// Must not run concurrently with any other function on the same fleet, nor be called twice,
/// nor from the fleet's own `on_transition` callback.
#[unsafe(no_mangle)]
pub extern "C" fn cb_fleet_leave(fleet: *mut cb_fleet) -> cb_status {
    ffi_boundary! {
        if fleet.is_null() {
            return CB_STATUS_OK;
        }
        // SAFETY: non-NULL; the caller promises a live fleet from `cb_fleet_join`, freed once,
        // used by nobody else now.
        let fleet = unsafe { Box::from_raw(fleet) };
        fleet.inner.stop();
        CB_STATUS_OK
    }
}

/// The name of a membership status (`"joining"`, `"joined"`, `"degraded"`, `"refused"`), as
/// every front door reports it; `"unknown"` for a value that is not a `cb_membership`. A
/// static string: never NULL, never free it. Safe to call from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn cb_membership_str(status: cb_membership) -> *const c_char {
    match status {
        CB_MEMBERSHIP_JOINING => c"joining".as_ptr(),
        CB_MEMBERSHIP_JOINED => c"joined".as_ptr(),
        CB_MEMBERSHIP_DEGRADED => c"degraded".as_ptr(),
        CB_MEMBERSHIP_REFUSED => c"refused".as_ptr(),
        _ => c"unknown".as_ptr(),
    }
}

#[cfg(test)]
mod tests {
    use core::ptr;
    use std::ffi::CStr;

    use super::*;
    use crate::config::cb_config;
    use crate::status::{CB_STATUS_NULL_PARAMETER, status_message};
    use crate::{cb_breaker_free, cb_breaker_new};

    fn s(p: *const c_char) -> &'static str {
        // SAFETY: static NUL-terminated strings.
        unsafe { CStr::from_ptr(p) }.to_str().unwrap()
    }

    fn breaker() -> *mut cb_breaker {
        let mut b = ptr::null_mut();
        assert_eq!(cb_breaker_new(&cb_config::defaults(), &mut b), CB_STATUS_OK);
        b
    }

    fn opts(url: &CStr, name: &CStr) -> cb_fleet_options {
        let mut o = core::mem::MaybeUninit::uninit();
        assert_eq!(cb_fleet_options_init(o.as_mut_ptr()), CB_STATUS_OK);
        // SAFETY: written by cb_fleet_options_init.
        let mut o = unsafe { o.assume_init() };
        o.url = url.as_ptr();
        o.name = name.as_ptr();
        o
    }

    /// `join` with `o`: its status, and nothing written on an error.
    fn join(o: &cb_fleet_options) -> cb_status {
        let b = breaker();
        let sentinel = NonNull::<cb_fleet>::dangling().as_ptr();
        let mut f = sentinel;
        let status = cb_fleet_join(b, o, &mut f);
        if status == CB_STATUS_OK {
            assert_eq!(cb_fleet_leave(f), CB_STATUS_OK);
        } else {
            assert_eq!(f, sentinel, "fleet_out written on an error");
        }
        assert_eq!(cb_breaker_free(b), CB_STATUS_OK);
        status
    }

    #[test]
    fn null_arguments_are_statuses() {
        let b = breaker();
        let o = opts(c"redis://127.0.0.1:1", c"x");
        let mut f = ptr::null_mut();
        assert_eq!(
            cb_fleet_join(ptr::null(), &o, &mut f),
            CB_STATUS_NULL_PARAMETER
        );
        assert_eq!(
            cb_fleet_join(b, ptr::null(), &mut f),
            CB_STATUS_NULL_PARAMETER
        );
        assert_eq!(
            cb_fleet_join(b, &o, ptr::null_mut()),
            CB_STATUS_NULL_PARAMETER
        );
        assert!(f.is_null());
        assert_eq!(
            cb_fleet_options_init(ptr::null_mut()),
            CB_STATUS_NULL_PARAMETER
        );
        let mut info = core::mem::MaybeUninit::<cb_fleet_info>::uninit();
        assert_eq!(
            cb_fleet_status(ptr::null(), info.as_mut_ptr()),
            CB_STATUS_NULL_PARAMETER
        );
        assert_eq!(cb_fleet_force_open(ptr::null()), CB_STATUS_NULL_PARAMETER);
        assert_eq!(cb_fleet_force_closed(ptr::null()), CB_STATUS_NULL_PARAMETER);
        assert_eq!(cb_fleet_reset(ptr::null()), CB_STATUS_NULL_PARAMETER);
        assert_eq!(cb_fleet_leave(ptr::null_mut()), CB_STATUS_OK);
        assert_eq!(cb_breaker_free(b), CB_STATUS_OK);
    }

    #[test]
    fn bad_options_name_their_field() {
        let ok = opts(c"redis://127.0.0.1:1", c"payments");
        let cases: [(cb_fleet_options, cb_status); 14] = [
            (
                cb_fleet_options {
                    url: ptr::null(),
                    ..ok
                },
                CB_STATUS_FLEET_URL,
            ),
            (
                cb_fleet_options {
                    url: c"http://x".as_ptr(),
                    ..ok
                },
                CB_STATUS_FLEET_URL,
            ),
            (
                cb_fleet_options {
                    url: c"redis://[::1".as_ptr(),
                    ..ok
                },
                CB_STATUS_FLEET_URL,
            ),
            (
                cb_fleet_options {
                    url: c"\xff".as_ptr(),
                    ..ok
                },
                CB_STATUS_FLEET_URL,
            ),
            (
                cb_fleet_options {
                    name: ptr::null(),
                    ..ok
                },
                CB_STATUS_FLEET_NAME,
            ),
            (
                cb_fleet_options {
                    name: c"".as_ptr(),
                    ..ok
                },
                CB_STATUS_FLEET_NAME,
            ),
            (
                cb_fleet_options {
                    name: c"a{b}".as_ptr(),
                    ..ok
                },
                CB_STATUS_FLEET_NAME,
            ),
            (
                cb_fleet_options {
                    prefix: c"p{".as_ptr(),
                    ..ok
                },
                CB_STATUS_FLEET_PREFIX,
            ),
            (
                cb_fleet_options {
                    prefix: c"\xfe".as_ptr(),
                    ..ok
                },
                CB_STATUS_FLEET_PREFIX,
            ),
            (
                cb_fleet_options {
                    window_ms: 1500,
                    ..ok
                },
                CB_STATUS_FLEET_WINDOW,
            ),
            (
                cb_fleet_options {
                    sync_interval_ms: 5,
                    ..ok
                },
                CB_STATUS_FLEET_SYNC_INTERVAL,
            ),
            (
                cb_fleet_options {
                    sync_interval_ms: 60_001,
                    ..ok
                },
                CB_STATUS_FLEET_SYNC_INTERVAL,
            ),
            (
                cb_fleet_options {
                    member_id: c"a#b".as_ptr(),
                    ..ok
                },
                CB_STATUS_FLEET_MEMBER_ID,
            ),
            (
                cb_fleet_options {
                    member_id: c"".as_ptr(),
                    ..ok
                },
                CB_STATUS_FLEET_MEMBER_ID,
            ),
        ];
        for (i, (o, want)) in cases.iter().enumerate() {
            assert_eq!(join(o), *want, "case {i}: {}", status_message(*want));
        }
    }

    /// Joining never waits on the store: a port with nothing behind it joins at once and
    /// shows degraded; an operator move there is a store error.
    #[test]
    #[cfg_attr(miri, ignore)]
    fn an_unreachable_store_degrades_and_moves_fail() {
        let b = breaker();
        let mut o = opts(c"redis://127.0.0.1:1", c"nobody");
        o.sync_interval_ms = 20;
        let mut f = ptr::null_mut();
        assert_eq!(cb_fleet_join(b, &o, &mut f), CB_STATUS_OK);
        let mut info = core::mem::MaybeUninit::<cb_fleet_info>::uninit();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let info = loop {
            assert_eq!(cb_fleet_status(f, info.as_mut_ptr()), CB_STATUS_OK);
            // SAFETY: written on OK.
            let i = unsafe { info.assume_init() };
            if i.status == CB_MEMBERSHIP_DEGRADED || std::time::Instant::now() > deadline {
                break i;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(info.status, CB_MEMBERSHIP_DEGRADED);
        assert!(info.failures >= 1);
        // SAFETY: NUL-terminated by from_core.
        let msg = unsafe { CStr::from_ptr(info.last_error.as_ptr()) }
            .to_str()
            .unwrap();
        assert!(msg.starts_with("fleet store: "), "{msg}");
        assert_eq!(cb_fleet_force_open(f), CB_STATUS_FLEET_STORE);
        assert_eq!(cb_fleet_leave(f), CB_STATUS_OK);
        assert_eq!(cb_breaker_free(b), CB_STATUS_OK);
    }

    /// Each fleet status's text is the core's `Display` without the value it quotes.
    #[test]
    fn fleet_texts_are_the_cores() {
        let core = |e: FleetError| {
            let full = e.to_string();
            let cut = full
                .find(", got ")
                .map_or(full.as_str(), |i| &full[..i])
                .to_string();
            (fleet_status(&e), cut)
        };
        let bad = |url: &str, name: &str, prefix: &str, member: Option<&str>| {
            let config = Config::default();
            let mut o = FleetOptions::new(url, name, Rules::for_config(&config));
            o.prefix = prefix.to_string();
            o.member_id = member.map(ToString::to_string);
            let b: Arc<Breaker<MAX_SLOTS>> = Arc::new(Breaker::new(config).unwrap());
            Fleet::join(b, o, || Millis(0))
                .err()
                .expect("an options error")
        };
        let url = "redis://127.0.0.1:1";
        for e in [
            bad("http://x", "n", "", None),
            bad(url, "", "", None),
            bad(url, "n", "{", None),
            bad(url, "n", "", Some("a#")),
        ] {
            let (status, text) = core(e);
            assert_eq!(status_message(status), text);
        }
        for r in RulesError::ALL {
            assert_eq!(status_message(rules_status(r)), r.to_string());
            assert_eq!(fleet_status(&FleetError::from(r)), rules_status(r));
        }
        let refused = FleetError::Refused {
            fleet: 0xabc,
            member: 0xdef,
        };
        let text = refused
            .to_string()
            .replace(" (fingerprint 0000000000000def)", "")
            .replace(" (0000000000000abc)", "");
        assert_eq!(status_message(fleet_status(&refused)), text);
        let store = FleetError::Store("x".to_string());
        assert_eq!(fleet_status(&store), CB_STATUS_FLEET_STORE);
        assert!(status_message(CB_STATUS_FLEET_STORE).starts_with("fleet store: "));
        assert_eq!(
            fleet_status(&FleetError::Agent("cannot start".to_string())),
            CB_STATUS_FLEET_OPTION
        );
    }

    #[test]
    fn membership_names_are_the_cores() {
        let all = [
            (Status::Joining, CB_MEMBERSHIP_JOINING),
            (Status::Joined, CB_MEMBERSHIP_JOINED),
            (Status::Degraded, CB_MEMBERSHIP_DEGRADED),
            (Status::Refused { fleet: 7 }, CB_MEMBERSHIP_REFUSED),
        ];
        for (st, c) in all {
            assert_eq!(membership(st).0, c);
            assert_eq!(s(cb_membership_str(c)), st.name());
        }
        assert_eq!(membership(Status::Refused { fleet: 7 }).1, 7);
        assert_eq!(s(cb_membership_str(4)), "unknown");
    }

    #[test]
    fn info_truncates_the_error_at_a_char_boundary() {
        let mut st = FleetStatus {
            status: Status::Degraded,
            state: None,
            generation: 0,
            members: 0,
            leases: 0,
            syncs: 1,
            failures: 1,
            last_error: Some("é".repeat(200)),
        };
        let info = cb_fleet_info::from_core(&st);
        // SAFETY: NUL-terminated by from_core.
        let msg = unsafe { CStr::from_ptr(info.last_error.as_ptr()) }
            .to_str()
            .unwrap();
        assert_eq!(msg.len(), 254);
        assert!(!info.has_state);
        st.last_error = None;
        st.state = Some(cbreaker::State::Open);
        let info = cb_fleet_info::from_core(&st);
        assert_eq!(info.last_error[0], 0);
        assert!(info.has_state);
        assert_eq!(info.state, crate::CB_STATE_OPEN);
    }

    #[test]
    fn a_fleet_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Fleet>();
    }
}
