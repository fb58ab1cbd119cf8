//! Staff notifications: which changes queue which notice, in the same outcome; the daily
//! digest once per local day; the mail queue's delivery rules; who gets a notice.

use std::collections::BTreeSet;

use super::triage::{office, other_clerk};
use super::*;
use crate::channel::DeliveryError;
use crate::engine::MailReport;
use crate::ids::{DepartmentId, MailId};
use crate::outbox::DeliveryState;
use crate::staff::{Role, StaffMember};
use crate::staff_mail::{
    Audience, Notice, OverdueItem, StaffMail, StaffMailPolicy, recipients, render,
};

const CONSOLE: &str = "https://konsole.example.de";

fn mail_engine() -> Engine {
    engine_with(Policy {
        staff_mail: Some(StaffMailPolicy {
            console_url: CONSOLE.to_owned(),
            digest_hour: 7,
        }),
        ..Policy::default()
    })
}

fn queued(changes: &[Change]) -> Vec<&Notice> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Mail(m) if m.is_pending() => Some(&m.notice),
            _ => None,
        })
        .collect()
}

fn route(question: QuestionId, department: Option<u64>) -> Input {
    by_staff(StaffAction::Triage(TriageAction::Route {
        question,
        department: department.map(DepartmentId),
    }))
}

fn assign(question: QuestionId, who: Option<StaffRef>) -> Input {
    by_staff(StaffAction::Triage(TriageAction::Assign {
        question,
        assignee: who,
    }))
}

#[test]
fn routing_to_a_department_queues_one_notice_in_the_same_outcome() {
    // Arrange
    let engine = mail_engine();
    let mut state = office(&engine);
    let asked = ask(&engine, &mut state, 1, "Das Schlagloch!", FRIDAY);

    // Act
    let first = engine.handle(&mut state, route(asked.question, Some(1)), at(FRIDAY));
    let again = engine.handle(&mut state, route(asked.question, Some(1)), at(FRIDAY));
    let back = engine.handle(&mut state, route(asked.question, None), at(FRIDAY));

    // Assert
    assert_eq!(
        queued(&first.changes),
        [&Notice::Routed {
            question: asked.question,
            reference: asked.reference,
            department: DepartmentId(1),
        }]
    );
    assert!(
        first
            .changes
            .iter()
            .any(|c| matches!(c, Change::Counters(_))),
        "the mail id counter is in the same commit"
    );
    assert_eq!(queued(&again.changes), Vec::<&Notice>::new(), "not moved");
    assert_eq!(
        queued(&back.changes),
        Vec::<&Notice>::new(),
        "no department"
    );
    assert_eq!(state.mails().count(), 1);
}

#[test]
fn nothing_is_queued_when_mail_is_not_configured() {
    // Arrange
    let engine = engine();
    let mut state = office(&engine);
    let asked = ask(&engine, &mut state, 1, "Das Schlagloch!", FRIDAY);

    // Act
    let outcome = engine.handle(&mut state, route(asked.question, Some(1)), at(FRIDAY));
    let later = engine.handle(&mut state, Input::Tick, at("2026-12-15T08:00:00Z"));

    // Assert
    assert_eq!(queued(&outcome.changes), Vec::<&Notice>::new());
    assert_eq!(queued(&later.changes), Vec::<&Notice>::new());
    assert_eq!(state.mails().count(), 0);
}

#[test]
fn assigning_tells_the_assignee_but_nobody_who_assigned_themselves() {
    // (who is assigned, whether a notice is queued)
    let cases = [
        ("a colleague", Some(other_clerk()), true),
        ("the clerk themselves", Some(clerk()), false),
        ("nobody", None, false),
    ];
    for (name, who, told) in cases {
        // Arrange
        let engine = mail_engine();
        let mut state = office(&engine);
        let asked = ask(&engine, &mut state, 1, "Frage", FRIDAY);

        // Act
        let outcome = engine.handle(&mut state, assign(asked.question, who.clone()), at(FRIDAY));

        // Assert
        let expected = told.then(|| Notice::Assigned {
            question: asked.question,
            reference: asked.reference,
            staff: other_clerk().id,
        });
        assert_eq!(
            queued(&outcome.changes),
            expected.iter().collect::<Vec<_>>(),
            "{name}"
        );
    }
}

#[test]
fn a_draft_waiting_for_approval_queues_a_notice_naming_its_author() {
    // Arrange
    let engine = mail_engine();
    let mut state = office(&engine);
    let asked = ask(&engine, &mut state, 1, "Mein Bauantrag?", FRIDAY);
    run(&engine, &mut state, route(asked.question, Some(2)), FRIDAY);

    // Act
    let outcome = engine.handle(
        &mut state,
        answer(asked.question, "Entwurf: genehmigt."),
        at(FRIDAY),
    );

    // Assert
    assert_eq!(
        queued(&outcome.changes),
        [&Notice::DraftWaiting {
            question: asked.question,
            reference: asked.reference,
            author: clerk().id,
        }]
    );
}

#[test]
fn the_daily_digest_lists_overdue_questions_per_department_once_per_local_day() {
    // Arrange: two questions on Friday 27 November (due Friday 4 December), one routed.
    let engine = mail_engine();
    let mut state = office(&engine);
    let routed = ask(&engine, &mut state, 1, "Das Schlagloch!", FRIDAY);
    let unrouted = ask(&engine, &mut state, 2, "Öffnungszeiten?", FRIDAY);
    run(&engine, &mut state, route(routed.question, Some(1)), FRIDAY);
    let due = question(&state, routed.question).due.expect("due date");
    let before = state.mails().count();

    // Act: Monday 7 December, 06:30 and 07:30 Berlin time, then again at noon, then Tuesday.
    let early = engine.handle(&mut state, Input::Tick, at("2026-12-07T05:30:00Z"));
    let on_time = engine.handle(&mut state, Input::Tick, at("2026-12-07T06:30:00Z"));
    let recorded = state.counters().last_digest;
    let noon = engine.handle(&mut state, Input::Tick, at("2026-12-07T11:00:00Z"));
    let tuesday = engine.handle(&mut state, Input::Tick, at("2026-12-08T07:00:00Z"));

    // Assert
    assert_eq!(
        queued(&early.changes),
        Vec::<&Notice>::new(),
        "before 07:00"
    );
    let monday = day(2026, 12, 7);
    let item = |a: &Asked| OverdueItem {
        reference: a.reference,
        due,
    };
    assert_eq!(
        queued(&on_time.changes),
        [
            &Notice::Digest {
                department: None,
                date: monday,
                overdue: vec![item(&unrouted)],
            },
            &Notice::Digest {
                department: Some(DepartmentId(1)),
                date: monday,
                overdue: vec![item(&routed)],
            },
        ]
    );
    assert_eq!(recorded, Some(monday));
    assert_eq!(queued(&noon.changes), Vec::<&Notice>::new(), "once a day");
    assert_eq!(queued(&tuesday.changes).len(), 2, "the next day again");
    assert_eq!(state.mails().count(), before + 4);
}

#[test]
fn no_digest_is_queued_on_a_weekend_or_without_overdue_questions() {
    // Arrange
    let engine = mail_engine();
    let mut state = office(&engine);
    ask(&engine, &mut state, 1, "Frage", FRIDAY);

    // Act: Saturday 5 December (overdue, but no working day), then Thursday 3 December of
    // a fresh office (nothing overdue yet).
    let saturday = engine.handle(&mut state, Input::Tick, at("2026-12-05T09:00:00Z"));
    let mut fresh = office(&engine);
    ask(&engine, &mut fresh, 1, "Frage", FRIDAY);
    let thursday = engine.handle(&mut fresh, Input::Tick, at("2026-12-03T09:00:00Z"));

    // Assert
    assert_eq!(queued(&saturday.changes), Vec::<&Notice>::new());
    assert_eq!(queued(&thursday.changes), Vec::<&Notice>::new());
    assert_eq!(fresh.counters().last_digest, Some(day(2026, 12, 3)));
}

#[test]
fn mail_reports_follow_the_outbox_retry_rules_and_a_repeated_report_changes_nothing() {
    // Arrange
    let engine = mail_engine();
    let mut state = office(&engine);
    let asked = ask(&engine, &mut state, 1, "Das Schlagloch!", FRIDAY);
    run(&engine, &mut state, route(asked.question, Some(1)), FRIDAY);
    let id = MailId(1);
    let report = |result| Input::MailSent(vec![MailReport { id, result }]);
    let down = || Err(DeliveryError::Transient("connection refused".into()));

    // Act
    run(&engine, &mut state, report(down()), FRIDAY);
    let waiting = state.mail(id).cloned().expect("mail");
    run(&engine, &mut state, report(Ok(())), "2026-11-27T09:00:05Z");
    let delivered = state.mail(id).cloned().expect("mail");
    let repeated = engine.handle(&mut state, report(down()), at("2026-11-27T09:00:10Z"));

    // Assert
    assert_eq!(
        waiting.state,
        DeliveryState::Pending {
            attempts: 1,
            next_attempt_at: Some(at("2026-11-27T09:00:02Z")),
            last_error: Some("connection refused".into()),
        }
    );
    assert_eq!(state.due_mails(at(FRIDAY)).count(), 0);
    assert_eq!(
        delivered.state,
        DeliveryState::Delivered {
            at: at("2026-11-27T09:00:05Z")
        }
    );
    assert_eq!(repeated.changes, []);
}

#[test]
fn a_permanent_refusal_fails_the_mail_and_old_finished_mails_are_purged() {
    // Arrange
    let engine = mail_engine();
    let mut state = office(&engine);
    let asked = ask(&engine, &mut state, 1, "Das Schlagloch!", FRIDAY);
    run(&engine, &mut state, route(asked.question, Some(1)), FRIDAY);
    let refused = Err(DeliveryError::Permanent("550 no such user".into()));

    // Act
    run(
        &engine,
        &mut state,
        Input::MailSent(vec![MailReport {
            id: MailId(1),
            result: refused,
        }]),
        FRIDAY,
    );
    let failed = state.mail(MailId(1)).map(StaffMail::is_pending);
    run(&engine, &mut state, Input::Purge, "2026-12-05T09:00:00Z");

    // Assert
    assert_eq!(failed, Some(false));
    assert!(state.mail(MailId(1)).is_none(), "forgotten after a week");
}

fn member(id: u64, roles: &[Role], department: Option<u64>, email: Option<&str>) -> StaffMember {
    StaffMember {
        id: StaffId(id),
        login: format!("m{id}"),
        name: format!("Member {id}"),
        roles: roles.iter().copied().collect::<BTreeSet<_>>(),
        department: department.map(DepartmentId),
        password_hash: String::new(),
        disabled: false,
        created_at: at(FRIDAY),
        email: email.map(str::to_owned),
        notify: true,
        external: None,
    }
}

#[test]
fn recipients_are_the_audience_with_an_address_who_did_not_switch_mails_off() {
    // Arrange
    let dept = [Role::Department];
    let office_role = [Role::CitizensOffice];
    let opted_out = StaffMember {
        notify: false,
        ..member(3, &dept, Some(1), Some("aus@example.de"))
    };
    let disabled = StaffMember {
        disabled: true,
        ..member(4, &dept, Some(1), Some("weg@example.de"))
    };
    let staff = [
        member(1, &dept, Some(1), Some("tiefbau@example.de")),
        member(2, &dept, Some(1), None),
        opted_out,
        disabled,
        member(5, &dept, Some(2), Some("bauamt@example.de")),
        member(6, &office_role, None, Some("buero@example.de")),
        member(7, &office_role, None, Some("autor@example.de")),
    ];
    // (audience, addresses)
    let cases: [(Audience, &[&str]); 4] = [
        (
            Audience::Department(DepartmentId(1)),
            &["tiefbau@example.de"],
        ),
        (
            Audience::CitizensOffice,
            &["autor@example.de", "buero@example.de"],
        ),
        (Audience::Member(StaffId(5)), &["bauamt@example.de"]),
        (
            Audience::Approvers { except: StaffId(7) },
            &["buero@example.de"],
        ),
    ];
    for (audience, expected) in cases {
        // Act
        let to = recipients(audience, &staff);

        // Assert
        assert_eq!(to, expected, "{audience:?}");
    }
}

#[test]
fn a_mail_names_the_reference_and_a_console_link_in_german_and_english() {
    // Arrange
    let texts = Texts::builtin().expect("texts");
    let notice = Notice::Routed {
        question: QuestionId(1),
        reference: Reference(1042),
        department: DepartmentId(1),
    };

    // Act
    let console = "https://sprechstunde.example.de/staff/";
    let (subject, body) = render(&texts, &notice, console, Some("Tiefbauamt"));

    // Assert
    assert_eq!(
        subject,
        "Anliegen A-1042 an Tiefbauamt weitergeleitet / Question A-1042 routed to Tiefbauamt"
    );
    assert!(
        body.contains("https://sprechstunde.example.de/staff#/questions/A-1042"),
        "{body}"
    );
    assert!(
        body.contains("wurde an Tiefbauamt weitergeleitet"),
        "{body}"
    );
    assert!(body.contains("was routed to Tiefbauamt"), "{body}");
}
