//! Live breakers by handle. The JS layer holds a handle (a small integer, so every JS engine
//! keeps it unboxed), not a wasm-bindgen object: such an object and its FinalizationRegistry
//! entry (with an unregister token) cost about 120 bytes of JS heap per breaker, a third of a
//! whole breaker. The JS layer registers its own breaker object without a token and frees the
//! handle when it is collected; a handle freed twice, or used after its free, finds no breaker
//! (its generation moved on), so the slot a later breaker reuses is never touched by it.

use std::cell::RefCell;

use crate::JsBreaker;

/// A handle: the slot index in the low 20 bits, its generation in the next 10 (< 2^30).
const INDEX_BITS: u32 = 20;
const INDEX_MASK: u32 = (1 << INDEX_BITS) - 1;
const GENERATION_MASK: u32 = (1 << 10) - 1;
/// The most breakers alive at once.
pub(crate) const MAX_LIVE: usize = 1 << INDEX_BITS;

struct Slot {
    generation: u32,
    breaker: Option<Box<JsBreaker>>,
}

struct Slab {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

thread_local! {
    // `const`: no lazy-initialisation check on the hot paths' every access.
    static SLAB: RefCell<Slab> = const {
        RefCell::new(Slab {
            slots: Vec::new(),
            free: Vec::new(),
        })
    };
}

/// Keeps `breaker`; its handle, or `None` when [`MAX_LIVE`] breakers are alive.
pub(crate) fn insert(breaker: JsBreaker) -> Option<u32> {
    SLAB.with_borrow_mut(|s| {
        let index = match s.free.pop() {
            Some(i) => i,
            None if s.slots.len() < MAX_LIVE => {
                s.slots.push(Slot {
                    generation: 0,
                    breaker: None,
                });
                (s.slots.len() - 1) as u32
            }
            None => return None,
        };
        let slot = &mut s.slots[index as usize];
        slot.breaker = Some(Box::new(breaker));
        Some(index | slot.generation << INDEX_BITS)
    })
}

/// Drops the breaker of `handle`; false if there is none (freed already).
pub(crate) fn remove(handle: u32) -> bool {
    SLAB.with_borrow_mut(|s| {
        let index = handle & INDEX_MASK;
        match s.slots.get_mut(index as usize) {
            Some(slot) if slot.generation == handle >> INDEX_BITS && slot.breaker.is_some() => {
                slot.breaker = None;
                slot.generation = (slot.generation + 1) & GENERATION_MASK;
                s.free.push(index);
                true
            }
            _ => false,
        }
    })
}

/// `f` on the breaker of `handle`, or `None` if it was freed. The slab stays borrowed while
/// `f` runs: the core calls no JS that could call back in (only `performance.now()`).
pub(crate) fn with<R>(handle: u32, f: impl FnOnce(&JsBreaker) -> R) -> Option<R> {
    SLAB.with_borrow(|s| {
        let slot = s.slots.get((handle & INDEX_MASK) as usize)?;
        if slot.generation != handle >> INDEX_BITS {
            return None;
        }
        slot.breaker.as_deref().map(f)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cbreaker::Config;

    fn breaker() -> JsBreaker {
        JsBreaker::from_config(Config::count(10)).unwrap()
    }

    #[test]
    fn a_freed_handle_finds_nothing_and_its_slot_is_reused_safely() {
        let a = insert(breaker()).unwrap();
        assert!(with(a, |_| ()).is_some());
        assert!(remove(a));
        assert!(!remove(a), "freed twice");
        assert!(with(a, |_| ()).is_none());
        let b = insert(breaker()).unwrap();
        assert_eq!(a & INDEX_MASK, b & INDEX_MASK, "the slot is reused");
        assert_ne!(a, b);
        assert!(!remove(a), "the old handle cannot free the new breaker");
        assert!(with(b, |_| ()).is_some());
        assert!(b < 1 << 30, "a small integer in JS");
    }
}
