//! `cb_status`: what every function returns. The one table is `docs/errors.md`.
//!
//! Blocks: 0–99 decisions, 100–199 misuse, 200–299 config, 300–399 fleet. Values are explicit and never
//! reused; a retired value stays behind as a `// Reserved:` comment.

use core::ffi::c_char;

use cbreaker::{ConfigError, PermitSettled};

/// What a call did. `CB_STATUS_OK` (0) is success; `CB_STATUS_REJECTED` is a decision (the
/// circuit protects its dependency), not a failure; 100–199 are caller mistakes; 200–299 name
/// the `cb_config` field that is out of range; 300–399 are the fleet's (a `cb_fleet_options`
/// field, the store, a refused config). A caller can test a block with a range check.
pub type cb_status = u32;

/// Success.
pub const CB_STATUS_OK: cb_status = 0;
/// `cb_breaker_try_acquire`/`cb_breaker_begin` was refused: the circuit is open (or forced
/// open, or every half-open probe slot is taken). `retry_after_ms` says for how long, the
/// `cb_reject_reason` why.
pub const CB_STATUS_REJECTED: cb_status = 1;

/// A required pointer argument was NULL. Nothing was done.
pub const CB_STATUS_NULL_PARAMETER: cb_status = 100;
/// A panic was caught at the boundary (a bug in cbreaker: please report it).
pub const CB_STATUS_PANIC: cb_status = 101;
/// The memory passed to `cb_breaker_init`/`cb_breaker_attach` is smaller than
/// `cb_breaker_size()`.
pub const CB_STATUS_BUFFER_TOO_SMALL: cb_status = 102;
/// The memory passed to `cb_breaker_init`/`cb_breaker_attach` is not aligned to
/// `cb_breaker_align()`.
pub const CB_STATUS_MISALIGNED: cb_status = 103;
/// An enum argument is out of range (an outcome of 7, an unknown window kind), or
/// `cb_breaker_attach` found no initialized breaker of this library version.
pub const CB_STATUS_INVALID_ARGUMENT: cb_status = 104;
/// The permit passed to `cb_breaker_record`/`cb_breaker_drop` was settled already (or never
/// issued: a zeroed `cb_permit`). Each permit is settled exactly once; nothing was recorded.
pub const CB_STATUS_PERMIT_SETTLED: cb_status = 105;

/// `cb_config.window_size` is out of range.
pub const CB_STATUS_CONFIG_WINDOW_SIZE: cb_status = 200;
/// `cb_config.window_duration_ms` is out of range.
pub const CB_STATUS_CONFIG_WINDOW_DURATION: cb_status = 201;
/// `cb_config.window_buckets` is out of range.
pub const CB_STATUS_CONFIG_WINDOW_BUCKETS: cb_status = 202;
/// `cb_config.failure_rate_threshold` is out of range.
pub const CB_STATUS_CONFIG_FAILURE_RATE_THRESHOLD: cb_status = 203;
/// `cb_config.slow_call_rate_threshold` is out of range.
pub const CB_STATUS_CONFIG_SLOW_CALL_RATE_THRESHOLD: cb_status = 204;
/// `cb_config.slow_call_duration_ms` is out of range.
pub const CB_STATUS_CONFIG_SLOW_CALL_DURATION: cb_status = 205;
/// `cb_config.consecutive_failures` is out of range.
pub const CB_STATUS_CONFIG_CONSECUTIVE_FAILURES: cb_status = 206;
/// `cb_config.open_duration_ms` is out of range.
pub const CB_STATUS_CONFIG_OPEN_DURATION: cb_status = 207;
/// `cb_config.open_duration_max_ms` is out of range.
pub const CB_STATUS_CONFIG_OPEN_DURATION_MAX: cb_status = 208;
/// `cb_config.open_duration_multiplier` is out of range (or NaN).
pub const CB_STATUS_CONFIG_OPEN_DURATION_MULTIPLIER: cb_status = 209;
/// `cb_config.jitter_percent` is out of range.
pub const CB_STATUS_CONFIG_JITTER_PERCENT: cb_status = 210;
/// `cb_config.half_open_max_calls` is out of range.
pub const CB_STATUS_CONFIG_HALF_OPEN_MAX_CALLS: cb_status = 211;
/// `cb_config.success_threshold` is out of range.
pub const CB_STATUS_CONFIG_SUCCESS_THRESHOLD: cb_status = 212;
/// `cb_config.half_open_max_wait_ms` is out of range.
pub const CB_STATUS_CONFIG_HALF_OPEN_MAX_WAIT: cb_status = 213;

/// `cb_fleet_options.url` is NULL, not UTF-8, not `redis://`/`rediss://`/`redis+cluster://`/
/// `rediss+cluster://`, or does not parse
/// (`rediss://` also when the library was built without TLS).
pub const CB_STATUS_FLEET_URL: cb_status = 300;
/// `cb_fleet_options.name` is NULL, empty, not UTF-8, or holds a brace.
pub const CB_STATUS_FLEET_NAME: cb_status = 301;
/// `cb_fleet_options.prefix` is not UTF-8 or holds a brace.
pub const CB_STATUS_FLEET_PREFIX: cb_status = 302;
/// `cb_fleet_options.window_ms` is out of range (whole seconds, 1 s to 3600 s).
pub const CB_STATUS_FLEET_WINDOW: cb_status = 303;
/// `cb_fleet_options.sync_interval_ms` is out of range (10 ms to 60000 ms).
pub const CB_STATUS_FLEET_SYNC_INTERVAL: cb_status = 304;
/// The fleet's quorum is out of range (at least 1; `cb_fleet_options.quorum` 0 means rate
/// mode, so C never sees it).
pub const CB_STATUS_FLEET_QUORUM: cb_status = 305;
/// `cb_fleet_options.member_id` is empty, not UTF-8, or holds a `#`.
pub const CB_STATUS_FLEET_MEMBER_ID: cb_status = 306;
/// Another fleet option is out of range, or the agent's thread could not be started.
pub const CB_STATUS_FLEET_OPTION: cb_status = 307;
/// An operator move (`cb_fleet_force_open`, ...) failed: the store could not be reached, did
/// not answer within the timeout, answered with an error, or its record kept changing.
/// Nothing was moved; retry.
pub const CB_STATUS_FLEET_STORE: cb_status = 308;
/// An operator move was refused: the fleet's record was written by members whose breaker
/// config differs from this member's (`docs/fleet.md`, "Rules"). Nothing was moved.
pub const CB_STATUS_FLEET_REFUSED: cb_status = 309;

/// Every status, for tests and bindings (the header's `CB_STATUS_*` constants, in order).
///
/// cbindgen:ignore
pub const ALL_STATUSES: [cb_status; 32] = [
    CB_STATUS_OK,
    CB_STATUS_REJECTED,
    CB_STATUS_NULL_PARAMETER,
    CB_STATUS_PANIC,
    CB_STATUS_BUFFER_TOO_SMALL,
    CB_STATUS_MISALIGNED,
    CB_STATUS_INVALID_ARGUMENT,
    CB_STATUS_PERMIT_SETTLED,
    CB_STATUS_CONFIG_WINDOW_SIZE,
    CB_STATUS_CONFIG_WINDOW_DURATION,
    CB_STATUS_CONFIG_WINDOW_BUCKETS,
    CB_STATUS_CONFIG_FAILURE_RATE_THRESHOLD,
    CB_STATUS_CONFIG_SLOW_CALL_RATE_THRESHOLD,
    CB_STATUS_CONFIG_SLOW_CALL_DURATION,
    CB_STATUS_CONFIG_CONSECUTIVE_FAILURES,
    CB_STATUS_CONFIG_OPEN_DURATION,
    CB_STATUS_CONFIG_OPEN_DURATION_MAX,
    CB_STATUS_CONFIG_OPEN_DURATION_MULTIPLIER,
    CB_STATUS_CONFIG_JITTER_PERCENT,
    CB_STATUS_CONFIG_HALF_OPEN_MAX_CALLS,
    CB_STATUS_CONFIG_SUCCESS_THRESHOLD,
    CB_STATUS_CONFIG_HALF_OPEN_MAX_WAIT,
    CB_STATUS_FLEET_URL,
    CB_STATUS_FLEET_NAME,
    CB_STATUS_FLEET_PREFIX,
    CB_STATUS_FLEET_WINDOW,
    CB_STATUS_FLEET_SYNC_INTERVAL,
    CB_STATUS_FLEET_QUORUM,
    CB_STATUS_FLEET_MEMBER_ID,
    CB_STATUS_FLEET_OPTION,
    CB_STATUS_FLEET_STORE,
    CB_STATUS_FLEET_REFUSED,
];

/// The status of a config error. Exhaustive, no wildcard: a new core variant fails to compile
/// here until it has a code (and a row in `docs/errors.md`).
#[must_use]
pub const fn config_status(e: ConfigError) -> cb_status {
    match e {
        ConfigError::WindowSize => CB_STATUS_CONFIG_WINDOW_SIZE,
        ConfigError::WindowDuration => CB_STATUS_CONFIG_WINDOW_DURATION,
        ConfigError::WindowBuckets => CB_STATUS_CONFIG_WINDOW_BUCKETS,
        ConfigError::FailureRateThreshold => CB_STATUS_CONFIG_FAILURE_RATE_THRESHOLD,
        ConfigError::SlowCallRateThreshold => CB_STATUS_CONFIG_SLOW_CALL_RATE_THRESHOLD,
        ConfigError::SlowCallDuration => CB_STATUS_CONFIG_SLOW_CALL_DURATION,
        ConfigError::ConsecutiveFailures => CB_STATUS_CONFIG_CONSECUTIVE_FAILURES,
        ConfigError::OpenDuration => CB_STATUS_CONFIG_OPEN_DURATION,
        ConfigError::OpenDurationMax => CB_STATUS_CONFIG_OPEN_DURATION_MAX,
        ConfigError::OpenDurationMultiplier => CB_STATUS_CONFIG_OPEN_DURATION_MULTIPLIER,
        ConfigError::JitterPercent => CB_STATUS_CONFIG_JITTER_PERCENT,
        ConfigError::HalfOpenMaxCalls => CB_STATUS_CONFIG_HALF_OPEN_MAX_CALLS,
        ConfigError::SuccessThreshold => CB_STATUS_CONFIG_SUCCESS_THRESHOLD,
        ConfigError::HalfOpenMaxWait => CB_STATUS_CONFIG_HALF_OPEN_MAX_WAIT,
    }
}

/// The message of a status (the text `cb_status_str` returns, without its terminator).
#[must_use]
pub fn status_message(status: cb_status) -> &'static str {
    for (s, text) in FIXED_MESSAGES {
        if *s == status {
            return &text[..text.len() - 1];
        }
    }
    if status == CB_STATUS_PERMIT_SETTLED {
        return PermitSettled::MESSAGE;
    }
    match ConfigError::ALL
        .iter()
        .find(|e| config_status(**e) == status)
    {
        Some(e) => e.message(),
        None => "unknown status",
    }
}

/// A NUL-terminated copy of every message, built at compile time: `cb_status_str` hands out
/// pointers into static memory, never a buffer to free.
macro_rules! c_messages {
    ($($status:expr => $text:expr),* $(,)?) => {
        &[$(($status, concat!($text, "\0"))),*]
    };
}

/// Static C strings for the misuse and decision codes; config codes and
/// `CB_STATUS_PERMIT_SETTLED` reuse the core's messages ([`CONFIG_MESSAGES`], [`SETTLED_MESSAGE`]).
const FIXED_MESSAGES: &[(cb_status, &str)] = c_messages! {
    CB_STATUS_OK => "ok",
    CB_STATUS_REJECTED => "circuit open: call rejected",
    CB_STATUS_NULL_PARAMETER => "a required pointer argument was NULL",
    CB_STATUS_PANIC => "internal error: a panic was caught at the C boundary",
    CB_STATUS_BUFFER_TOO_SMALL => "memory is smaller than cb_breaker_size()",
    CB_STATUS_MISALIGNED => "memory is not aligned to cb_breaker_align()",
    CB_STATUS_INVALID_ARGUMENT => "an argument is out of range",
    // The fleet's: the core's `FleetError`/`RulesError` texts without the value they quote
    // (a unit test in `fleet.rs` holds them to the core's `Display`).
    CB_STATUS_FLEET_URL => "fleet: url must start with redis://, rediss://, redis+cluster:// or rediss+cluster://",
    CB_STATUS_FLEET_NAME => "fleet: name must be non-empty, without braces",
    CB_STATUS_FLEET_PREFIX => "fleet: prefix must not contain braces",
    CB_STATUS_FLEET_WINDOW => "fleet window must be whole seconds, 1 s to 3600 s",
    CB_STATUS_FLEET_SYNC_INTERVAL => "fleet sync_interval must be 10 ms to 60000 ms",
    CB_STATUS_FLEET_QUORUM => "fleet quorum must be at least 1",
    CB_STATUS_FLEET_MEMBER_ID => "fleet: member_id must be non-empty, without '#'",
    CB_STATUS_FLEET_OPTION => "fleet: an option is out of range, or the agent could not start",
    CB_STATUS_FLEET_STORE => "fleet store: unreachable, too slow, or it answered with an error",
    CB_STATUS_FLEET_REFUSED => "fleet: this member's breaker config differs from the fleet's; running on the local breaker alone",
};

/// The core's config messages as C strings (the core's `&'static str`s lack a terminator, so
/// they are copied into fixed buffers once, at compile time).
const CONFIG_MESSAGES: [[u8; MSG_CAP]; 14] = {
    let mut out = [[0u8; MSG_CAP]; 14];
    let mut i = 0;
    while i < 14 {
        let msg = ConfigError::ALL[i].message().as_bytes();
        assert!(msg.len() < MSG_CAP, "a config message outgrew MSG_CAP");
        let mut j = 0;
        while j < msg.len() {
            out[i][j] = msg[j];
            j += 1;
        }
        i += 1;
    }
    out
};
const MSG_CAP: usize = 160;
static CONFIG_MESSAGES_STATIC: [[u8; MSG_CAP]; 14] = CONFIG_MESSAGES;

/// The core's `PermitSettled` message as a C string (the text every front door shows).
static SETTLED_MESSAGE: [u8; MSG_CAP] = {
    let msg = PermitSettled::MESSAGE.as_bytes();
    assert!(
        msg.len() < MSG_CAP,
        "the PermitSettled message outgrew MSG_CAP"
    );
    let mut out = [0u8; MSG_CAP];
    let mut i = 0;
    while i < msg.len() {
        out[i] = msg[i];
        i += 1;
    }
    out
};

/// A static, NUL-terminated English message for `status`: the core's own text for config
/// errors and `CB_STATUS_PERMIT_SETTLED` (the same words every binding shows),
/// `"unknown status"` for a value that is not a `cb_status`. Never NULL; never free it. Safe
/// to call from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn cb_status_str(status: cb_status) -> *const c_char {
    for (s, text) in FIXED_MESSAGES {
        if *s == status {
            return text.as_ptr().cast();
        }
    }
    if status == CB_STATUS_PERMIT_SETTLED {
        return SETTLED_MESSAGE.as_ptr().cast();
    }
    for (i, e) in ConfigError::ALL.iter().enumerate() {
        if config_status(*e) == status {
            return CONFIG_MESSAGES_STATIC[i].as_ptr().cast();
        }
    }
    c"unknown status".as_ptr()
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::ffi::CStr;

    #[test]
    fn statuses_are_distinct_and_in_their_blocks() {
        let set: HashSet<_> = ALL_STATUSES.iter().collect();
        assert_eq!(set.len(), ALL_STATUSES.len(), "two statuses share a value");
        assert_eq!(CB_STATUS_OK, 0);
        for e in ConfigError::ALL {
            assert!(
                (200..300).contains(&config_status(e)),
                "{e:?} outside the config block"
            );
            assert!(
                ALL_STATUSES.contains(&config_status(e)),
                "{e:?} missing from ALL_STATUSES"
            );
        }
        let config_codes: HashSet<_> = ConfigError::ALL.iter().map(|e| config_status(*e)).collect();
        assert_eq!(config_codes.len(), ConfigError::ALL.len());
    }

    #[test]
    fn every_status_has_its_own_message() {
        let mut seen = HashSet::new();
        for s in ALL_STATUSES {
            // SAFETY: cb_status_str returns a static NUL-terminated string.
            let c = unsafe { CStr::from_ptr(cb_status_str(s)) }
                .to_str()
                .unwrap();
            assert_ne!(c, "unknown status", "status {s} has no message");
            assert_eq!(c, status_message(s));
            assert!(seen.insert(c), "status {s} shares its message");
        }
        // SAFETY: as above.
        let unknown = unsafe { CStr::from_ptr(cb_status_str(99)) }
            .to_str()
            .unwrap();
        assert_eq!(unknown, "unknown status");
    }

    #[test]
    fn the_settled_message_is_the_cores() {
        assert!((100..200).contains(&CB_STATUS_PERMIT_SETTLED));
        // SAFETY: as above.
        let c = unsafe { CStr::from_ptr(cb_status_str(CB_STATUS_PERMIT_SETTLED)) };
        assert_eq!(c.to_str().unwrap(), PermitSettled::MESSAGE);
    }

    #[test]
    fn config_messages_are_the_cores() {
        for e in ConfigError::ALL {
            // SAFETY: as above.
            let c = unsafe { CStr::from_ptr(cb_status_str(config_status(e))) };
            assert_eq!(c.to_str().unwrap(), e.message());
        }
    }
}
