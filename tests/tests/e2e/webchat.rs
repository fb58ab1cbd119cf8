//! The citizen's side: intake, acknowledgement, commands, limits, resuming.

use reqwest::StatusCode;
use serde_json::json;
use sprechstunde_tests::app::TestApp;
use sprechstunde_tests::citizen::Citizen;

#[tokio::test]
async fn the_chat_page_loads_modules_that_are_all_served_as_javascript() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let get = |path: String| {
        let url = format!("{}{path}", app.base);
        async move { reqwest::get(url).await.unwrap() }
    };

    // Act: follow the page's module script and every static import from there.
    let served = sprechstunde_tests::modules::served_modules(&app.base, "/", "/assets/")
        .await
        .unwrap();

    // Assert: every module of the asset table is reachable and served as JavaScript.
    let table: std::collections::BTreeSet<String> = sprechstunde_webchat::ASSETS
        .iter()
        .filter(|a| a.name.ends_with(".js"))
        .map(|a| a.name.to_owned())
        .collect();
    assert_eq!(served, table, "every module is reachable and served");
    let css = get("/assets/chat.css".to_owned()).await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    for unknown in ["chat.js", "no-such-module.js", "..%2Fsrc%2Flib.rs"] {
        let response = get(format!("/assets/{unknown}")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{unknown}");
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_out_of_hours_question_is_acknowledged_with_reference_and_due_date() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    assert!(citizen.welcome["session"].is_null());
    assert!(
        citizen.welcome["greeting"]
            .as_str()
            .unwrap()
            .contains("keine Sprechstunde")
    );

    let (accepted, ack) = citizen.ask("Wann wird die Brücke saniert?").await.unwrap();

    assert_eq!(accepted["reference"], "A-1001");
    assert!(ack.contains("A-1001"), "{ack}");
    assert!(ack.contains("Bürgerreferat"), "{ack}");
    assert!(ack.contains("spätestens"), "{ack}");
    let queue = app
        .office()
        .read(|s, _, _| {
            s.questions()
                .map(|q| (q.reference.to_string(), q.queue))
                .collect::<Vec<_>>()
        })
        .await;
    assert_eq!(
        queue,
        vec![(
            "A-1001".to_owned(),
            sprechstunde_core::Queue::CitizensOffice
        )]
    );
    citizen.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn during_a_live_session_citizens_are_told_their_queue_position() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let press = app.staff("presse", &["press_office"]).await.unwrap();
    let now = jiff::Zoned::now().with_time_zone(jiff::tz::TimeZone::get("Europe/Berlin").unwrap());
    let start = now.checked_sub(jiff::SignedDuration::from_mins(5)).unwrap();
    let end = now
        .checked_add(jiff::SignedDuration::from_hours(1))
        .unwrap();
    press
        .create_session(
            "Sprechstunde der Oberbürgermeisterin",
            &start.strftime("%Y-%m-%dT%H:%M").to_string(),
            &end.strftime("%Y-%m-%dT%H:%M").to_string(),
        )
        .await
        .unwrap();

    let mut first = app.citizen().await.unwrap();
    let mut second = app.citizen().await.unwrap();
    assert_eq!(first.welcome["session"]["live"], true);
    let (_, ack1) = first.ask("Frage eins").await.unwrap();
    let (_, ack2) = second.ask("Frage zwei").await.unwrap();

    assert!(ack1.contains("Position 1"), "{ack1}");
    assert!(ack2.contains("Position 2"), "{ack2}");
    assert!(
        ack2.contains("Sprechstunde der Oberbürgermeisterin"),
        "{ack2}"
    );
    first.close().await;
    second.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_reload_with_the_same_token_resumes_the_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Gibt es Parkplätze am Rathaus?").await.unwrap();
    let token = citizen.token.clone();
    citizen.close().await;

    let again = Citizen::connect(app.addr, Some(&token), "de")
        .await
        .unwrap();

    assert_eq!(again.token, token);
    let history = again.welcome["history"].as_array().unwrap();
    let texts: Vec<_> = history
        .iter()
        .map(|h| (h["from"].as_str().unwrap(), h["text"].as_str().unwrap()))
        .collect();
    assert_eq!(texts[0], ("citizen", "Gibt es Parkplätze am Rathaus?"));
    assert_eq!(texts[1].0, "office");
    assert!(texts[1].1.contains("A-1001"));
    assert_eq!(texts.len(), 2);
    again.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_forged_or_unknown_token_starts_a_new_empty_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Meine private Frage").await.unwrap();
    citizen.close().await;

    let stranger = Citizen::connect(app.addr, Some("not-a-token"), "de")
        .await
        .unwrap();

    assert_ne!(stranger.token, "not-a-token");
    assert_eq!(stranger.welcome["history"], json!([]));
    stranger.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn resending_a_message_with_the_same_client_id_after_a_reconnect_creates_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen
        .send_with_id("same-id", "Wo beantrage ich einen Ausweis?")
        .await
        .unwrap();
    let first = citizen.wait_for(|f| f["type"] == "accepted").await.unwrap();
    let token = citizen.token.clone();
    citizen.close().await;

    let mut again = Citizen::connect(app.addr, Some(&token), "de")
        .await
        .unwrap();
    again
        .send_with_id("same-id", "Wo beantrage ich einen Ausweis?")
        .await
        .unwrap();
    let second = again.wait_for(|f| f["type"] == "accepted").await.unwrap();

    assert_eq!(first["reference"], "A-1001");
    assert_eq!(second["reference"], "A-1001");
    let (questions, citizen_entries) = app
        .office()
        .read(|s, _, _| {
            let entries = s
                .questions()
                .flat_map(|q| q.entries.iter())
                .filter(|e| e.kind == sprechstunde_core::EntryKind::Citizen)
                .count();
            (s.questions().count(), entries)
        })
        .await;
    assert_eq!((questions, citizen_entries), (1, 1));
    again.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_message_over_the_size_limit_gets_a_clear_error_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    let max = citizen.welcome["max_chars"].as_u64().unwrap() as usize;

    let id = citizen.send(&"x".repeat(max + 1)).await.unwrap();
    let error = citizen.wait_for(|f| f["type"] == "error").await.unwrap();

    assert_eq!(error["client_id"], id.as_str());
    assert_eq!(error["code"], "too_long");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains(&max.to_string()),
        "{error}"
    );
    let stored = app.office().read(|s, _, _| s.questions().count()).await;
    assert_eq!(stored, 0);
    // A message of exactly the limit is fine.
    let (accepted, _) = citizen.ask(&"y".repeat(max)).await.unwrap();
    assert_eq!(accepted["reference"], "A-1001");
    citizen.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_frame_over_64_kib_closes_the_connection() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();

    citizen
        .send_with_id("big", &"z".repeat(64 * 1024 + 1))
        .await
        .unwrap();

    assert!(citizen.is_closed_by_server().await);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn malformed_frames_get_an_error_and_the_conversation_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();

    citizen.send_raw("{not json").await.unwrap();
    let error = citizen.wait_for(|f| f["type"] == "error").await.unwrap();
    citizen
        .send_raw(r#"{"type":"message","client_id":"","text":"hi"}"#)
        .await
        .unwrap();
    let empty_id = citizen.wait_for(|f| f["type"] == "error").await.unwrap();
    let (accepted, _) = citizen.ask("Noch eine Frage").await.unwrap();

    assert_eq!(error["code"], "bad_request");
    assert_eq!(empty_id["code"], "bad_request");
    assert_eq!(accepted["reference"], "A-1001");
    citizen.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn help_status_and_withdraw_work_in_the_web_chat() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();

    citizen.send("/hilfe").await.unwrap();
    let help = citizen.office_message_containing("/status").await.unwrap();
    citizen
        .ask("Wann ist der Wertstoffhof geöffnet?")
        .await
        .unwrap();
    citizen.send("/status").await.unwrap();
    let status = citizen
        .office_message_containing("Ihre Anliegen")
        .await
        .unwrap();
    citizen.send("/zurueckziehen").await.unwrap();
    let withdrawn = citizen
        .office_message_containing("zurückgezogen")
        .await
        .unwrap();

    assert!(help["text"].as_str().unwrap().contains("/zurueckziehen"));
    assert!(
        status["text"].as_str().unwrap().contains("A-1001: offen"),
        "{status}"
    );
    assert!(withdrawn["text"].as_str().unwrap().contains("A-1001"));
    let status = app
        .office()
        .read(|s, _, _| s.questions().map(|q| q.status).collect::<Vec<_>>())
        .await;
    assert_eq!(status, vec![sprechstunde_core::QuestionStatus::Withdrawn]);
    citizen.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn english_speaking_citizens_get_english_texts() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let mut citizen = Citizen::connect(app.addr, None, "en").await.unwrap();

    let (_, ack) = citizen.ask("When is the town hall open?").await.unwrap();

    assert!(
        citizen.welcome["greeting"]
            .as_str()
            .unwrap()
            .starts_with("Welcome")
    );
    assert!(ack.contains("Thank you"), "{ack}");
    assert!(ack.contains("citizens' office"), "{ack}");
    citizen.close().await;
    app.stop().await.unwrap();
}
