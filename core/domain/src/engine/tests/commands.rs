//! Citizen commands: help, status, withdraw, start.

use super::*;
use crate::engine::Command;
use crate::question::{EntryKind, QuestionStatus};

const HELP_DE: &str = "So funktioniert die digitale Bürgersprechstunde:\n";
const HELP_EN: &str = "How the digital citizens' office hours work:\n";

#[test]
fn help_commands_reply_with_the_help_in_the_citizens_language() {
    struct Case {
        name: &'static str,
        lang: Option<Lang>,
        text: &'static str,
        help: &'static str,
    }
    let cases = [
        Case {
            name: "/hilfe",
            lang: None,
            text: "/hilfe",
            help: HELP_DE,
        },
        Case {
            name: "/help to a German citizen",
            lang: None,
            text: "/help",
            help: HELP_DE,
        },
        Case {
            name: "bare word Hilfe",
            lang: None,
            text: "Hilfe",
            help: HELP_DE,
        },
        Case {
            name: "!help in English",
            lang: Some(Lang::En),
            text: "!help",
            help: HELP_EN,
        },
        Case {
            name: "/hilfe in English",
            lang: Some(Lang::En),
            text: "/hilfe",
            help: HELP_EN,
        },
    ];
    for case in cases {
        // Arrange
        let engine = engine();
        let mut state = OfficeState::default();
        let input = Input::Citizen(CitizenMessage {
            lang: case.lang,
            ..message(1, case.text)
        });

        // Act
        let outcome = engine.handle(&mut state, input, at(FRIDAY));

        // Assert
        assert_eq!(
            outcome.result,
            Ok(Receipt::Command {
                citizen: CitizenId(1),
                command: Command::Help
            }),
            "{}",
            case.name
        );
        let reply = last_sent(&state, 1);
        assert!(
            reply.text.starts_with(case.help),
            "{}: {}",
            case.name,
            reply.text
        );
        assert_eq!(reply.question, None, "{}", case.name);
        assert_eq!(
            state.questions().count(),
            0,
            "{}: a command is no question",
            case.name
        );
        assert_eq!(
            keys(&outcome.changes),
            [Key::Citizen(1), Key::Outbox(1), Key::Counters],
            "{}",
            case.name
        );
    }
}

#[test]
fn status_lists_every_question_of_the_citizen() {
    type Setup = fn(&Engine, &mut OfficeState);
    struct Case {
        name: &'static str,
        setup: Setup,
        now: &'static str,
        reply: &'static str,
    }
    let cases = [
        Case {
            name: "no questions yet",
            setup: |_, _| {},
            now: FRIDAY,
            reply: "Sie haben bisher keine Anliegen gestellt. Schreiben Sie uns einfach Ihre Frage.",
        },
        Case {
            name: "open in the live session behind another citizen",
            setup: |e, s| {
                add_session(e, s, draft(), FRIDAY);
                ask(e, s, 2, "Erste Frage", DURING_SESSION);
                ask(e, s, 1, "Zweite Frage", DURING_SESSION);
            },
            now: DURING_SESSION,
            reply: "Ihre Anliegen:\nA-1002: offen – Sprechstunde „Bürgersprechstunde“, Position 2",
        },
        Case {
            name: "open at the citizens' office",
            setup: |e, s| {
                ask(e, s, 1, "Wann wird die Brücke saniert?", FRIDAY);
            },
            now: FRIDAY,
            reply: "Ihre Anliegen:\nA-1001: offen – beim Bürgerreferat, Antwort bis Freitag, \
                    4. Dezember 2026",
        },
        Case {
            name: "answered",
            setup: |e, s| {
                let a = ask(e, s, 1, "Wann wird die Brücke saniert?", FRIDAY);
                run(e, s, answer(a.question, "Im Frühjahr 2027."), FRIDAY);
            },
            now: FRIDAY,
            reply: "Ihre Anliegen:\nA-1001: beantwortet",
        },
        Case {
            name: "rejected, withdrawn and open, oldest first",
            setup: |e, s| {
                let a = ask(e, s, 1, "Erste Frage", FRIDAY);
                run(
                    e,
                    s,
                    reject(a.question, "Zuständig ist der Landkreis."),
                    FRIDAY,
                );
                ask(e, s, 1, "Zweite Frage", FRIDAY);
                run(e, s, says(1, "/zurueckziehen"), FRIDAY);
                ask(e, s, 1, "Dritte Frage", FRIDAY);
            },
            now: FRIDAY,
            reply: "Ihre Anliegen:\nA-1001: abgelehnt\nA-1002: zurückgezogen\n\
                    A-1003: offen – beim Bürgerreferat, Antwort bis Freitag, 4. Dezember 2026",
        },
    ];
    for case in cases {
        // Arrange
        let engine = engine();
        let mut state = OfficeState::default();
        (case.setup)(&engine, &mut state);
        let questions_before: Vec<Question> = state.questions().cloned().collect();

        // Act
        let outcome = engine.handle(&mut state, says(1, "/status"), at(case.now));

        // Assert
        let receipt = outcome.result.expect("status is answered");
        assert!(
            matches!(
                receipt,
                Receipt::Command {
                    command: Command::Status,
                    ..
                }
            ),
            "{}: {receipt:?}",
            case.name
        );
        let reply = last_sent(&state, 1);
        assert_eq!(reply.text, case.reply, "{}", case.name);
        assert_eq!(reply.question, None, "{}", case.name);
        let questions_after: Vec<Question> = state.questions().cloned().collect();
        assert_eq!(
            questions_after, questions_before,
            "{}: status changes nothing",
            case.name
        );
        assert!(
            !keys(&outcome.changes)
                .iter()
                .any(|k| matches!(k, Key::Question(_))),
            "{}",
            case.name
        );
    }
}

#[test]
fn withdraw_takes_back_only_an_open_question_of_ones_own() {
    type Setup = fn(&Engine, &mut OfficeState);
    struct Case {
        name: &'static str,
        setup: Setup,
        command: &'static str,
        argument: Option<&'static str>,
        reply: &'static str,
        /// The question the reply concerns, if it was withdrawn.
        withdrawn: Option<QuestionId>,
        /// Every question's status afterwards.
        statuses: Vec<QuestionStatus>,
    }
    let one_open: Setup = |e, s| {
        ask(e, s, 1, "Wann wird die Brücke saniert?", FRIDAY);
    };
    let cases = [
        Case {
            name: "without reference, the open question",
            setup: one_open,
            command: "/zurueckziehen",
            argument: None,
            reply: "Ihr Anliegen A-1001 wurde zurückgezogen.",
            withdrawn: Some(QuestionId(1)),
            statuses: vec![QuestionStatus::Withdrawn],
        },
        Case {
            name: "with its own reference",
            setup: one_open,
            command: "/zurückziehen A-1001",
            argument: Some("A-1001"),
            reply: "Ihr Anliegen A-1001 wurde zurückgezogen.",
            withdrawn: Some(QuestionId(1)),
            statuses: vec![QuestionStatus::Withdrawn],
        },
        Case {
            name: "with the bare number, English command",
            setup: one_open,
            command: "/withdraw 1001",
            argument: Some("1001"),
            reply: "Ihr Anliegen A-1001 wurde zurückgezogen.",
            withdrawn: Some(QuestionId(1)),
            statuses: vec![QuestionStatus::Withdrawn],
        },
        Case {
            name: "with an unknown reference",
            setup: one_open,
            command: "/zurueckziehen A-4711",
            argument: Some("A-4711"),
            reply: "Unter der Nummer A-4711 finden wir kein offenes Anliegen von Ihnen.",
            withdrawn: None,
            statuses: vec![QuestionStatus::Open],
        },
        Case {
            name: "with someone else's reference",
            setup: |e, s| {
                ask(e, s, 2, "Frage eines anderen", FRIDAY);
                ask(e, s, 1, "Meine Frage", FRIDAY);
            },
            command: "/zurueckziehen A-1001",
            argument: Some("A-1001"),
            reply: "Unter der Nummer A-1001 finden wir kein offenes Anliegen von Ihnen.",
            withdrawn: None,
            statuses: vec![QuestionStatus::Open, QuestionStatus::Open],
        },
        Case {
            name: "with the reference of an answered question",
            setup: |e, s| {
                let a = ask(e, s, 1, "Wann wird die Brücke saniert?", FRIDAY);
                run(e, s, answer(a.question, "Im Frühjahr 2027."), FRIDAY);
            },
            command: "/zurueckziehen A-1001",
            argument: Some("A-1001"),
            reply: "Unter der Nummer A-1001 finden wir kein offenes Anliegen von Ihnen.",
            withdrawn: None,
            statuses: vec![QuestionStatus::Answered],
        },
        Case {
            name: "without reference and nothing open",
            setup: |e, s| {
                let a = ask(e, s, 1, "Wann wird die Brücke saniert?", FRIDAY);
                run(e, s, answer(a.question, "Im Frühjahr 2027."), FRIDAY);
            },
            command: "/zurueckziehen",
            argument: None,
            reply: "Sie haben kein offenes Anliegen, das zurückgezogen werden könnte.",
            withdrawn: None,
            statuses: vec![QuestionStatus::Answered],
        },
        Case {
            name: "without any question at all",
            setup: |_, _| {},
            command: "/zurueckziehen",
            argument: None,
            reply: "Sie haben kein offenes Anliegen, das zurückgezogen werden könnte.",
            withdrawn: None,
            statuses: vec![],
        },
    ];
    for case in cases {
        // Arrange
        let engine = engine();
        let mut state = OfficeState::default();
        (case.setup)(&engine, &mut state);
        let now = at(FRIDAY) + hours(2);

        // Act
        let outcome = engine.handle(&mut state, says(1, case.command), now);

        // Assert
        let receipt = outcome.result.expect("withdraw is answered");
        assert_eq!(
            receipt,
            Receipt::Command {
                citizen: citizen(&state, 1).id,
                command: Command::Withdraw(case.argument.map(str::to_owned)),
            },
            "{}",
            case.name
        );
        let reply = last_sent(&state, 1);
        assert_eq!(reply.text, case.reply, "{}", case.name);
        assert_eq!(reply.question, case.withdrawn, "{}", case.name);
        let statuses: Vec<QuestionStatus> = state.questions().map(|q| q.status).collect();
        assert_eq!(statuses, case.statuses, "{}", case.name);
        if let Some(id) = case.withdrawn {
            let q = question(&state, id);
            assert_eq!(q.updated_at, now, "{}", case.name);
            let last = q.entries.last().expect("entries");
            assert_eq!(
                (&last.kind, last.outbox),
                (&EntryKind::System, Some(reply.id)),
                "{}",
                case.name
            );
            assert_eq!(last.text, case.reply, "{}", case.name);
        }
    }
}

#[test]
fn withdrawing_a_live_question_moves_the_others_up() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let session = add_session(&engine, &mut state, draft(), FRIDAY);
    let first = ask(&engine, &mut state, 1, "Erste Frage", DURING_SESSION);
    let second = ask(&engine, &mut state, 2, "Zweite Frage", DURING_SESSION);
    assert_eq!(state.queue_position(second.question), Some(2));

    // Act
    run(
        &engine,
        &mut state,
        says(1, "/zurueckziehen"),
        DURING_SESSION,
    );

    // Assert
    assert_eq!(state.queue_position(first.question), None);
    assert_eq!(state.queue_position(second.question), Some(1));
    let queue: Vec<QuestionId> = state.session_queue(session).map(|q| q.id).collect();
    assert_eq!(queue, [second.question]);
    assert_eq!(
        question(&state, first.question).status,
        QuestionStatus::Withdrawn
    );
}

#[test]
fn start_greets_with_the_live_or_next_session_and_the_help() {
    type Setup = fn(&Engine, &mut OfficeState);
    struct Case {
        name: &'static str,
        setup: Setup,
        now: &'static str,
        greeting: &'static str,
    }
    let cases = [
        Case {
            name: "a session is live",
            setup: |e, s| {
                add_session(e, s, draft(), FRIDAY);
            },
            now: DURING_SESSION,
            greeting: "Willkommen! Gerade läuft die Sprechstunde „Bürgersprechstunde“ mit \
                       Oberbürgermeisterin (bis 18:00 Uhr). Schreiben Sie Ihre Frage einfach als \
                       Nachricht.",
        },
        Case {
            name: "a session is scheduled",
            setup: |e, s| {
                add_session(e, s, draft(), FRIDAY);
            },
            now: FRIDAY,
            greeting: "Willkommen! Die nächste Sprechstunde „Bürgersprechstunde“ mit \
                       Oberbürgermeisterin beginnt am Dienstag, 1. Dezember 2026, 17:00 Uhr. Sie \
                       können uns Ihre Frage aber jederzeit schreiben – außerhalb der Sprechstunde \
                       beantwortet sie das Bürgerreferat.",
        },
        Case {
            name: "no session at all",
            setup: |_, _| {},
            now: FRIDAY,
            greeting: "Willkommen! Derzeit ist keine Sprechstunde geplant. Sie können uns Ihre \
                       Frage trotzdem jederzeit schreiben – das Bürgerreferat beantwortet sie.",
        },
        Case {
            name: "the only session was cancelled",
            setup: |e, s| {
                let id = add_session(e, s, draft(), FRIDAY);
                run(
                    e,
                    s,
                    by_staff(StaffAction::Session(SessionAction::Cancel(id))),
                    FRIDAY,
                );
            },
            now: FRIDAY,
            greeting: "Willkommen! Derzeit ist keine Sprechstunde geplant. Sie können uns Ihre \
                       Frage trotzdem jederzeit schreiben – das Bürgerreferat beantwortet sie.",
        },
        Case {
            name: "the only session is over",
            setup: |e, s| {
                add_session(e, s, draft(), FRIDAY);
            },
            now: SESSION_END,
            greeting: "Willkommen! Derzeit ist keine Sprechstunde geplant. Sie können uns Ihre \
                       Frage trotzdem jederzeit schreiben – das Bürgerreferat beantwortet sie.",
        },
    ];
    for case in cases {
        // Arrange
        let engine = engine();
        let mut state = OfficeState::default();
        (case.setup)(&engine, &mut state);

        // Act
        let outcome = engine.handle(&mut state, says(1, "/start"), at(case.now));

        // Assert
        assert_eq!(
            outcome.result,
            Ok(Receipt::Command {
                citizen: citizen(&state, 1).id,
                command: Command::Start(None)
            }),
            "{}",
            case.name
        );
        let reply = &last_sent(&state, 1).text;
        let (greeting, help) = reply
            .split_once("\n\n")
            .expect("greeting, blank line, help");
        assert_eq!(greeting, case.greeting, "{}", case.name);
        assert!(help.starts_with(HELP_DE), "{}: {help}", case.name);
        assert_eq!(state.questions().count(), 0, "{}", case.name);
    }
}

#[test]
fn start_with_a_payload_keeps_the_payload_and_greets_in_english() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();

    // Act
    let outcome = engine.handle(&mut state, says_in(1, Lang::En, "/start s12"), at(FRIDAY));

    // Assert
    assert_eq!(
        outcome.result,
        Ok(Receipt::Command {
            citizen: CitizenId(1),
            command: Command::Start(Some("s12".to_owned())),
        })
    );
    let reply = &last_sent(&state, 1).text;
    assert!(
        reply.starts_with("Welcome! No office hours are scheduled at the moment."),
        "{reply}"
    );
    assert!(reply.contains(&format!("\n\n{HELP_EN}")), "{reply}");
}

#[test]
fn start_with_a_session_payload_greets_with_that_session_unless_it_is_unknown_or_over() {
    struct Case {
        name: &'static str,
        payload: &'static str,
        greeting_starts: &'static str,
    }
    let cases = [
        Case {
            name: "deep link to the later session",
            payload: "s2",
            greeting_starts: "Willkommen! Die nächste Sprechstunde „Bauausschuss vor Ort“ mit \
                              Oberbürgermeisterin beginnt am Dienstag, 8. Dezember 2026, 17:00 Uhr.",
        },
        Case {
            name: "bare session number",
            payload: "2",
            greeting_starts: "Willkommen! Die nächste Sprechstunde „Bauausschuss vor Ort“",
        },
        Case {
            name: "unknown session",
            payload: "s99",
            greeting_starts: "Willkommen! Die nächste Sprechstunde „Bürgersprechstunde“",
        },
        Case {
            name: "not a session payload",
            payload: "flyer",
            greeting_starts: "Willkommen! Die nächste Sprechstunde „Bürgersprechstunde“",
        },
    ];
    for case in cases {
        // Arrange
        let engine = engine();
        let mut state = OfficeState::default();
        add_session(&engine, &mut state, draft(), FRIDAY);
        let week = jiff::SignedDuration::from_hours(24 * 7);
        let later = SessionDraft {
            title: "Bauausschuss vor Ort".to_owned(),
            starts_at: at(SESSION_START) + week,
            ends_at: at(SESSION_END) + week,
            ..draft()
        };
        let id = add_session(&engine, &mut state, later, FRIDAY);
        assert_eq!(id, SessionId(2));

        // Act
        engine.handle(
            &mut state,
            says(1, &format!("/start {}", case.payload)),
            at(FRIDAY),
        );

        // Assert
        let reply = &last_sent(&state, 1).text;
        assert!(
            reply.starts_with(case.greeting_starts),
            "{}: {reply}",
            case.name
        );
    }
}

#[test]
fn start_with_the_payload_of_a_session_that_is_over_greets_without_it() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let id = add_session(&engine, &mut state, draft(), FRIDAY);

    // Act
    engine.handle(
        &mut state,
        says(1, &format!("/start s{}", id.0)),
        at(SESSION_END),
    );

    // Assert
    let reply = &last_sent(&state, 1).text;
    assert!(
        reply.starts_with("Willkommen! Derzeit ist keine Sprechstunde geplant."),
        "{reply}"
    );
}
