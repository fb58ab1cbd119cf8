//! A citizen writes again: the open question grows, an answered one is followed up, a closed
//! one leads to a new question.

use jiff::SignedDuration;

use super::*;
use crate::question::{EntryKind, QuestionStatus, Queue};

#[test]
fn a_second_message_while_open_extends_the_question() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let first = ask(
        &engine,
        &mut state,
        1,
        "Wann wird die Brücke saniert?",
        FRIDAY,
    );
    let later = at(FRIDAY) + hours(1);

    // Act
    let outcome = engine.handle(&mut state, says(1, "Es geht um die Lahnbrücke."), later);

    // Assert
    assert_eq!(
        outcome.result,
        Ok(Receipt::Question {
            citizen: first.citizen,
            question: first.question,
            reference: Reference(1001),
            intake: Intake::Extended,
        })
    );
    let q = question(&state, first.question);
    let kinds: Vec<&EntryKind> = q.entries.iter().map(|e| &e.kind).collect();
    assert_eq!(
        kinds,
        [&EntryKind::Citizen, &EntryKind::System, &EntryKind::Citizen]
    );
    assert_eq!(q.entries[2].text, "Es geht um die Lahnbrücke.");
    assert_eq!(q.updated_at, later);
    assert_eq!(q.due, Some(day(2026, 12, 4)), "the due date stays");
    assert_eq!(state.questions().count(), 1);
    let ack = last_sent(&state, 1);
    assert_eq!(
        ack.text,
        "Ihre Nachricht wurde zu Ihrem Anliegen A-1001 hinzugefügt."
    );
    assert_eq!(ack.question, Some(first.question));
    assert_eq!(
        keys(&outcome.changes),
        [Key::Question(1), Key::Outbox(2), Key::Counters]
    );
}

#[test]
fn a_message_after_a_closed_question_follows_up_or_opens_a_new_one() {
    type Setup = fn(&Engine, &mut OfficeState, QuestionId);
    struct Case {
        name: &'static str,
        close: Setup,
        after: SignedDuration,
        intake: Intake,
        reference: Reference,
        due: Date,
        ack: &'static str,
    }
    let answered: Setup = |e, s, q| run(e, s, answer(q, "Im Frühjahr 2027."), FRIDAY);
    let rejected: Setup = |e, s, q| run(e, s, reject(q, "Zuständig ist der Landkreis."), FRIDAY);
    let withdrawn: Setup = |e, s, _| run(e, s, says(1, "/zurueckziehen"), FRIDAY);
    let cases = [
        Case {
            name: "an hour after the answer",
            close: answered,
            after: hours(1),
            intake: Intake::FollowUp,
            reference: Reference(1001),
            due: day(2026, 12, 4),
            ack: "Ihre Rückfrage zu Anliegen A-1001 ist eingegangen und wurde an das \
                  Bürgerreferat weitergeleitet. Sie erhalten bis spätestens Freitag, \
                  4. Dezember 2026 eine Antwort.",
        },
        Case {
            name: "exactly when the follow-up window ends",
            close: answered,
            after: hours(14 * 24),
            intake: Intake::FollowUp,
            reference: Reference(1001),
            due: day(2026, 12, 18),
            ack: "Ihre Rückfrage zu Anliegen A-1001 ist eingegangen und wurde an das \
                  Bürgerreferat weitergeleitet. Sie erhalten bis spätestens Freitag, \
                  18. Dezember 2026 eine Antwort.",
        },
        Case {
            name: "a second after the follow-up window",
            close: answered,
            after: hours(14 * 24) + SignedDuration::from_secs(1),
            intake: Intake::New(Queue::CitizensOffice),
            reference: Reference(1002),
            due: day(2026, 12, 18),
            ack: "Vielen Dank! Ihr Anliegen ist unter der Nummer A-1002 eingegangen.\n\
                  Zurzeit findet keine Sprechstunde statt. Wir haben Ihr Anliegen an das \
                  Bürgerreferat weitergeleitet; Sie erhalten bis spätestens Freitag, \
                  18. Dezember 2026 eine Antwort.",
        },
        Case {
            name: "an hour after a rejection",
            close: rejected,
            after: hours(1),
            intake: Intake::New(Queue::CitizensOffice),
            reference: Reference(1002),
            due: day(2026, 12, 4),
            ack: "Vielen Dank! Ihr Anliegen ist unter der Nummer A-1002 eingegangen.\n\
                  Zurzeit findet keine Sprechstunde statt. Wir haben Ihr Anliegen an das \
                  Bürgerreferat weitergeleitet; Sie erhalten bis spätestens Freitag, \
                  4. Dezember 2026 eine Antwort.",
        },
        Case {
            name: "an hour after withdrawing",
            close: withdrawn,
            after: hours(1),
            intake: Intake::New(Queue::CitizensOffice),
            reference: Reference(1002),
            due: day(2026, 12, 4),
            ack: "Vielen Dank! Ihr Anliegen ist unter der Nummer A-1002 eingegangen.\n\
                  Zurzeit findet keine Sprechstunde statt. Wir haben Ihr Anliegen an das \
                  Bürgerreferat weitergeleitet; Sie erhalten bis spätestens Freitag, \
                  4. Dezember 2026 eine Antwort.",
        },
    ];
    for case in cases {
        // Arrange
        let engine = engine();
        let mut state = OfficeState::default();
        let first = ask(
            &engine,
            &mut state,
            1,
            "Wann wird die Brücke saniert?",
            FRIDAY,
        );
        (case.close)(&engine, &mut state, first.question);
        let before = question(&state, first.question).clone();
        let now = at(FRIDAY) + case.after;

        // Act
        let asked = ask_input(&engine, &mut state, says(1, "Und die Umleitung?"), now);

        // Assert
        assert_eq!(asked.intake, case.intake, "{}", case.name);
        assert_eq!(asked.reference, case.reference, "{}", case.name);
        let q = question(&state, asked.question);
        assert_eq!(q.status, QuestionStatus::Open, "{}", case.name);
        assert_eq!(q.queue, Queue::CitizensOffice, "{}", case.name);
        assert_eq!(q.due, Some(case.due), "{}", case.name);
        let ack = last_sent(&state, 1);
        assert_eq!(ack.text, case.ack, "{}", case.name);
        let last = q.entries.last().expect("entries");
        assert_eq!(
            (&last.kind, last.outbox),
            (&EntryKind::System, Some(ack.id)),
            "{}",
            case.name
        );
        if case.intake == Intake::FollowUp {
            assert_eq!(q.entries.len(), before.entries.len() + 2, "{}", case.name);
            assert_eq!(
                q.entries[before.entries.len()].text,
                "Und die Umleitung?",
                "{}",
                case.name
            );
        } else {
            assert_eq!(
                question(&state, first.question),
                &before,
                "{}: old one untouched",
                case.name
            );
            assert_eq!(state.questions().count(), 2, "{}", case.name);
        }
    }
}

#[test]
fn a_follow_up_to_a_session_answer_goes_to_the_office() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let session = add_session(&engine, &mut state, draft(), FRIDAY);
    let asked = ask(
        &engine,
        &mut state,
        1,
        "Wann kommt der Radweg?",
        DURING_SESSION,
    );
    run(
        &engine,
        &mut state,
        answer(asked.question, "Nächstes Jahr."),
        DURING_SESSION,
    );

    // Act
    let follow_up = ask(&engine, &mut state, 1, "Welcher Monat?", DURING_SESSION);

    // Assert
    assert_eq!(follow_up.intake, Intake::FollowUp);
    let q = question(&state, asked.question);
    assert_eq!(q.queue, Queue::CitizensOffice);
    assert_eq!(q.due, Some(day(2026, 12, 8)));
    assert_eq!(state.session_queue(session).count(), 0);
}
