use crate::{Breaker, Config, Millis, Outcome, State};

#[test]
fn trips_and_recovers() {
    let b: Breaker = Breaker::new(Config { minimum_calls: 4, open_duration: Millis(1000), ..Config::count(10) }).unwrap();
    let mut events = 0;
    for t in 0..4 {
        let p = b.try_acquire(Millis(t)).unwrap().permit;
        events += b.record(p, Outcome::Failure, None, Millis(t)).is_some() as u32;
    }
    assert_eq!(events, 1);
    assert_eq!(b.state(Millis(10)), State::Open);
    assert_eq!(b.try_acquire(Millis(10)).unwrap_err().retry_after, Some(Millis(993)));
    let a = b.try_acquire(Millis(1003)).unwrap();
    assert_eq!(a.transition.unwrap().to, State::HalfOpen);
    let tr = b.record(a.permit, Outcome::Success, None, Millis(1004)).unwrap();
    assert_eq!((tr.from, tr.to), (State::HalfOpen, State::Closed));
    let s = b.snapshot(Millis(1005));
    assert_eq!((s.calls, s.failures, s.rejected, s.window_calls), (5, 4, 1, 0));
}
