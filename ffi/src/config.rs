//! `cb_config`: the breaker's configuration as a plain C struct.

use core::ffi::c_char;

use cbreaker::{Config, Millis, WindowKind};

use crate::names::{
    CB_WINDOW_KIND_CONSECUTIVE, CB_WINDOW_KIND_COUNT, CB_WINDOW_KIND_TIME, cb_window_kind,
};
use crate::status::{CB_STATUS_INVALID_ARGUMENT, CB_STATUS_OK, cb_status, config_status};

/// How a breaker decides. Start from `cb_config_default()` or `cb_config_preset()` and set
/// fields; a breaker constructor validates it and names the first bad field in its status
/// (200–299). The starting values are the core's (`docs/defaults.md` lists them): no field
/// has a default of its own here. Durations are milliseconds. Zero turns a trip condition
/// off (`failure_rate_threshold`, `slow_call_rate_threshold`, `consecutive_failures`). Plain
/// data: copy it freely.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct cb_config {
    /// `CB_WINDOW_KIND_COUNT`, `_TIME` or `_CONSECUTIVE`; anything else gives
    /// `CB_STATUS_INVALID_ARGUMENT`. Only the chosen kind's fields are read (and written by
    /// `cb_config_default`/`cb_config_preset`: the others are 0, so a caller switching kinds
    /// sets the new kind's fields).
    pub window_kind: cb_window_kind,
    /// Count window: how many outcomes it holds, 1 to 1024.
    pub window_size: u32,
    /// Time window: the span it covers, a multiple of `window_buckets`.
    pub window_duration_ms: u64,
    /// Time window: how many buckets, 1 to 64.
    pub window_buckets: u32,
    /// Trip at this failure rate, percent (0 = off).
    pub failure_rate_threshold: u8,
    /// Trip at this slow-call rate, percent (0 = off). On, it times every call
    /// (`cb_breaker_record` reports the duration itself).
    pub slow_call_rate_threshold: u8,
    /// A call at least this long is slow.
    pub slow_call_duration_ms: u64,
    /// Trip after this many failures in a row (0 = off; ignores `minimum_calls`).
    pub consecutive_failures: u32,
    /// Rate conditions apply once the window holds this many outcomes.
    pub minimum_calls: u32,
    /// How long the first trip stays open.
    pub open_duration_ms: u64,
    /// Cap of the backed-off open duration (0 = the 2^32 − 1 ms limit).
    pub open_duration_max_ms: u64,
    /// The k-th consecutive trip stays open `min(open_duration × multiplier^k, max)`,
    /// 1.0 to 1000.0, three decimals.
    pub open_duration_multiplier: f64,
    /// ± this many percent of deterministic jitter on each open duration.
    pub jitter_percent: u8,
    /// Seed of the jitter generator (same seed, same durations, in every language).
    pub jitter_seed: u64,
    /// Probe permits out at once in half-open, 1 to 31.
    pub half_open_max_calls: u32,
    /// Probe successes that close the circuit, 1 to 31.
    pub success_threshold: u32,
    /// Half-open slots nobody decided within this long are reclaimed.
    pub half_open_max_wait_ms: u64,
}

impl cb_config {
    /// The core's `Config::default()`, in C form.
    #[must_use]
    pub fn defaults() -> cb_config {
        cb_config::from_core(&Config::default())
    }

    /// The C form of a core config (`open_duration_max` copied as is; the fields of the
    /// window kinds it does not use are 0).
    #[must_use]
    pub fn from_core(c: &Config) -> cb_config {
        let (window_kind, window_size, window_duration_ms, window_buckets) = match c.window {
            WindowKind::Count { size } => (CB_WINDOW_KIND_COUNT, size, 0, 0),
            WindowKind::Time { duration, buckets } => (CB_WINDOW_KIND_TIME, 0, duration.0, buckets),
            WindowKind::Consecutive => (CB_WINDOW_KIND_CONSECUTIVE, 0, 0, 0),
        };
        cb_config {
            window_kind,
            window_size,
            window_duration_ms,
            window_buckets,
            failure_rate_threshold: c.failure_rate_threshold,
            slow_call_rate_threshold: c.slow_call_rate_threshold,
            slow_call_duration_ms: c.slow_call_duration.0,
            consecutive_failures: c.consecutive_failures,
            minimum_calls: c.minimum_calls,
            open_duration_ms: c.open_duration.0,
            open_duration_max_ms: c.open_duration_max.0,
            open_duration_multiplier: c.open_duration_multiplier,
            jitter_percent: c.jitter_percent,
            jitter_seed: c.jitter_seed,
            half_open_max_calls: c.half_open_max_calls,
            success_threshold: c.success_threshold,
            half_open_max_wait_ms: c.half_open_max_wait.0,
        }
    }

    /// The core config, validated.
    ///
    /// # Errors
    /// `CB_STATUS_INVALID_ARGUMENT` for an unknown window kind, else the config status of
    /// the first field the core rejects.
    pub fn to_core(&self) -> Result<Config, cb_status> {
        let window = match self.window_kind {
            CB_WINDOW_KIND_COUNT => WindowKind::Count {
                size: self.window_size,
            },
            CB_WINDOW_KIND_TIME => WindowKind::Time {
                duration: Millis(self.window_duration_ms),
                buckets: self.window_buckets,
            },
            CB_WINDOW_KIND_CONSECUTIVE => WindowKind::Consecutive,
            _ => return Err(CB_STATUS_INVALID_ARGUMENT),
        };
        let config = Config {
            window,
            failure_rate_threshold: self.failure_rate_threshold,
            slow_call_rate_threshold: self.slow_call_rate_threshold,
            slow_call_duration: Millis(self.slow_call_duration_ms),
            consecutive_failures: self.consecutive_failures,
            minimum_calls: self.minimum_calls,
            open_duration: Millis(self.open_duration_ms),
            open_duration_max: Millis(self.open_duration_max_ms),
            open_duration_multiplier: self.open_duration_multiplier,
            jitter_percent: self.jitter_percent,
            jitter_seed: self.jitter_seed,
            half_open_max_calls: self.half_open_max_calls,
            success_threshold: self.success_threshold,
            half_open_max_wait: Millis(self.half_open_max_wait_ms),
        };
        config.validate().map_err(config_status)?;
        Ok(config)
    }
}

/// Writes the default config to `*config_out`: the core's `Config::default()`, the one
/// table every front door starts from (`docs/defaults.md` lists its values). The caller owns
/// the struct (it holds no pointers). Safe to call from any thread.
///
/// Errors: `CB_STATUS_NULL_PARAMETER` if `config_out` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn cb_config_default(config_out: *mut cb_config) -> cb_status {
    ffi_boundary! {
        let out = try_mut!(config_out);
        *out = cb_config::defaults();
        CB_STATUS_OK
    }
}

/// Writes the core's preset `name` (a NUL-terminated string) to `*config_out`. The presets:
/// `"agents_platform"`, `"pybreaker"`, `"http_api"`, `"llm_service"`, `"database"`,
/// `"notifications"`, `"cache"` (`docs/defaults.md` has every value and what each is for;
/// `cb_config_preset_name` lists them). Set fields afterwards to adjust one. Safe to call
/// from any thread.
///
/// Errors (nothing written): `CB_STATUS_NULL_PARAMETER` (`name` or `config_out` NULL),
/// `CB_STATUS_INVALID_ARGUMENT` (no preset has that name; names are exact and lower case).
#[unsafe(no_mangle)]
pub extern "C" fn cb_config_preset(name: *const c_char, config_out: *mut cb_config) -> cb_status {
    ffi_boundary! {
        if name.is_null() {
            return crate::CB_STATUS_NULL_PARAMETER;
        }
        let out = try_mut!(config_out);
        let Some(config) = preset_named(name) else {
            return CB_STATUS_INVALID_ARGUMENT;
        };
        *out = cb_config::from_core(&config);
        CB_STATUS_OK
    }
}

/// The core preset a NUL-terminated C string names. Reads at most `PRESET_CAP` bytes and
/// never past the terminator (no `strlen`: firmware links no libc); a longer string names no
/// preset.
fn preset_named(name: *const c_char) -> Option<Config> {
    let mut buf = [0u8; PRESET_CAP];
    let mut len = 0;
    loop {
        if len == PRESET_CAP {
            return None;
        }
        // SAFETY: `name` is non-NULL (checked by the caller) and, by the function's
        // contract, NUL-terminated: every byte up to and including the terminator is
        // readable, and the loop stops at the terminator.
        let b = unsafe { name.add(len).cast::<u8>().read() };
        if b == 0 {
            break;
        }
        buf[len] = b;
        len += 1;
    }
    core::str::from_utf8(&buf[..len])
        .ok()
        .and_then(Config::preset)
}

/// The preset names as C strings, from the core's `Config::PRESETS`.
static PRESET_NAMES: [[u8; PRESET_CAP]; Config::PRESETS.len()] = {
    let mut out = [[0u8; PRESET_CAP]; Config::PRESETS.len()];
    let mut i = 0;
    while i < Config::PRESETS.len() {
        let b = Config::PRESETS[i].as_bytes();
        assert!(b.len() < PRESET_CAP, "a preset name outgrew PRESET_CAP");
        let mut j = 0;
        while j < b.len() {
            out[i][j] = b[j];
            j += 1;
        }
        i += 1;
    }
    out
};
const PRESET_CAP: usize = 32;

/// The name of preset number `index` (0, 1, ...) for `cb_config_preset`, in the order
/// `docs/defaults.md` lists them; NULL once `index` is past the last, so a loop
/// `for (i = 0; cb_config_preset_name(i); i++)` visits every preset. A static string: never
/// free it. Safe to call from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn cb_config_preset_name(index: usize) -> *const c_char {
    match PRESET_NAMES.get(index) {
        Some(name) => name.as_ptr().cast(),
        None => core::ptr::null(),
    }
}

/// Checks `*config` as a breaker constructor would, without building one.
///
/// Returns `CB_STATUS_OK`, `CB_STATUS_INVALID_ARGUMENT` (unknown `window_kind`), or the
/// `CB_STATUS_CONFIG_*` status naming the first field out of range (`cb_status_str` gives the
/// allowed range). `CB_STATUS_NULL_PARAMETER` if `config` is NULL. Safe to call from any
/// thread.
#[unsafe(no_mangle)]
pub extern "C" fn cb_config_validate(config: *const cb_config) -> cb_status {
    ffi_boundary! {
        let config = try_ref!(config);
        match config.to_core() {
            Ok(_) => CB_STATUS_OK,
            Err(status) => status,
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::status::{
        CB_STATUS_CONFIG_CONSECUTIVE_FAILURES, CB_STATUS_CONFIG_FAILURE_RATE_THRESHOLD,
    };

    #[test]
    fn defaults_are_the_cores_and_valid() {
        let mut c = cb_config::defaults();
        assert_eq!(c.to_core(), Ok(Config::default()));
        assert_eq!(cb_config_validate(&c), CB_STATUS_OK);
        c.window_kind = CB_WINDOW_KIND_TIME;
        c.window_duration_ms = 60_000;
        c.window_buckets = 10;
        assert_eq!(cb_config_validate(&c), CB_STATUS_OK);
        c.window_kind = CB_WINDOW_KIND_CONSECUTIVE;
        assert_eq!(
            cb_config_validate(&c),
            CB_STATUS_CONFIG_CONSECUTIVE_FAILURES
        );
        c.window_kind = 3;
        assert_eq!(cb_config_validate(&c), CB_STATUS_INVALID_ARGUMENT);
        let mut d = cb_config::defaults();
        d.failure_rate_threshold = 101;
        assert_eq!(
            cb_config_validate(&d),
            CB_STATUS_CONFIG_FAILURE_RATE_THRESHOLD
        );
    }

    use std::ffi::CStr;

    #[test]
    fn presets_are_the_cores() {
        let mut listed = std::vec::Vec::new();
        for i in 0.. {
            let p = cb_config_preset_name(i);
            if p.is_null() {
                break;
            }
            // SAFETY: a non-NULL result is a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(p) };
            let mut c = cb_config::defaults();
            assert_eq!(cb_config_preset(name.as_ptr(), &mut c), CB_STATUS_OK);
            let name = name.to_str().unwrap();
            assert_eq!(c.to_core(), Ok(Config::preset(name).unwrap()), "{name}");
            listed.push(name.to_string());
        }
        assert_eq!(listed, Config::PRESETS);
        let mut c = cb_config::defaults();
        let before = c;
        assert_eq!(
            cb_config_preset(c"nope".as_ptr(), &mut c),
            CB_STATUS_INVALID_ARGUMENT
        );
        assert_eq!(
            cb_config_preset(c"HTTP_API".as_ptr(), &mut c),
            CB_STATUS_INVALID_ARGUMENT
        );
        assert_eq!(c, before, "written on an error");
        assert_eq!(
            cb_config_preset(core::ptr::null(), &mut c),
            crate::CB_STATUS_NULL_PARAMETER
        );
        assert_eq!(
            cb_config_preset(c"cache".as_ptr(), core::ptr::null_mut()),
            crate::CB_STATUS_NULL_PARAMETER
        );
    }

    #[test]
    fn the_header_lists_every_preset() {
        let header = include_str!("../../include/libcb.h");
        let doc = &header[..header
            .find("cb_config_preset(const char")
            .expect("declared")];
        let doc = &doc[doc.rfind("/**").expect("documented")..];
        for name in Config::PRESETS {
            assert!(
                doc.contains(&std::format!("\"{name}\"")),
                "cb_config_preset's doc lacks {name}"
            );
        }
    }

    #[test]
    fn round_trips_through_the_core() {
        let c = cb_config::defaults();
        assert_eq!(cb_config::from_core(&c.to_core().unwrap()).window_size, 100);
        assert_eq!(c.to_core().unwrap(), Config::default());
    }
}
