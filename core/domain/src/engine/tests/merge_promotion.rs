//! Merged duplicates are never orphaned: when the primary question leaves without an answer
//! (withdrawn, rejected, erased, purged), the oldest open duplicate takes its place.

use super::*;
use crate::question::{EntryKind, QuestionStatus};

/// Twenty minutes into the fixture session, after the merge.
const LATER: &str = "2026-12-01T16:30:00Z";

/// A live session with four questions on the same topic from citizens 1–4; 2, 3 and 4 are
/// merged into 1, and the host is answering 1 now.
fn merged_four() -> (Engine, OfficeState, SessionId, [Asked; 4]) {
    let engine = engine();
    let mut state = OfficeState::default();
    let id = add_session(&engine, &mut state, draft(), FRIDAY);
    let texts = [
        "Wann wird die Brücke saniert?",
        "Brücke: wann saniert?",
        "Sanierung der Brücke?",
        "Was ist mit der Brücke?",
    ];
    let asked: Vec<Asked> = (1u64..)
        .zip(texts)
        .map(|(n, text)| ask(&engine, &mut state, n, text, DURING_SESSION))
        .collect();
    let [a, b, c, d] = [asked[0], asked[1], asked[2], asked[3]];
    run(
        &engine,
        &mut state,
        by_staff(StaffAction::OfficeHours(OfficeHoursAction::Merge {
            primary: a.question,
            // Not in age order: the heir is the oldest, whatever the merge order.
            duplicates: vec![d.question, b.question, c.question],
        })),
        DURING_SESSION,
    );
    run(
        &engine,
        &mut state,
        by_staff(StaffAction::OfficeHours(OfficeHoursAction::AnsweringNow {
            session: id,
            question: Some(a.question),
        })),
        DURING_SESSION,
    );
    (engine, state, id, [a, b, c, d])
}

#[test]
fn when_the_primary_leaves_the_oldest_open_duplicate_becomes_primary_and_gets_the_answer() {
    struct Case {
        name: &'static str,
        leave: fn(QuestionId) -> Input,
        primary_gone: bool,
    }
    let cases = [
        Case {
            name: "withdrawn by the citizen",
            leave: |_| says(1, "/zurueckziehen"),
            primary_gone: false,
        },
        Case {
            name: "rejected by staff",
            leave: |q| reject(q, "Bitte wenden Sie sich an den Landkreis."),
            primary_gone: false,
        },
        Case {
            name: "erased at the citizen's request",
            leave: |_| says(1, "/loeschen bestaetigen"),
            primary_gone: true,
        },
    ];
    for case in cases {
        // Arrange
        let (engine, mut state, id, [a, b, c, d]) = merged_four();
        let sent_before: Vec<usize> = (2..=4).map(|n| outbox(&state, n).len()).collect();

        // Act
        run(&engine, &mut state, (case.leave)(a.question), LATER);

        // Assert: 2 is the primary now, 3 and 4 are merged into it, the host follows.
        let name = case.name;
        assert_eq!(
            state.question(a.question).is_none(),
            case.primary_gone,
            "{name}"
        );
        assert_eq!(question(&state, b.question).merged_into, None, "{name}");
        for dup in [c, d] {
            let q = question(&state, dup.question);
            assert_eq!(q.merged_into, Some(b.question), "{name}");
            assert_eq!(q.updated_at, at(LATER), "{name}");
        }
        let session = state.session(id).expect("session");
        assert_eq!(session.answering, Some(b.question), "{name}");
        // The others are told nothing: neither the withdrawal nor the rejection reason.
        let sent_after: Vec<usize> = (2..=4).map(|n| outbox(&state, n).len()).collect();
        assert_eq!(sent_after, sent_before, "{name}");

        // Act: the new primary is answered.
        run(&engine, &mut state, answer(b.question, "Im März."), LATER);

        // Assert: every remaining asker gets the answer under their own reference.
        for (n, asked) in [(2, b), (3, c), (4, d)] {
            let q = question(&state, asked.question);
            assert_eq!(q.status, QuestionStatus::Answered, "{name}: citizen {n}");
            let sent = last_sent(&state, n);
            assert!(
                sent.text.contains(&asked.reference.to_string()) && sent.text.contains("Im März."),
                "{name}: citizen {n}: {}",
                sent.text
            );
        }
        if !case.primary_gone {
            let q = question(&state, a.question);
            assert_ne!(q.status, QuestionStatus::Answered, "{name}");
            assert!(
                !q.entries
                    .iter()
                    .any(|e| matches!(e.kind, EntryKind::Answer { .. })),
                "{name}"
            );
        }
    }
}

#[test]
fn a_purged_primary_hands_its_open_duplicates_on() {
    // Arrange: data written before promotion existed: a withdrawn primary with an open
    // duplicate attached; the primary's retention period has passed.
    let (engine, state, _, [a, b, c, _]) = merged_four();
    let mut snapshot = dump(&state);
    for q in &mut snapshot.questions {
        if q.id == a.question {
            q.status = QuestionStatus::Withdrawn;
        }
    }
    let mut state = OfficeState::from_snapshot(snapshot);
    let days = engine.policy().privacy.retention.withdrawn_days;
    let later = at(DURING_SESSION) + hours(24 * i64::from(days) + 1);

    // Act
    let outcome = engine.handle(&mut state, Input::Purge, later);

    // Assert
    assert!(outcome.result.is_ok());
    assert!(state.question(a.question).is_none());
    assert_eq!(question(&state, b.question).merged_into, None);
    assert_eq!(question(&state, c.question).merged_into, Some(b.question));
}

#[test]
fn answered_duplicates_of_an_erased_primary_are_detached_and_keep_their_retention() {
    // Arrange: 2 was answered together with 1.
    let (engine, mut state, _, [a, b, ..]) = merged_four();
    run(
        &engine,
        &mut state,
        answer(a.question, "Im März."),
        DURING_SESSION,
    );
    let answered_at = question(&state, b.question).updated_at;

    // Act: citizen 1 is erased a day later.
    let next_day = at(DURING_SESSION) + hours(24);
    engine.handle(&mut state, says(1, "/loeschen bestaetigen"), next_day);

    // Assert: nothing points at the erased question; retention still counts from the answer.
    assert!(state.question(a.question).is_none());
    let q = question(&state, b.question);
    assert_eq!(q.merged_into, None);
    assert_eq!(q.updated_at, answered_at);
    assert_eq!(state.merged_into(a.question).count(), 0);
}

#[test]
fn a_follow_up_to_a_merged_duplicate_is_the_citizens_own_question() {
    // Arrange: 1 and 2 were answered together.
    let (engine, mut state, _, [a, b, ..]) = merged_four();
    run(
        &engine,
        &mut state,
        answer(a.question, "Im März."),
        DURING_SESSION,
    );
    let next_day = at(DURING_SESSION) + hours(24);

    // Act: both follow up; 1's follow-up is answered.
    ask_input(&engine, &mut state, says(2, "Und die Umleitung?"), next_day);
    ask_input(&engine, &mut state, says(1, "Welcher März?"), next_day);
    engine.handle(&mut state, answer(a.question, "März 2027."), next_day);

    // Assert: 2's follow-up is not answered with the answer meant for 1.
    let q = question(&state, b.question);
    assert_eq!(q.merged_into, None);
    assert!(q.is_open());
    assert!(!last_sent(&state, 2).text.contains("März 2027."));
}
