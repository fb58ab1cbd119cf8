//! Triage: routing suggestions, routing, assignment, hand-back, four-eyes approval,
//! departments and due dates over holidays.

use super::*;
use crate::engine::Refusal;
use crate::holidays::GermanState;
use crate::ids::DepartmentId;
use crate::question::{EntryKind, QuestionStatus};
use crate::staff::Department;

pub(super) fn department(id: u64, slug: &str, keywords: &[&str], approval: bool) -> Department {
    Department {
        id: DepartmentId(id),
        name: format!("Amt {slug}"),
        slug: slug.to_owned(),
        keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
        patterns: Vec::new(),
        requires_approval: approval,
        text_modules: Vec::new(),
    }
}

pub(super) fn other_clerk() -> StaffRef {
    StaffRef {
        id: StaffId(8),
        name: "Max Prüfer".to_owned(),
    }
}

/// An office with a road department (keyword "Schlagloch") and a building department that
/// needs approval (keyword "Bauantrag").
pub(super) fn office(engine: &Engine) -> OfficeState {
    let mut state = OfficeState::default();
    for d in [
        department(0, "tiefbau", &["Schlagloch"], false),
        department(0, "bauamt", &["Bauantrag"], true),
    ] {
        run(
            engine,
            &mut state,
            by_staff(StaffAction::Triage(TriageAction::SaveDepartment(d))),
            FRIDAY,
        );
    }
    state
}

#[test]
fn new_questions_get_a_suggestion_naming_the_rule() {
    let engine = engine();
    let mut state = office(&engine);
    // (text, suggested department, rule)
    let cases = [
        (
            "Das Schlagloch in der Hauptstraße!",
            Some((1, "keyword \"Schlagloch\"")),
        ),
        (
            "Wo bleibt mein BAUANTRAG?",
            Some((2, "keyword \"Bauantrag\"")),
        ),
        ("Wann ist das Bürgerbüro offen?", None),
    ];
    for (n, (text, expected)) in (1..).zip(cases) {
        let asked = ask(&engine, &mut state, n, text, FRIDAY);
        let q = question(&state, asked.question);
        assert_eq!(
            q.suggestion
                .as_ref()
                .map(|s| (s.department.0, s.rule.as_str())),
            expected,
            "{text}"
        );
        // A suggestion is not a routing: the citizens' office confirms.
        assert_eq!(q.department, None);
    }
}

#[test]
fn departments_get_ids_and_unique_slugs_and_bad_rules_are_refused() {
    let engine = engine();
    let mut state = office(&engine);
    let ids: Vec<(u64, &str)> = state
        .departments()
        .map(|d| (d.id.0, d.slug.as_str()))
        .collect();
    assert_eq!(ids, [(1, "tiefbau"), (2, "bauamt")]);
    let cases = [
        (department(0, "tiefbau", &[], false), "taken"),
        (department(0, "Bad Slug", &[], false), "slug"),
        (
            Department {
                patterns: vec!["(".into()],
                ..department(0, "x", &[], false)
            },
            "regular expression",
        ),
    ];
    for (d, problem) in cases {
        let outcome = engine.handle(
            &mut state,
            by_staff(StaffAction::Triage(TriageAction::SaveDepartment(d))),
            at(FRIDAY),
        );
        match outcome.result {
            Err(Refusal::InvalidDepartment(m)) => assert!(m.contains(problem), "{m}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(outcome.changes.is_empty());
    }
    // Editing keeps the id.
    let mut renamed = department(1, "tiefbau", &["Gehweg"], false);
    renamed.name = "Tiefbauamt".into();
    let outcome = engine.handle(
        &mut state,
        by_staff(StaffAction::Triage(TriageAction::SaveDepartment(renamed))),
        at(FRIDAY),
    );
    assert_eq!(outcome.result, Ok(Receipt::Done));
    assert_eq!(keys(&outcome.changes), [Key::Department(1)]);
    assert_eq!(
        state.department(DepartmentId(1)).map(|d| d.name.as_str()),
        Some("Tiefbauamt")
    );
}

#[test]
fn routing_assignment_and_hand_back() {
    let engine = engine();
    let mut state = office(&engine);
    let asked = ask(&engine, &mut state, 1, "Schlagloch", FRIDAY);
    let id = asked.question;

    // Unknown departments are refused.
    let outcome = engine.handle(
        &mut state,
        by_staff(StaffAction::Triage(TriageAction::Route {
            question: id,
            department: Some(DepartmentId(9)),
        })),
        at(FRIDAY),
    );
    assert!(matches!(outcome.result, Err(Refusal::InvalidDepartment(_))));

    run(
        &engine,
        &mut state,
        by_staff(StaffAction::Triage(TriageAction::Route {
            question: id,
            department: Some(DepartmentId(1)),
        })),
        FRIDAY,
    );
    run(
        &engine,
        &mut state,
        by_staff(StaffAction::Triage(TriageAction::Assign {
            question: id,
            assignee: Some(other_clerk()),
        })),
        FRIDAY,
    );
    let q = question(&state, id);
    assert_eq!(
        (q.department, q.assignee.clone()),
        (Some(DepartmentId(1)), Some(other_clerk()))
    );

    // Rerouting drops the assignee.
    run(
        &engine,
        &mut state,
        by_staff(StaffAction::Triage(TriageAction::Route {
            question: id,
            department: Some(DepartmentId(2)),
        })),
        FRIDAY,
    );
    assert_eq!(question(&state, id).assignee, None);

    // Back to the citizens' office needs a note, which is kept in the thread.
    let outcome = engine.handle(
        &mut state,
        by_staff(StaffAction::Triage(TriageAction::ReturnToOffice {
            question: id,
            note: "  ".into(),
        })),
        at(FRIDAY),
    );
    assert_eq!(outcome.result, Err(Refusal::EmptyText));
    run(
        &engine,
        &mut state,
        by_staff(StaffAction::Triage(TriageAction::ReturnToOffice {
            question: id,
            note: "Nicht unser Amt".into(),
        })),
        FRIDAY,
    );
    let q = question(&state, id);
    assert_eq!((q.department, q.assignee.clone()), (None, None));
    let last = q.entries.last().expect("entries");
    assert_eq!(
        (&last.kind, last.text.as_str()),
        (&EntryKind::Note { staff: clerk() }, "Nicht unser Amt")
    );
    assert!(!last.visible_to_citizen());

    // Closed questions cannot be routed.
    run(&engine, &mut state, answer(id, "Erledigt."), FRIDAY);
    let outcome = engine.handle(
        &mut state,
        by_staff(StaffAction::Triage(TriageAction::Route {
            question: id,
            department: Some(DepartmentId(1)),
        })),
        at(FRIDAY),
    );
    assert_eq!(
        outcome.result,
        Err(Refusal::NotOpen(QuestionStatus::Answered))
    );
}

/// Routes question `id` to the building department (needs approval) and answers it as the
/// clerk: the answer becomes a draft.
pub(super) fn drafted(engine: &Engine, state: &mut OfficeState, id: QuestionId) {
    run(
        engine,
        state,
        by_staff(StaffAction::Triage(TriageAction::Route {
            question: id,
            department: Some(DepartmentId(2)),
        })),
        FRIDAY,
    );
    let sent_before = outbox(state, 1).len();
    let outcome = engine.handle(state, answer(id, "Entwurf: genehmigt."), at(FRIDAY));
    assert_eq!(outcome.result, Ok(Receipt::Done));
    assert_eq!(keys(&outcome.changes), [Key::Question(id.0)]);
    assert_eq!(outbox(state, 1).len(), sent_before, "nothing sent yet");
    let q = question(state, id);
    assert_eq!(q.status, QuestionStatus::Open);
    let draft = q.draft.as_ref().expect("draft");
    assert_eq!(
        (draft.text.as_str(), &draft.staff),
        ("Entwurf: genehmigt.", &clerk())
    );
}

#[test]
fn four_eyes_the_citizen_receives_only_the_approved_text() {
    let engine = engine();
    let mut state = office(&engine);
    let id = ask(&engine, &mut state, 1, "Mein Bauantrag?", FRIDAY).question;
    drafted(&engine, &mut state, id);

    // The author cannot approve their own draft.
    let outcome = engine.handle(
        &mut state,
        by_staff(StaffAction::Triage(TriageAction::Approve {
            question: id,
            text: None,
        })),
        at(FRIDAY),
    );
    assert_eq!(outcome.result, Err(Refusal::SameApprover));

    // Another member edits and approves.
    let outcome = engine.handle(
        &mut state,
        Input::Staff {
            actor: other_clerk(),
            action: StaffAction::Triage(TriageAction::Approve {
                question: id,
                text: Some("Ihr Bauantrag ist genehmigt.".into()),
            }),
        },
        at(FRIDAY),
    );
    assert_eq!(outcome.result, Ok(Receipt::Done));
    let sent = last_sent(&state, 1);
    assert!(
        sent.text.contains("Ihr Bauantrag ist genehmigt."),
        "{}",
        sent.text
    );
    assert!(
        outbox(&state, 1)
            .iter()
            .all(|m| !m.text.contains("Entwurf")),
        "the draft never reaches the citizen"
    );
    let q = question(&state, id);
    assert_eq!(
        (q.status, q.draft.clone()),
        (QuestionStatus::Answered, None)
    );
    let kinds: Vec<(&EntryKind, &str)> = q
        .entries
        .iter()
        .rev()
        .take(2)
        .map(|e| (&e.kind, e.text.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                &EntryKind::Answer { staff: clerk() },
                "Ihr Bauantrag ist genehmigt."
            ),
            (
                &EntryKind::Note {
                    staff: other_clerk()
                },
                "Antwort bearbeitet und freigegeben."
            ),
        ]
    );
}

#[test]
fn four_eyes_a_draft_sent_back_is_not_sent_and_approval_needs_a_draft() {
    let engine = engine();
    let mut state = office(&engine);
    let id = ask(&engine, &mut state, 1, "Mein Bauantrag?", FRIDAY).question;
    let approve = |text: Option<&str>| Input::Staff {
        actor: other_clerk(),
        action: StaffAction::Triage(TriageAction::Approve {
            question: id,
            text: text.map(str::to_owned),
        }),
    };
    assert_eq!(
        engine.handle(&mut state, approve(None), at(FRIDAY)).result,
        Err(Refusal::NoDraft)
    );
    drafted(&engine, &mut state, id);
    let outcome = engine.handle(
        &mut state,
        Input::Staff {
            actor: other_clerk(),
            action: StaffAction::Triage(TriageAction::SendBackDraft {
                question: id,
                note: "Bitte Frist nennen".into(),
            }),
        },
        at(FRIDAY),
    );
    assert_eq!(outcome.result, Ok(Receipt::Done));
    let q = question(&state, id);
    assert_eq!((q.status, q.draft.clone()), (QuestionStatus::Open, None));
    assert_eq!(outbox(&state, 1).len(), 1, "only the acknowledgement");
    // Approved unchanged after a new draft: the draft text goes out.
    drafted(&engine, &mut state, id);
    assert_eq!(
        engine.handle(&mut state, approve(None), at(FRIDAY)).result,
        Ok(Receipt::Done)
    );
    assert!(last_sent(&state, 1).text.contains("Entwurf: genehmigt."));
    assert_eq!(
        question(&state, id).entries[question(&state, id).entries.len() - 2].text,
        "Antwort freigegeben."
    );
}

#[test]
fn departments_without_approval_answer_directly() {
    let engine = engine();
    let mut state = office(&engine);
    let id = ask(&engine, &mut state, 1, "Schlagloch", FRIDAY).question;
    run(
        &engine,
        &mut state,
        by_staff(StaffAction::Triage(TriageAction::Route {
            question: id,
            department: Some(DepartmentId(1)),
        })),
        FRIDAY,
    );
    run(&engine, &mut state, answer(id, "Wird repariert."), FRIDAY);
    let q = question(&state, id);
    assert_eq!(
        (q.status, q.draft.clone()),
        (QuestionStatus::Answered, None)
    );
}

#[test]
fn due_dates_skip_weekends_and_state_holidays_and_the_acknowledgement_says_so() {
    // (state, asked at, due date, date in the acknowledgement)
    let cases = [
        // Friday 27 Nov 2026 + 5 working days = Friday 4 Dec (weekend skipped).
        (None, FRIDAY, day(2026, 12, 4), "Freitag, 4. Dezember 2026"),
        // Wednesday 3 Jun 2026 in NW: Thursday 4 Jun is Fronleichnam.
        (
            Some(GermanState::NW),
            "2026-06-03T08:00:00Z",
            day(2026, 6, 11),
            "Donnerstag, 11. Juni 2026",
        ),
        // The same in Berlin: no holiday.
        (
            Some(GermanState::BE),
            "2026-06-03T08:00:00Z",
            day(2026, 6, 10),
            "Mittwoch, 10. Juni 2026",
        ),
        // Saxony, Monday 16 Nov 2026: Wednesday 18 Nov is Buß- und Bettag.
        (
            Some(GermanState::SN),
            "2026-11-16T08:00:00Z",
            day(2026, 11, 24),
            "Dienstag, 24. November 2026",
        ),
    ];
    for (state_code, now, due, text) in cases {
        let mut policy = Policy::default();
        policy.calendar.state = state_code;
        let engine = engine_with(policy);
        let mut state = OfficeState::default();
        let asked = ask(&engine, &mut state, 1, "Eine Frage", now);
        assert_eq!(question(&state, asked.question).due, Some(due), "{now}");
        assert_eq!(engine.due_date(at(now)), due);
        let ack = last_sent(&state, 1);
        assert!(ack.text.contains(text), "{:?}: {}", state_code, ack.text);
        assert!(!question(&state, asked.question).is_overdue(due));
        assert!(question(&state, asked.question).is_overdue(day(2026, 12, 31)));
    }
}
