//! Unit tests of the login throttle: lockouts per name and source, per address and per name
//! overall, doubling, success, known devices, unlocking, and attempts in flight counting
//! toward the limit.

use super::*;

fn at(minutes: i64) -> Timestamp {
    Timestamp::UNIX_EPOCH + SignedDuration::from_mins(minutes)
}

fn from(address: [u8; 4]) -> Caller {
    Caller {
        address: Some(IpAddr::from(address)),
        device: None,
    }
}

fn nowhere() -> Caller {
    Caller::default()
}

/// One failed attempt; whether it locked something. Panics if it was refused.
fn fail(
    throttle: &Arc<LoginThrottle>,
    login: &str,
    caller: &Caller,
    limits: &ConsoleLimits,
    now: Timestamp,
) -> bool {
    throttle
        .begin(login, caller, limits, now)
        .expect("attempt admitted")
        .failed(limits, now)
}

#[test]
fn a_name_is_locked_for_the_failing_address_and_the_lockout_doubles() {
    let limits = ConsoleLimits {
        failures_per_name: 3,
        failures_per_address: 100,
        ..ConsoleLimits::default()
    };
    let throttle = Arc::new(LoginThrottle::default());
    let addr = from([127, 0, 0, 1]);
    assert!(!fail(&throttle, "Erika", &addr, &limits, at(0)));
    assert!(!fail(&throttle, "erika ", &addr, &limits, at(0)));
    assert_eq!(throttle.locked("erika", &addr, at(0)), None);
    assert!(fail(&throttle, "ERIKA", &addr, &limits, at(1)));
    assert_eq!(
        throttle.locked("erika", &addr, at(1)),
        Some(SignedDuration::from_mins(15))
    );
    assert_eq!(
        throttle.begin("erika", &addr, &limits, at(1)).err(),
        Some(Refused::Locked(SignedDuration::from_mins(15)))
    );
    assert_eq!(throttle.locked("max", &addr, at(1)), None);
    assert_eq!(throttle.locked("erika", &addr, at(16)), None);
    for _ in 0..3 {
        fail(&throttle, "erika", &addr, &limits, at(17));
    }
    assert_eq!(
        throttle.locked("erika", &addr, at(17)),
        Some(SignedDuration::from_mins(30))
    );
}

#[test]
fn failures_from_one_address_do_not_lock_the_name_for_another() {
    let limits = ConsoleLimits {
        failures_per_name: 3,
        failures_per_address: 100,
        ..ConsoleLimits::default()
    };
    let throttle = Arc::new(LoginThrottle::default());
    for _ in 0..3 {
        fail(&throttle, "erika", &from([10, 6, 0, 1]), &limits, at(0));
    }

    assert!(
        throttle
            .locked("erika", &from([10, 6, 0, 1]), at(0))
            .is_some()
    );
    assert_eq!(throttle.locked("erika", &from([10, 7, 0, 1]), at(0)), None);
}

#[test]
fn a_name_guessed_from_many_addresses_is_locked_for_all_but_its_known_devices() {
    let limits = ConsoleLimits {
        failures_per_name: 2,
        failures_per_address: 100,
        ..ConsoleLimits::default()
    };
    let throttle = Arc::new(LoginThrottle::default());
    throttle.remember_device("erika", "geraet-1", at(0));
    let device = Caller {
        address: Some(IpAddr::from([10, 9, 0, 1])),
        device: Some("geraet-1".into()),
    };
    let foreign_device = Caller {
        device: Some("geraet-1".into()),
        ..from([10, 9, 0, 2])
    };
    let total = limits.failures_per_name * NAME_TOTAL_FACTOR;
    for i in 0..total {
        let address = [
            10,
            8,
            u8::try_from(i / 200).unwrap(),
            u8::try_from(i % 200).unwrap(),
        ];
        fail(&throttle, "erika", &from(address), &limits, at(0));
    }

    assert!(
        throttle
            .locked("erika", &from([10, 9, 9, 9]), at(0))
            .is_some()
    );
    assert_eq!(throttle.locked("erika", &device, at(0)), None);
    assert!(
        throttle.locked("max", &foreign_device, at(0)).is_none()
            && throttle.locked("erika", &foreign_device, at(0)).is_none(),
        "the device is Erika's"
    );
    assert!(throttle.knows_device("erika", "geraet-1"));
    assert!(!throttle.knows_device("max", "geraet-1"));
}

#[test]
fn a_device_of_another_member_counts_like_any_address() {
    let limits = ConsoleLimits {
        failures_per_name: 2,
        failures_per_address: 100,
        ..ConsoleLimits::default()
    };
    let throttle = Arc::new(LoginThrottle::default());
    throttle.remember_device("max", "geraet-max", at(0));
    let max_device = Caller {
        device: Some("geraet-max".into()),
        ..from([10, 1, 0, 1])
    };
    fail(&throttle, "erika", &from([10, 1, 0, 1]), &limits, at(0));
    fail(&throttle, "erika", &from([10, 1, 0, 1]), &limits, at(0));

    assert!(throttle.locked("erika", &max_device, at(0)).is_some());
}

#[test]
fn an_unlock_clears_every_lockout_of_the_name_but_not_of_addresses() {
    let limits = ConsoleLimits {
        failures_per_name: 2,
        failures_per_address: 4,
        ..ConsoleLimits::default()
    };
    let throttle = Arc::new(LoginThrottle::default());
    let attacker = from([10, 2, 0, 1]);
    fail(&throttle, "erika", &attacker, &limits, at(0));
    fail(&throttle, "erika", &attacker, &limits, at(0));
    fail(&throttle, "a", &attacker, &limits, at(0));
    fail(&throttle, "b", &attacker, &limits, at(0));

    let was_locked = throttle.unlock("Erika", at(1));

    assert!(was_locked);
    assert!(!throttle.unlock("erika", at(1)), "nothing locked any more");
    assert_eq!(throttle.locked("erika", &from([10, 2, 0, 2]), at(1)), None);
    assert!(
        throttle.locked("erika", &attacker, at(1)).is_some(),
        "the address guessing many names stays locked"
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
    let addr = from([10, 0, 0, 9]);
    for n in 0..4 {
        fail(&throttle, &format!("name{n}"), &addr, &limits, at(0));
    }
    assert!(throttle.locked("someone-else", &addr, at(0)).is_some());
    assert!(
        throttle
            .locked("someone-else", &from([10, 0, 0, 10]), at(0))
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
    fail(&throttle, "erika", &nowhere(), &limits, at(0));
    throttle
        .begin("erika", &nowhere(), &limits, at(0))
        .expect("admitted")
        .succeeded();
    assert!(!fail(&throttle, "erika", &nowhere(), &limits, at(0)));
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
    fail(&throttle, "erika", &nowhere(), &limits, at(0));

    // Act: parallel attempts while one failure is counted.
    let first = throttle
        .begin("erika", &nowhere(), &limits, at(0))
        .expect("2nd");
    let second = throttle
        .begin("erika", &nowhere(), &limits, at(0))
        .expect("3rd");
    let third = throttle.begin("erika", &nowhere(), &limits, at(0));

    // Assert: the fourth guess is not admitted while two are in flight; once they fail,
    // the name is locked.
    assert_eq!(third.err(), Some(Refused::Busy));
    assert!(!first.failed(&limits, at(0)));
    assert!(second.failed(&limits, at(0)));
    assert!(matches!(
        throttle.begin("erika", &nowhere(), &limits, at(0)),
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
    let attempt = throttle
        .begin("erika", &nowhere(), &limits, at(0))
        .expect("1st");
    assert_eq!(
        throttle.begin("erika", &nowhere(), &limits, at(0)).err(),
        Some(Refused::Busy)
    );
    drop(attempt);
    assert!(fail(&throttle, "erika", &nowhere(), &limits, at(0)));
}
