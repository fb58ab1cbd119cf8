//! The host's side of the live hour over the API: suggested duplicates in the live view
//! (accept = merge, dismiss), and the stage view's secret link (create, show the question
//! answered now as the host shortened it, revoke).

use super::*;
use reqwest::StatusCode;
use sprechstunde_tests::staff::StaffClient;

/// A session running now (Timestamp::now, real clock), created by the press office.
async fn live_session(app: &TestApp) -> (StaffClient, StaffClient, u64) {
    let press = app.staff("presse", &["press_office"]).await.unwrap();
    let host = app.staff("ob", &["host"]).await.unwrap();
    let now = Timestamp::now();
    let session = press
        .post(
            "/api/v1/sessions",
            json!({"title": "Bürgersprechstunde", "host": "Oberbürgermeisterin",
                   "starts_at": (now - jiff::SignedDuration::from_mins(1)).to_string(),
                   "ends_at": (now + jiff::SignedDuration::from_hours(1)).to_string()}),
        )
        .await
        .unwrap();
    assert_eq!(session["status"], "live", "{session}");
    (press, host, session["id"].as_u64().unwrap())
}

fn question<'a>(live: &'a Value, reference: &str) -> &'a Value {
    live["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["reference"] == reference)
        .unwrap_or_else(|| panic!("{reference} not in {live}"))
}

fn suggested(live: &Value, reference: &str) -> Vec<String> {
    question(live, reference)["suggested_duplicates"]
        .as_array()
        .unwrap_or_else(|| panic!("no suggested_duplicates: {live}"))
        .iter()
        .map(|s| s["reference"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_live_view_suggests_the_open_question_that_asks_the_same_and_remembers_a_dismissal() {
    // Arrange: two citizens ask the same in other words, a third asks something else.
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let (_press, host, id) = live_session(&app).await;
    let mut a = app.citizen().await.unwrap();
    a.ask("Wann wird der Radweg in der Bahnhofstraße fertig?")
        .await
        .unwrap();
    let mut b = app.citizen().await.unwrap();
    b.ask("Wann ist der Radweg an der Bahnhofstraße endlich fertig?")
        .await
        .unwrap();
    let mut c = app.citizen().await.unwrap();
    c.ask("Warum gibt es am Markt so wenige Parkplätze?")
        .await
        .unwrap();

    // Act
    let live = host
        .get(&format!("/api/v1/sessions/{id}/live"))
        .await
        .unwrap();

    // Assert: each of the pair names the other with a score; the third names none.
    assert_eq!(suggested(&live, "A-1002"), ["A-1001"], "{live}");
    assert_eq!(suggested(&live, "A-1001"), ["A-1002"], "{live}");
    assert_eq!(suggested(&live, "A-1003"), Vec::<String>::new(), "{live}");
    let score = question(&live, "A-1002")["suggested_duplicates"][0]["score"]
        .as_f64()
        .unwrap();
    assert!(score > 0.0 && score <= 1.0, "{score}");

    // Act: the host dismisses the suggestion.
    let after = host
        .post(
            &format!("/api/v1/sessions/{id}/suggestions/dismiss"),
            json!({"reference": "A-1002", "duplicate": "A-1001"}),
        )
        .await
        .unwrap();

    // Assert: neither suggests the other any more, in the answer and on the next read.
    assert_eq!(suggested(&after, "A-1002"), Vec::<String>::new(), "{after}");
    let live = host
        .get(&format!("/api/v1/sessions/{id}/live"))
        .await
        .unwrap();
    assert_eq!(suggested(&live, "A-1001"), Vec::<String>::new(), "{live}");
    assert_eq!(suggested(&live, "A-1002"), Vec::<String>::new(), "{live}");
    for citizen in [a, b, c] {
        citizen.close().await;
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn accepting_a_suggested_duplicate_merges_it_into_the_question() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let (_press, host, id) = live_session(&app).await;
    let mut a = app.citizen().await.unwrap();
    a.ask("Wann wird der Radweg in der Bahnhofstraße fertig?")
        .await
        .unwrap();
    let mut b = app.citizen().await.unwrap();
    b.ask("Wann ist der Radweg an der Bahnhofstraße endlich fertig?")
        .await
        .unwrap();

    // Act
    let live = host
        .post(
            &format!("/api/v1/sessions/{id}/suggestions/accept"),
            json!({"reference": "A-1001", "duplicate": "A-1002"}),
        )
        .await
        .unwrap();

    // Assert: one card left, counting the other asker; the merged citizen is told.
    let questions = live["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 1, "{live}");
    assert_eq!(questions[0]["me_too"], 1, "{live}");
    assert_eq!(questions[0]["merged"], json!(["A-1002"]), "{live}");
    assert_eq!(suggested(&live, "A-1001"), Vec::<String>::new(), "{live}");
    b.office_message_containing("zusammengefasst")
        .await
        .unwrap();
    a.close().await;
    b.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_stage_link_shows_the_question_answered_now_as_shortened_and_stops_when_revoked() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let (press, host, id) = live_session(&app).await;
    let mut a = app.citizen().await.unwrap();
    a.ask("Guten Tag, ich bin Erika Muster. Wann wird der Radweg in der Bahnhofstraße fertig?")
        .await
        .unwrap();

    // Act: the press office creates the link; the host picks the question and shortens it.
    let link = press
        .post(&format!("/api/v1/sessions/{id}/stage-link"), json!({}))
        .await
        .unwrap();
    let path = link["path"].as_str().unwrap().to_owned();
    let now = |path: String| {
        let url = format!("{}{path}/now", app.base);
        async move {
            let r = reqwest::get(url).await.unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, before) = now(path.clone()).await;
    host.post(
        &format!("/api/v1/sessions/{id}/answering"),
        json!({"reference": "A-1001"}),
    )
    .await
    .unwrap();
    let (_, picked) = now(path.clone()).await;
    let (shortened_status, _) = host
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/sessions/{id}/stage-text"),
            Some(json!({"text": "Wann wird der Radweg in der Bahnhofstraße fertig?"})),
        )
        .await
        .unwrap();
    let (_, shortened) = now(path.clone()).await;
    let page = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
    let page_status = page.status();
    let html = page.text().await.unwrap();

    // Assert: the title, then the question without reference, then the host's version.
    assert_eq!(status, StatusCode::OK);
    assert_eq!(before["title"], "Bürgersprechstunde", "{before}");
    assert_eq!(before["text"], Value::Null, "{before}");
    assert!(
        picked["text"].as_str().unwrap().contains("Radweg"),
        "{picked}"
    );
    assert_eq!(shortened_status, 200);
    assert_eq!(
        shortened["text"], "Wann wird der Radweg in der Bahnhofstraße fertig?",
        "{shortened}"
    );
    for v in [&picked, &shortened] {
        assert!(!v.to_string().contains("A-1001"), "{v}");
    }
    assert_eq!(page_status, StatusCode::OK);
    assert!(
        !html.contains("/staff/assets/"),
        "nothing of the console: {html}"
    );

    // Act: revoke.
    let (revoked, _) = press
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/sessions/{id}/stage-link"),
            None,
        )
        .await
        .unwrap();

    // Assert: page and data are refused.
    assert_eq!(revoked, 200);
    let (status, _) = now(path.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let page = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    a.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_favicon_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();

    let response = reqwest::get(format!("{}/favicon.ico", app.base))
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/"),
        "{:?}",
        response.headers()
    );
    app.stop().await.unwrap();
}
