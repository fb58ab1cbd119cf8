//! Stop and start on the same data directory: nothing a citizen or staff member was told is
//! lost, and what was not yet delivered is delivered.

use sprechstunde_core::{QuestionStatus, Queue};
use sprechstunde_tests::app::TestApp;
use sprechstunde_tests::citizen::Citizen;

#[tokio::test]
async fn a_restart_keeps_sessions_queue_order_references_and_threads() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let press = app
        .staff("presse", &["press_office", "citizens_office"])
        .await
        .unwrap();
    let now = jiff::Zoned::now().with_time_zone(jiff::tz::TimeZone::get("Europe/Berlin").unwrap());
    let fmt = |z: jiff::Zoned| z.strftime("%Y-%m-%dT%H:%M").to_string();
    press
        .create_session(
            "Live-Sprechstunde",
            &fmt(now.checked_sub(jiff::SignedDuration::from_mins(1)).unwrap()),
            &fmt(now
                .checked_add(jiff::SignedDuration::from_hours(2))
                .unwrap()),
        )
        .await
        .unwrap();
    let mut tokens = Vec::new();
    for text in ["Erste Frage", "Zweite Frage", "Dritte Frage"] {
        let mut c = app.citizen().await.unwrap();
        c.ask(text).await.unwrap();
        tokens.push(c.token.clone());
        c.close().await;
    }
    press
        .post(
            "/api/v1/questions/A-1002/notes",
            serde_json::json!({"text": "Notiz vor dem Neustart"}),
        )
        .await
        .unwrap();
    let before = snapshot(&app).await;
    app.stop().await.unwrap();

    let app = TestApp::start(dir.path()).await.unwrap();
    let after = snapshot(&app).await;
    let mut second = Citizen::connect(app.addr, Some(&tokens[1]), "de")
        .await
        .unwrap();
    second.send("/status").await.unwrap();
    let status = second
        .office_message_containing("Ihre Anliegen")
        .await
        .unwrap();
    let mut newcomer = app.citizen().await.unwrap();
    let (accepted, ack) = newcomer
        .ask("Vierte Frage nach dem Neustart")
        .await
        .unwrap();

    assert_eq!(after, before);
    assert!(
        status["text"].as_str().unwrap().contains("A-1002: offen"),
        "{status}"
    );
    assert!(
        status["text"].as_str().unwrap().contains("Position 2"),
        "{status}"
    );
    assert_eq!(
        accepted["reference"], "A-1004",
        "references are never reused"
    );
    assert!(ack.contains("Position 4"), "{ack}");
    second.close().await;
    newcomer.close().await;
    app.stop().await.unwrap();
}

type View = Vec<(String, Queue, QuestionStatus, Option<u64>, Vec<String>)>;

async fn snapshot(app: &TestApp) -> (View, Vec<String>) {
    app.office()
        .read(|s, _, _| {
            let questions = s
                .questions()
                .map(|q| {
                    (
                        q.reference.to_string(),
                        q.queue,
                        q.status,
                        s.queue_position(q.id),
                        q.entries.iter().map(|e| e.text.clone()).collect(),
                    )
                })
                .collect();
            let sessions = s
                .sessions()
                .map(|x| format!("{} {:?}", x.title, x.status))
                .collect();
            (questions, sessions)
        })
        .await
}

#[tokio::test]
async fn an_answer_not_yet_delivered_is_delivered_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let staff = app.staff("br", &["citizens_office"]).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Wo finde ich das Fundbüro?").await.unwrap();
    let token = citizen.token.clone();
    citizen.close().await;
    app.wait_until_web_chat_idle().await;
    staff
        .answer("A-1001", "Im Rathaus, Zimmer 12.")
        .await
        .unwrap();
    let pending_before = pending_count(&app).await;
    app.stop().await.unwrap();

    let app = TestApp::start(dir.path()).await.unwrap();
    let pending_after_restart = pending_count(&app).await;
    let back = Citizen::connect(app.addr, Some(&token), "de")
        .await
        .unwrap();

    assert_eq!(
        pending_before, 1,
        "the answer waited for the offline citizen"
    );
    assert_eq!(pending_after_restart, 1, "the outbox survived the restart");
    assert!(
        back.welcome["history"]
            .to_string()
            .contains("Im Rathaus, Zimmer 12.")
    );
    let deadline = tokio::time::Instant::now() + sprechstunde_tests::DEADLINE;
    while pending_count(&app).await > 0 {
        assert!(tokio::time::Instant::now() < deadline, "still pending");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    back.close().await;
    app.stop().await.unwrap();
}

async fn pending_count(app: &TestApp) -> usize {
    app.office()
        .read(|s, _, _| s.pending_outbox().count())
        .await
}
