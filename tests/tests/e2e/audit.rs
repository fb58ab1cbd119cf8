//! The audit trail through the real server: staff reads and changes are recorded (who, what,
//! which reference, status — never the content), only the admin and the data protection
//! officer may see it, and the stored chain verifies.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sprechstunde_tests::app::TestApp;

fn entries(body: &Value) -> Vec<Value> {
    body["entries"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn staff_reads_and_changes_are_recorded_without_content_and_only_dpo_and_admin_see_them() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let office = app.staff("br", &["citizens_office"]).await.unwrap();
    let dpo = app.staff("dsb", &["data_protection"]).await.unwrap();
    let admin = app.staff("admin", &["admin"]).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    let question = "Audit-Frage zum Winterdienst 7f3a";
    let note = "Audit-Notiz intern 9c1e";
    let answer = "Audit-Antwort geräumt 4b2d";
    citizen.ask(question).await.unwrap();

    // Act: a read, a note, an answer, a forbidden attempt, a read of an unknown question.
    office.get("/api/v1/questions/A-1001").await.unwrap();
    office
        .post("/api/v1/questions/A-1001/notes", json!({"text": note}))
        .await
        .unwrap();
    office.answer("A-1001", answer).await.unwrap();
    let (status, _) = office
        .request(Method::GET, "/api/v1/audit", None)
        .await
        .unwrap();
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "citizens' office may not read the audit"
    );
    let (status, _) = office
        .request(Method::GET, "/api/v1/questions/A-4242", None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The data protection officer sees the audit, but not the queue.
    let (status, _) = dpo
        .request(Method::GET, "/api/v1/questions", None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Assert.
    let about_question = dpo.get("/api/v1/audit?object=A-1001").await.unwrap();
    let actions: Vec<(String, String, String)> = entries(&about_question)
        .iter()
        .map(|e| {
            (
                e["login"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
                e["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect = |action: &str| ("br".to_owned(), action.to_owned(), "200".to_owned());
    assert_eq!(
        actions,
        vec![
            expect("GET /api/v1/questions/{reference}"),
            expect("POST /api/v1/questions/{reference}/notes"),
            expect("POST /api/v1/questions/{reference}/answer"),
        ]
    );
    for e in entries(&about_question) {
        assert_eq!(e["object"], "reference=A-1001");
        assert_eq!(e["via"], "console");
        assert!(e["staff"].as_u64().is_some());
        assert_eq!(e["hash"].as_str().unwrap().len(), 64);
    }
    let by_br = admin.get("/api/v1/audit?login=br").await.unwrap();
    let by_br = entries(&by_br);
    assert!(
        by_br
            .iter()
            .any(|e| e["action"] == "GET /api/v1/audit" && e["outcome"] == "403")
    );
    assert!(
        by_br
            .iter()
            .any(|e| e["object"] == "reference=A-4242" && e["outcome"] == "404")
    );
    // The DPO's own failed look at the queue is on record too.
    let by_dpo = admin.get("/api/v1/audit?login=dsb").await.unwrap();
    assert!(
        entries(&by_dpo)
            .iter()
            .any(|e| e["action"] == "GET /api/v1/questions" && e["outcome"] == "403")
    );

    let all = admin.get("/api/v1/audit?limit=1000").await.unwrap();
    let raw = all.to_string();
    for secret in [question, note, answer] {
        assert!(!raw.contains(secret), "audit holds content {secret:?}");
    }
    let verify = dpo.get("/api/v1/audit/verify").await.unwrap();
    println!(
        "audit e2e: {} entries listed, {} verified",
        entries(&all).len(),
        verify["checked"]
    );
    assert_eq!(verify["intact"], true, "{verify}");
    assert!(verify["checked"].as_u64().unwrap() >= 9);

    citizen.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn api_tokens_are_recorded_with_their_token_id() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let dpo = app.staff("dsb", &["data_protection"]).await.unwrap();
    let staff_id = sprechstunde_tests::staff::create_member(&app, "ris", &["citizens_office"])
        .await
        .unwrap();
    let (id, secret) = sprechstunde_console::accounts::new_token().unwrap();
    let token = sprechstunde_core::ApiToken {
        id: id.clone(),
        name: "Ratsinformationssystem".into(),
        staff: staff_id,
        secret_hash: sprechstunde_console::accounts::sha256_hex(&secret),
        created_at: jiff::Timestamp::now(),
        revoked_at: None,
    };
    app.office().store().put_token(&token).await.unwrap();
    let bearer = sprechstunde_console::accounts::format_token(&id, &secret);
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Frage per Token lesen").await.unwrap();

    let status = reqwest::Client::new()
        .get(format!("{}/api/v1/questions/A-1001", app.base))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::OK);

    let found = dpo.get("/api/v1/audit?object=A-1001").await.unwrap();
    let found = entries(&found);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["via"], format!("token:{id}"));
    assert_eq!(found[0]["login"], "ris");
    assert_eq!(found[0]["staff"], staff_id.0);
    citizen.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_data_protection_officer_reads_and_verifies_the_trail_in_the_console() {
    use sprechstunde_tests::browser::{Browser, describe};

    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let office = app.staff("br", &["citizens_office"]).await.unwrap();
    sprechstunde_tests::staff::create_member(&app, "dsb", &["data_protection"])
        .await
        .unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen
        .ask("Frage für das Protokoll <b>fett</b>")
        .await
        .unwrap();
    office.get("/api/v1/questions/A-1001").await.unwrap();
    let client = browser.client();

    browser
        .log_in_staff(&app.base, "dsb", sprechstunde_tests::staff::PASSWORD)
        .await
        .unwrap();

    // Only the audit trail is offered, and the read of A-1001 by br is in it.
    browser
        .wait_for_text("#audit-body", "reference=A-1001")
        .await
        .unwrap();
    assert_eq!(
        client.current_url().await.unwrap().fragment(),
        Some("/audit")
    );
    let queue_link_hidden = client
        .execute(
            "return document.getElementById('nav-queue').parentElement.hidden",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(queue_link_hidden, serde_json::Value::Bool(true));
    let violations = browser.axe().await.unwrap();
    assert!(
        violations.is_empty(),
        "audit view: {}",
        describe(&violations)
    );

    // Filter by object, then verify the chain.
    browser
        .wait_for("#audit-object")
        .await
        .unwrap()
        .send_keys("A-1001")
        .await
        .unwrap();
    browser.click("#audit-refresh").await.unwrap();
    browser
        .wait_for_text("#audit-caption", "(1, neueste zuerst)")
        .await
        .unwrap();
    browser.click("#audit-verify").await.unwrap();
    browser
        .wait_for_text("#audit-verify-status", "unversehrt")
        .await
        .unwrap();

    citizen.close().await;
    browser.close().await.unwrap();
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_server_purges_audit_entries_past_retention_and_the_chain_still_verifies() {
    use std::sync::Arc;

    use jiff::SignedDuration;
    use sprechstunde_runtime::{AuditFilter, ManualClock};
    use sprechstunde_tests::app::test_settings;

    let dir = tempfile::tempdir().unwrap();
    let start: jiff::Timestamp = "2026-03-02T09:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let mut settings = test_settings(dir.path());
    settings.audit.retention_days = 30;
    let app = TestApp::start_with(settings.clone(), clock.clone())
        .await
        .unwrap();
    let office = app.staff("br", &["citizens_office"]).await.unwrap();
    office.get("/api/v1/questions").await.unwrap();
    // Still within the 12-hour console login.
    clock.advance(SignedDuration::from_hours(11));
    office.get("/api/v1/sessions").await.unwrap();
    app.stop().await.unwrap();

    // 30 days and 6 hours later: the first read is past 30 days, the second is not.
    clock.set(start + SignedDuration::from_hours(24 * 30 + 6));
    let app = TestApp::start_with(settings, clock.clone()).await.unwrap();
    let trail = app.office().audit();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let purges = loop {
        let purges = trail
            .entries(
                &AuditFilter {
                    action: Some("audit.purge".into()),
                    ..AuditFilter::default()
                },
                10,
            )
            .await
            .unwrap();
        if !purges.is_empty() {
            break purges;
        }
        assert!(tokio::time::Instant::now() < deadline, "no purge at start");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };

    let remaining = trail.entries(&AuditFilter::default(), 100).await.unwrap();
    let actions: Vec<&str> = remaining.iter().map(|e| e.record.action.as_str()).collect();
    assert_eq!(
        actions,
        vec!["GET /api/v1/sessions", "audit.purge"],
        "{remaining:?}"
    );
    assert_eq!(purges[0].record.outcome, "removed=1");
    let verification = trail.verify().await.unwrap();
    println!(
        "audit retention e2e: anchor {:?}, {} entries verified",
        verification.anchor.as_ref().map(|a| a.seq),
        verification.checked
    );
    assert!(verification.is_intact(), "{verification:?}");
    assert_eq!(verification.checked, 2);
    app.stop().await.unwrap();
}
