//! The session clock: sessions open and close as time passes, and hand their open
//! questions to the citizens' office when they end.

use super::*;
use crate::question::{EntryKind, QuestionStatus, Queue};
use crate::session::SessionStatus;

#[test]
fn ticks_move_a_session_through_its_lifecycle() {
    struct Case {
        name: &'static str,
        now: &'static str,
        status: SessionStatus,
        changed: bool,
    }
    let cases = [
        Case {
            name: "before the start",
            now: "2026-12-01T15:59:59Z",
            status: SessionStatus::Scheduled,
            changed: false,
        },
        Case {
            name: "at the start",
            now: SESSION_START,
            status: SessionStatus::Live,
            changed: true,
        },
        Case {
            name: "during the session",
            now: DURING_SESSION,
            status: SessionStatus::Live,
            changed: true,
        },
        Case {
            name: "a second before the end",
            now: "2026-12-01T16:59:59Z",
            status: SessionStatus::Live,
            changed: true,
        },
        Case {
            name: "at the end",
            now: SESSION_END,
            status: SessionStatus::Closed,
            changed: true,
        },
        Case {
            name: "long after the end",
            now: "2026-12-24T12:00:00Z",
            status: SessionStatus::Closed,
            changed: true,
        },
    ];
    for case in cases {
        // Arrange
        let engine = engine();
        let mut state = OfficeState::default();
        let id = add_session(&engine, &mut state, draft(), FRIDAY);

        // Act
        let outcome = engine.handle(&mut state, Input::Tick, at(case.now));

        // Assert
        assert_eq!(outcome.result, Ok(Receipt::Done), "{}", case.name);
        assert_eq!(
            state.session(id).expect("session").status,
            case.status,
            "{}",
            case.name
        );
        let expected = if case.changed {
            vec![Key::Session(1)]
        } else {
            vec![]
        };
        assert_eq!(keys(&outcome.changes), expected, "{}", case.name);
    }
}

#[test]
fn a_tick_with_nothing_due_changes_nothing() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    add_session(&engine, &mut state, draft(), FRIDAY);
    run(&engine, &mut state, Input::Tick, SESSION_START);

    // Act
    let again = engine.handle(&mut state, Input::Tick, at(DURING_SESSION));

    // Assert
    assert_eq!((again.result, again.changes), (Ok(Receipt::Done), vec![]));
}

#[test]
fn closing_a_session_hands_each_open_question_to_the_office_with_a_notice() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let session = add_session(&engine, &mut state, draft(), FRIDAY);
    let answered = ask(&engine, &mut state, 1, "Erste Frage", DURING_SESSION);
    let withdrawn = ask(&engine, &mut state, 2, "Zweite Frage", DURING_SESSION);
    let open = ask(&engine, &mut state, 3, "Dritte Frage", DURING_SESSION);
    let english = ask_input(
        &engine,
        &mut state,
        says_in(4, Lang::En, "Fourth question"),
        at(DURING_SESSION),
    );
    run(
        &engine,
        &mut state,
        answer(answered.question, "Ja."),
        DURING_SESSION,
    );
    run(
        &engine,
        &mut state,
        says(2, "/zurueckziehen"),
        DURING_SESSION,
    );
    let untouched = [
        question(&state, answered.question).clone(),
        question(&state, withdrawn.question).clone(),
    ];
    let next_outbox = state.counters().next_outbox;

    // Act
    let outcome = engine.handle(&mut state, Input::Tick, at(SESSION_END));

    // Assert
    assert_eq!(
        state.session(session).expect("session").status,
        SessionStatus::Closed
    );
    assert_eq!(state.session_queue(session).count(), 0);
    for (n, asked, notice) in [
        (
            3,
            open,
            "Die Sprechstunde „Bürgersprechstunde“ ist beendet. Ihr Anliegen A-1003 konnte dort \
             nicht mehr beantwortet werden. Wir haben es an das Bürgerreferat weitergeleitet; Sie \
             erhalten bis spätestens Dienstag, 8. Dezember 2026 eine Antwort.",
        ),
        (
            4,
            english,
            "The office hours \"Bürgersprechstunde\" have ended before your question A-1004 could \
             be answered. We have forwarded it to the citizens' office; you will receive an answer \
             by Tuesday, 8 December 2026 at the latest.",
        ),
    ] {
        let q = question(&state, asked.question);
        assert_eq!(
            (q.queue, q.status),
            (Queue::CitizensOffice, QuestionStatus::Open),
            "citizen {n}"
        );
        assert_eq!(
            (q.due, q.updated_at),
            (Some(day(2026, 12, 8)), at(SESSION_END)),
            "citizen {n}"
        );
        assert_eq!(state.queue_position(asked.question), None, "citizen {n}");
        let sent = last_sent(&state, n);
        assert_eq!(sent.text, notice, "citizen {n}");
        assert_eq!(sent.question, Some(asked.question), "citizen {n}");
        let last = q.entries.last().expect("entries");
        assert_eq!(
            (&last.kind, last.outbox),
            (&EntryKind::System, Some(sent.id)),
            "citizen {n}"
        );
    }
    assert_eq!(question(&state, answered.question), &untouched[0]);
    assert_eq!(question(&state, withdrawn.question), &untouched[1]);
    assert_eq!(
        keys(&outcome.changes),
        [
            Key::Session(1),
            Key::Question(3),
            Key::Question(4),
            Key::Outbox(next_outbox),
            Key::Outbox(next_outbox + 1),
            Key::Counters,
            // The answered question makes a draft summary for the press office.
            Key::Summary(1),
        ]
    );
}

#[test]
fn any_input_brings_the_sessions_up_to_date_first() {
    // Arrange: nobody ticked at the end of the session.
    let engine = engine();
    let mut state = OfficeState::default();
    let session = add_session(&engine, &mut state, draft(), FRIDAY);
    let live = ask(&engine, &mut state, 1, "Erste Frage", DURING_SESSION);

    // Act
    let outcome = engine.handle(
        &mut state,
        says(2, "Zweite Frage"),
        at("2026-12-01T17:05:00Z"),
    );

    // Assert
    assert!(
        matches!(
            outcome.result,
            Ok(Receipt::Question {
                intake: Intake::New(Queue::CitizensOffice),
                ..
            })
        ),
        "{:?}",
        outcome.result
    );
    assert_eq!(
        state.session(session).expect("session").status,
        SessionStatus::Closed
    );
    assert_eq!(question(&state, live.question).queue, Queue::CitizensOffice);
    let changed = keys(&outcome.changes);
    assert!(changed.contains(&Key::Session(1)), "{changed:?}");
    assert!(changed.contains(&Key::Question(1)), "{changed:?}");
    assert!(changed.contains(&Key::Question(2)), "{changed:?}");
}

#[test]
fn a_session_created_for_a_window_already_past_is_refused() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let past = SessionDraft {
        starts_at: at(FRIDAY) - hours(48),
        ends_at: at(FRIDAY) - hours(47),
        ..draft()
    };

    // Act
    let outcome = engine.handle(
        &mut state,
        by_staff(StaffAction::Session(SessionAction::Create(past))),
        at(FRIDAY),
    );

    // Assert: subscribers are not told of a session that is already over.
    assert_eq!(
        outcome.result,
        Err(crate::engine::Refusal::InvalidSession(
            crate::session::SessionDraftError::EndsInPast
        ))
    );
    assert_eq!(outcome.changes, []);
    assert_eq!(state.sessions().count(), 0);
}

#[test]
fn a_session_created_while_its_window_runs_is_live_at_once() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();

    // Act
    let id = add_session(&engine, &mut state, draft(), DURING_SESSION);

    // Assert
    assert_eq!(
        state.session(id).expect("session").status,
        SessionStatus::Live
    );
    assert_eq!(state.live_session().map(|s| s.id), Some(id));
}

#[test]
fn next_clock_deadline_is_the_earliest_pending_start_or_end() {
    type Setup = fn(&Engine, &mut OfficeState);
    struct Case {
        name: &'static str,
        setup: Setup,
        deadline: Option<&'static str>,
    }
    let cases = [
        Case {
            name: "no sessions",
            setup: |_, _| {},
            deadline: None,
        },
        Case {
            name: "a scheduled session",
            setup: |e, s| {
                add_session(e, s, draft(), FRIDAY);
            },
            deadline: Some(SESSION_START),
        },
        Case {
            name: "a live session",
            setup: |e, s| {
                add_session(e, s, draft(), FRIDAY);
                run(e, s, Input::Tick, DURING_SESSION);
            },
            deadline: Some(SESSION_END),
        },
        Case {
            name: "a closed session",
            setup: |e, s| {
                add_session(e, s, draft(), FRIDAY);
                run(e, s, Input::Tick, SESSION_END);
            },
            deadline: None,
        },
        Case {
            name: "a cancelled session",
            setup: |e, s| {
                let id = add_session(e, s, draft(), FRIDAY);
                run(
                    e,
                    s,
                    by_staff(StaffAction::Session(SessionAction::Cancel(id))),
                    FRIDAY,
                );
            },
            deadline: None,
        },
        Case {
            name: "a live session and a later one",
            setup: |e, s| {
                add_session(e, s, draft(), FRIDAY);
                add_session(
                    e,
                    s,
                    SessionDraft {
                        starts_at: at("2026-12-08T16:00:00Z"),
                        ends_at: at("2026-12-08T17:00:00Z"),
                        ..draft()
                    },
                    FRIDAY,
                );
                run(e, s, Input::Tick, DURING_SESSION);
            },
            deadline: Some(SESSION_END),
        },
        Case {
            name: "a closed session and a later one",
            setup: |e, s| {
                add_session(e, s, draft(), FRIDAY);
                add_session(
                    e,
                    s,
                    SessionDraft {
                        starts_at: at("2026-12-08T16:00:00Z"),
                        ends_at: at("2026-12-08T17:00:00Z"),
                        ..draft()
                    },
                    FRIDAY,
                );
                run(e, s, Input::Tick, SESSION_END);
            },
            deadline: Some("2026-12-08T16:00:00Z"),
        },
    ];
    for case in cases {
        // Arrange
        let engine = engine();
        let mut state = OfficeState::default();

        // Act
        (case.setup)(&engine, &mut state);

        // Assert
        assert_eq!(
            state.next_clock_deadline(),
            case.deadline.map(at),
            "{}",
            case.name
        );
    }
}
