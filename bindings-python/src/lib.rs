//! `cbreaker._native`: the cbreaker core as a Python extension module.
//!
//! The binding translates types, maps errors and chooses a clock; every decision stays in the
//! core. The asyncio layer, listeners and the platform API live in Python (`python/cbreaker/`).

mod breaker;
mod calls;
mod clock;
mod config;
mod errors;
mod permit;
mod types;

use pyo3::prelude::*;

/// The native module. `gil_used = false`: the core is atomics-only, so free-threaded CPython
/// may run it in parallel.
#[pymodule(gil_used = false)]
mod _native {
    #[pymodule_export]
    use super::breaker::PyBreaker;
    #[pymodule_export]
    use super::calls::Guarded;
    #[pymodule_export]
    use super::permit::PyPermit;
    #[pymodule_export]
    use super::types::PyTransition;

    use pyo3::prelude::*;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("MAX_SLOTS", cbreaker::MAX_SLOTS)?;
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        Ok(())
    }
}
