//! `heapless`: a fixed-capacity registry of named breakers for firmware. No allocator, no
//! lock: fill it at startup (`&mut self`), then share it by `&` (every breaker is `Sync`),
//! for example from a `static` built once with `static_cell` or in `main`.
//!
//! ```
//! use cbreaker::{Config, Millis, State, fixed_registry::FixedRegistry};
//!
//! // Up to 4 breakers, default window storage, names up to 16 bytes.
//! let mut reg: FixedRegistry<4, 32, 16> = FixedRegistry::new();
//! reg.register("modem", Config::consecutive(3)).unwrap();
//! reg.register("sensor", Config::count(16)).unwrap();
//! let modem = reg.get("modem").unwrap();
//! let p = modem.try_acquire(Millis(0)).unwrap().permit;
//! let _ = modem.record(p, cbreaker::Outcome::Success, None, Millis(1));
//! assert_eq!(reg.health(Millis(2)).count(State::Closed), 2);
//! assert_eq!(reg.names().collect::<heapless::Vec<_, 4>>(), ["modem", "sensor"]);
//! ```

use core::fmt;

use crate::breaker::Breaker;
use crate::config::Config;
use crate::error::ConfigError;
use crate::health::Health;
use crate::snapshot::Snapshot;
use crate::time::{Clock, Millis};

/// Why [`FixedRegistry::register`] refused a breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixedRegistryError {
    /// All `N` places are taken.
    Full,
    /// The name is longer than `NAME` bytes.
    NameTooLong,
    /// A breaker of that name exists.
    Exists,
    /// The config is invalid or does not fit `SLOTS`.
    Config(ConfigError),
}

impl fmt::Display for FixedRegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FixedRegistryError::Full => f.write_str("registry full"),
            FixedRegistryError::NameTooLong => f.write_str("breaker name too long"),
            FixedRegistryError::Exists => f.write_str("a breaker of that name exists"),
            FixedRegistryError::Config(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for FixedRegistryError {}

/// Up to `N` breakers of `SLOTS` window words each, named by strings of up to `NAME` bytes,
/// all stored inline. Lookups compare names linearly: meant for the handful of dependencies
/// a device has.
pub struct FixedRegistry<const N: usize, const SLOTS: usize = 32, const NAME: usize = 32> {
    entries: heapless::Vec<(heapless::String<NAME>, Breaker<SLOTS>), N>,
}

impl<const N: usize, const SLOTS: usize, const NAME: usize> Default
    for FixedRegistry<N, SLOTS, NAME>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, const SLOTS: usize, const NAME: usize> fmt::Debug
    for FixedRegistry<N, SLOTS, NAME>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, b)| (k.as_str(), b)))
            .finish()
    }
}

impl<const N: usize, const SLOTS: usize, const NAME: usize> FixedRegistry<N, SLOTS, NAME> {
    /// An empty registry.
    #[must_use]
    pub const fn new() -> Self {
        FixedRegistry {
            entries: heapless::Vec::new(),
        }
    }

    /// Adds a breaker named `name`.
    ///
    /// # Errors
    /// [`FixedRegistryError`]; the registry is then unchanged.
    pub fn register(
        &mut self,
        name: &str,
        config: Config,
    ) -> Result<&Breaker<SLOTS>, FixedRegistryError> {
        if self.get(name).is_some() {
            return Err(FixedRegistryError::Exists);
        }
        if self.entries.is_full() {
            return Err(FixedRegistryError::Full);
        }
        let key = heapless::String::try_from(name).map_err(|_| FixedRegistryError::NameTooLong)?;
        let breaker = Breaker::new(config).map_err(FixedRegistryError::Config)?;
        self.entries
            .push((key, breaker))
            .map_err(|_| FixedRegistryError::Full)?;
        Ok(&self.entries[self.entries.len() - 1].1)
    }

    /// The breaker named `name`, registered with `config` if there is none.
    ///
    /// # Errors
    /// As [`register`](Self::register), when it has to register.
    pub fn get_or_create(
        &mut self,
        name: &str,
        config: Config,
    ) -> Result<&Breaker<SLOTS>, FixedRegistryError> {
        match self.position(name) {
            Some(i) => Ok(&self.entries[i].1),
            None => self.register(name, config),
        }
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.entries.iter().position(|(k, _)| k.as_str() == name)
    }

    /// The breaker named `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Breaker<SLOTS>> {
        self.position(name).map(|i| &self.entries[i].1)
    }

    /// Removes the breaker named `name` (the others keep their order) and returns it.
    pub fn remove(&mut self, name: &str) -> Option<Breaker<SLOTS>> {
        let i = self.position(name)?;
        Some(self.entries.remove(i).1)
    }

    /// The names, in registration order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// Every breaker with its name, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Breaker<SLOTS>)> {
        self.entries.iter().map(|(k, b)| (k.as_str(), b))
    }

    /// Number of breakers.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A [`Snapshot`] of every breaker at `now`, in registration order.
    pub fn stats(&self, now: impl Clock) -> impl Iterator<Item = (&str, Snapshot)> {
        let now: Millis = now.now();
        self.iter().map(move |(k, b)| (k, b.snapshot(now)))
    }

    /// Resets every breaker; returns how many (each reset is one transition).
    pub fn reset_all(&self, now: impl Clock) -> usize {
        let now = now.now();
        for (_, b) in &self.entries {
            let _ = b.reset(now);
        }
        self.entries.len()
    }

    /// How many breakers are in each state at `now`.
    #[must_use]
    pub fn health(&self, now: impl Clock) -> Health {
        let now = now.now();
        let mut h = Health::default();
        for (_, b) in &self.entries {
            h.add(b.state(now));
        }
        h
    }
}
