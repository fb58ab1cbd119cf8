//! Four-eyes approval has no side doors: no unapproved rejection reason, no draft that
//! outlives its department.

use super::triage::{drafted, office, other_clerk};
use super::*;
use crate::engine::Refusal;
use crate::ids::DepartmentId;
use crate::question::{EntryKind, QuestionStatus};

fn route(question: QuestionId, department: Option<u64>) -> Input {
    by_staff(StaffAction::Route {
        question,
        department: department.map(DepartmentId),
    })
}

#[test]
fn a_question_of_a_department_that_needs_approval_cannot_be_rejected_there() {
    // (where the question is, whether rejecting it is refused)
    let cases: [(&str, Option<u64>, Option<Refusal>); 3] = [
        (
            "building department (approval)",
            Some(2),
            Some(Refusal::RejectNeedsApproval),
        ),
        ("road department (no approval)", Some(1), None),
        ("citizens' office", None, None),
    ];
    for (name, department, refusal) in cases {
        // Arrange
        let engine = engine();
        let mut state = office(&engine);
        let id = ask(&engine, &mut state, 1, "Mein Bauantrag?", FRIDAY).question;
        if department.is_some() {
            run(&engine, &mut state, route(id, department), FRIDAY);
        }
        let sent_before = outbox(&state, 1).len();
        let before = dump(&state);

        // Act
        let outcome = engine.handle(
            &mut state,
            reject(id, "Dafür ist der Landkreis zuständig."),
            at(FRIDAY),
        );

        // Assert
        match refusal {
            Some(refusal) => {
                assert_eq!(outcome.result, Err(refusal), "{name}");
                assert_eq!(outcome.changes, [], "{name}");
                assert_eq!(dump(&state), before, "{name}");
                assert_eq!(outbox(&state, 1).len(), sent_before, "{name}");
            }
            None => {
                assert_eq!(outcome.result, Ok(Receipt::Done), "{name}");
                assert_eq!(question(&state, id).status, QuestionStatus::Rejected);
                assert!(last_sent(&state, 1).text.contains("Landkreis"), "{name}");
            }
        }
    }
}

#[test]
fn the_refusal_tells_staff_in_german_and_english_to_hand_the_question_back() {
    let text = Refusal::RejectNeedsApproval.to_string();

    assert!(text.contains("Bürgerreferat zurück"), "{text}");
    assert!(text.contains("hand the question back"), "{text}");
}

#[test]
fn a_pending_draft_is_dropped_when_the_question_leaves_the_department() {
    // (how it leaves, whether the draft stays)
    type Leave = fn(QuestionId) -> Input;
    let cases: [(&str, Leave, bool); 4] = [
        (
            "rerouted to the road department",
            |q| route(q, Some(1)),
            false,
        ),
        (
            "routed back to the citizens' office",
            |q| route(q, None),
            false,
        ),
        (
            "handed back with a note",
            |q| {
                by_staff(StaffAction::ReturnToOffice {
                    question: q,
                    note: "Nicht unsere Zuständigkeit.".into(),
                })
            },
            false,
        ),
        (
            "routed to the same department again",
            |q| route(q, Some(2)),
            true,
        ),
    ];
    for (name, leave, kept) in cases {
        // Arrange: the clerk's answer waits as a draft in the building department.
        let engine = engine();
        let mut state = office(&engine);
        let id = ask(&engine, &mut state, 1, "Mein Bauantrag?", FRIDAY).question;
        drafted(&engine, &mut state, id);
        let sent_before = outbox(&state, 1).len();

        // Act
        run(&engine, &mut state, leave(id), FRIDAY);

        // Assert
        let q = question(&state, id);
        assert_eq!(q.draft.is_some(), kept, "{name}");
        assert_eq!(outbox(&state, 1).len(), sent_before, "{name}: nothing sent");
        let discarded = q.entries.iter().any(|e| {
            matches!(e.kind, EntryKind::Note { .. })
                && e.text
                    .starts_with("Antwortentwurf von Erika Mustermann verworfen")
                && e.text.ends_with("Entwurf: genehmigt.")
        });
        assert_eq!(discarded, !kept, "{name}: the text is kept as a note");
        let approved = engine.handle(
            &mut state,
            Input::Staff {
                actor: other_clerk(),
                action: StaffAction::Approve {
                    question: id,
                    text: None,
                },
            },
            at(FRIDAY),
        );
        if kept {
            assert_eq!(approved.result, Ok(Receipt::Done), "{name}");
        } else {
            assert_eq!(approved.result, Err(Refusal::NoDraft), "{name}");
            assert!(question(&state, id).is_open(), "{name}");
        }
    }
}
