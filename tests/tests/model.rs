//! Invariant 7 (sequential equivalence): random small configs and random operation sequences,
//! run on the core and on the reference model, must agree on every permit decision, permit
//! generation, retry-after, transition (from, to, at, generation, cause), state and full
//! snapshot, compared after every operation.
//!
//! Runs 4000 cases by default (about 20 s in debug on 2 cores). More:
//! `PROPTEST_CASES=100000 cargo test -p cbreaker-conformance --release --test model`.

use cbreaker::{Config, Millis, WindowKind};
use cbreaker_conformance::ops::{SeqOp, TimedOp, check_sequence};
use cbreaker_conformance::{ManualOp, OutcomeKind};
use proptest::prelude::*;

fn window() -> impl Strategy<Value = WindowKind> {
    prop_oneof![
        4 => (1u32..=12).prop_map(|size| WindowKind::Count { size }),
        4 => (1u32..=6, 1u64..=40)
            .prop_map(|(buckets, width)| WindowKind::Time { duration: Millis(width * u64::from(buckets)), buckets }),
        2 => Just(WindowKind::Consecutive),
    ]
}

fn percent() -> impl Strategy<Value = u8> {
    prop_oneof![Just(0u8), Just(50), Just(100), 1u8..=100]
}

fn config() -> impl Strategy<Value = Config> {
    let rules = (
        window(),
        percent(),
        prop_oneof![3 => Just(0u8), 2 => percent()],
        0u64..=30,
        0u32..=4,
        0u32..=14,
    );
    let backoff = (
        1u64..=120,
        prop_oneof![Just(0u64), 1u64..=600],
        prop_oneof![
            Just(1.0f64),
            Just(2.0),
            Just(1.5),
            (1000u32..=4000).prop_map(|m| f64::from(m) / 1000.0)
        ],
        prop_oneof![2 => Just(0u8), 1 => 0u8..=100],
        any::<u64>(),
    );
    let half_open = (1u32..=4, 1u32..=5, 1u64..=200);
    (rules, backoff, half_open).prop_map(
        |(
            (window, fr, sr, slow_ms, consecutive, min_calls),
            (open, max, mult, jitter, seed),
            (hmax, succ, wait),
        )| {
            let consecutive = if window == WindowKind::Consecutive {
                consecutive.max(1)
            } else {
                consecutive
            };
            Config {
                window,
                failure_rate_threshold: fr,
                slow_call_rate_threshold: sr,
                slow_call_duration: Millis(slow_ms),
                consecutive_failures: consecutive,
                minimum_calls: min_calls,
                open_duration: Millis(open),
                // Zero (no cap) or at least open_duration.
                open_duration_max: Millis(if max == 0 { 0 } else { open + max }),
                open_duration_multiplier: mult,
                jitter_percent: jitter,
                jitter_seed: seed,
                half_open_max_calls: hmax,
                success_threshold: succ,
                half_open_max_wait: Millis(wait),
            }
        },
    )
}

fn outcome() -> impl Strategy<Value = OutcomeKind> {
    prop_oneof![4 => Just(OutcomeKind::Failure), 4 => Just(OutcomeKind::Success), 1 => Just(OutcomeKind::Ignored)]
}

fn manual() -> impl Strategy<Value = ManualOp> {
    prop_oneof![
        Just(ManualOp::ForceOpen),
        Just(ManualOp::ForceClosed),
        Just(ManualOp::MetricsOnly),
        Just(ManualOp::Reset),
        Just(ManualOp::Trip),
        Just(ManualOp::HalfOpen),
    ]
}

fn op() -> impl Strategy<Value = SeqOp> {
    prop_oneof![
        8 => Just(SeqOp::Acquire),
        8 => (any::<usize>(), outcome(), prop_oneof![Just(None), (0u64..=40).prop_map(Some)])
            .prop_map(|(index, outcome, duration_ms)| SeqOp::Record { index, outcome, duration_ms }),
        2 => any::<usize>().prop_map(|index| SeqOp::Drop { index }),
        1 => Just(SeqOp::State),
        1 => Just(SeqOp::Snapshot),
        1 => manual().prop_map(SeqOp::Manual),
    ]
}

fn dt() -> impl Strategy<Value = i64> {
    prop_oneof![
        10 => Just(0i64),
        10 => 0i64..=60,
        2 => 60i64..=1000,
        1 => -300i64..0,
        1 => 1_000_000i64..=500_000_000,
    ]
}

fn timed_ops() -> impl Strategy<Value = Vec<TimedOp>> {
    prop::collection::vec((dt(), op()).prop_map(|(dt, op)| TimedOp { dt, op }), 1..120)
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn core_matches_reference_model(config in config(), start in 0u64..=2_000_000, ops in timed_ops()) {
        if let Err(e) = check_sequence(&config, start, &ops) {
            prop_assert!(false, "{e}\nconfig: {config:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() / 4, ..ProptestConfig::default() })]

    /// The fuzz target's decoder and check, on random bytes (stable, no libFuzzer).
    #[test]
    fn fuzz_decoder_on_random_bytes(data in prop::collection::vec(any::<u8>(), 0..600)) {
        cbreaker_conformance::ops::fuzz_one(&data);
    }
}

/// Generations count modulo 4096 on both sides: a permit held across exactly 4096
/// transitions is taken for a current one (docs/state-machine.md#limits), one held across
/// 4095 is stale.
#[test]
fn generation_wraps_at_4096() {
    use cbreaker_conformance::ops::snapshot_diff;
    use cbreaker_conformance::reference::Model;
    for resets in [4095u32, 4096, 4097] {
        let config = Config {
            minimum_calls: 100,
            ..Config::count(10)
        };
        let core: cbreaker::Breaker = cbreaker::Breaker::new(config).unwrap();
        let mut model = Model::new(&config).unwrap();
        let p = core.try_acquire(Millis(0)).unwrap().permit;
        let (q, _) = model.try_acquire(0).unwrap();
        for i in 0..resets {
            let t = core.reset(Millis(u64::from(i)));
            assert_eq!(t, model.manual(ManualOp::Reset, u64::from(i)));
        }
        core.record(p, cbreaker::Outcome::Failure, None, Millis(9999));
        model.record(q, OutcomeKind::Failure, None, 9999);
        let (c, m) = (core.snapshot(Millis(9999)), model.snapshot(9999));
        assert_eq!(
            snapshot_diff(&c, &m),
            None,
            "after {resets} resets: core {c:?}, model {m:?}"
        );
        assert_eq!(
            m.window_calls,
            u32::from(resets == 4096),
            "after {resets} resets"
        );
    }
}
