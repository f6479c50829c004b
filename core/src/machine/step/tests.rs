//! Every step against the rules of docs/state-machine.md, restated field by field, for
//! random words (any 32 bits: phases no state has, counters past any config) and inputs.

use super::*;
use crate::transition::splitmix64;

// A short form under miri, which runs this a thousand times slower.
const ROUNDS: u64 = if cfg!(miri) { 500 } else { 200_000 };

/// Random words and numbers, the same every run.
fn each(mut f: impl FnMut(Word, u64)) {
    let mut x = 0x5EED_u64;
    for _ in 0..ROUNDS {
        x = splitmix64(x);
        let r = splitmix64(x ^ 0xA5A5);
        // Half the words with a phase and counters in range, half any 32 bits.
        let w = if r & 1 == 0 {
            Word(x as u32)
        } else {
            let phase = (x as u32 & !7) | ((r as u32 >> 1) % 6);
            Word(phase)
        };
        f(w, r >> 8);
    }
}

/// `next` is `w` in a new generation (mod 4,096), with these fields.
fn entered(w: Word, next: Word, phase: State, k: u32, epoch_bump: u32) {
    assert_eq!(next.phase(), phase, "{w:?} -> {next:?}");
    assert_eq!(next.generation(), (w.generation() + 1) % 4096);
    assert_eq!(next.k(), k);
    assert_eq!(next.epoch(), (w.epoch() + epoch_bump) % 8);
}

#[test]
fn acquire_admits_rejects_or_takes_a_slot_as_the_rules_say() {
    each(|w, r| {
        let max = (r % 32) as u32;
        let left = if r & (1 << 6) == 0 {
            None
        } else {
            Some((r >> 7) % 3000)
        };
        let reads = acquire_reads(w, max);
        let step = acquire(w, max, left);
        match w.phase() {
            State::Closed | State::Disabled | State::MetricsOnly => {
                assert_eq!(reads, Reading::Nothing);
                assert_eq!(step, Step::Done(Ok(w.permit_bits())));
            }
            State::ForcedOpen => {
                assert_eq!(reads, Reading::Nothing);
                assert_eq!(step, Step::Done(Err((RejectReason::ForcedOpen, None))));
            }
            State::Open => {
                assert_eq!(reads, Reading::Deadline);
                match left {
                    Some(l) => assert_eq!(step, Step::Done(Err((RejectReason::Open, Some(l))))),
                    // Every slot held (a fleet member without a lease): no probe.
                    None if w.probes() >= max => assert_eq!(
                        step,
                        Step::Done(Err((RejectReason::HalfOpenFull, Some(1000))))
                    ),
                    None => {
                        let Step::Write(next, after) = step else {
                            panic!("{w:?}")
                        };
                        entered(w, next, State::HalfOpen, w.k(), 0);
                        assert_eq!(
                            (next.probes(), next.successes()),
                            (w.probes() + 1, 0),
                            "the held slots stay taken, this call takes one more"
                        );
                        assert_eq!(after, After::Start(Some(Cause::OpenElapsed)));
                    }
                }
            }
            State::HalfOpen if w.probes() < max => {
                assert_eq!(reads, Reading::Nothing);
                let Step::Write(next, after) = step else {
                    panic!("{w:?}")
                };
                assert_eq!(next.permit_bits(), w.permit_bits(), "same generation");
                assert_eq!(
                    (next.probes(), next.successes()),
                    (w.probes() + 1, w.successes())
                );
                assert_eq!(after, After::Nothing);
            }
            State::HalfOpen => {
                assert_eq!(reads, Reading::Reclaim);
                match left {
                    Some(l) => assert_eq!(
                        step,
                        Step::Done(Err((RejectReason::HalfOpenFull, Some(l.min(1000)))))
                    ),
                    None => {
                        let Step::Write(next, after) = step else {
                            panic!("{w:?}")
                        };
                        entered(w, next, State::HalfOpen, w.k(), 0);
                        // A reclaim: one slot (the caller's), the successes kept, no event.
                        assert_eq!((next.probes(), next.successes()), (1, w.successes()));
                        assert_eq!((after, after.cause()), (After::Start(None), None));
                    }
                }
            }
        }
    });
}

#[test]
fn probe_outcomes_close_reopen_or_free_their_slot_as_the_rules_say() {
    each(|w, r| {
        // `record` asks only for half-open permits: mostly words of that phase, then.
        let w = if r & (1 << 12) == 0 {
            Word((w.0 & !7) | 2)
        } else {
            w
        };
        let outcome = [Outcome::Success, Outcome::Failure, Outcome::Ignored][(r % 3) as usize];
        let slow = r & (1 << 4) != 0;
        let threshold = ((r >> 5) % 32) as u32;
        // Half the permits of the word's own generation, half of any half-open one.
        let p = if r & (1 << 10) == 0 && w.phase() == State::HalfOpen {
            w.permit_bits()
        } else {
            ((r >> 13) as u32 & 0x3F_FFF8) | 2
        };
        let step = probe(w, p, outcome, slow, threshold);
        if p != w.permit_bits() {
            assert_eq!(step, Step::Done(()), "stale");
            return;
        }
        let Step::Write(next, after) = step else {
            panic!("{w:?}")
        };
        let k1 = (w.k() + 1).min(15);
        let (probes, succ) = (w.probes(), w.successes());
        match outcome {
            Outcome::Ignored => {
                assert_eq!(next.permit_bits(), w.permit_bits());
                assert_eq!(
                    (next.probes(), next.successes()),
                    (probes.saturating_sub(1), succ)
                );
                assert_eq!(after, After::Nothing);
            }
            Outcome::Failure => {
                entered(w, next, State::Open, k1, 0);
                assert_eq!(after, After::Deadline(Cause::ProbeFailed));
            }
            Outcome::Success if slow => {
                entered(w, next, State::Open, k1, 0);
                assert_eq!(after, After::Deadline(Cause::ProbeSlow));
            }
            Outcome::Success if succ + 1 >= threshold => {
                entered(w, next, State::Closed, 0, 1);
                assert_eq!(after, After::Clear(Cause::ProbesSucceeded));
            }
            Outcome::Success => {
                assert_eq!(next.permit_bits(), w.permit_bits());
                assert_eq!(
                    (next.probes(), next.successes()),
                    (probes.saturating_sub(1), succ + 1)
                );
                assert_eq!(after, After::Nothing);
            }
        }
        if next.phase() != w.phase() {
            assert_eq!(
                (next.probes(), next.successes()),
                (0, 0),
                "a new phase starts empty"
            );
        }
    });
}

#[test]
fn manual_moves_are_one_transition_from_any_word() {
    let moves = [
        (Move::ForceOpen, State::ForcedOpen, Cause::ForceOpen),
        (Move::ForceClosed, State::Disabled, Cause::ForceClosed),
        (Move::MetricsOnly, State::MetricsOnly, Cause::MetricsOnly),
        (Move::Reset, State::Closed, Cause::Reset),
        (Move::Trip, State::Open, Cause::Trip),
        (Move::HalfOpen, State::HalfOpen, Cause::HalfOpen),
    ];
    each(|w, r| {
        let (m, to, cause) = moves[(r % 6) as usize];
        let Step::Write(next, after) = manual(w, m);
        let k = match m {
            Move::Reset => 0,
            Move::Trip => match w.phase() {
                State::Closed | State::Disabled | State::MetricsOnly => 0,
                State::Open | State::HalfOpen | State::ForcedOpen => (w.k() + 1).min(15),
            },
            _ => w.k(),
        };
        entered(w, next, to, k, u32::from(m == Move::Reset));
        assert_eq!((next.probes(), next.successes()), (0, 0));
        assert_eq!(after.cause(), Some(cause));
        let expected = match m {
            Move::Reset => After::Clear(cause),
            Move::Trip => After::Deadline(cause),
            Move::HalfOpen => After::Start(Some(cause)),
            _ => After::Event(cause),
        };
        assert_eq!(after, expected);
    });
}

#[test]
fn one_attempt_steps_write_only_the_word_they_were_decided_on() {
    each(|w, r| {
        let other = Word(w.0 ^ (1 + (r as u32 % 0xFFFF_FFFE)));
        let cause = [
            Cause::FailureRate,
            Cause::SlowCallRate,
            Cause::ConsecutiveFailures,
        ][(r % 3) as usize];
        let Step::Write(next, after) = rule_trip(w, w, w.permit_bits(), cause) else {
            panic!("{w:?}")
        };
        entered(w, next, State::Open, 0, 0);
        assert_eq!(after, After::Deadline(cause));
        assert_eq!(rule_trip(other, w, w.permit_bits(), cause), Step::Done(()));
        let p = w.permit_bits() ^ ((1 + (r as u32 >> 8) % 0x3F_FFFE) & 0x3F_FFFF);
        if p != w.permit_bits() {
            assert_eq!(
                rule_trip(w, w, p, cause),
                Step::Done(()),
                "another generation"
            );
        }
        let Step::Write(next, after) = repair(w, w) else {
            panic!("{w:?}")
        };
        entered(w, next, State::Closed, 0, 1);
        assert_eq!(after, After::Clear(Cause::Repaired));
        assert_eq!(repair(other, w), Step::Done(()));
    });
}

#[test]
fn adoptions_are_one_transition_into_the_fleets_state_with_its_held_slots() {
    each(|w, r| {
        let max = 1 + (r as u32 % 31);
        let state = State::ALL[(r >> 5) as usize % 6];
        let target = Target {
            state,
            k: (r >> 8) as u32 % 16,
            held: (r >> 12) as u32 % 40,
        };
        let Step::Write(next, after) = adopt(w, target, max);
        assert_eq!(after.cause(), Some(Cause::Fleet));
        let held = target.held.min(max);
        match state {
            State::Open => {
                entered(w, next, State::Open, target.k, 0);
                assert_eq!((next.probes(), next.successes()), (held, 0));
                assert_eq!(after, After::Until(Cause::Fleet));
            }
            State::HalfOpen => {
                entered(w, next, State::HalfOpen, target.k, 0);
                assert_eq!((next.probes(), next.successes()), (held, 0));
                assert_eq!(after, After::Start(Some(Cause::Fleet)));
            }
            State::Closed => {
                entered(w, next, State::Closed, 0, 1);
                assert_eq!(after, After::Clear(Cause::Fleet));
            }
            _ => {
                entered(w, next, state, w.k(), 0);
                assert_eq!((next.probes(), next.successes()), (0, 0));
                assert_eq!(after, After::Event(Cause::Fleet));
            }
        }
    });
}

#[test]
fn releases_free_held_slots_of_their_own_open_or_half_open_generation_only() {
    each(|w, r| {
        let n = r as u32 % 40;
        let own = release(w, w.generation(), n);
        match w.phase() {
            State::Open | State::HalfOpen => {
                let left = w.probes().saturating_sub(n);
                if left == w.probes() {
                    assert_eq!(own, Step::Done(true));
                } else {
                    assert_eq!(
                        own,
                        Step::Write(w.with_probes(left, w.successes()), After::Nothing)
                    );
                }
            }
            _ => assert_eq!(own, Step::Done(false)),
        }
        let other = (w.generation() + 1 + (r >> 8) as u32 % 4095) % 4096;
        assert_eq!(
            release(w, other, n),
            Step::Done(false),
            "another generation"
        );
    });
}
