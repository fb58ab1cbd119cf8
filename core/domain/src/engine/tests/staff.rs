//! Staff actions on questions: answer, note, reject.

use super::*;
use crate::engine::Refusal;
use crate::question::{EntryKind, QuestionStatus, Queue};

#[test]
fn an_answer_goes_to_the_citizen_and_closes_the_question() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let asked = ask(
        &engine,
        &mut state,
        1,
        "Wann wird die Brücke saniert?",
        FRIDAY,
    );
    let now = at(FRIDAY) + hours(3);

    // Act
    let outcome = engine.handle(
        &mut state,
        answer(asked.question, "  Im Frühjahr 2027.  "),
        now,
    );

    // Assert
    assert_eq!(outcome.result, Ok(Receipt::Done));
    let sent = last_sent(&state, 1);
    assert_eq!(
        sent.text,
        "Antwort zu Ihrem Anliegen A-1001:\n\nIm Frühjahr 2027.\n\nSie können auf diese Nachricht \
         antworten, wenn Sie eine Rückfrage haben."
    );
    assert_eq!(
        (sent.id, sent.question),
        (OutboxId(2), Some(asked.question))
    );
    assert!(sent.is_pending());
    let q = question(&state, asked.question);
    assert_eq!(q.status, QuestionStatus::Answered);
    assert_eq!(q.due, None);
    assert_eq!(q.updated_at, now);
    let last = q.entries.last().expect("entries");
    assert_eq!(last.kind, EntryKind::Answer { staff: clerk() });
    assert_eq!(last.text, "Im Frühjahr 2027.");
    assert_eq!((last.at, last.outbox), (now, Some(OutboxId(2))));
    assert!(last.visible_to_citizen());
    assert_eq!(
        keys(&outcome.changes),
        [Key::Question(1), Key::Outbox(2), Key::Counters]
    );
}

#[test]
fn an_answer_reaches_an_english_citizen_in_english() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let asked = ask_input(
        &engine,
        &mut state,
        says_in(1, Lang::En, "Bridge?"),
        at(FRIDAY),
    );

    // Act
    run(
        &engine,
        &mut state,
        answer(asked.question, "In spring 2027."),
        FRIDAY,
    );

    // Assert
    assert_eq!(
        last_sent(&state, 1).text,
        "Answer to your question A-1001:\n\nIn spring 2027.\n\nYou can reply to this message if \
         you have a follow-up question."
    );
}

#[test]
fn answering_a_live_question_moves_the_others_up() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let session = add_session(&engine, &mut state, draft(), FRIDAY);
    let first = ask(&engine, &mut state, 1, "Erste Frage", DURING_SESSION);
    let second = ask(&engine, &mut state, 2, "Zweite Frage", DURING_SESSION);

    // Act
    run(
        &engine,
        &mut state,
        answer(first.question, "Ja."),
        DURING_SESSION,
    );

    // Assert
    let q = question(&state, first.question);
    assert_eq!(
        (q.status, q.queue),
        (QuestionStatus::Answered, Queue::Session(session))
    );
    assert_eq!(state.queue_position(first.question), None);
    assert_eq!(state.queue_position(second.question), Some(1));
    assert_eq!(state.session_queue(session).count(), 1);
}

#[test]
fn a_note_stays_internal_and_sends_nothing() {
    for (name, close_first) in [
        ("on an open question", false),
        ("on an answered question", true),
    ] {
        // Arrange
        let engine = engine();
        let mut state = OfficeState::default();
        let asked = ask(
            &engine,
            &mut state,
            1,
            "Wann wird die Brücke saniert?",
            FRIDAY,
        );
        if close_first {
            run(
                &engine,
                &mut state,
                answer(asked.question, "Im Frühjahr 2027."),
                FRIDAY,
            );
        }
        let before = question(&state, asked.question).clone();
        let sent_before = outbox(&state, 1).len();
        let now = at(FRIDAY) + hours(1);

        // Act
        let outcome = engine.handle(
            &mut state,
            by_staff(StaffAction::Question(QuestionAction::Note {
                question: asked.question,
                text: " Tiefbauamt fragen. ".to_owned(),
            })),
            now,
        );

        // Assert
        assert_eq!(outcome.result, Ok(Receipt::Done), "{name}");
        let q = question(&state, asked.question);
        assert_eq!(q.entries.len(), before.entries.len() + 1, "{name}");
        let note = q.entries.last().expect("entries");
        assert_eq!(note.kind, EntryKind::Note { staff: clerk() }, "{name}");
        assert_eq!(
            (note.text.as_str(), note.at, note.outbox),
            ("Tiefbauamt fragen.", now, None),
            "{name}"
        );
        assert!(!note.visible_to_citizen(), "{name}");
        assert_eq!(q.status, before.status, "{name}: a note changes no status");
        assert_eq!(q.due, before.due, "{name}");
        assert_eq!(outbox(&state, 1).len(), sent_before, "{name}: nothing sent");
        assert_eq!(keys(&outcome.changes), [Key::Question(1)], "{name}");
    }
}

#[test]
fn a_rejection_tells_the_citizen_the_reason() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let asked = ask(
        &engine,
        &mut state,
        1,
        "Können Sie meinen Nachbarn anzeigen?",
        FRIDAY,
    );
    let now = at(FRIDAY) + hours(1);

    // Act
    let outcome = engine.handle(
        &mut state,
        reject(asked.question, " Dafür ist die Polizei zuständig. "),
        now,
    );

    // Assert
    assert_eq!(outcome.result, Ok(Receipt::Done));
    let q = question(&state, asked.question);
    assert_eq!(q.status, QuestionStatus::Rejected);
    assert_eq!(
        q.rejection.as_deref(),
        Some("Dafür ist die Polizei zuständig.")
    );
    assert_eq!((q.due, q.updated_at), (None, now));
    let sent = last_sent(&state, 1);
    assert_eq!(
        sent.text,
        "Ihr Anliegen A-1001 kann leider nicht bearbeitet werden.\nBegründung: Dafür ist die \
         Polizei zuständig."
    );
    assert_eq!(sent.question, Some(asked.question));
    let last = q.entries.last().expect("entries");
    assert_eq!(
        (&last.kind, last.outbox),
        (&EntryKind::System, Some(sent.id))
    );
    assert_eq!(last.text, sent.text);
    assert_eq!(
        keys(&outcome.changes),
        [Key::Question(1), Key::Outbox(2), Key::Counters]
    );
}

#[test]
fn staff_actions_on_questions_are_refused_when_they_cannot_apply() {
    /// Brings question 1 into the state the case needs.
    type Setup = fn(&Engine, &mut OfficeState, QuestionId);
    struct Case {
        name: &'static str,
        setup: Setup,
        action: StaffAction,
        refusal: Refusal,
    }
    let open: Setup = |_, _, _| {};
    let answered: Setup = |e, s, q| run(e, s, answer(q, "Im Frühjahr 2027."), FRIDAY);
    let rejected: Setup = |e, s, q| run(e, s, reject(q, "Nicht zuständig."), FRIDAY);
    let withdrawn: Setup = |e, s, _| run(e, s, says(1, "/zurueckziehen"), FRIDAY);
    let q1 = QuestionId(1);
    let unknown = QuestionId(99);
    let answer_with = |question, text: &str| {
        StaffAction::Question(QuestionAction::Answer {
            question,
            text: text.to_owned(),
        })
    };
    let reject_with = |question, reason: &str| {
        StaffAction::Question(QuestionAction::Reject {
            question,
            reason: reason.to_owned(),
        })
    };
    let note_with = |question, text: &str| {
        StaffAction::Question(QuestionAction::Note {
            question,
            text: text.to_owned(),
        })
    };
    let cases = [
        Case {
            name: "answer to an answered question",
            setup: answered,
            action: answer_with(q1, "Nochmal."),
            refusal: Refusal::NotOpen(QuestionStatus::Answered),
        },
        Case {
            name: "answer to a rejected question",
            setup: rejected,
            action: answer_with(q1, "Doch."),
            refusal: Refusal::NotOpen(QuestionStatus::Rejected),
        },
        Case {
            name: "answer to a withdrawn question",
            setup: withdrawn,
            action: answer_with(q1, "Trotzdem."),
            refusal: Refusal::NotOpen(QuestionStatus::Withdrawn),
        },
        Case {
            name: "answer to an unknown question",
            setup: open,
            action: answer_with(unknown, "Hallo?"),
            refusal: Refusal::NotFound,
        },
        Case {
            name: "empty answer",
            setup: open,
            action: answer_with(q1, " \n "),
            refusal: Refusal::EmptyText,
        },
        Case {
            name: "rejection of an answered question",
            setup: answered,
            action: reject_with(q1, "Nicht zuständig."),
            refusal: Refusal::NotOpen(QuestionStatus::Answered),
        },
        Case {
            name: "rejection of an unknown question",
            setup: open,
            action: reject_with(unknown, "Nicht zuständig."),
            refusal: Refusal::NotFound,
        },
        Case {
            name: "rejection without a reason",
            setup: open,
            action: reject_with(q1, ""),
            refusal: Refusal::EmptyText,
        },
        Case {
            name: "note on an unknown question",
            setup: open,
            action: note_with(unknown, "Merken."),
            refusal: Refusal::NotFound,
        },
        Case {
            name: "empty note",
            setup: open,
            action: note_with(q1, "   "),
            refusal: Refusal::EmptyText,
        },
    ];
    for case in cases {
        // Arrange
        let engine = engine();
        let mut state = OfficeState::default();
        let asked = ask(
            &engine,
            &mut state,
            1,
            "Wann wird die Brücke saniert?",
            FRIDAY,
        );
        assert_eq!(asked.question, q1);
        (case.setup)(&engine, &mut state, q1);
        let before = dump(&state);

        // Act
        let outcome = engine.handle(&mut state, by_staff(case.action), at(FRIDAY) + hours(1));

        // Assert
        assert_eq!(outcome.result, Err(case.refusal), "{}", case.name);
        assert_eq!(outcome.changes, [], "{}", case.name);
        assert_eq!(dump(&state), before, "{}", case.name);
    }
}
