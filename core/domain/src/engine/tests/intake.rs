//! Intake of a new question: which queue it lands in, when it is due, and what the citizen
//! is told.

use super::*;
use crate::outbox::DeliveryState;
use crate::question::{EntryKind, QuestionStatus, Queue};

#[test]
fn out_of_hours_question_is_forwarded_to_citizens_office_with_due_date() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let now = at(FRIDAY);

    // Act
    let outcome = engine.handle(
        &mut state,
        says(1, "  Wann wird die Brücke saniert?  "),
        now,
    );

    // Assert
    assert_eq!(
        outcome.result,
        Ok(Receipt::Question {
            citizen: CitizenId(1),
            question: QuestionId(1),
            reference: Reference(1001),
            intake: Intake::New(Queue::CitizensOffice),
        })
    );
    assert_eq!(
        citizen(&state, 1),
        &Citizen {
            id: CitizenId(1),
            channel: ChannelKind::Web,
            pseudonym: "web-pseudonym-1".to_owned(),
            address: "web-address-1".to_owned(),
            lang: Lang::De,
            first_seen: now,
            recent_intake: vec![],
            consent: Some(crate::privacy::Consent {
                at: now,
                notice: "not required".to_owned(),
            }),
            last_seen: Some(now),
            erased: false,
            subscribed: false,
            notice_sent: None,
        }
    );
    let q = question(&state, QuestionId(1));
    assert_eq!(q.queue, Queue::CitizensOffice);
    assert_eq!(q.status, QuestionStatus::Open);
    assert_eq!(q.session, None);
    assert_eq!(q.due, Some(day(2026, 12, 4)));
    assert_eq!((q.created_at, q.updated_at), (now, now));
    assert_eq!(q.first_text(), "Wann wird die Brücke saniert?");

    let sent = outbox(&state, 1);
    assert_eq!(sent.len(), 1);
    let ack = sent[0];
    assert_eq!(
        ack.text,
        "Vielen Dank! Ihr Anliegen ist unter der Nummer A-1001 eingegangen.\n\
         Zurzeit findet keine Sprechstunde statt. Wir haben Ihr Anliegen an das Bürgerreferat \
         weitergeleitet; Sie erhalten bis spätestens Freitag, 4. Dezember 2026 eine Antwort."
    );
    assert_eq!(ack.id, OutboxId(1));
    assert_eq!(ack.question, Some(QuestionId(1)));
    assert_eq!(
        (ack.channel, ack.address.as_str()),
        (ChannelKind::Web, "web-address-1")
    );
    assert_eq!(
        ack.state,
        DeliveryState::Pending {
            attempts: 0,
            next_attempt_at: Some(now),
            last_error: None,
        }
    );
    assert_eq!(
        state.pending_outbox().map(|m| m.id).collect::<Vec<_>>(),
        [OutboxId(1)]
    );

    assert_eq!(
        q.entries.len(),
        2,
        "the citizen's text and the acknowledgement"
    );
    assert_eq!(q.entries[0].kind, EntryKind::Citizen);
    assert_eq!(q.entries[0].outbox, None);
    assert_eq!(q.entries[1].kind, EntryKind::System);
    assert_eq!(q.entries[1].outbox, Some(OutboxId(1)));
    assert_eq!(q.entries[1].text, ack.text);
    assert!(q.entries[1].visible_to_citizen());

    assert_eq!(
        keys(&outcome.changes),
        [
            Key::Citizen(1),
            Key::Question(1),
            Key::Outbox(1),
            Key::Counters
        ]
    );
}

#[test]
fn due_date_counts_working_days_in_the_office_time_zone() {
    struct Case {
        name: &'static str,
        now: &'static str,
        working_days: u32,
        due: Date,
        due_text: &'static str,
    }
    let cases = [
        Case {
            name: "Wednesday plus five spans the weekend",
            now: "2026-11-25T09:00:00Z",
            working_days: 5,
            due: day(2026, 12, 2),
            due_text: "Mittwoch, 2. Dezember 2026",
        },
        Case {
            name: "Friday plus five is the Friday of next week",
            now: FRIDAY,
            working_days: 5,
            due: day(2026, 12, 4),
            due_text: "Freitag, 4. Dezember 2026",
        },
        Case {
            name: "Friday plus one skips the weekend",
            now: FRIDAY,
            working_days: 1,
            due: day(2026, 11, 30),
            due_text: "Montag, 30. November 2026",
        },
        Case {
            name: "a Saturday question counts from Monday",
            now: "2026-11-28T09:00:00Z",
            working_days: 1,
            due: day(2026, 11, 30),
            due_text: "Montag, 30. November 2026",
        },
        Case {
            name: "late Thursday in UTC is already Friday in Berlin",
            now: "2026-11-26T23:30:00Z",
            working_days: 1,
            due: day(2026, 11, 30),
            due_text: "Montag, 30. November 2026",
        },
    ];
    for case in cases {
        // Arrange
        let engine = engine_with(Policy {
            answer_working_days: case.working_days,
            ..Policy::default()
        });
        let mut state = OfficeState::default();

        // Act
        let asked = ask(
            &engine,
            &mut state,
            1,
            "Wo beantrage ich einen Anwohnerparkausweis?",
            case.now,
        );

        // Assert
        assert_eq!(
            question(&state, asked.question).due,
            Some(case.due),
            "{}",
            case.name
        );
        let ack = &last_sent(&state, 1).text;
        assert!(ack.contains(case.due_text), "{}: {ack}", case.name);
    }
}

#[test]
fn the_clock_decides_between_session_queue_and_citizens_office() {
    struct Case {
        name: &'static str,
        now: &'static str,
        session_queue: bool,
        due: Option<Date>,
        ack: &'static str,
    }
    let cases = [
        Case {
            name: "before the pre-submission window",
            now: "2026-11-30T15:00:00Z",
            session_queue: false,
            due: Some(day(2026, 12, 7)),
            ack: "Zurzeit findet keine Sprechstunde statt. Wir haben Ihr Anliegen an das \
                  Bürgerreferat weitergeleitet; Sie erhalten bis spätestens Montag, \
                  7. Dezember 2026 eine Antwort.",
        },
        Case {
            name: "at the opening of the pre-submission window",
            now: "2026-11-30T16:00:00Z",
            session_queue: true,
            due: None,
            ack: "Die Sprechstunde „Bürgersprechstunde“ beginnt am Dienstag, 1. Dezember 2026, \
                  17:00 Uhr. Ihr Anliegen wird dann aufgegriffen (derzeit Position 1).",
        },
        Case {
            name: "inside the pre-submission window",
            now: IN_PRESUBMISSION,
            session_queue: true,
            due: None,
            ack: "Die Sprechstunde „Bürgersprechstunde“ beginnt am Dienstag, 1. Dezember 2026, \
                  17:00 Uhr. Ihr Anliegen wird dann aufgegriffen (derzeit Position 1).",
        },
        Case {
            name: "exactly at the start",
            now: SESSION_START,
            session_queue: true,
            due: None,
            ack: "Die Sprechstunde „Bürgersprechstunde“ läuft gerade. Sie sind an Position 1 der \
                  Warteschlange.",
        },
        Case {
            name: "during the session",
            now: DURING_SESSION,
            session_queue: true,
            due: None,
            ack: "Die Sprechstunde „Bürgersprechstunde“ läuft gerade. Sie sind an Position 1 der \
                  Warteschlange.",
        },
        Case {
            name: "exactly at the end",
            now: SESSION_END,
            session_queue: false,
            due: Some(day(2026, 12, 8)),
            ack: "Zurzeit findet keine Sprechstunde statt. Wir haben Ihr Anliegen an das \
                  Bürgerreferat weitergeleitet; Sie erhalten bis spätestens Dienstag, \
                  8. Dezember 2026 eine Antwort.",
        },
    ];
    for case in cases {
        // Arrange
        let engine = engine();
        let mut state = OfficeState::default();
        let session = add_session(
            &engine,
            &mut state,
            SessionDraft {
                presubmission: Some(hours(24)),
                ..draft()
            },
            FRIDAY,
        );

        // Act
        let asked = ask(&engine, &mut state, 1, "Wann kommt der Radweg?", case.now);

        // Assert
        let (queue, in_session, admitted) = if case.session_queue {
            (Queue::Session(session), Some(session), 1)
        } else {
            (Queue::CitizensOffice, None, 0)
        };
        assert_eq!(asked.intake, Intake::New(queue), "{}", case.name);
        let q = question(&state, asked.question);
        assert_eq!(q.queue, queue, "{}", case.name);
        assert_eq!(q.session, in_session, "{}", case.name);
        assert_eq!(q.due, case.due, "{}", case.name);
        let s = state.session(session).expect("session");
        assert_eq!(s.admitted, admitted, "{}", case.name);
        let ack = &last_sent(&state, 1).text;
        assert_eq!(
            ack,
            &format!(
                "Vielen Dank! Ihr Anliegen ist unter der Nummer A-1001 eingegangen.\n{}",
                case.ack
            ),
            "{}",
            case.name
        );
    }
}

#[test]
fn live_session_acknowledges_queue_positions_in_order_of_arrival() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let session = add_session(&engine, &mut state, draft(), FRIDAY);

    // Act
    let asked: Vec<Asked> = (1..=3)
        .map(|n| {
            ask(
                &engine,
                &mut state,
                n,
                &format!("Frage von Bürger {n}"),
                DURING_SESSION,
            )
        })
        .collect();

    // Assert
    for (n, a) in (1u64..).zip(&asked) {
        assert_eq!(
            a.intake,
            Intake::New(Queue::Session(session)),
            "citizen {n}"
        );
        assert_eq!(a.reference, Reference(1000 + n as u32), "citizen {n}");
        assert_eq!(state.queue_position(a.question), Some(n), "citizen {n}");
        let ack = &last_sent(&state, n).text;
        assert!(
            ack.contains(&format!("Nummer A-100{n} eingegangen")),
            "citizen {n}: {ack}"
        );
        assert!(
            ack.contains(&format!("Sie sind an Position {n} der Warteschlange.")),
            "citizen {n}: {ack}"
        );
        assert_eq!(question(&state, a.question).due, None, "citizen {n}");
    }
    let queue: Vec<QuestionId> = state.session_queue(session).map(|q| q.id).collect();
    assert_eq!(queue, [QuestionId(1), QuestionId(2), QuestionId(3)]);
    assert_eq!(state.session(session).expect("session").admitted, 3);
}

#[test]
fn questions_beyond_the_cap_go_to_the_office_with_the_cap_notice() {
    struct Case {
        name: &'static str,
        now: &'static str,
        due_text: &'static str,
        due: Date,
    }
    let cases = [
        Case {
            name: "live session",
            now: DURING_SESSION,
            due_text: "Dienstag, 8. Dezember 2026",
            due: day(2026, 12, 8),
        },
        Case {
            name: "pre-submission window",
            now: IN_PRESUBMISSION,
            due_text: "Montag, 7. Dezember 2026",
            due: day(2026, 12, 7),
        },
    ];
    for case in cases {
        // Arrange
        let engine = engine();
        let mut state = OfficeState::default();
        let session = add_session(
            &engine,
            &mut state,
            SessionDraft {
                question_cap: Some(2),
                presubmission: Some(hours(24)),
                ..draft()
            },
            FRIDAY,
        );
        let first = ask(&engine, &mut state, 1, "Erste Frage", case.now);
        let second = ask(&engine, &mut state, 2, "Zweite Frage", case.now);

        // Act
        let third = ask(&engine, &mut state, 3, "Dritte Frage", case.now);

        // Assert
        assert_eq!(
            first.intake,
            Intake::New(Queue::Session(session)),
            "{}",
            case.name
        );
        assert_eq!(
            second.intake,
            Intake::New(Queue::Session(session)),
            "{}",
            case.name
        );
        assert_eq!(
            third.intake,
            Intake::New(Queue::CitizensOffice),
            "{}",
            case.name
        );
        let q = question(&state, third.question);
        assert_eq!(
            q.session,
            Some(session),
            "{}: asked for the session",
            case.name
        );
        assert_eq!(q.due, Some(case.due), "{}", case.name);
        assert_eq!(state.queue_position(third.question), None, "{}", case.name);
        assert_eq!(
            state.session(session).expect("session").admitted,
            2,
            "{}",
            case.name
        );
        assert_eq!(
            last_sent(&state, 3).text,
            format!(
                "Vielen Dank! Ihr Anliegen ist unter der Nummer A-1003 eingegangen.\n\
                 Die Sprechstunde „Bürgersprechstunde“ ist bereits ausgebucht. Wir haben Ihr \
                 Anliegen an das Bürgerreferat weitergeleitet; Sie erhalten bis spätestens {} eine \
                 Antwort.",
                case.due_text
            ),
            "{}",
            case.name
        );
    }
}

#[test]
fn english_citizen_gets_english_texts() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();

    // Act
    ask_input(
        &engine,
        &mut state,
        says_in(1, Lang::En, "When will the bridge be repaired?"),
        at(FRIDAY),
    );

    // Assert
    assert_eq!(citizen(&state, 1).lang, Lang::En);
    assert_eq!(
        last_sent(&state, 1).text,
        "Thank you! Your question has been received under the reference A-1001.\n\
         There are no office hours right now. We have forwarded your question to the citizens' \
         office; you will receive an answer by Friday, 4 December 2026 at the latest."
    );
}

#[test]
fn a_language_change_of_the_channel_is_followed_and_persisted() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    ask(
        &engine,
        &mut state,
        1,
        "Wann wird die Brücke saniert?",
        FRIDAY,
    );

    // Act
    let outcome = engine.handle(&mut state, says_in(1, Lang::En, "Any news?"), at(FRIDAY));

    // Assert
    assert_eq!(citizen(&state, 1).lang, Lang::En);
    assert_eq!(
        last_sent(&state, 1).text,
        "Your message has been added to your question A-1001."
    );
    assert_eq!(
        keys(&outcome.changes),
        [
            Key::Citizen(1),
            Key::Question(1),
            Key::Outbox(2),
            Key::Counters
        ]
    );
}

/// Name, language, message, expected (label, command) pairs.
type ChoiceCase = (
    &'static str,
    Lang,
    &'static str,
    &'static [(&'static str, &'static str)],
);

#[test]
fn acknowledgements_and_greetings_offer_choices_that_are_commands() {
    let cases: &[ChoiceCase] = &[
        (
            "question, German",
            Lang::De,
            "Wann wird die Brücke saniert?",
            &[
                ("Stand abfragen", "/status"),
                ("Zurückziehen", "/zurueckziehen A-1001"),
            ],
        ),
        (
            "question, English",
            Lang::En,
            "When is the bridge repaired?",
            &[
                ("Check status", "/status"),
                ("Withdraw", "/withdraw A-1001"),
            ],
        ),
        (
            "greeting, German",
            Lang::De,
            "/start",
            &[
                ("Stand abfragen", "/status"),
                ("Hilfe", "/hilfe"),
                ("Ankündigungen abonnieren", "/abonnieren"),
            ],
        ),
        (
            "subscribing offers unsubscribing",
            Lang::En,
            "/subscribe",
            &[("Unsubscribe from announcements", "/unsubscribe")],
        ),
        ("help has none", Lang::De, "/hilfe", &[]),
    ];
    for (name, lang, text, want) in cases {
        let engine = engine();
        let mut state = OfficeState::default();
        run(&engine, &mut state, says_in(1, *lang, text), FRIDAY);
        let sent = last_sent(&state, 1);
        let got: Vec<(&str, &str)> = sent
            .choices
            .iter()
            .map(|c| (c.label.as_str(), c.command.as_str()))
            .collect();
        assert_eq!(&got, want, "{name}");
        for choice in &sent.choices {
            assert!(
                crate::engine::Command::parse(&choice.command).is_some(),
                "{name}: {} is a command",
                choice.command
            );
        }
    }
}
