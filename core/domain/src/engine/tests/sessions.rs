//! Session management by staff: create, update, cancel.

use super::*;
use crate::engine::Refusal;
use crate::question::{EntryKind, QuestionStatus, Queue};
use crate::session::{Session, SessionDraftError, SessionStatus};

#[test]
fn a_created_session_is_scheduled_with_trimmed_fields() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let draft = SessionDraft {
        title: "  Bürgersprechstunde  ".to_owned(),
        host: " Oberbürgermeisterin ".to_owned(),
        description: " Fragen Sie, was Sie bewegt. ".to_owned(),
        question_cap: Some(15),
        presubmission: Some(hours(24)),
        ..draft()
    };

    // Act
    let outcome = engine.handle(
        &mut state,
        by_staff(StaffAction::Session(SessionAction::Create(draft))),
        at(FRIDAY),
    );

    // Assert
    assert_eq!(outcome.result, Ok(Receipt::Session(SessionId(1))));
    let expected = Session {
        channels: Vec::new(),
        id: SessionId(1),
        title: TITLE.to_owned(),
        host: HOST.to_owned(),
        description: "Fragen Sie, was Sie bewegt.".to_owned(),
        starts_at: at(SESSION_START),
        ends_at: at(SESSION_END),
        status: SessionStatus::Scheduled,
        question_cap: Some(15),
        presubmission: Some(hours(24)),
        admitted: 0,
        series: None,
        reminded: Vec::new(),
        revision: 0,
        answering: None,
    };
    assert_eq!(state.session(SessionId(1)), Some(&expected));
    assert_eq!(
        outcome.changes,
        [
            Change::Session(expected),
            Change::Counters(state.counters())
        ]
    );
    assert_eq!(state.counters().next_session, 2);
}

#[test]
fn an_invalid_session_draft_is_refused_without_any_change() {
    struct Case {
        name: &'static str,
        draft: SessionDraft,
        error: SessionDraftError,
    }
    let cases = [
        Case {
            name: "empty title",
            draft: SessionDraft {
                title: "   ".to_owned(),
                ..draft()
            },
            error: SessionDraftError::EmptyTitle,
        },
        Case {
            name: "empty host",
            draft: SessionDraft {
                host: String::new(),
                ..draft()
            },
            error: SessionDraftError::EmptyHost,
        },
        Case {
            name: "end before start",
            draft: SessionDraft {
                ends_at: at(SESSION_START) - hours(1),
                ..draft()
            },
            error: SessionDraftError::EndsBeforeStart,
        },
        Case {
            name: "end equal to start",
            draft: SessionDraft {
                ends_at: at(SESSION_START),
                ..draft()
            },
            error: SessionDraftError::EndsBeforeStart,
        },
        Case {
            name: "zero cap",
            draft: SessionDraft {
                question_cap: Some(0),
                ..draft()
            },
            error: SessionDraftError::ZeroCap,
        },
        Case {
            name: "negative pre-submission window",
            draft: SessionDraft {
                presubmission: Some(-hours(1)),
                ..draft()
            },
            error: SessionDraftError::NegativeWindow,
        },
    ];
    for case in cases {
        // Arrange
        let engine = engine();
        let mut state = OfficeState::default();

        // Act
        let created = engine.handle(
            &mut state,
            by_staff(StaffAction::Session(SessionAction::Create(
                case.draft.clone(),
            ))),
            at(FRIDAY),
        );
        let id = add_session(&engine, &mut state, draft(), FRIDAY);
        let before = dump(&state);
        let updated = engine.handle(
            &mut state,
            by_staff(StaffAction::Session(SessionAction::Update {
                id,
                draft: case.draft,
            })),
            at(FRIDAY),
        );

        // Assert
        assert_eq!(
            created.result,
            Err(Refusal::InvalidSession(case.error.clone())),
            "{}",
            case.name
        );
        assert_eq!(created.changes, [], "{}", case.name);
        assert_eq!(id, SessionId(1), "{}: no id was used up", case.name);
        assert_eq!(
            updated.result,
            Err(Refusal::InvalidSession(case.error)),
            "{}",
            case.name
        );
        assert_eq!(updated.changes, [], "{}", case.name);
        assert_eq!(dump(&state), before, "{}", case.name);
    }
}

#[test]
fn only_scheduled_and_live_sessions_can_be_updated_or_cancelled() {
    type Setup = fn(&Engine, &mut OfficeState, SessionId);
    struct Case {
        name: &'static str,
        setup: Setup,
        now: &'static str,
        /// The status afterwards if the update is accepted.
        updated: Result<SessionStatus, Refusal>,
        cancelled: Result<(), Refusal>,
    }
    let cases = [
        Case {
            name: "scheduled",
            setup: |_, _, _| {},
            now: FRIDAY,
            updated: Ok(SessionStatus::Scheduled),
            cancelled: Ok(()),
        },
        Case {
            name: "live",
            setup: |_, _, _| {},
            now: DURING_SESSION,
            updated: Ok(SessionStatus::Live),
            cancelled: Ok(()),
        },
        Case {
            name: "closed",
            setup: |_, _, _| {},
            now: SESSION_END,
            updated: Err(Refusal::SessionOver),
            cancelled: Err(Refusal::SessionOver),
        },
        Case {
            name: "cancelled",
            setup: |e, s, id| {
                run(
                    e,
                    s,
                    by_staff(StaffAction::Session(SessionAction::Cancel(id))),
                    FRIDAY,
                )
            },
            now: FRIDAY,
            updated: Err(Refusal::SessionOver),
            cancelled: Err(Refusal::SessionOver),
        },
    ];
    for case in cases {
        // Arrange
        let engine = engine();
        let mut state = OfficeState::default();
        let id = add_session(&engine, &mut state, draft(), FRIDAY);
        (case.setup)(&engine, &mut state, id);
        run(&engine, &mut state, Input::Tick, case.now);
        let new = SessionDraft {
            title: "Sprechstunde zum Haushalt".to_owned(),
            question_cap: Some(10),
            ..draft()
        };

        // Act
        let updated = engine.handle(
            &mut state,
            by_staff(StaffAction::Session(SessionAction::Update {
                id,
                draft: new,
            })),
            at(case.now),
        );

        // Assert
        match case.updated {
            Ok(status) => {
                assert_eq!(updated.result, Ok(Receipt::Session(id)), "{}", case.name);
                let s = state.session(id).expect("session");
                assert_eq!(s.status, status, "{}", case.name);
                assert_eq!(s.title, "Sprechstunde zum Haushalt", "{}", case.name);
                assert_eq!(s.question_cap, Some(10), "{}", case.name);
                assert_eq!(
                    keys(&updated.changes),
                    [Key::Session(id.0)],
                    "{}",
                    case.name
                );
            }
            Err(refusal) => {
                assert_eq!(updated.result, Err(refusal), "{}", case.name);
                assert_eq!(updated.changes, [], "{}", case.name);
                assert_eq!(
                    state.session(id).expect("session").title,
                    TITLE,
                    "{}",
                    case.name
                );
            }
        }

        // Act
        let cancelled = engine.handle(
            &mut state,
            by_staff(StaffAction::Session(SessionAction::Cancel(id))),
            at(case.now),
        );

        // Assert
        match case.cancelled {
            Ok(()) => {
                assert_eq!(cancelled.result, Ok(Receipt::Session(id)), "{}", case.name);
                assert_eq!(
                    state.session(id).expect("session").status,
                    SessionStatus::Cancelled,
                    "{}",
                    case.name
                );
                assert_eq!(
                    keys(&cancelled.changes),
                    [Key::Session(id.0)],
                    "{}",
                    case.name
                );
            }
            Err(refusal) => {
                assert_eq!(cancelled.result, Err(refusal), "{}", case.name);
                assert_eq!(cancelled.changes, [], "{}", case.name);
            }
        }
    }
}

#[test]
fn updating_or_cancelling_an_unknown_session_is_refused() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let unknown = SessionId(42);

    // Act
    let updated = engine.handle(
        &mut state,
        by_staff(StaffAction::Session(SessionAction::Update {
            id: unknown,
            draft: draft(),
        })),
        at(FRIDAY),
    );
    let cancelled = engine.handle(
        &mut state,
        by_staff(StaffAction::Session(SessionAction::Cancel(unknown))),
        at(FRIDAY),
    );

    // Assert
    assert_eq!(
        (updated.result, updated.changes),
        (Err(Refusal::NotFound), vec![])
    );
    assert_eq!(
        (cancelled.result, cancelled.changes),
        (Err(Refusal::NotFound), vec![])
    );
}

#[test]
fn an_update_keeps_the_admitted_count() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let id = add_session(
        &engine,
        &mut state,
        SessionDraft {
            question_cap: Some(2),
            ..draft()
        },
        FRIDAY,
    );
    ask(&engine, &mut state, 1, "Erste Frage", DURING_SESSION);
    ask(&engine, &mut state, 2, "Zweite Frage", DURING_SESSION);

    // Act
    run(
        &engine,
        &mut state,
        by_staff(StaffAction::Session(SessionAction::Update {
            id,
            draft: SessionDraft {
                question_cap: Some(3),
                ..draft()
            },
        })),
        DURING_SESSION,
    );
    let third = ask(&engine, &mut state, 3, "Dritte Frage", DURING_SESSION);
    let fourth = ask(&engine, &mut state, 4, "Vierte Frage", DURING_SESSION);

    // Assert
    assert_eq!(third.intake, Intake::New(Queue::Session(id)));
    assert_eq!(fourth.intake, Intake::New(Queue::CitizensOffice));
    assert_eq!(state.session(id).expect("session").admitted, 3);
}

#[test]
fn every_update_and_the_cancellation_count_as_a_new_revision_for_calendars() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let id = add_session(&engine, &mut state, draft(), FRIDAY);
    let revision = |state: &OfficeState| state.session(id).expect("session").revision;
    assert_eq!(revision(&state), 0);

    // Act and assert: two edits, then the cancellation.
    for (n, title) in [(1, "Verlegt"), (2, "Noch einmal verlegt")] {
        let edit = SessionDraft {
            title: title.to_owned(),
            ..draft()
        };
        run(
            &engine,
            &mut state,
            by_staff(StaffAction::Session(SessionAction::Update {
                id,
                draft: edit,
            })),
            FRIDAY,
        );
        assert_eq!(revision(&state), n, "{title}");
    }
    run(
        &engine,
        &mut state,
        by_staff(StaffAction::Session(SessionAction::Cancel(id))),
        FRIDAY,
    );
    assert_eq!(revision(&state), 3);
}

#[test]
fn an_update_into_the_past_is_refused_and_the_session_stays_as_it_was() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let id = add_session(&engine, &mut state, draft(), FRIDAY);
    let before = dump(&state);
    let past = SessionDraft {
        starts_at: at(FRIDAY) - hours(2),
        ends_at: at(FRIDAY) - hours(1),
        ..draft()
    };

    // Act
    let outcome = engine.handle(
        &mut state,
        by_staff(StaffAction::Session(SessionAction::Update {
            id,
            draft: past,
        })),
        at(FRIDAY),
    );

    // Assert
    assert_eq!(
        outcome.result,
        Err(Refusal::InvalidSession(SessionDraftError::EndsInPast))
    );
    assert_eq!(outcome.changes, []);
    assert_eq!(dump(&state), before);
    assert_eq!(
        state.session(id).expect("session").status,
        SessionStatus::Scheduled
    );
}

#[test]
fn cancelling_a_session_hands_its_open_questions_to_the_office() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let id = add_session(
        &engine,
        &mut state,
        SessionDraft {
            presubmission: Some(hours(24)),
            ..draft()
        },
        FRIDAY,
    );
    let open = ask(
        &engine,
        &mut state,
        1,
        "Wann kommt der Radweg?",
        IN_PRESUBMISSION,
    );
    let withdrawn = ask(&engine, &mut state, 2, "Was kostet das?", IN_PRESUBMISSION);
    run(
        &engine,
        &mut state,
        says(2, "/zurueckziehen"),
        IN_PRESUBMISSION,
    );
    let english = ask_input(
        &engine,
        &mut state,
        says_in(3, Lang::En, "Bike lane?"),
        at(IN_PRESUBMISSION),
    );
    let withdrawn_before = question(&state, withdrawn.question).clone();
    let now = at("2026-12-01T08:00:00Z");

    // Act
    let outcome = engine.handle(
        &mut state,
        by_staff(StaffAction::Session(SessionAction::Cancel(id))),
        now,
    );

    // Assert
    assert_eq!(outcome.result, Ok(Receipt::Session(id)));
    assert_eq!(
        state.session(id).expect("session").status,
        SessionStatus::Cancelled
    );
    assert_eq!(state.session_queue(id).count(), 0);
    for (n, asked) in [(1, open), (3, english)] {
        let q = question(&state, asked.question);
        assert_eq!(
            (q.queue, q.status),
            (Queue::CitizensOffice, QuestionStatus::Open),
            "citizen {n}"
        );
        assert_eq!(
            q.session,
            Some(id),
            "citizen {n}: still known to be asked for it"
        );
        assert_eq!(
            (q.due, q.updated_at),
            (Some(day(2026, 12, 8)), now),
            "citizen {n}"
        );
        let notice = last_sent(&state, n);
        assert_eq!(notice.question, Some(asked.question), "citizen {n}");
        let last = q.entries.last().expect("entries");
        assert_eq!(
            (&last.kind, last.outbox),
            (&EntryKind::System, Some(notice.id)),
            "citizen {n}"
        );
    }
    assert_eq!(
        last_sent(&state, 1).text,
        "Die Sprechstunde „Bürgersprechstunde“ wurde abgesagt. Wir haben Ihr Anliegen A-1001 an \
         das Bürgerreferat weitergeleitet; Sie erhalten bis spätestens Dienstag, 8. Dezember 2026 \
         eine Antwort."
    );
    assert_eq!(
        last_sent(&state, 3).text,
        "The office hours \"Bürgersprechstunde\" have been cancelled. We have forwarded your \
         question A-1003 to the citizens' office; you will receive an answer by Tuesday, \
         8 December 2026 at the latest."
    );
    assert_eq!(question(&state, withdrawn.question), &withdrawn_before);
    let sent = state.counters().next_outbox;
    assert_eq!(
        keys(&outcome.changes),
        [
            Key::Session(1),
            Key::Question(1),
            Key::Question(3),
            Key::Outbox(sent - 2),
            Key::Outbox(sent - 1),
            Key::Counters,
        ]
    );
}
