//! A breaker in named shared memory: one breaker for every worker process of a host
//! (`CircuitBreaker(..., shared_memory="payments")`). The scheme is the C ABI's
//! (`ffi/src/placement.rs`): the core's `Breaker` is `repr(C)` and holds no pointers, so it is
//! written once in place by the process that creates the segment and used in place by every
//! process that maps it; a fingerprint of the binding's version and the core's layout, stored
//! last with release ordering, tells an attaching process that the breaker is whole and was
//! built by a build that reads its words the same way. A second word, the config's
//! fingerprint, refuses a process that asks for another config.
//!
//! The segment is the file `$CBREAKER_SHM_DIR/cbreaker.<name>` (default `/dev/shm`, where
//! Linux keeps POSIX shared memory), created with `O_CREAT | O_EXCL` (the creator is whoever
//! wins) and mapped `MAP_SHARED`. It outlives every process until unlinked.

use std::ffi::{c_int, c_void};
use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cbreaker::{Breaker, Config, MAX_SLOTS};
use pyo3::prelude::*;

use crate::config::to_dict;
use crate::errors::{CircuitBreakerError, PyCbError};

/// What lives in a segment. `repr(C)`: the same offsets in every process of one build.
#[repr(C)]
pub(crate) struct Segment {
    /// `MAGIC` once the breaker is whole (Release store, Acquire load); 0 before.
    magic: AtomicU32,
    _reserved: u32,
    /// The config's fingerprint, written before `magic`.
    config: AtomicU64,
    breaker: Breaker<MAX_SLOTS>,
}

/// FNV-1a (32 bits) over the binding's name and version, the core's word layout and the
/// segment's size and alignment: a process of another build finds no breaker to attach to.
const fn fingerprint() -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    let parts: [&[u8]; 2] = [b"cbreaker-python ", env!("CARGO_PKG_VERSION").as_bytes()];
    let mut p = 0;
    while p < parts.len() {
        let mut i = 0;
        while i < parts[p].len() {
            h = (h ^ parts[p][i] as u32).wrapping_mul(0x0100_0193);
            i += 1;
        }
        p += 1;
    }
    h = (h ^ cbreaker::WORD_LAYOUT).wrapping_mul(0x0100_0193);
    h = (h ^ size_of::<Segment>() as u32).wrapping_mul(0x0100_0193);
    // Never 0: 0 means "being built".
    (h ^ align_of::<Segment>() as u32).wrapping_mul(0x0100_0193) | 1
}
const MAGIC: u32 = fingerprint();

/// FNV-1a (64 bits) over the validated config's `Debug` text (every field, floats exactly).
fn config_fingerprint(c: &Config) -> u64 {
    let text = format!("{c:?}");
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

// The two system calls std does not wrap. 64-bit Unix only: there `off_t` is 64 bits and
// these constants have the same values on Linux and macOS.
const PROT_READ: c_int = 1;
const PROT_WRITE: c_int = 2;
const MAP_SHARED: c_int = 1;
unsafe extern "C" {
    fn mmap(
        addr: *mut c_void,
        len: usize,
        prot: c_int,
        flags: c_int,
        fd: c_int,
        off: i64,
    ) -> *mut c_void;
    fn munmap(addr: *mut c_void, len: usize) -> c_int;
}

/// How long an attaching process waits for a creator that is still building the breaker
/// (it takes microseconds; past this the creator is taken to have died mid-way).
const BUILD_WAIT: Duration = Duration::from_secs(2);

/// A mapped segment: unmapped when the last Python object using it goes.
pub(crate) struct Shared {
    ptr: *mut Segment,
    pub(crate) name: String,
    pub(crate) created: bool,
}

// SAFETY: the mapping is process-wide memory that stays mapped until `drop`; everything in
// it that is ever written after the build is an atomic (`Breaker` is `Sync`), so handing the
// pointer to other threads is as safe as sharing a `&Breaker`.
unsafe impl Send for Shared {}
// SAFETY: as above: only `&Breaker` (a `Sync` type) and atomics are reached through it.
unsafe impl Sync for Shared {}

impl Shared {
    /// The breaker in the segment.
    #[inline(always)]
    pub(crate) fn get(&self) -> &Breaker<MAX_SLOTS> {
        // SAFETY: `ptr` is a live mapping of a whole `Segment` (checked by `place`) until
        // `drop`, which needs `&mut self`; the breaker was fully written before `MAGIC`.
        unsafe { &(*self.ptr).breaker }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: mapped by `place` with exactly this length; nothing borrows it any more
        // (every `&Breaker` handed out borrows `self`).
        unsafe { munmap(self.ptr.cast(), size_of::<Segment>()) };
    }
}

/// The segment's file for `name`, or a `ConfigError` for a name that cannot be one.
pub(crate) fn path_of(name: &str) -> PyResult<PathBuf> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !ok {
        let message = format!(
            "invalid config: shared_memory must be 1 to 200 of A-Z a-z 0-9 . _ - (not starting \
             with '.'), got {name:?}"
        );
        return Err(PyCbError::Binding {
            field: "shared_memory",
            message,
        }
        .into());
    }
    let dir = std::env::var_os("CBREAKER_SHM_DIR").unwrap_or_else(|| "/dev/shm".into());
    Ok(PathBuf::from(dir).join(format!("cbreaker.{name}")))
}

fn fail(name: &str, what: impl std::fmt::Display) -> PyErr {
    CircuitBreakerError::new_err(format!("shared memory segment {name:?}: {what}"))
}

/// Maps `len` bytes of `file`, shared.
fn map(file: &File, name: &str) -> PyResult<*mut Segment> {
    // SAFETY: a fresh mapping of a file descriptor we own, at an address the kernel picks;
    // the length is the segment's, which the file has (checked or set by the caller).
    let p = unsafe {
        mmap(
            std::ptr::null_mut(),
            size_of::<Segment>(),
            PROT_READ | PROT_WRITE,
            MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    if p as isize == -1 {
        return Err(fail(name, std::io::Error::last_os_error()));
    }
    // mmap returns page-aligned memory: aligned for `Segment` (checked at compile time below).
    const _: () = assert!(align_of::<Segment>() <= 4096);
    Ok(p.cast())
}

/// Creates the segment `name` holding a new breaker with `config`, or attaches to the one
/// another process created. A segment of another build, or one whose breaker has another
/// config, is refused.
pub(crate) fn place(py: Python<'_>, name: &str, config: Config) -> PyResult<Shared> {
    let path = path_of(name)?;
    let size = size_of::<Segment>() as u64;
    let mut options = OpenOptions::new();
    options.read(true).write(true).create_new(true).mode(0o600);
    match options.open(&path) {
        Ok(file) => {
            // The creator. A failure from here on leaves a segment nobody can attach to:
            // remove it so the next process can create it.
            let built = (|| {
                file.set_len(size).map_err(|e| fail(name, e))?;
                let ptr = map(&file, name)?;
                let breaker = Breaker::<MAX_SLOTS>::new(config).map_err(PyCbError::Core)?;
                let segment = Segment {
                    magic: AtomicU32::new(0),
                    _reserved: 0,
                    config: AtomicU64::new(config_fingerprint(&config)),
                    breaker,
                };
                // SAFETY: `ptr` maps `size_of::<Segment>()` bytes, page-aligned, of a file
                // that this process just created exclusively (`O_EXCL`): nobody else writes
                // it until `MAGIC` is published below. `Segment` has no drop glue.
                unsafe { ptr.write(segment) };
                // Release: whoever Acquire-loads `MAGIC` sees the breaker and config above.
                // SAFETY: just written.
                unsafe { &(*ptr).magic }.store(MAGIC, Ordering::Release);
                Ok(Shared {
                    ptr,
                    name: name.to_owned(),
                    created: true,
                })
            })();
            if built.is_err() {
                let _ = std::fs::remove_file(&path);
            }
            built
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => attach(py, name, &path, config),
        Err(e) => Err(fail(name, format!("cannot create {}: {e}", path.display()))),
    }
}

fn attach(py: Python<'_>, name: &str, path: &PathBuf, config: Config) -> PyResult<Shared> {
    let size = size_of::<Segment>() as u64;
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| fail(name, format!("cannot open {}: {e}", path.display())))?;
    let start = Instant::now();
    // The creator sizes the file, then builds the breaker: wait (briefly) for both.
    loop {
        let len = file.metadata().map_err(|e| fail(name, e))?.len();
        if len == size {
            break;
        }
        if len != 0 {
            return Err(fail(
                name,
                format!(
                    "{len} bytes, not the {size} of this build's breaker: it was made by \
                     another version of cbreaker (or is not a breaker); unlink it \
                     (cbreaker.unlink_shared_memory) once no process uses it"
                ),
            ));
        }
        wait(py, start, name)?;
    }
    let ptr = map(&file, name)?;
    let shared = Shared {
        ptr,
        name: name.to_owned(),
        created: false,
    };
    loop {
        // SAFETY: a live mapping of `size_of::<Segment>()` bytes; only the atomic `magic` is
        // read before it proves the rest whole.
        let magic = unsafe { &(*ptr).magic }.load(Ordering::Acquire);
        if magic == MAGIC {
            break;
        }
        if magic != 0 {
            return Err(fail(
                name,
                "made by another version of cbreaker (its layout fingerprint differs); unlink \
                 it (cbreaker.unlink_shared_memory) once no process uses it",
            ));
        }
        wait(py, start, name)?;
    }
    // SAFETY: `MAGIC` was published (Acquire above) after the config word was written.
    let theirs = unsafe { &(*ptr).config }.load(Ordering::Relaxed);
    if theirs != config_fingerprint(&config) {
        return Err(differs(py, name, &shared.get().config(), &config));
    }
    Ok(shared)
}

/// Sleeps a millisecond while a creator builds the breaker, up to `BUILD_WAIT`.
fn wait(py: Python<'_>, start: Instant, name: &str) -> PyResult<()> {
    if start.elapsed() > BUILD_WAIT {
        return Err(fail(
            name,
            "never finished by the process that created it (it died while building it?); \
             unlink it (cbreaker.unlink_shared_memory) and start again",
        ));
    }
    py.detach(|| std::thread::sleep(Duration::from_millis(1)));
    py.check_signals()
}

/// A `ConfigError` naming the first keyword whose value differs from the segment's.
fn differs(py: Python<'_>, name: &str, theirs: &Config, ours: &Config) -> PyErr {
    let found = (|| -> PyResult<Option<(String, String, String)>> {
        let (t, o) = (to_dict(py, theirs)?, to_dict(py, ours)?);
        for (k, v) in t.iter() {
            let mine = o.get_item(&k)?;
            if mine.as_ref().is_none_or(|m| !m.eq(&v).unwrap_or(false)) {
                let shown = |x: Option<Bound<'_, PyAny>>| {
                    x.map_or("unset".into(), |x| {
                        x.repr().map_or("?".into(), |r| r.to_string())
                    })
                };
                return Ok(Some((k.extract()?, shown(Some(v)), shown(mine))));
            }
        }
        Ok(None)
    })();
    let (field, message) = match found {
        Ok(Some((field, theirs, ours))) => {
            let message = format!(
                "invalid config: shared memory segment {name:?} holds a breaker with \
                 {field}={theirs}; this process asked for {field}={ours} (every process must \
                 use one config; unlink the segment to change it)"
            );
            (field, message)
        }
        _ => (
            "shared_memory".to_owned(),
            format!("invalid config: shared memory segment {name:?} holds another config"),
        ),
    };
    crate::errors::ConfigError::new_err((message, field))
}
