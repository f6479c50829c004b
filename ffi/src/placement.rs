//! Where a `cb_breaker` lives: on the Rust heap (`cb_breaker_new`/`cb_breaker_free`), or in
//! memory the caller owns (`cb_breaker_size`/`cb_breaker_align`/`cb_breaker_init`), including
//! memory shared between processes (`cb_breaker_attach`).

use core::ffi::c_void;
use core::sync::atomic::{AtomicU32, Ordering};

use cbreaker::{Breaker, MAX_SLOTS};

use crate::config::cb_config;
use crate::status::{
    CB_STATUS_BUFFER_TOO_SMALL, CB_STATUS_INVALID_ARGUMENT, CB_STATUS_MISALIGNED, CB_STATUS_OK,
    cb_status,
};

/// A circuit breaker. Opaque: reach it only through `cb_breaker_*` functions.
///
/// Internally synchronized: every function but `cb_breaker_free` may be called concurrently
/// on the same breaker, from any thread, or from any process that maps the memory it was
/// placed in. It holds no pointers and no heap, so it may live in shared memory.
pub struct cb_breaker {
    /// `MAGIC_HEAP` or `MAGIC_PLACED` once fully built (Release store, Acquire load), so a
    /// process attaching to shared memory sees either nothing or a whole breaker.
    magic: AtomicU32,
    pub(crate) inner: Breaker<MAX_SLOTS>,
}

/// FNV-1a over the crate version, the core's word layout and the size: a process of another
/// library version (or layout) finds no breaker to attach to.
const fn fingerprint() -> u32 {
    let v = env!("CARGO_PKG_VERSION").as_bytes();
    let mut h: u32 = 0x811c_9dc5;
    let mut i = 0;
    while i < v.len() {
        h = (h ^ v[i] as u32).wrapping_mul(0x0100_0193);
        i += 1;
    }
    h = (h ^ cbreaker::WORD_LAYOUT).wrapping_mul(0x0100_0193);
    h = (h ^ size_of::<cb_breaker>() as u32).wrapping_mul(0x0100_0193);
    (h ^ align_of::<cb_breaker>() as u32).wrapping_mul(0x0100_0193)
}
const MAGIC_PLACED: u32 = fingerprint() | 1;
#[cfg(feature = "std")]
const MAGIC_HEAP: u32 = fingerprint() & !1;

impl cb_breaker {
    fn build(config: *const cb_config) -> Result<cb_breaker, cb_status> {
        if config.is_null() {
            return Err(crate::CB_STATUS_NULL_PARAMETER);
        }
        // SAFETY: non-NULL checked; the caller promises a readable `cb_config`.
        let config = unsafe { &*config }.to_core()?;
        let inner = Breaker::new(config).map_err(crate::status::config_status)?;
        Ok(cb_breaker {
            magic: AtomicU32::new(0),
            inner,
        })
    }

    /// The core breaker behind the C handle.
    #[must_use]
    pub fn core(&self) -> &Breaker<MAX_SLOTS> {
        &self.inner
    }
}

/// Bytes a breaker needs: the smallest `len` that `cb_breaker_init` accepts. The same for
/// every config (room for the largest window). Safe to call from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_size() -> usize {
    size_of::<cb_breaker>()
}

/// The alignment `cb_breaker_init` needs (a power of two). Safe to call from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_align() -> usize {
    align_of::<cb_breaker>()
}

/// Checks caller memory for a breaker.
fn check_memory(mem: *mut c_void, len: usize) -> Result<*mut cb_breaker, cb_status> {
    if mem.is_null() {
        return Err(crate::CB_STATUS_NULL_PARAMETER);
    }
    if len < size_of::<cb_breaker>() {
        return Err(CB_STATUS_BUFFER_TOO_SMALL);
    }
    if (mem as usize) % align_of::<cb_breaker>() != 0 {
        return Err(CB_STATUS_MISALIGNED);
    }
    Ok(mem.cast())
}

/// Builds a closed breaker with an empty window in caller memory `mem` of `len` bytes, and
/// writes the handle (equal to `mem`) to `*breaker_out`. For callers without `malloc`
/// (firmware: a `static` buffer) and for memory shared between processes (`mmap` with
/// `MAP_SHARED`; see `docs/c-api.md`, "Shared memory").
///
/// Ownership: the caller owns `mem` and keeps it alive as long as the breaker is used; there
/// is nothing to free (never pass the handle to `cb_breaker_free`). Call it once per breaker,
/// before any other thread or process uses that memory: it overwrites `mem` unsynchronized.
///
/// Errors (nothing written anywhere): `CB_STATUS_NULL_PARAMETER` (`mem`, `config` or
/// `breaker_out` NULL), `CB_STATUS_BUFFER_TOO_SMALL` (`len < cb_breaker_size()`),
/// `CB_STATUS_MISALIGNED` (`mem` not a multiple of `cb_breaker_align()`),
/// `CB_STATUS_INVALID_ARGUMENT` (unknown window kind), `CB_STATUS_CONFIG_*` (the first
/// field out of range).
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_init(
    mem: *mut c_void,
    len: usize,
    config: *const cb_config,
    breaker_out: *mut *mut cb_breaker,
) -> cb_status {
    ffi_boundary! {
        let out = try_mut!(breaker_out);
        let place = match check_memory(mem, len) {
            Ok(p) => p,
            Err(status) => return status,
        };
        let breaker = match cb_breaker::build(config) {
            Ok(b) => b,
            Err(status) => return status,
        };
        // SAFETY: `place` is non-NULL, aligned for `cb_breaker` and at least
        // `size_of::<cb_breaker>()` bytes (checked above); the caller owns it and promises
        // nobody else uses it during init. `cb_breaker` has no drop glue, so overwriting
        // whatever was there leaks nothing.
        unsafe { place.write(breaker) };
        // SAFETY: just initialized above.
        let placed = unsafe { &*place };
        // Release: a process that Acquire-loads the magic in `cb_breaker_attach` sees the
        // whole breaker written above.
        placed.magic.store(MAGIC_PLACED, Ordering::Release);
        *out = place;
        CB_STATUS_OK
    }
}

/// Finds the breaker another process (or an earlier `cb_breaker_init`) placed in `mem` of
/// `len` bytes, for a process that maps the same shared memory, and writes its handle (equal
/// to `mem`) to `*breaker_out`. Changes nothing.
///
/// Errors: `CB_STATUS_NULL_PARAMETER`, `CB_STATUS_BUFFER_TOO_SMALL`, `CB_STATUS_MISALIGNED`
/// as for `cb_breaker_init`; `CB_STATUS_INVALID_ARGUMENT` when `mem` holds no breaker fully
/// initialized by `cb_breaker_init` of this same library version (not yet initialized,
/// or another version or layout). Safe to call concurrently with anything but the
/// `cb_breaker_init` of the same memory.
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_attach(
    mem: *mut c_void,
    len: usize,
    breaker_out: *mut *mut cb_breaker,
) -> cb_status {
    ffi_boundary! {
        let out = try_mut!(breaker_out);
        let place = match check_memory(mem, len) {
            Ok(p) => p,
            Err(status) => return status,
        };
        // SAFETY: aligned, large enough, readable (the caller's contract); only the magic, an
        // atomic, is read before it proves the rest initialized.
        let magic = unsafe { &(*place).magic };
        // Acquire: pairs with the Release store in `cb_breaker_init`.
        if magic.load(Ordering::Acquire) != MAGIC_PLACED {
            return CB_STATUS_INVALID_ARGUMENT;
        }
        *out = place;
        CB_STATUS_OK
    }
}

/// Allocates a closed breaker on the Rust heap and writes its handle to `*breaker_out`.
///
/// Ownership: the caller owns the breaker and frees it exactly once with `cb_breaker_free`
/// (never with `free()`: the Rust allocator owns the memory). Errors (nothing written):
/// `CB_STATUS_NULL_PARAMETER`, `CB_STATUS_INVALID_ARGUMENT` (unknown window kind),
/// `CB_STATUS_CONFIG_*`. Safe to call from any thread. Not in `no_std` (firmware) builds.
#[cfg(feature = "std")]
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_new(
    config: *const cb_config,
    breaker_out: *mut *mut cb_breaker,
) -> cb_status {
    ffi_boundary! {
        let out = try_mut!(breaker_out);
        let breaker = match cb_breaker::build(config) {
            Ok(b) => b,
            Err(status) => return status,
        };
        breaker.magic.store(MAGIC_HEAP, Ordering::Relaxed);
        *out = std::boxed::Box::into_raw(std::boxed::Box::new(breaker));
        CB_STATUS_OK
    }
}

/// Frees a breaker from `cb_breaker_new`. NULL is accepted and does nothing (`CB_STATUS_OK`).
///
/// The one function that must not run concurrently with any other on the same breaker:
/// no other thread may be using it, and it must not be called twice. A breaker placed with
/// `cb_breaker_init` is not freed (its memory is the caller's): `CB_STATUS_INVALID_ARGUMENT`.
/// Not in `no_std` (firmware) builds.
#[cfg(feature = "std")]
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_free(breaker: *mut cb_breaker) -> cb_status {
    ffi_boundary! {
        if breaker.is_null() {
            return CB_STATUS_OK;
        }
        // SAFETY: non-NULL; the caller promises a live breaker from `cb_breaker_new` or
        // `cb_breaker_init` (the magic tells which).
        if unsafe { &*breaker }.magic.load(Ordering::Relaxed) != MAGIC_HEAP {
            return CB_STATUS_INVALID_ARGUMENT;
        }
        // SAFETY: the magic says `cb_breaker_new` made it with `Box::into_raw`; the caller
        // promises this is the only free and that nobody else is using it.
        drop(unsafe { std::boxed::Box::from_raw(breaker) });
        CB_STATUS_OK
    }
}

/// Writes the breaker's config, as validated, to `*config_out` (the multiplier rounded to
/// three decimals, `open_duration_max_ms` 0 shown as the limit it stands for). A process
/// attaching to shared memory compares it with its own. Safe to call concurrently.
///
/// Errors: `CB_STATUS_NULL_PARAMETER` (nothing written).
#[unsafe(no_mangle)]
pub extern "C" fn cb_breaker_config(
    breaker: *const cb_breaker,
    config_out: *mut cb_config,
) -> cb_status {
    ffi_boundary! {
        let breaker = try_ref!(breaker);
        let out = try_mut!(config_out);
        *out = cb_config::from_core(&breaker.inner.config());
        CB_STATUS_OK
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use core::ptr;

    use super::*;
    use crate::config::cb_config;
    use crate::status::{CB_STATUS_CONFIG_WINDOW_SIZE, CB_STATUS_NULL_PARAMETER};

    /// Memory for one breaker, aligned, plus one spare byte to misalign it on purpose.
    fn buffer() -> std::vec::Vec<u64> {
        std::vec![0u64; size_of::<cb_breaker>() / 8 + 2]
    }

    #[test]
    fn init_checks_memory_and_config_before_writing() {
        let mut buf = buffer();
        let mem = buf.as_mut_ptr().cast::<c_void>();
        let size = cb_breaker_size();
        let config = cb_config::defaults();
        let mut out: *mut cb_breaker = ptr::null_mut();
        assert_eq!(cb_breaker_align() % 8, 0);
        assert_eq!(
            cb_breaker_init(ptr::null_mut(), size, &config, &mut out),
            CB_STATUS_NULL_PARAMETER
        );
        assert_eq!(
            cb_breaker_init(mem, size - 1, &config, &mut out),
            CB_STATUS_BUFFER_TOO_SMALL
        );
        // SAFETY: one byte into a buffer with a spare word at the end: in bounds.
        let odd = unsafe { mem.cast::<u8>().add(1) }.cast::<c_void>();
        assert_eq!(
            cb_breaker_init(odd, size, &config, &mut out),
            CB_STATUS_MISALIGNED
        );
        let mut bad = config;
        bad.window_size = 0;
        assert_eq!(
            cb_breaker_init(mem, size, &bad, &mut out),
            CB_STATUS_CONFIG_WINDOW_SIZE
        );
        assert!(out.is_null());
        assert!(
            buf.iter().all(|w| *w == 0),
            "a failed init wrote to the memory"
        );
        assert_eq!(
            cb_breaker_attach(mem, size, &mut out),
            CB_STATUS_INVALID_ARGUMENT
        );
    }

    #[test]
    fn init_then_attach_then_use() {
        let mut buf = buffer();
        let mem = buf.as_mut_ptr().cast::<c_void>();
        let size = cb_breaker_size();
        let mut placed: *mut cb_breaker = ptr::null_mut();
        let mut attached: *mut cb_breaker = ptr::null_mut();
        assert_eq!(
            cb_breaker_init(mem, size, &cb_config::defaults(), &mut placed),
            CB_STATUS_OK
        );
        assert_eq!(cb_breaker_attach(mem, size, &mut attached), CB_STATUS_OK);
        assert_eq!(placed, attached);
        let mut config = cb_config::defaults();
        config.window_size = 1;
        assert_eq!(cb_breaker_config(attached, &mut config), CB_STATUS_OK);
        assert_eq!(config.window_size, 100);
        // A placed breaker is not the heap's.
        assert_eq!(cb_breaker_free(placed), CB_STATUS_INVALID_ARGUMENT);
        let mut heap: *mut cb_breaker = ptr::null_mut();
        assert_eq!(
            cb_breaker_new(&cb_config::defaults(), &mut heap),
            CB_STATUS_OK
        );
        assert_eq!(cb_breaker_free(heap), CB_STATUS_OK);
    }
}
