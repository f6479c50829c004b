//! The boundary guards: `catch_unwind` around every exported body, and NULL checks.
//!
//! ```ignore
//! ffi_boundary! {
//!     let breaker = try_ref!(breaker);      // NULL → CB_STATUS_NULL_PARAMETER
//!     let out = try_mut!(permit_out);
//!     ...
//!     CB_STATUS_OK
//! }
//! ```
//!
//! The body runs in a closure, so `try_ref!` and friends leave it with `return`.

/// Runs `$body` (which yields a [`cb_status`](crate::cb_status)), turning a panic into
/// `CB_STATUS_PANIC`. Without `std` there is no unwinding to catch: the body runs as is.
#[cfg(feature = "std")]
#[macro_export]
macro_rules! ffi_boundary {
    ($($body:tt)*) => {{
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(
            || -> $crate::cb_status { $($body)* },
        )) {
            Ok(status) => status,
            Err(_) => $crate::CB_STATUS_PANIC,
        }
    }};
}

/// Runs `$body` (which yields a [`cb_status`](crate::cb_status)). `no_std` build: panics stop
/// in the crate's panic handler, so there is nothing to catch.
#[cfg(not(feature = "std"))]
#[macro_export]
macro_rules! ffi_boundary {
    ($($body:tt)*) => {{
        (|| -> $crate::cb_status { $($body)* })()
    }};
}

/// `&T` from a `*const T`, or `return CB_STATUS_NULL_PARAMETER`.
#[macro_export]
macro_rules! try_ref {
    ($ptr:expr) => {{
        let ptr = $ptr;
        if ptr.is_null() {
            return $crate::CB_STATUS_NULL_PARAMETER;
        }
        // SAFETY: non-NULL checked above; the C caller promises a valid, live, aligned object
        // (documented on every function that takes one).
        unsafe { &*ptr }
    }};
}

/// `&mut T` from a `*mut T`, or `return CB_STATUS_NULL_PARAMETER`.
#[macro_export]
macro_rules! try_mut {
    ($ptr:expr) => {{
        let ptr = $ptr;
        if ptr.is_null() {
            return $crate::CB_STATUS_NULL_PARAMETER;
        }
        // SAFETY: non-NULL checked above; the C caller promises writable memory for one `T`,
        // not aliased for the duration of the call (documented on every out parameter).
        unsafe { &mut *ptr }
    }};
}

/// `Option<&mut T>` from an optional out pointer: NULL means "the caller does not care".
#[macro_export]
macro_rules! opt_mut {
    ($ptr:expr) => {{
        let ptr = $ptr;
        // SAFETY: `as_mut` checks NULL; a non-NULL pointer is writable memory for one `T`
        // by the function's documented contract.
        unsafe { ptr.as_mut() }
    }};
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use crate::{CB_STATUS_NULL_PARAMETER, CB_STATUS_OK, CB_STATUS_PANIC, cb_status};

    fn guarded(panic: bool) -> cb_status {
        ffi_boundary! {
            if panic {
                panic!("boom");
            }
            CB_STATUS_OK
        }
    }

    fn deref(p: *const u32) -> cb_status {
        ffi_boundary! {
            let v = try_ref!(p);
            if *v == 7 { CB_STATUS_OK } else { CB_STATUS_PANIC }
        }
    }

    #[test]
    fn a_panic_becomes_a_status() {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let got = guarded(true);
        std::panic::set_hook(prev);
        assert_eq!(got, CB_STATUS_PANIC);
        assert_eq!(guarded(false), CB_STATUS_OK);
    }

    #[test]
    fn null_becomes_a_status() {
        assert_eq!(deref(core::ptr::null()), CB_STATUS_NULL_PARAMETER);
        assert_eq!(deref(&7), CB_STATUS_OK);
    }
}
