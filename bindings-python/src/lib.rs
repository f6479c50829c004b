//! `cbreaker._native`: the cbreaker core as a Python extension module.
//!
//! The binding translates types, maps errors and chooses a clock; every decision, default,
//! rule and metric name stays in the core. The asyncio layer, listeners and the platform API
//! live in Python (`python/cbreaker/`).

mod breaker;
mod calls;
mod clock;
mod config;
mod errors;
mod fleet;
mod fleet_sim;
mod permit;
mod shared;
mod types;
mod vocab;

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
    use super::fleet::{PyFleetMember, fleet_metric_values, fleet_metrics_text};
    #[pymodule_export]
    use super::fleet_sim::PyFleetSim;
    #[pymodule_export]
    use super::permit::PyPermit;
    #[pymodule_export]
    use super::types::PyTransition;
    #[pymodule_export]
    use super::vocab::{
        group_health, metric_samples, metrics_text, otel_points, otel_transition_attributes,
    };

    /// The file holding shared-memory segment `name` (`$CBREAKER_SHM_DIR`, default
    /// `/dev/shm`, then `cbreaker.<name>`); a `ConfigError` for a name that cannot be one.
    #[pyfunction]
    fn shared_memory_path(name: &str) -> PyResult<std::path::PathBuf> {
        super::shared::path_of(name)
    }

    use cbreaker::{Config, PermitSettled, metrics};
    use pyo3::prelude::*;
    use pyo3::types::PyTuple;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("MAX_SLOTS", cbreaker::MAX_SLOTS)?;
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add("PRESETS", PyTuple::new(m.py(), Config::PRESETS)?)?;
        m.add("PERMIT_SETTLED_CODE", PermitSettled::CODE)?;
        m.add("PERMIT_SETTLED_MESSAGE", PermitSettled::MESSAGE)?;
        let family = |f: &metrics::Family| (f.name, f.kind.name(), f.help, f.unit, f.labels);
        m.add(
            "METRIC_FAMILIES",
            PyTuple::new(m.py(), metrics::FAMILIES.iter().map(family))?,
        )?;
        m.add("METRICS_CONTENT_TYPE", metrics::CONTENT_TYPE)?;
        m.add(
            "FLEET_METRIC_FAMILIES",
            PyTuple::new(m.py(), metrics::fleet::FAMILIES.iter().map(family))?,
        )?;
        m.add(
            "FLEET_STATUSES",
            PyTuple::new(m.py(), cbreaker::fleet::Status::NAMES)?,
        )?;
        m.add(
            "FLEET_URL_SCHEMES",
            PyTuple::new(m.py(), cbreaker::fleet_agent::URL_SCHEMES)?,
        )?;
        let namings = pyo3::types::PyDict::new(m.py());
        for n in metrics::Naming::ALL {
            namings.set_item(
                n.name(),
                PyTuple::new(m.py(), n.families().iter().map(family))?,
            )?;
        }
        m.add("METRIC_NAMINGS", namings)?;
        m.add("OTEL_METER_NAME", metrics::otel::METER_NAME)?;
        m.add("OTEL_ATTR_NAME", metrics::otel::ATTR_NAME)?;
        let instrument = |i: &metrics::otel::Instrument| {
            (i.name, i.kind.name(), i.unit, i.description, i.attributes)
        };
        m.add(
            "OTEL_INSTRUMENTS",
            PyTuple::new(m.py(), metrics::otel::INSTRUMENTS.iter().map(instrument))?,
        )?;
        Ok(())
    }
}
