//! Staff notifications by e-mail against a real SMTP server (aiosmtpd on 127.0.0.1): routing
//! mails the department, a draft mails the approvers, the daily digest lists overdue
//! questions; no mail carries what the citizen wrote; a mail server that is down delays the
//! mail but loses nothing; a restart sends nothing twice.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sprechstunde::settings::{DepartmentSettings, MailTls};
use sprechstunde_core::{DeliveryState, DepartmentId, Role, StaffId, StaffMember};
use sprechstunde_runtime::{Clock, ManualClock, Office, SystemClock};
use sprechstunde_tests::app::{TestApp, test_settings};
use sprechstunde_tests::smtp::{SmtpServer, free_port};
use sprechstunde_tests::staff::{PASSWORD, StaffClient};

const CONSOLE: &str = "https://sprechstunde.musterstadt.example/staff";
/// Retries come every second in these tests; a mail arrives within this.
const MAIL_DEADLINE: Duration = Duration::from_secs(30);

async fn start(dir: &std::path::Path, smtp_port: u16, clock: Arc<dyn Clock>) -> TestApp {
    let mut settings = test_settings(dir);
    let department = |id, slug: &str, name: &str, approval| DepartmentSettings {
        id,
        slug: slug.into(),
        name: name.into(),
        keywords: Vec::new(),
        patterns: Vec::new(),
        requires_approval: approval,
        text_modules: Vec::new(),
    };
    settings.departments = vec![
        department(1, "tiefbau", "Tiefbauamt", false),
        department(2, "bauamt", "Bauordnungsamt", true),
    ];
    settings.mail.host = "127.0.0.1".into();
    settings.mail.port = smtp_port;
    settings.mail.tls = MailTls::None;
    settings.mail.from = "Sprechstunde <sprechstunde@musterstadt.example>".into();
    settings.mail.console_url = CONSOLE.into();
    settings.outbox.retry_base_seconds = 1;
    settings.outbox.retry_max_seconds = 1;
    TestApp::start_with(settings, clock).await.unwrap()
}

/// Creates a member directly in the store, with an address and the switch as given.
async fn member(
    app: &TestApp,
    login: &str,
    role: Role,
    department: Option<u64>,
    email: Option<&str>,
    notify: bool,
) -> StaffId {
    let store = app.office().store();
    let id = StaffId(store.staff().await.unwrap().len() as u64 + 1);
    store
        .put_staff(&StaffMember {
            id,
            login: login.into(),
            name: format!("{login} (Test)"),
            roles: [role].into_iter().collect(),
            department: department.map(DepartmentId),
            password_hash: sprechstunde_console::accounts::hash_password(PASSWORD).unwrap(),
            disabled: false,
            created_at: jiff::Timestamp::now(),
            email: email.map(str::to_owned),
            notify,
            external: None,
        })
        .await
        .unwrap();
    id
}

async fn route(staff: &StaffClient, reference: &str, department: &str) {
    staff
        .post(
            &format!("/api/v1/questions/{reference}/route"),
            json!({ "department": department }),
        )
        .await
        .unwrap();
}

/// The delivery states of the staff mail queue, oldest first.
async fn queue(office: &Office) -> Vec<DeliveryState> {
    office
        .read(|state, _, _| state.mails().map(|m| m.state.clone()).collect())
        .await
}

/// Waits until the queue satisfies `done`.
async fn wait_for_queue(office: &Office, done: impl Fn(&[DeliveryState]) -> bool) {
    let deadline = tokio::time::Instant::now() + MAIL_DEADLINE;
    loop {
        let states = queue(office).await;
        if done(&states) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "mail queue still {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn all_delivered(states: &[DeliveryState]) -> bool {
    states
        .iter()
        .all(|s| matches!(s, DeliveryState::Delivered { .. }))
}

#[tokio::test]
async fn routing_mails_the_departments_members_a_reference_and_link_but_no_citizen_text() {
    // Arrange
    let smtp = SmtpServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path(), smtp.port(), Arc::new(SystemClock)).await;
    member(
        &app,
        "tb1",
        Role::Department,
        Some(1),
        Some("tb1@musterstadt.example"),
        true,
    )
    .await;
    member(
        &app,
        "tb2",
        Role::Department,
        Some(1),
        Some("tb2@musterstadt.example"),
        false,
    )
    .await;
    member(
        &app,
        "bau",
        Role::Department,
        Some(2),
        Some("bau@musterstadt.example"),
        true,
    )
    .await;
    member(&app, "br", Role::CitizensOffice, None, None, true).await;
    let office_staff = StaffClient::login(&app.base, "br", PASSWORD).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen
        .ask("Vor Hausnummer 17 im Kastanienweg ist ein tiefes Loch.")
        .await
        .unwrap();

    // Act
    route(&office_staff, "A-1001", "tiefbau").await;

    // Assert
    let mails = smtp.wait_for(1, MAIL_DEADLINE).await.unwrap();
    wait_for_queue(app.office(), all_delivered).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(
        mail.rcpt_tos,
        ["tb1@musterstadt.example"],
        "not the opted-out member"
    );
    assert_eq!(mail.mail_from, "sprechstunde@musterstadt.example");
    assert!(mail.subject.contains("A-1001"), "{}", mail.subject);
    assert!(mail.subject.contains("Tiefbauamt"), "{}", mail.subject);
    assert!(
        mail.body.contains(&format!("{CONSOLE}#/questions/A-1001")),
        "{}",
        mail.body
    );
    for seeded in ["Hausnummer 17", "Kastanienweg", "tiefes Loch"] {
        assert!(
            !mail.mentions(seeded),
            "the mail quotes the citizen: {seeded}"
        );
    }
    assert!(
        !mail.raw.contains("tb1@"),
        "recipients only in the envelope"
    );
    assert_eq!(queue(app.office()).await.len(), 1);
}

#[tokio::test]
async fn a_pending_draft_mails_the_approvers_but_not_its_author() {
    // Arrange
    let smtp = SmtpServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path(), smtp.port(), Arc::new(SystemClock)).await;
    member(
        &app,
        "br",
        Role::CitizensOffice,
        None,
        Some("br@musterstadt.example"),
        true,
    )
    .await;
    member(
        &app,
        "presse",
        Role::PressOffice,
        None,
        Some("presse@musterstadt.example"),
        true,
    )
    .await;
    member(
        &app,
        "bau",
        Role::Department,
        Some(2),
        Some("bau@musterstadt.example"),
        true,
    )
    .await;
    let office_staff = StaffClient::login(&app.base, "br", PASSWORD).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen
        .ask("Mein Bauantrag 4711 für die Garage?")
        .await
        .unwrap();
    route(&office_staff, "A-1001", "bauamt").await;
    smtp.wait_for(1, MAIL_DEADLINE).await.unwrap();

    // Act: the citizens' office drafts; it may approve, but not its own draft.
    office_staff
        .answer("A-1001", "ENTWURF: Die Garage ist genehmigt.")
        .await
        .unwrap();

    // Assert
    let mails = smtp.wait_for(2, MAIL_DEADLINE).await.unwrap();
    assert_eq!(mails[0].rcpt_tos, ["bau@musterstadt.example"], "routed");
    let draft = &mails[1];
    assert_eq!(
        draft.rcpt_tos,
        ["presse@musterstadt.example"],
        "the approvers, not the author"
    );
    assert!(draft.subject.contains("A-1001"), "{}", draft.subject);
    assert!(draft.body.contains("Freigabe"), "{}", draft.body);
    for seeded in ["4711", "Garage", "ENTWURF"] {
        assert!(
            !draft.mentions(seeded),
            "the mail quotes the thread: {seeded}"
        );
    }
}

#[tokio::test]
async fn the_daily_digest_lists_overdue_questions_once_and_a_restart_mails_nothing_twice() {
    // Arrange: two questions on Friday 27 November 2026 (due Friday 4 December), one routed.
    let smtp = SmtpServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new("2026-11-27T09:00:00Z".parse().unwrap()));
    let app = start(dir.path(), smtp.port(), clock.clone()).await;
    member(
        &app,
        "tb1",
        Role::Department,
        Some(1),
        Some("tb1@musterstadt.example"),
        true,
    )
    .await;
    member(
        &app,
        "br",
        Role::CitizensOffice,
        None,
        Some("br@musterstadt.example"),
        true,
    )
    .await;
    let office_staff = StaffClient::login(&app.base, "br", PASSWORD).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Das Loch vor Hausnummer 17.").await.unwrap();
    citizen.close().await;
    let mut other = app.citizen().await.unwrap();
    other.ask("Wann hat das Bürgerbüro offen?").await.unwrap();
    other.close().await;
    route(&office_staff, "A-1001", "tiefbau").await;
    smtp.wait_for(1, MAIL_DEADLINE).await.unwrap();

    // Act: Monday 7 December, 07:30 in Berlin; the clock ticks twice; then a restart.
    clock.set("2026-12-07T06:30:00Z".parse().unwrap());
    app.office().tick().await.unwrap();
    app.office().tick().await.unwrap();
    let mails = smtp.wait_for(3, MAIL_DEADLINE).await.unwrap();
    wait_for_queue(app.office(), all_delivered).await;
    app.stop().await.unwrap();
    let app = start(dir.path(), smtp.port(), clock.clone()).await;
    app.office().tick().await.unwrap();
    let office_staff = StaffClient::login(&app.base, "br", PASSWORD).await.unwrap();
    route(&office_staff, "A-1002", "tiefbau").await;
    // Mails go out in queue order: once this one arrived, nothing older is still waiting.
    let after = smtp.wait_for(4, MAIL_DEADLINE).await.unwrap();
    wait_for_queue(app.office(), all_delivered).await;

    // Assert
    let digests: Vec<_> = mails
        .iter()
        .filter(|m| m.subject.contains("überfällig"))
        .collect();
    assert_eq!(digests.len(), 2, "{mails:#?}");
    let department = digests
        .iter()
        .find(|m| m.rcpt_tos == ["tb1@musterstadt.example"])
        .expect("the department's digest");
    assert!(
        department.subject.contains("Tiefbauamt"),
        "{}",
        department.subject
    );
    assert!(
        department
            .body
            .contains(&format!("{CONSOLE}#/questions/A-1001")),
        "{}",
        department.body
    );
    assert!(!department.body.contains("A-1002"), "{}", department.body);
    let office = digests
        .iter()
        .find(|m| m.rcpt_tos == ["br@musterstadt.example"])
        .expect("the citizens' office digest");
    assert!(office.body.contains("A-1002"), "{}", office.body);
    assert!(!office.mentions("Hausnummer 17") && !office.mentions("Bürgerbüro offen"));
    assert_eq!(after.len(), 4, "nothing mailed twice: {after:#?}");
    assert!(after[3].subject.contains("A-1002"), "{}", after[3].subject);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn with_the_mail_server_down_the_mail_waits_and_arrives_once_it_is_back() {
    // Arrange: nothing listens on the mail server's port yet.
    let mut smtp = SmtpServer::stopped(free_port().unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path(), smtp.port(), Arc::new(SystemClock)).await;
    member(
        &app,
        "tb1",
        Role::Department,
        Some(1),
        Some("tb1@musterstadt.example"),
        true,
    )
    .await;
    member(&app, "br", Role::CitizensOffice, None, None, true).await;
    let office_staff = StaffClient::login(&app.base, "br", PASSWORD).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Das Loch vor Hausnummer 17.").await.unwrap();
    route(&office_staff, "A-1001", "tiefbau").await;
    wait_for_queue(
        app.office(),
        |q| matches!(q, [DeliveryState::Pending { attempts, .. }] if *attempts >= 2),
    )
    .await;

    // Act
    smtp.resume().await.unwrap();

    // Assert
    let mails = smtp.wait_for(1, MAIL_DEADLINE).await.unwrap();
    wait_for_queue(app.office(), all_delivered).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].rcpt_tos, ["tb1@musterstadt.example"]);
    assert!(mails[0].subject.contains("A-1001"), "{}", mails[0].subject);
    assert_eq!(smtp.mails().unwrap().len(), 1, "sent once");
}

/// The member's own switch in the console: `PUT /api/v1/me/notifications`.
async fn switch_mails(
    member: &StaffClient,
    notify: bool,
) -> (reqwest::StatusCode, serde_json::Value) {
    member
        .request(
            reqwest::Method::PUT,
            "/api/v1/me/notifications",
            Some(json!({ "notify": notify })),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_member_who_switches_mails_off_in_the_console_gets_none_until_switching_them_on_again() {
    // Arrange: two members of the Tiefbauamt who both want mails.
    let smtp = SmtpServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path(), smtp.port(), Arc::new(SystemClock)).await;
    for login in ["tb1", "tb2"] {
        let address = format!("{login}@musterstadt.example");
        member(&app, login, Role::Department, Some(1), Some(&address), true).await;
    }
    member(&app, "br", Role::CitizensOffice, None, None, true).await;
    let office_staff = StaffClient::login(&app.base, "br", PASSWORD).await.unwrap();
    let tb1 = StaffClient::login(&app.base, "tb1", PASSWORD)
        .await
        .unwrap();
    for text in ["Die Ampel am Markt ist aus.", "Der Gehweg ist aufgerissen."] {
        let mut citizen = app.citizen().await.unwrap();
        citizen.ask(text).await.unwrap();
        citizen.close().await;
    }

    // Act: tb1 switches mails off for themselves, a question is routed; then on again.
    let (status, off) = switch_mails(&tb1, false).await;
    route(&office_staff, "A-1001", "tiefbau").await;
    let first = smtp.wait_for(1, MAIL_DEADLINE).await.unwrap();
    let (_, on) = switch_mails(&tb1, true).await;
    route(&office_staff, "A-1002", "tiefbau").await;
    let mails = smtp.wait_for(2, MAIL_DEADLINE).await.unwrap();

    // Assert: the switch answered, held for the first mail only, and was audited.
    assert_eq!(status, reqwest::StatusCode::OK, "{off}");
    assert_eq!(off["notify"], false);
    assert_eq!(on["notify"], true);
    assert_eq!(first[0].rcpt_tos, ["tb2@musterstadt.example"]);
    let second = mails.iter().find(|m| m.subject.contains("A-1002")).unwrap();
    let mut recipients = second.rcpt_tos.clone();
    recipients.sort();
    assert_eq!(
        recipients,
        ["tb1@musterstadt.example", "tb2@musterstadt.example"]
    );
    let stored = app.office().store().staff().await.unwrap();
    assert!(stored.iter().find(|m| m.login == "tb1").unwrap().notify);
    let switches: Vec<String> = app
        .office()
        .audit()
        .entries(&Default::default(), 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.record.action == "staff.notify")
        .map(|e| e.record.object)
        .collect();
    assert_eq!(switches.len(), 2, "{switches:?}");
    assert!(switches[0].ends_with("mail=off"), "{switches:?}");
    assert!(switches[1].ends_with("mail=on"), "{switches:?}");
}
