//! `registry`: named breakers, shared across a service.
//!
//! Read-mostly: a map behind std's `RwLock`, read-locked for lookups (many readers at
//! once, no writer in their way in the steady state) and write-locked only to add or remove a
//! breaker. A lookup hands out an `Arc`, so calls run with no lock held: look a breaker up
//! once (at startup, or per request) and keep the `Arc`. Breakers themselves stay lock-free.
//!
//! ```
//! use cbreaker::{Calls, Config, State, monotonic, registry::Registry};
//!
//! let registry: Registry = Registry::new(Config::for_http_api()).unwrap();
//! let payments = registry.get_or_create("payments");
//! registry.register("llm", Config::for_llm_service()).unwrap();
//! assert_eq!(payments.call(|| Ok::<_, ()>("paid")), Ok("paid"));
//! assert_eq!(registry.names(), ["llm", "payments"]);
//! assert_eq!(registry.health(monotonic::now()).count(State::Closed), 2);
//! ```

extern crate alloc;
extern crate std;

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;
use std::collections::HashMap;
use std::sync::{OnceLock, PoisonError, RwLock};

use crate::config::Config;
use crate::error::ConfigError;
use crate::health::Health;
use crate::permit::Outcome;
use crate::service::{ServiceBreaker, SinkTaken};
use crate::snapshot::Snapshot;
use crate::time::Clock;
use crate::transition::Transition;

type Map<const SLOTS: usize> = HashMap<Arc<str>, Arc<ServiceBreaker<SLOTS>>>;

/// A registry's duration sink: the breaker's name (the registry's own `Arc`, so a sink can
/// keep it without copying), the outcome and the duration of each call that ran to a success
/// or a failure (see [`ServiceBreaker::set_duration_sink`]).
pub type NamedDurationSink = Arc<dyn Fn(&Arc<str>, Outcome, Duration) + Send + Sync>;

/// Named [`ServiceBreaker`]s. `Sync`: share it by `&`, `Arc` or a `static` (`LazyLock`).
pub struct Registry<const SLOTS: usize = 32> {
    map: RwLock<Map<SLOTS>>,
    default: Config,
    sink: OnceLock<NamedDurationSink>,
}

impl<const SLOTS: usize> core::fmt::Debug for Registry<SLOTS> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Registry")
            .field("map", &self.map)
            .field("default", &self.default)
            .field("duration_sink", &self.sink.get().is_some())
            .finish()
    }
}

impl<const SLOTS: usize> Registry<SLOTS> {
    /// An empty registry whose [`get_or_create`](Self::get_or_create) uses `default`.
    ///
    /// # Errors
    /// `default` does not fit a `Breaker<SLOTS>`.
    pub fn new(default: Config) -> Result<Self, ConfigError> {
        ServiceBreaker::<SLOTS>::new(default)?;
        Ok(Registry {
            map: RwLock::new(HashMap::new()),
            default,
            sink: OnceLock::new(),
        })
    }

    /// Attaches `sink` to every breaker, now and created later: each then times its calls
    /// and reports those that ran to a success or a failure, with its name (how
    /// `OtelMetrics::time_calls` feeds `circuit_breaker.call.duration`). One sink per
    /// registry; a breaker that has a sink of its own keeps it.
    ///
    /// # Errors
    /// [`SinkTaken`]: the registry has a sink already, which stays.
    pub fn set_duration_sink(&self, sink: NamedDurationSink) -> Result<(), SinkTaken> {
        self.sink.set(sink).map_err(|_| SinkTaken)?;
        // Breakers are added under the write lock, after reading the sink: one added before
        // this lock was taken is here to attach, one added after attached it itself.
        for (name, b) in self.write().iter() {
            self.attach(name, b);
        }
        Ok(())
    }

    /// Gives `b` the registry's sink, under `name`, if there is one.
    fn attach(&self, name: &Arc<str>, b: &ServiceBreaker<SLOTS>) {
        if let Some(sink) = self.sink.get() {
            let (sink, name) = (sink.clone(), name.clone());
            // Err: `b` has a sink of its own, which it keeps.
            let _ = b.set_duration_sink(Arc::new(move |o, d| sink(&name, o, d)));
        }
    }

    /// Adds `b` as `name` (the write lock held), with the registry's sink.
    fn insert(
        &self,
        map: &mut Map<SLOTS>,
        name: &str,
        b: ServiceBreaker<SLOTS>,
    ) -> Arc<ServiceBreaker<SLOTS>> {
        let name: Arc<str> = Arc::from(name);
        self.attach(&name, &b);
        let b = Arc::new(b);
        map.insert(name, b.clone());
        b
    }

    /// The config [`get_or_create`](Self::get_or_create) uses.
    #[must_use]
    pub fn default_config(&self) -> Config {
        self.default
    }

    // A panic while the lock is held cannot leave the map half-updated (every write is one
    // `insert` or `remove`), so a poisoned lock is used as it is.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Map<SLOTS>> {
        self.map.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Map<SLOTS>> {
        self.map.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The breaker named `name`, if any.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<Arc<ServiceBreaker<SLOTS>>> {
        self.read().get(name).cloned()
    }

    /// The breaker named `name`, created with the default config if there is none.
    pub fn get_or_create(&self, name: &str) -> Arc<ServiceBreaker<SLOTS>> {
        if let Some(b) = self.get(name) {
            return b;
        }
        let mut map = self.write();
        if let Some(b) = map.get(name) {
            return b.clone();
        }
        // Validated in `new`.
        let b = ServiceBreaker::new(self.default).unwrap_or_else(|_| unreachable!());
        self.insert(&mut map, name, b)
    }

    /// The breaker named `name`, created with `config` if there is none (an existing one
    /// keeps its own config).
    ///
    /// # Errors
    /// `config` is invalid (checked only when a breaker is created).
    pub fn get_or_create_with(
        &self,
        name: &str,
        config: Config,
    ) -> Result<Arc<ServiceBreaker<SLOTS>>, ConfigError> {
        if let Some(b) = self.get(name) {
            return Ok(b);
        }
        let mut map = self.write();
        if let Some(b) = map.get(name) {
            return Ok(b.clone());
        }
        let b = ServiceBreaker::new(config)?;
        Ok(self.insert(&mut map, name, b))
    }

    /// Adds a breaker named `name` with `config`, replacing any breaker of that name (holders
    /// of the old one's `Arc` keep using it; it is no longer listed).
    ///
    /// # Errors
    /// `config` is invalid; the registry is then unchanged.
    pub fn register(
        &self,
        name: &str,
        config: Config,
    ) -> Result<Arc<ServiceBreaker<SLOTS>>, ConfigError> {
        let b = ServiceBreaker::new(config)?;
        Ok(self.insert(&mut self.write(), name, b))
    }

    /// Removes and returns the breaker named `name`.
    pub fn remove(&self, name: &str) -> Option<Arc<ServiceBreaker<SLOTS>>> {
        self.write().remove(name)
    }

    /// Number of breakers.
    #[must_use]
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// Every breaker with its name, sorted by name. The lock is held only to copy the `Arc`s.
    #[must_use]
    pub fn entries(&self) -> Vec<(Arc<str>, Arc<ServiceBreaker<SLOTS>>)> {
        let mut v: Vec<_> = self
            .read()
            .iter()
            .map(|(k, b)| (k.clone(), b.clone()))
            .collect();
        v.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// The names, sorted.
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.read().keys().map(|k| k.to_string()).collect();
        v.sort_unstable();
        v
    }

    /// A [`Snapshot`] of every breaker at `now`, sorted by name.
    #[must_use]
    pub fn stats(&self, now: impl Clock) -> Vec<(String, Snapshot)> {
        let now = now.now();
        self.entries()
            .into_iter()
            .map(|(name, b)| (name.to_string(), b.snapshot(now)))
            .collect()
    }

    /// Resets every breaker (see [`Breaker::reset`](crate::Breaker::reset)) and returns the
    /// transitions, sorted by name.
    pub fn reset_all(&self, now: impl Clock) -> Vec<(String, Transition)> {
        let now = now.now();
        self.entries()
            .into_iter()
            .map(|(name, b)| (name.to_string(), b.reset(now)))
            .collect()
    }

    /// How many breakers are in each state at `now`.
    #[must_use]
    pub fn health(&self, now: impl Clock) -> Health {
        let now = now.now();
        let mut h = Health::default();
        for b in self.read().values() {
            h.add(b.state(now));
        }
        h
    }
}
