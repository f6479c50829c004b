//! Any bit pattern is a state (DESIGN.md's invariants, issue "no panic from any memory
//! content"): random configs and operations with random bytes of the live breaker
//! overwritten between them. Nothing may panic or hang, every figure stays in range, and a
//! reset makes the breaker itself again. The cargo-fuzz target `corrupt` runs the same
//! driver under coverage guidance (`make test-fuzz`).

use cbreaker_conformance::corrupt::{Report, run};

/// A small deterministic generator, so every run checks the same rounds.
fn rounds(n: usize, mut seed: u64) -> impl Iterator<Item = Vec<u8>> {
    (0..n).map(move |_| {
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let len = 40 + (next() % 400) as usize;
        (0..len).map(|_| next() as u8).collect()
    })
}

#[test]
fn corrupted_memory_never_panics_and_resets_clean() {
    let mut total = Report::default();
    for (i, data) in rounds(20_000, 0x2545_F491_4F6C_DD1D).enumerate() {
        match run(&data) {
            Ok(r) => {
                total.operations += r.operations;
                total.corrupted_bytes += r.corrupted_bytes;
                total.repairs += r.repairs;
            }
            Err(e) => panic!("round {i}: {e}\n  input: {data:?}"),
        }
    }
    println!(
        "20000 rounds: {} operations, {} bytes overwritten, {} repairs, no panic",
        total.operations, total.corrupted_bytes, total.repairs
    );
    assert!(total.corrupted_bytes > 100_000, "{total:?}");
    assert!(total.repairs > 0, "no round was ever repaired: {total:?}");
}
