//! Staff over HTTP: authentication, answering, notes, rejection, sessions, delivery state,
//! live events.

use reqwest::{Method, StatusCode};
use serde_json::json;
use sprechstunde_tests::app::TestApp;
use sprechstunde_tests::citizen::Citizen;

#[tokio::test]
async fn health_answers_200_while_the_store_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();

    let status = reqwest::get(format!("{}/healthz", app.base))
        .await
        .unwrap()
        .status();

    assert_eq!(status, StatusCode::OK);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_console_page_loads_modules_that_are_all_served_as_javascript() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let get = |path: String| {
        let url = format!("{}{path}", app.base);
        async move { reqwest::get(url).await.unwrap() }
    };

    // Act: follow the page's module script and every static import from there.
    let served = sprechstunde_tests::modules::served_modules(&app.base, "/staff", "/staff/assets/")
        .await
        .unwrap();

    // Assert: every module of the asset table is reachable and served as JavaScript.
    let table: std::collections::BTreeSet<String> = sprechstunde_console::ASSETS
        .iter()
        .filter(|a| a.name.ends_with(".js"))
        .map(|a| a.name.to_owned())
        .collect();
    assert_eq!(served, table, "every module is reachable and served");
    let css = get("/staff/assets/console.css".to_owned()).await;
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    for unknown in ["console.js", "no-such-module.js", "..%2Fsrc%2Flib.rs"] {
        let response = get(format!("/staff/assets/{unknown}")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{unknown}");
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_staff_answer_reaches_the_open_web_chat_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let staff = app
        .staff("buergerreferat", &["citizens_office"])
        .await
        .unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen
        .ask("Wann wird der Spielplatz repariert?")
        .await
        .unwrap();

    let sent = std::time::Instant::now();
    let detail = staff
        .answer("A-1001", "Die Reparatur ist für März geplant.")
        .await
        .unwrap();
    let answer = citizen
        .office_message_containing("Die Reparatur ist für März geplant.")
        .await
        .unwrap();
    let latency = sent.elapsed();

    eprintln!("answer reached the web chat {latency:?} after the API call started");
    assert!(answer["text"].as_str().unwrap().contains("A-1001"));
    assert_eq!(detail["status"], "answered");
    let kinds: Vec<_> = detail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["citizen", "system", "answer"]);
    assert_eq!(detail["entries"][2]["staff"], "buergerreferat (Test)");
    citizen.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn internal_notes_are_kept_for_staff_and_never_reach_the_citizen() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let staff = app.staff("br", &["citizens_office"]).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Frage zur Grundsteuer").await.unwrap();

    staff
        .post(
            "/api/v1/questions/A-1001/notes",
            json!({"text": "Kämmerei fragen – intern"}),
        )
        .await
        .unwrap();
    staff
        .answer("A-1001", "Der Bescheid kommt im Januar.")
        .await
        .unwrap();
    let answer = citizen.office_message_containing("Januar").await.unwrap();
    let token = citizen.token.clone();
    citizen.close().await;
    let resumed = Citizen::connect(app.addr, Some(&token), "de")
        .await
        .unwrap();

    assert!(!answer["text"].as_str().unwrap().contains("intern"));
    let history = resumed.welcome["history"].to_string();
    assert!(!history.contains("Kämmerei"), "{history}");
    let detail = staff.get("/api/v1/questions/A-1001").await.unwrap();
    assert_eq!(detail["entries"][2]["kind"], "note");
    assert_eq!(detail["entries"][2]["text"], "Kämmerei fragen – intern");
    resumed.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_rejection_tells_the_citizen_the_reason_and_closes_the_question() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let staff = app.staff("br", &["citizens_office"]).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Werbung für mein Geschäft").await.unwrap();

    let detail = staff
        .post(
            "/api/v1/questions/A-1001/reject",
            json!({"reason": "Werbung ist hier nicht möglich."}),
        )
        .await
        .unwrap();
    let notice = citizen
        .office_message_containing("Begründung")
        .await
        .unwrap();
    let (again, body) = staff
        .request(
            Method::POST,
            "/api/v1/questions/A-1001/answer",
            Some(json!({"text": "x"})),
        )
        .await
        .unwrap();

    assert!(
        notice["text"]
            .as_str()
            .unwrap()
            .contains("Werbung ist hier nicht möglich.")
    );
    assert_eq!(detail["status"], "rejected");
    assert_eq!(detail["rejection"], "Werbung ist hier nicht möglich.");
    assert_eq!(again, StatusCode::CONFLICT, "{body}");
    citizen.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_api_refuses_anonymous_callers_wrong_passwords_and_missing_csrf_headers() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let staff = app.staff("br", &["citizens_office"]).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Eine Frage").await.unwrap();
    let anonymous = reqwest::Client::new();

    let queue = anonymous
        .get(format!("{}/api/v1/questions", app.base))
        .send()
        .await
        .unwrap()
        .status();
    let wrong =
        sprechstunde_tests::staff::StaffClient::login(&app.base, "br", "falsches-passwort-123")
            .await;
    let unknown =
        sprechstunde_tests::staff::StaffClient::login(&app.base, "niemand", "irgendein-passwort")
            .await;
    // The cookie alone is not enough for a state-changing request.
    let without_csrf = staff
        .http()
        .post(format!("{}/api/v1/questions/A-1001/answer", app.base))
        .json(&json!({"text": "Antwort ohne CSRF"}))
        .send()
        .await
        .unwrap()
        .status();

    assert_eq!(queue, StatusCode::UNAUTHORIZED);
    assert!(wrong.is_err());
    assert!(unknown.is_err());
    assert_eq!(without_csrf, StatusCode::FORBIDDEN);
    let status = staff.get("/api/v1/questions/A-1001").await.unwrap()["status"].clone();
    assert_eq!(status, "open");
    citizen.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn roles_limit_what_staff_may_do() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let office = app.staff("br", &["citizens_office"]).await.unwrap();
    let press = app.staff("presse", &["press_office"]).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Wann ist das Bürgerbüro offen?").await.unwrap();

    let (office_creates, _) = office
        .request(
            Method::POST,
            "/api/v1/sessions",
            Some(json!({"title": "x", "host": "y", "starts_at": "2030-01-01T17:00", "ends_at": "2030-01-01T18:00"})),
        )
        .await
        .unwrap();
    let (press_reads_queue, press_queue) = press
        .request(Method::GET, "/api/v1/questions?status=all", None)
        .await
        .unwrap();
    let (press_opens_question, _) = press
        .request(Method::GET, "/api/v1/questions/A-1001", None)
        .await
        .unwrap();
    let (press_lists_sessions, _) = press
        .request(Method::GET, "/api/v1/sessions", None)
        .await
        .unwrap();

    assert_eq!(office_creates, StatusCode::FORBIDDEN);
    // The press office sees only drafts awaiting approval and session questions: not this
    // out-of-hours question.
    assert_eq!(press_reads_queue, StatusCode::OK);
    assert_eq!(press_queue["questions"], json!([]), "{press_queue}");
    assert_eq!(press_opens_question, StatusCode::NOT_FOUND);
    assert_eq!(press_lists_sessions, StatusCode::OK);
    citizen.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn bearer_tokens_work_until_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let staff_id = sprechstunde_tests::staff::create_member(&app, "system", &["citizens_office"])
        .await
        .unwrap();
    let (id, secret) = sprechstunde_console::accounts::new_token().unwrap();
    let mut token = sprechstunde_core::ApiToken {
        id: id.clone(),
        name: "Ratsinformationssystem".into(),
        staff: staff_id,
        secret_hash: sprechstunde_console::accounts::sha256_hex(&secret),
        created_at: jiff::Timestamp::now(),
        revoked_at: None,
    };
    app.office().store().put_token(&token).await.unwrap();
    let bearer = sprechstunde_console::accounts::format_token(&id, &secret);
    let client = reqwest::Client::new();
    let get = |auth: String| {
        client
            .get(format!("{}/api/v1/questions", app.base))
            .header("authorization", auth)
            .send()
    };

    let valid = get(format!("Bearer {bearer}")).await.unwrap().status();
    let forged = get(format!("Bearer spst_{id}_wrongsecret"))
        .await
        .unwrap()
        .status();
    token.revoked_at = Some(jiff::Timestamp::now());
    app.office().store().put_token(&token).await.unwrap();
    let revoked = get(format!("Bearer {bearer}")).await.unwrap().status();

    assert_eq!(valid, StatusCode::OK);
    assert_eq!(forged, StatusCode::UNAUTHORIZED);
    assert_eq!(revoked, StatusCode::UNAUTHORIZED);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn sessions_are_created_edited_and_cancelled_over_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let press = app.staff("presse", &["press_office"]).await.unwrap();

    let created = press
        .create_session(
            "Sprechstunde im Advent",
            "2030-12-03T17:00",
            "2030-12-03T18:00",
        )
        .await
        .unwrap();
    let id = created["id"].as_u64().unwrap();
    let (edited_status, edited) = press
        .request(
            Method::PUT,
            &format!("/api/v1/sessions/{id}"),
            Some(json!({"title": "Sprechstunde im Advent", "host": "Bürgermeister", "starts_at": "2030-12-03T16:00", "ends_at": "2030-12-03T18:00", "question_cap": 15})),
        )
        .await
        .unwrap();
    let cancelled = press
        .post(&format!("/api/v1/sessions/{id}/cancel"), json!({}))
        .await
        .unwrap();
    let (invalid, problem) = press
        .request(
            Method::POST,
            "/api/v1/sessions",
            Some(json!({"title": "x", "host": "y", "starts_at": "2030-12-03T18:00", "ends_at": "2030-12-03T17:00"})),
        )
        .await
        .unwrap();
    // A window beyond any date is refused, not a panic that stops intake for everyone.
    let (huge, huge_problem) = press
        .request(
            Method::POST,
            "/api/v1/sessions",
            Some(json!({"title": "x", "host": "y", "starts_at": "2030-12-03T17:00", "ends_at": "2030-12-03T18:00", "presubmission_minutes": i64::MAX})),
        )
        .await
        .unwrap();
    let sessions = press.get("/api/v1/sessions").await.unwrap();

    assert_eq!(created["status"], "scheduled");
    assert_eq!(
        created["starts_at"], "2030-12-03T16:00:00Z",
        "17:00 in Berlin is 16:00 UTC in winter"
    );
    assert_eq!(edited_status, StatusCode::OK);
    assert_eq!(edited["host"], "Bürgermeister");
    assert_eq!(edited["question_cap"], 15);
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(invalid, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("end after it starts"),
        "{problem}"
    );
    assert_eq!(huge, StatusCode::UNPROCESSABLE_ENTITY, "{huge_problem}");
    assert!(
        huge_problem["message"]
            .as_str()
            .unwrap()
            .contains("365 Tage"),
        "{huge_problem}"
    );
    assert_eq!(
        sessions["sessions"].as_array().unwrap().len(),
        1,
        "{sessions}"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn staff_see_when_an_answer_waits_for_an_offline_citizen_and_when_it_is_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let staff = app.staff("br", &["citizens_office"]).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Wer mäht die Wiese am Bach?").await.unwrap();
    let token = citizen.token.clone();
    citizen.close().await;
    app.wait_until_web_chat_idle().await;

    staff.answer("A-1001", "Das Grünflächenamt.").await.unwrap();
    let pending = wait_for_delivery(&staff, "pending").await;
    let back = Citizen::connect(app.addr, Some(&token), "de")
        .await
        .unwrap();
    let delivered = wait_for_delivery(&staff, "delivered").await;

    assert!(
        back.welcome["history"]
            .to_string()
            .contains("Das Grünflächenamt.")
    );
    assert_eq!(pending["state"], "pending");
    assert_eq!(delivered["state"], "delivered");
    back.close().await;
    app.stop().await.unwrap();
}

/// Polls the thread until the answer's delivery reaches `state`.
async fn wait_for_delivery(
    staff: &sprechstunde_tests::staff::StaffClient,
    state: &str,
) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + sprechstunde_tests::DEADLINE;
    loop {
        let detail = staff.get("/api/v1/questions/A-1001").await.unwrap();
        let answer = detail["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "answer")
            .cloned();
        if let Some(delivery) = answer.map(|a| a["delivery"].clone())
            && delivery["state"] == state
        {
            return delivery;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "delivery never became {state}: {detail}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn the_live_event_stream_names_each_new_question() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let staff = app.staff("br", &["citizens_office"]).await.unwrap();
    let mut events = staff
        .http()
        .get(format!("{}/api/v1/events", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    let mut citizen = app.citizen().await.unwrap();

    citizen
        .ask("Neue Frage für die Live-Ansicht")
        .await
        .unwrap();
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + sprechstunde_tests::DEADLINE;
    while !seen.contains("A-1001") {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .expect("event before deadline")
            .unwrap()
            .expect("stream open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }

    assert!(seen.contains("event: changed"), "{seen}");
    assert!(
        !seen.contains("Neue Frage"),
        "events carry references, not content: {seen}"
    );
    citizen.close().await;
    drop(events);
    app.stop().await.unwrap();
}
