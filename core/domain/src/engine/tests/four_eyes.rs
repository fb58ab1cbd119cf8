//! Four-eyes approval has no side doors: no unapproved rejection reason, no draft that
//! outlives its department.

use super::triage::{drafted, office, other_clerk};
use super::*;
use crate::engine::Refusal;
use crate::ids::DepartmentId;
use crate::question::{EntryKind, QuestionStatus};

fn route(question: QuestionId, department: Option<u64>) -> Input {
    by_staff(StaffAction::Triage(TriageAction::Route {
        question,
        department: department.map(DepartmentId),
    }))
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
                by_staff(StaffAction::Triage(TriageAction::ReturnToOffice {
                    question: q,
                    note: "Nicht unsere Zuständigkeit.".into(),
                }))
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
                action: StaffAction::Triage(TriageAction::Approve {
                    question: id,
                    text: None,
                }),
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

fn merge(primary: QuestionId, duplicates: &[QuestionId]) -> Input {
    by_staff(StaffAction::OfficeHours(OfficeHoursAction::Merge {
        primary,
        duplicates: duplicates.to_vec(),
    }))
}

fn approve_as_other_clerk(question: QuestionId) -> Input {
    Input::Staff {
        actor: other_clerk(),
        action: StaffAction::Triage(TriageAction::Approve {
            question,
            text: None,
        }),
    }
}

#[test]
fn a_question_that_needs_approval_cannot_be_merged_into_one_answered_without_it() {
    // (case, primary's department, duplicate's department, refusal)
    type Case = (&'static str, Option<u64>, Option<u64>, Option<Refusal>);
    let cases: [Case; 5] = [
        (
            "approval duplicate into a road question",
            Some(1),
            Some(2),
            Some(Refusal::MergeNeedsApproval),
        ),
        (
            "approval duplicate into a citizens' office question",
            None,
            Some(2),
            Some(Refusal::MergeNeedsApproval),
        ),
        (
            "road duplicate into an approval question",
            Some(2),
            Some(1),
            None,
        ),
        ("both need approval", Some(2), Some(2), None),
        ("neither needs approval", Some(1), None, None),
    ];
    for (name, primary_department, duplicate_department, refusal) in cases {
        // Arrange
        let engine = engine();
        let mut state = office(&engine);
        let primary = ask(&engine, &mut state, 1, "Mein Antrag?", FRIDAY).question;
        let duplicate = ask(&engine, &mut state, 2, "Mein Antrag auch?", FRIDAY).question;
        for (id, department) in [
            (primary, primary_department),
            (duplicate, duplicate_department),
        ] {
            if department.is_some() {
                run(&engine, &mut state, route(id, department), FRIDAY);
            }
        }
        let before = dump(&state);

        // Act
        let outcome = engine.handle(&mut state, merge(primary, &[duplicate]), at(FRIDAY));

        // Assert
        match refusal {
            Some(refusal) => {
                assert_eq!(outcome.result, Err(refusal), "{name}");
                assert_eq!(outcome.changes, [], "{name}");
                assert_eq!(dump(&state), before, "{name}");
            }
            None => {
                assert_eq!(outcome.result, Ok(Receipt::Done), "{name}");
                assert_eq!(question(&state, duplicate).merged_into, Some(primary));
            }
        }
    }
}

#[test]
fn an_unapproved_answer_is_not_sent_to_a_duplicate_that_came_to_need_approval() {
    // Arrange: two road questions merged; then the duplicate is routed to the building
    // department (approval), so the road answer must not reach its citizen unapproved.
    let engine = engine();
    let mut state = office(&engine);
    let primary = ask(&engine, &mut state, 1, "Schlagloch?", FRIDAY).question;
    let duplicate = ask(&engine, &mut state, 2, "Schlagloch und Bauantrag?", FRIDAY).question;
    run(&engine, &mut state, route(primary, Some(1)), FRIDAY);
    run(&engine, &mut state, route(duplicate, Some(1)), FRIDAY);
    run(&engine, &mut state, merge(primary, &[duplicate]), FRIDAY);
    run(&engine, &mut state, route(duplicate, Some(2)), FRIDAY);
    let sent_to_duplicate = outbox(&state, 2).len();

    // Act
    let answered = engine.handle(
        &mut state,
        answer(primary, "Wird nächste Woche repariert."),
        at(FRIDAY),
    );

    // Assert: the primary's citizen has the answer, the other one waits for approval.
    assert_eq!(answered.result, Ok(Receipt::Done));
    assert_eq!(question(&state, primary).status, QuestionStatus::Answered);
    assert!(last_sent(&state, 1).text.contains("nächste Woche"));
    assert_eq!(outbox(&state, 2).len(), sent_to_duplicate, "nothing sent");
    let d = question(&state, duplicate);
    assert_eq!(d.status, QuestionStatus::Open);
    assert_eq!(d.merged_into, None, "back in the queue on its own");
    let draft = d.draft.as_ref().expect("the answer waits as a draft");
    assert_eq!(
        (draft.text.as_str(), &draft.staff),
        ("Wird nächste Woche repariert.", &clerk())
    );
    // Approval by somebody else sends it.
    let approved = engine.handle(&mut state, approve_as_other_clerk(duplicate), at(FRIDAY));
    assert_eq!(approved.result, Ok(Receipt::Done));
    assert_eq!(question(&state, duplicate).status, QuestionStatus::Answered);
    assert!(last_sent(&state, 2).text.contains("nächste Woche"));
}

#[test]
fn an_approved_answer_goes_to_every_duplicate() {
    // Arrange: two building questions merged; the clerk's answer waits as a draft.
    let engine = engine();
    let mut state = office(&engine);
    let primary = ask(&engine, &mut state, 1, "Mein Bauantrag?", FRIDAY).question;
    let duplicate = ask(&engine, &mut state, 2, "Bauantrag auch?", FRIDAY).question;
    run(&engine, &mut state, route(duplicate, Some(2)), FRIDAY);
    drafted(&engine, &mut state, primary);
    run(&engine, &mut state, merge(primary, &[duplicate]), FRIDAY);
    assert_eq!(
        outbox(&state, 2)
            .iter()
            .filter(|m| m.text.contains("genehmigt"))
            .count(),
        0
    );

    // Act
    let approved = engine.handle(&mut state, approve_as_other_clerk(primary), at(FRIDAY));

    // Assert
    assert_eq!(approved.result, Ok(Receipt::Done));
    for (n, id) in [(1, primary), (2, duplicate)] {
        assert_eq!(question(&state, id).status, QuestionStatus::Answered, "{n}");
        assert!(
            last_sent(&state, n).text.contains("Entwurf: genehmigt."),
            "{n}"
        );
    }
}
