//! `std`: what a Rust service needs around the state machine (docs/rust.md). The call
//! helpers run the core's call protocol; nothing here decides a rule of its own.

pub(crate) mod call;
#[cfg(feature = "tracing")]
pub mod events;
#[cfg(feature = "fleet")]
pub mod fleet_agent;
#[cfg(feature = "fleet")]
mod fleet_redis;
pub mod histogram;
pub mod monotonic;
#[cfg(feature = "opentelemetry")]
pub mod otel;
#[cfg(feature = "prometheus")]
pub mod prometheus;
#[cfg(feature = "prometheus-collector")]
pub mod prometheus_collector;
#[cfg(feature = "registry")]
pub mod registry;
pub(crate) mod service;
#[cfg(feature = "tower")]
pub mod tower;
