//! What staff without `read_queue` see: the press office approves drafts (it reads exactly
//! the questions whose draft awaits approval) and moderates live sessions (it reads the
//! questions in session queues); department staff who also host see only their department's
//! questions in the live view. Texts in these views are neutralised.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sprechstunde_core::Role;

use super::{login, refs, start};

#[tokio::test]
async fn the_press_office_reads_exactly_the_questions_whose_draft_awaits_its_approval() {
    // Arrange: a building question (approval needed) and a road works question.
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path()).await;
    let office = login(&app, "br", &[Role::CitizensOffice], None).await;
    let press = login(&app, "presse", &[Role::PressOffice], None).await;
    let building = login(&app, "bau", &[Role::Department], Some(2)).await;
    let mut builder = app.citizen().await.unwrap();
    builder
        .ask("Wie steht es um meinen Bauantrag?")
        .await
        .unwrap();
    let mut driver = app.citizen().await.unwrap();
    driver.ask("Schlagloch in der Hauptstraße").await.unwrap();
    for (reference, dept) in [("A-1001", "bauamt"), ("A-1002", "tiefbau")] {
        office
            .post(
                &format!("/api/v1/questions/{reference}/route"),
                json!({"department": dept}),
            )
            .await
            .unwrap();
    }
    let status_of = |path: &'static str| {
        let press = &press;
        async move { press.request(Method::GET, path, None).await.unwrap().0 }
    };
    // Before there is a draft the press office sees nothing.
    assert_eq!(
        status_of("/api/v1/questions/A-1001").await,
        StatusCode::NOT_FOUND
    );
    let none = press.get("/api/v1/questions?draft=true").await.unwrap();
    assert!(refs(&none, "questions").is_empty(), "{none}");

    // Act: the department drafts an answer (with a hidden direction override).
    building
        .answer("A-1001", "ENTWURF: genehmigt am 3.\u{202E}21")
        .await
        .unwrap();

    // Assert: the press office lists and opens exactly that question, draft neutralised.
    let drafts = press.get("/api/v1/questions?draft=true").await.unwrap();
    assert_eq!(refs(&drafts, "questions"), ["A-1001"]);
    let everything = press.get("/api/v1/questions?status=all").await.unwrap();
    assert_eq!(
        refs(&everything, "questions"),
        ["A-1001"],
        "data minimisation"
    );
    let detail = press.get("/api/v1/questions/A-1001").await.unwrap();
    assert_eq!(
        detail["draft"]["text"],
        "ENTWURF: genehmigt am 3.[U+202E]21"
    );
    assert_eq!(
        detail["entries"][0]["text"],
        "Wie steht es um meinen Bauantrag?"
    );
    assert_eq!(
        status_of("/api/v1/questions/A-1002").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status_of("/api/v1/questions/A-1001/text-modules").await,
        StatusCode::FORBIDDEN
    );

    // It approves with an edit; the citizen gets the edited text; the question is out of
    // its sight again.
    let approved = press
        .post(
            "/api/v1/questions/A-1001/approve",
            json!({"text": "Ihr Bauantrag wurde am 3. Dezember genehmigt."}),
        )
        .await
        .unwrap();
    assert_eq!(approved["status"], "answered");
    builder
        .office_message_containing("am 3. Dezember genehmigt")
        .await
        .unwrap();
    assert_eq!(
        status_of("/api/v1/questions/A-1001").await,
        StatusCode::NOT_FOUND
    );
    let (status, _) = press
        .request(
            Method::POST,
            "/api/v1/questions/A-1002/approve",
            Some(json!({})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND, "no draft: not visible");
    builder.close().await;
    driver.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_live_view_shows_a_hosting_department_member_only_their_departments_questions() {
    // Arrange: a session running now with room for two; a third question overflows to the
    // citizens' office. Road works gets the first, building the second.
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path()).await;
    let office = login(&app, "br", &[Role::CitizensOffice], None).await;
    let press = login(&app, "presse", &[Role::PressOffice], None).await;
    let host = login(&app, "ob", &[Role::Host], None).await;
    let road_host = login(&app, "tb-ob", &[Role::Department, Role::Host], Some(1)).await;
    let now = jiff::Timestamp::now();
    let session = press
        .post(
            "/api/v1/sessions",
            json!({"title": "Bürgersprechstunde", "host": "Oberbürgermeisterin",
                   "starts_at": (now - jiff::SignedDuration::from_mins(1)).to_string(),
                   "ends_at": (now + jiff::SignedDuration::from_hours(1)).to_string(),
                   "question_cap": 2}),
        )
        .await
        .unwrap();
    assert_eq!(session["status"], "live", "{session}");
    let id = session["id"].as_u64().unwrap();
    let mut citizens = Vec::new();
    for text in [
        "Schlag\u{00AD}loch in der Hauptstraße",
        "Mein Bauantrag dauert",
        "Wann hat das Bürgerbüro offen?",
    ] {
        let mut citizen = app.citizen().await.unwrap();
        citizen.ask(text).await.unwrap();
        citizens.push(citizen);
    }
    for (reference, dept) in [("A-1001", "tiefbau"), ("A-1002", "bauamt")] {
        office
            .post(
                &format!("/api/v1/questions/{reference}/route"),
                json!({"department": dept}),
            )
            .await
            .unwrap();
    }
    let live_path = format!("/api/v1/sessions/{id}/live");

    // Act
    let for_road_host = road_host.get(&live_path).await.unwrap();
    let for_host = host.get(&live_path).await.unwrap();
    let for_press = press.get(&live_path).await.unwrap();

    // Assert: department scoping holds in the live view; texts are neutralised.
    assert_eq!(refs(&for_road_host, "questions"), ["A-1001"]);
    assert_eq!(
        for_road_host["questions"][0]["text"],
        "Schlag[U+00AD]loch in der Hauptstraße"
    );
    assert_eq!(refs(&for_host, "questions"), ["A-1001", "A-1002"]);
    assert_eq!(refs(&for_press, "questions"), ["A-1001", "A-1002"]);
    // Its moderation acts stay within the department too.
    let (status, _) = road_host
        .request(
            Method::POST,
            &format!("/api/v1/sessions/{id}/answering"),
            Some(json!({"reference": "A-1002"})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = road_host
        .request(
            Method::POST,
            "/api/v1/questions/A-1001/merge",
            Some(json!({"duplicates": ["A-1002"]})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The press office opens the questions of the live view, not the overflow.
    for (reference, expected) in [
        ("A-1001", StatusCode::OK),
        ("A-1002", StatusCode::OK),
        ("A-1003", StatusCode::NOT_FOUND),
    ] {
        let (status, _) = press
            .request(Method::GET, &format!("/api/v1/questions/{reference}"), None)
            .await
            .unwrap();
        assert_eq!(status, expected, "{reference}");
    }
    let picked = press
        .post(
            &format!("/api/v1/sessions/{id}/answering"),
            json!({"reference": "A-1002"}),
        )
        .await
        .unwrap();
    assert_eq!(picked["answering"], "A-1002");
    // The hosting department member does not learn which other question is being answered.
    let for_road_host = road_host.get(&live_path).await.unwrap();
    assert_eq!(for_road_host["answering"], Value::Null);
    for citizen in citizens {
        citizen.close().await;
    }
    app.stop().await.unwrap();
}
