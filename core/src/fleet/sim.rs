//! A fleet store in memory that does what the two Redis scripts do, step for step: the
//! conformance vectors run members against it with a server clock of their choosing, and its
//! tests hold it to the scripts' text (docs/fleet.md).

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::driver::{Store, SyncAnswer, SyncRequest};

/// What the record key holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Held {
    /// A string (a record, or garbage).
    Text(String),
    /// A key of another type (`list`, `hash`, ...).
    Other(String),
}

/// The simulated store's error: it is down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Down;

/// A simulated fleet store.
///
/// ```
/// use cbreaker::fleet::sim::SimStore;
/// let mut store = SimStore::new(1_000_000);
/// store.now = 1_000_050;
/// assert_eq!(store.record_text(), None);
/// ```
#[derive(Clone, Debug, Default)]
pub struct SimStore {
    /// The server's clock (ms): the runner moves it.
    pub now: u64,
    /// Down: every round trip fails.
    pub down: bool,
    /// The next this many syncs are applied, but their answers are lost (a timeout after
    /// the server ran the script).
    pub lose_replies: u32,
    record: Option<Held>,
    counts: BTreeMap<String, u64>,
    seqs: BTreeMap<String, u64>,
    trips: BTreeMap<String, u64>,
    members: BTreeMap<String, u64>,
    leases: BTreeMap<String, u64>,
    log: Vec<String>,
}

impl SimStore {
    /// An empty store whose clock reads `now`.
    #[must_use]
    pub fn new(now: u64) -> SimStore {
        SimStore {
            now,
            ..SimStore::default()
        }
    }

    /// Empties it (a restart with no persistence).
    pub fn wipe(&mut self) {
        *self = SimStore::new(self.now);
    }

    /// Overwrites the record's key: `Text` garbage, or a key of another type.
    pub fn overwrite(&mut self, held: Held) {
        self.record = Some(held);
    }

    /// The record's text, if the key holds a string.
    #[must_use]
    pub fn record_text(&self) -> Option<&str> {
        match &self.record {
            Some(Held::Text(t)) => Some(t),
            _ => None,
        }
    }

    /// What happens to the store, by the fleet vectors' name: `down`, `up`, `wipe`,
    /// `garbage`, `wrong_type`, `lose_reply` (tests/vectors/fleet/README.md). `false` for a
    /// name that is none of them.
    pub fn happen(&mut self, event: &str) -> bool {
        match event {
            "down" => self.down = true,
            "up" => self.down = false,
            "wipe" => self.wipe(),
            "garbage" => self.overwrite(Held::Text("garbage".into())),
            "wrong_type" => self.overwrite(Held::Other("list".into())),
            "lose_reply" => self.lose_replies += 1,
            _ => return false,
        }
        true
    }

    /// The fleet's log, oldest first.
    #[must_use]
    pub fn log(&self) -> Vec<String> {
        self.log.iter().rev().cloned().collect()
    }

    /// The window outcomes `[successes, failures]` of fleet generation `generation` (every
    /// second the store keeps).
    #[must_use]
    pub fn window(&self, generation: u64) -> [u64; 2] {
        let prefix = format!("w.{generation}.");
        let mut sums = [0; 2];
        for (f, n) in &self.counts {
            match f
                .strip_prefix(&prefix)
                .and_then(|rest| rest.rsplit('.').next())
            {
                Some("s") => sums[0] += n,
                Some("f") => sums[1] += n,
                _ => {}
            }
        }
        sums
    }

    /// The leases held, by name.
    #[must_use]
    pub fn leases(&self) -> Vec<String> {
        self.leases.keys().cloned().collect()
    }

    fn held_text(&self) -> (bool, String) {
        match &self.record {
            None => (false, String::new()),
            Some(Held::Text(t)) => (true, t.clone()),
            Some(Held::Other(kind)) => (true, format!("!{kind}")),
        }
    }
}

impl Store for SimStore {
    type Error = Down;

    fn sync(&mut self, r: &SyncRequest<'_>) -> Result<SyncAnswer, Down> {
        if self.down {
            return Err(Down);
        }
        let now = self.now;
        let (has, record) = self.held_text();
        let mut acked = self.seqs.get(r.member).copied().unwrap_or(0);
        let other = record.starts_with("cb1 ") && !record.starts_with(r.prefix);
        if !other {
            let mut last = acked;
            for (d, age) in r.deltas {
                if d.seq <= acked {
                    continue;
                }
                if *age < r.window_ms {
                    let at = now.saturating_sub(*age);
                    let field = if d.probe {
                        format!("p.{}.", d.generation)
                    } else {
                        format!("w.{}.{}.", d.generation, at / 1000)
                    };
                    for (k, n) in [
                        ("s", d.counts.successes),
                        ("f", d.counts.failures),
                        ("w", d.counts.slow),
                    ] {
                        if n > 0 {
                            *self.counts.entry(format!("{field}{k}")).or_default() += n;
                        }
                    }
                    if d.tripped {
                        self.trips
                            .insert(format!("{}.{}", d.generation, r.member), at);
                    }
                }
                last = last.max(d.seq);
            }
            if last > acked {
                self.seqs.insert(r.member.to_string(), last);
                acked = last;
            }
        }
        let oldest = now.saturating_sub(r.window_ms) / 1000;
        self.counts.retain(|f, _| match f.strip_prefix("w.") {
            Some(rest) => rest
                .split('.')
                .nth(1)
                .and_then(|s| s.parse::<u64>().ok())
                .is_none_or(|sec| sec > oldest),
            None => true,
        });
        let cutoff = now.saturating_sub(r.window_ms);
        self.trips.retain(|_, t| *t >= cutoff);
        self.members.insert(r.member.to_string(), now);
        let ttl = now.saturating_sub(r.member_ttl_ms);
        self.members.retain(|_, t| *t >= ttl);
        self.leases.retain(|_, expiry| *expiry > now);
        let mine_prefix = format!("{}#", r.member);
        let mut mine: Vec<String> = self
            .leases
            .keys()
            .filter(|l| l.starts_with(&mine_prefix))
            .cloned()
            .collect();
        if has && record == r.following {
            let want = r.lease.want as usize;
            let mut free = (r.max_leases as usize).saturating_sub(self.leases.len());
            let mut i = 1;
            while r.lease.renew && mine.len() < want && free > 0 {
                let name = format!("{}{i}", mine_prefix);
                if !self.leases.contains_key(&name) {
                    self.leases.insert(name.clone(), now + r.lease_ms);
                    mine.push(name);
                    free -= 1;
                }
                i += 1;
            }
            while mine.len() > want {
                if let Some(l) = mine.pop() {
                    self.leases.remove(&l);
                }
            }
            if r.lease.renew {
                for l in &mine {
                    self.leases.insert(l.clone(), now + r.lease_ms);
                }
            }
        }
        if self.lose_replies > 0 {
            self.lose_replies -= 1;
            return Err(Down);
        }
        Ok(SyncAnswer {
            server_now: now,
            record: has.then_some(record),
            acked,
            leases: mine.len() as u32,
            members: self.members.len() as u32,
            counts: self.counts.iter().map(|(f, n)| (f.clone(), *n)).collect(),
            trips: self.trips.keys().cloned().collect(),
        })
    }

    fn read(&mut self) -> Result<(Option<String>, u64), Down> {
        if self.down {
            return Err(Down);
        }
        let (has, text) = self.held_text();
        Ok((has.then_some(text), self.now))
    }

    fn transition(
        &mut self,
        expected: &str,
        next: &str,
        log: &str,
    ) -> Result<(bool, String), Down> {
        if self.down {
            return Err(Down);
        }
        let (_, found) = self.held_text();
        if found != expected {
            return Ok((false, found));
        }
        self.record = Some(Held::Text(next.to_string()));
        self.leases.clear();
        self.counts.retain(|f, _| !f.starts_with("p."));
        // Newest first and the last 1,000 kept, as LPUSH + LTRIM do.
        self.log.insert(0, log.to_string());
        self.log.truncate(1000);
        Ok((true, next.to_string()))
    }
}
