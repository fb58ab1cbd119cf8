//! Unit tests of the login throttle: lockouts per name and address, doubling, success, and
//! attempts in flight counting toward the limit.

use super::*;

fn at(minutes: i64) -> Timestamp {
    Timestamp::UNIX_EPOCH + SignedDuration::from_mins(minutes)
}

/// One failed attempt; whether it locked the name or address. Panics if it was refused.
fn fail(
    throttle: &Arc<LoginThrottle>,
    login: &str,
    address: Option<IpAddr>,
    limits: &ConsoleLimits,
    now: Timestamp,
) -> bool {
    throttle
        .begin(login, address, limits, now)
        .expect("attempt admitted")
        .failed(limits, now)
}

#[test]
fn a_name_is_locked_after_its_failures_and_the_lockout_doubles() {
    let limits = ConsoleLimits {
        failures_per_name: 3,
        failures_per_address: 100,
        ..ConsoleLimits::default()
    };
    let throttle = Arc::new(LoginThrottle::default());
    let addr = Some(IpAddr::from([127, 0, 0, 1]));
    assert!(!fail(&throttle, "Erika", addr, &limits, at(0)));
    assert!(!fail(&throttle, "erika ", addr, &limits, at(0)));
    assert_eq!(throttle.locked("erika", addr, at(0)), None);
    assert!(fail(&throttle, "ERIKA", addr, &limits, at(1)));
    assert_eq!(
        throttle.locked("erika", None, at(1)),
        Some(SignedDuration::from_mins(15))
    );
    assert_eq!(
        throttle.begin("erika", None, &limits, at(1)).err(),
        Some(Refused::Locked(SignedDuration::from_mins(15)))
    );
    assert_eq!(throttle.locked("max", None, at(1)), None);
    assert_eq!(throttle.locked("erika", None, at(16)), None);
    for _ in 0..3 {
        fail(&throttle, "erika", addr, &limits, at(17));
    }
    assert_eq!(
        throttle.locked("erika", None, at(17)),
        Some(SignedDuration::from_mins(30))
    );
}

#[test]
fn an_address_is_locked_after_failures_under_many_names() {
    let limits = ConsoleLimits {
        failures_per_name: 100,
        failures_per_address: 4,
        ..ConsoleLimits::default()
    };
    let throttle = Arc::new(LoginThrottle::default());
    let addr = Some(IpAddr::from([10, 0, 0, 9]));
    for n in 0..4 {
        fail(&throttle, &format!("name{n}"), addr, &limits, at(0));
    }
    assert!(throttle.locked("someone-else", addr, at(0)).is_some());
    assert!(
        throttle
            .locked("someone-else", Some(IpAddr::from([10, 0, 0, 10])), at(0))
            .is_none()
    );
}

#[test]
fn success_clears_the_names_failures() {
    let limits = ConsoleLimits {
        failures_per_name: 2,
        ..ConsoleLimits::default()
    };
    let throttle = Arc::new(LoginThrottle::default());
    fail(&throttle, "erika", None, &limits, at(0));
    throttle
        .begin("erika", None, &limits, at(0))
        .expect("admitted")
        .succeeded();
    assert!(!fail(&throttle, "erika", None, &limits, at(0)));
}

#[test]
fn attempts_in_flight_count_toward_the_limit_until_their_outcome() {
    // Arrange: 3 guesses per name.
    let limits = ConsoleLimits {
        failures_per_name: 3,
        failures_per_address: 100,
        ..ConsoleLimits::default()
    };
    let throttle = Arc::new(LoginThrottle::default());
    fail(&throttle, "erika", None, &limits, at(0));

    // Act: parallel attempts while one failure is counted.
    let first = throttle.begin("erika", None, &limits, at(0)).expect("2nd");
    let second = throttle.begin("erika", None, &limits, at(0)).expect("3rd");
    let third = throttle.begin("erika", None, &limits, at(0));

    // Assert: the fourth guess is not admitted while two are in flight; once they fail,
    // the name is locked.
    assert_eq!(third.err(), Some(Refused::Busy));
    assert!(!first.failed(&limits, at(0)));
    assert!(second.failed(&limits, at(0)));
    assert!(matches!(
        throttle.begin("erika", None, &limits, at(0)),
        Err(Refused::Locked(_))
    ));
}

#[test]
fn an_abandoned_attempt_frees_its_place_and_counts_nothing() {
    let limits = ConsoleLimits {
        failures_per_name: 1,
        ..ConsoleLimits::default()
    };
    let throttle = Arc::new(LoginThrottle::default());
    let attempt = throttle.begin("erika", None, &limits, at(0)).expect("1st");
    assert_eq!(
        throttle.begin("erika", None, &limits, at(0)).err(),
        Some(Refused::Busy)
    );
    drop(attempt);
    assert!(fail(&throttle, "erika", None, &limits, at(0)));
}
