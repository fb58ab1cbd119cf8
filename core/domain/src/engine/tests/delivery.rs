//! Delivery reports: the outbox state machine and its retry schedule.

use std::time::Duration;

use super::*;
use crate::channel::DeliveryError;
use crate::engine::{DeliveryReport, RetryPolicy};
use crate::outbox::DeliveryState;

/// A state with one pending message (the acknowledgement `OutboxId(1)`, created at FRIDAY).
fn one_pending(engine: &Engine) -> OfficeState {
    let mut state = OfficeState::default();
    ask(
        engine,
        &mut state,
        1,
        "Wann wird die Brücke saniert?",
        FRIDAY,
    );
    state
}

fn report(id: u64, result: Result<(), DeliveryError>) -> Input {
    Input::Delivered(vec![DeliveryReport {
        id: OutboxId(id),
        result,
    }])
}

fn transient() -> Result<(), DeliveryError> {
    Err(DeliveryError::Transient("timeout".to_owned()))
}

#[test]
fn a_delivery_report_moves_the_message_to_its_next_state() {
    struct Case {
        name: &'static str,
        earlier: Vec<Result<(), DeliveryError>>,
        result: Result<(), DeliveryError>,
        expected: fn(Timestamp) -> DeliveryState,
    }
    let cases = [
        Case {
            name: "delivered",
            earlier: vec![],
            result: Ok(()),
            expected: |now| DeliveryState::Delivered { at: now },
        },
        Case {
            name: "deferred until the citizen is back",
            earlier: vec![],
            result: Err(DeliveryError::Deferred),
            expected: |_| DeliveryState::Pending {
                attempts: 0,
                next_attempt_at: None,
                last_error: Some("recipient not connected".to_owned()),
            },
        },
        Case {
            name: "rate limited: wait as told, no attempt counted",
            earlier: vec![transient()],
            result: Err(DeliveryError::RetryAfter(Duration::from_secs(30))),
            expected: |now| DeliveryState::Pending {
                attempts: 1,
                next_attempt_at: Some(now + SignedDuration::from_secs(30)),
                last_error: Some("rate limited, retry after 30s".to_owned()),
            },
        },
        Case {
            name: "first transient failure",
            earlier: vec![],
            result: transient(),
            expected: |now| DeliveryState::Pending {
                attempts: 1,
                next_attempt_at: Some(now + SignedDuration::from_secs(2)),
                last_error: Some("timeout".to_owned()),
            },
        },
        Case {
            name: "third transient failure backs off exponentially",
            earlier: vec![
                transient(),
                Err(DeliveryError::RetryAfter(Duration::from_secs(5))),
                transient(),
            ],
            result: transient(),
            expected: |now| DeliveryState::Pending {
                attempts: 3,
                next_attempt_at: Some(now + SignedDuration::from_secs(8)),
                last_error: Some("timeout".to_owned()),
            },
        },
        Case {
            name: "delivered after failures",
            earlier: vec![transient(), Err(DeliveryError::Deferred)],
            result: Ok(()),
            expected: |now| DeliveryState::Delivered { at: now },
        },
        Case {
            name: "permanent failure",
            earlier: vec![transient()],
            result: Err(DeliveryError::Permanent("bot blocked by user".to_owned())),
            expected: |now| DeliveryState::Failed {
                at: now,
                reason: "bot blocked by user".to_owned(),
            },
        },
    ];
    for case in cases {
        // Arrange
        let engine = engine();
        let mut state = one_pending(&engine);
        for earlier in case.earlier {
            run(&engine, &mut state, report(1, earlier), FRIDAY);
        }
        let now = at(FRIDAY) + SignedDuration::from_mins(1);

        // Act
        let outcome = engine.handle(&mut state, report(1, case.result), now);

        // Assert
        let expected = (case.expected)(now);
        assert_eq!(outcome.result, Ok(Receipt::Done), "{}", case.name);
        let message = state.outbox_message(OutboxId(1)).expect("message");
        assert_eq!(message.state, expected, "{}", case.name);
        assert_eq!(
            outcome.changes,
            [Change::Outbox(message.clone())],
            "{}",
            case.name
        );
        let pending: Vec<OutboxId> = state.pending_outbox().map(|m| m.id).collect();
        let want: Vec<OutboxId> = if message.is_pending() {
            vec![OutboxId(1)]
        } else {
            vec![]
        };
        assert_eq!(pending, want, "{}", case.name);
    }
}

#[test]
fn transient_failures_give_up_after_max_attempts() {
    // Arrange
    let engine = engine_with(Policy {
        retry: RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        },
        ..Policy::default()
    });
    let mut state = one_pending(&engine);
    let now = at(FRIDAY);

    // Act
    let states: Vec<DeliveryState> = (0..3)
        .map(|_| {
            run(&engine, &mut state, report(1, transient()), FRIDAY);
            state
                .outbox_message(OutboxId(1))
                .expect("message")
                .state
                .clone()
        })
        .collect();

    // Assert
    assert_eq!(
        states,
        [
            DeliveryState::Pending {
                attempts: 1,
                next_attempt_at: Some(now + SignedDuration::from_secs(2)),
                last_error: Some("timeout".to_owned()),
            },
            DeliveryState::Pending {
                attempts: 2,
                next_attempt_at: Some(now + SignedDuration::from_secs(4)),
                last_error: Some("timeout".to_owned()),
            },
            DeliveryState::Failed {
                at: now,
                reason: "gave up after 3 attempts: timeout".to_owned(),
            },
        ]
    );
    assert_eq!(state.pending_outbox().count(), 0);
}

#[test]
fn the_default_schedule_retries_thirty_times_with_capped_exponential_backoff() {
    // Arrange
    let engine = engine();
    let policy = engine.policy().retry;
    let mut state = one_pending(&engine);
    let now = at(FRIDAY);

    // Act / Assert
    for attempt in 1..=29u32 {
        run(&engine, &mut state, report(1, transient()), FRIDAY);
        let delay = SignedDuration::try_from(policy.delay(attempt)).expect("delay fits");
        assert_eq!(
            state.outbox_message(OutboxId(1)).expect("message").state,
            DeliveryState::Pending {
                attempts: attempt,
                next_attempt_at: Some(now + delay),
                last_error: Some("timeout".to_owned()),
            },
            "attempt {attempt}"
        );
    }
    run(&engine, &mut state, report(1, transient()), FRIDAY);
    assert_eq!(
        state
            .outbox_message(OutboxId(1))
            .expect("message")
            .state
            .name(),
        "failed",
        "the thirtieth failure gives up"
    );
}

#[test]
fn retry_delay_doubles_from_the_base_up_to_the_maximum() {
    let policy = RetryPolicy::default();
    let cases: [(u32, u64); 9] = [
        (0, 2),
        (1, 2),
        (2, 4),
        (3, 8),
        (9, 512),
        (10, 600),
        (32, 600),
        (33, 600),
        (u32::MAX, 600),
    ];
    for (attempts, secs) in cases {
        assert_eq!(
            policy.delay(attempts),
            Duration::from_secs(secs),
            "after {attempts} failures"
        );
    }
}

#[test]
fn a_report_for_a_finished_or_unknown_message_changes_nothing() {
    struct Case {
        name: &'static str,
        finish: Result<(), DeliveryError>,
        id: u64,
        late: Result<(), DeliveryError>,
    }
    let cases = [
        Case {
            name: "delivered, then delivered again",
            finish: Ok(()),
            id: 1,
            late: Ok(()),
        },
        Case {
            name: "delivered, then a late failure",
            finish: Ok(()),
            id: 1,
            late: transient(),
        },
        Case {
            name: "failed, then delivered",
            finish: Err(DeliveryError::Permanent("blocked".to_owned())),
            id: 1,
            late: Ok(()),
        },
        Case {
            name: "unknown message",
            finish: Ok(()),
            id: 99,
            late: Ok(()),
        },
    ];
    for case in cases {
        // Arrange
        let engine = engine();
        let mut state = one_pending(&engine);
        run(&engine, &mut state, report(1, case.finish), FRIDAY);
        let before = dump(&state);

        // Act
        let outcome = engine.handle(
            &mut state,
            report(case.id, case.late),
            at(FRIDAY) + hours(1),
        );

        // Assert
        assert_eq!(outcome.result, Ok(Receipt::Done), "{}", case.name);
        assert_eq!(outcome.changes, [], "{}", case.name);
        assert_eq!(dump(&state), before, "{}", case.name);
    }
}

#[test]
fn a_batch_of_reports_updates_each_message() {
    // Arrange
    let engine = engine();
    let mut state = one_pending(&engine);
    ask(&engine, &mut state, 2, "Wo ist das Fundbüro?", FRIDAY);
    let now = at(FRIDAY) + hours(1);

    // Act
    let outcome = engine.handle(
        &mut state,
        Input::Delivered(vec![
            DeliveryReport {
                id: OutboxId(2),
                result: Err(DeliveryError::Deferred),
            },
            DeliveryReport {
                id: OutboxId(1),
                result: Ok(()),
            },
        ]),
        now,
    );

    // Assert
    assert_eq!(keys(&outcome.changes), [Key::Outbox(1), Key::Outbox(2)]);
    assert_eq!(
        state.outbox_message(OutboxId(1)).expect("message").state,
        DeliveryState::Delivered { at: now }
    );
    let pending: Vec<OutboxId> = state.pending_outbox().map(|m| m.id).collect();
    assert_eq!(pending, [OutboxId(2)]);
}

fn receipt(id: u64, receipt: crate::outbox::DeliveryReceipt) -> Input {
    Input::Receipts(vec![crate::engine::ReceiptReport {
        id: OutboxId(id),
        receipt,
    }])
}

#[test]
fn a_read_receipt_is_kept_with_the_message_and_an_older_received_does_not_undo_it() {
    use crate::outbox::{Confirmation, DeliveryReceipt};
    // Arrange
    let engine = engine();
    let mut state = one_pending(&engine);
    let sent = at(FRIDAY) + hours(1);
    engine.handle(&mut state, report(1, Ok(())), sent);
    let read = sent + hours(1);

    // Act
    let outcome = engine.handle(&mut state, receipt(1, DeliveryReceipt::Read), read);
    let late = engine.handle(
        &mut state,
        receipt(1, DeliveryReceipt::Received),
        read + hours(1),
    );

    // Assert
    assert_eq!(keys(&outcome.changes), [Key::Outbox(1)]);
    assert_eq!(late.changes, []);
    let message = state.outbox_message(OutboxId(1)).expect("message");
    assert_eq!(message.state, DeliveryState::Delivered { at: sent });
    assert_eq!(
        message.confirmed,
        Some(Confirmation {
            receipt: DeliveryReceipt::Read,
            at: read,
        })
    );
}

#[test]
fn a_receipt_that_overtakes_the_dispatchers_report_marks_the_message_delivered() {
    use crate::outbox::DeliveryReceipt;
    // Arrange
    let engine = engine();
    let mut state = one_pending(&engine);
    let now = at(FRIDAY) + hours(1);

    // Act
    engine.handle(&mut state, receipt(1, DeliveryReceipt::Received), now);
    let late_report = engine.handle(&mut state, report(1, Ok(())), now + hours(1));

    // Assert
    let message = state.outbox_message(OutboxId(1)).expect("message");
    assert_eq!(message.state, DeliveryState::Delivered { at: now });
    assert_eq!(late_report.changes, []);
    assert_eq!(state.pending_outbox().count(), 0);
}

#[test]
fn a_receipt_for_an_unknown_message_changes_nothing() {
    // Arrange
    let engine = engine();
    let mut state = one_pending(&engine);
    let before = dump(&state);

    // Act
    let outcome = engine.handle(
        &mut state,
        receipt(99, crate::outbox::DeliveryReceipt::Read),
        at(FRIDAY) + hours(1),
    );

    // Assert
    assert_eq!(outcome.changes, []);
    assert_eq!(dump(&state), before);
}
