//! The stage view in headless Chromium as an OBS browser source loads it (secret link, live
//! updates, revocation, axe-core), and the console's layout at 1280 px and at phone width.

use super::*;
use sprechstunde_tests::browser::{Browser, describe};

use super::console::click_when_ready;

/// A session running now, two questions asked on the web chat; returns the press office,
/// the host and the session id.
async fn running(
    app: &TestApp,
) -> (
    sprechstunde_tests::staff::StaffClient,
    sprechstunde_tests::staff::StaffClient,
    u64,
) {
    let press = app.staff("presse", &["press_office"]).await.unwrap();
    let host = app.staff("ob", &["host"]).await.unwrap();
    let now = Timestamp::now();
    let session = press
        .post(
            "/api/v1/sessions",
            json!({"title": "Bürgersprechstunde im Dezember", "host": "Oberbürgermeisterin",
                   "starts_at": (now - jiff::SignedDuration::from_mins(1)).to_string(),
                   "ends_at": (now + jiff::SignedDuration::from_hours(1)).to_string(),
                   "question_cap": 15}),
        )
        .await
        .unwrap();
    (press, host, session["id"].as_u64().unwrap())
}

async fn page_text(browser: &Browser, css: &str) -> String {
    browser
        .client()
        .find(fantoccini::Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_stage_view_follows_the_question_answered_now_and_refuses_a_revoked_link() {
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let (press, host, id) = running(&app).await;
    let mut a = app.citizen().await.unwrap();
    a.ask("Wann wird der Radweg in der Bahnhofstraße fertig?")
        .await
        .unwrap();
    let mut b = app.citizen().await.unwrap();
    b.ask("Warum gibt es am Markt so wenige Parkplätze?")
        .await
        .unwrap();
    let link = press
        .post(&format!("/api/v1/sessions/{id}/stage-link"), json!({}))
        .await
        .unwrap();
    let path = link["path"].as_str().unwrap().to_owned();
    host.post(
        &format!("/api/v1/sessions/{id}/answering"),
        json!({"reference": "A-1001"}),
    )
    .await
    .unwrap();

    // Act: load it as a browser source would, without any login.
    browser
        .client()
        .goto(&format!("{}{path}", app.base))
        .await
        .unwrap();

    // Assert: title and the question, without reference; accessible.
    browser
        .wait_for_text("#stage-question", "Radweg in der Bahnhofstraße")
        .await
        .unwrap();
    browser
        .wait_for_text("#stage-title", "Bürgersprechstunde im Dezember")
        .await
        .unwrap();
    let body = page_text(&browser, "body").await;
    assert!(!body.contains("A-1001"), "{body}");
    let violations = browser.axe().await.unwrap();
    assert!(violations.is_empty(), "stage: {}", describe(&violations));
    browser
        .screenshot(std::env::temp_dir().join("sprechstunde-stage.png"))
        .await
        .unwrap();

    // Act: the host switches to the other question, then shortens it.
    host.post(
        &format!("/api/v1/sessions/{id}/answering"),
        json!({"reference": "A-1002"}),
    )
    .await
    .unwrap();
    browser
        .wait_for_text("#stage-question", "am Markt so wenige Parkplätze")
        .await
        .unwrap();
    let (status, _) = host
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/sessions/{id}/stage-text"),
            Some(json!({"text": "Parkplätze am Markt?"})),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    browser
        .wait_for_text("#stage-question", "Parkplätze am Markt?")
        .await
        .unwrap();

    // Act: revoke; the open page turns into a notice, a fresh load is refused.
    let (status, _) = press
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/sessions/{id}/stage-link"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    browser
        .wait_for_text("#stage-question", "nicht mehr gültig")
        .await
        .unwrap();
    let fresh = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
    assert_eq!(fresh.status(), 404);

    a.close().await;
    b.close().await;
    browser.close().await.unwrap();
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_board_shows_countdown_cap_and_a_suggested_duplicate_that_one_click_merges() {
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let (_press, _host, id) = running(&app).await;
    let mut a = app.citizen().await.unwrap();
    a.ask("Wann wird der Radweg in der Bahnhofstraße fertig?")
        .await
        .unwrap();
    let mut b = app.citizen().await.unwrap();
    b.ask("Wann ist der Radweg an der Bahnhofstraße endlich fertig?")
        .await
        .unwrap();
    browser
        .log_in_staff(&app.base, "ob", sprechstunde_tests::staff::PASSWORD)
        .await
        .unwrap();
    browser.wait_for("#queue").await.unwrap();

    // Act
    browser
        .client()
        .goto(&format!("{}/staff#/sessions/{id}/live", app.base))
        .await
        .unwrap();

    // Assert: countdown, cap, and the suggestion on the board; the two actions read apart.
    browser
        .wait_for_text("#live-countdown", "bis zum Ende")
        .await
        .unwrap();
    browser
        .wait_for_text("#live-cap", "2 von 15 Plätzen vergeben")
        .await
        .unwrap();
    browser
        .wait_for_text("li[data-reference='A-1002'] .live-suggestions", "A-1001")
        .await
        .unwrap();
    let pick = page_text(&browser, "li[data-reference='A-1001'] .live-pick").await;
    let write = page_text(&browser, "li[data-reference='A-1001'] .live-write").await;
    assert!(
        pick.contains("live") && write.contains("Schriftlich"),
        "{pick} / {write}"
    );
    let violations = browser.axe().await.unwrap();
    assert!(violations.is_empty(), "board: {}", describe(&violations));
    browser
        .screenshot(std::env::temp_dir().join("sprechstunde-board.png"))
        .await
        .unwrap();

    // Act: accept the suggestion at A-1001 with one click.
    click_when_ready(&browser, "li[data-reference='A-1001'] .live-accept").await;

    // Assert
    browser
        .wait_for_text("#live-questions", "1× „Ich auch“ (A-1002)")
        .await
        .unwrap();
    b.office_message_containing("zusammengefasst")
        .await
        .unwrap();

    a.close().await;
    b.close().await;
    browser.close().await.unwrap();
    app.stop().await.unwrap();
}

/// Whether the page scrolls sideways, and (for tables) whether `css` is inside the viewport.
async fn overflows(browser: &Browser) -> (u64, u64) {
    let v = browser
        .client()
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth]",
            vec![],
        )
        .await
        .unwrap();
    (v[0].as_u64().unwrap(), v[1].as_u64().unwrap())
}

#[tokio::test]
async fn the_sessions_table_at_1280_px_and_the_queue_filters_at_phone_width_fit_the_screen() {
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    // Arrange: a session with long local times, and a question that is not routed.
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let (_press, _host, _id) = running(&app).await;
    let mut a = app.citizen().await.unwrap();
    a.ask("Wann wird der Radweg in der Bahnhofstraße fertig?")
        .await
        .unwrap();
    let client = browser.client();
    client.set_window_size(1280, 900).await.unwrap();
    browser
        .log_in_staff(&app.base, "presse", sprechstunde_tests::staff::PASSWORD)
        .await
        .unwrap();
    browser.wait_for("#queue").await.unwrap();

    // Act 1: the sessions table at 1280 px.
    client
        .goto(&format!("{}/staff#/sessions", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("#sessions-body", "Live-Moderation")
        .await
        .unwrap();
    browser
        .screenshot(std::env::temp_dir().join("sprechstunde-sessions-1280.png"))
        .await
        .unwrap();

    // Assert 1: the link is within the table's visible area, the table does not scroll.
    let fits = client
        .execute(
            "const w = document.querySelector('#sessions').closest('.table-wrap'); \
             const a = [...document.querySelectorAll('#sessions-body a')] \
               .find((x) => x.textContent.includes('Live-Moderation')); \
             const r = a.getBoundingClientRect(), box = w.getBoundingClientRect(); \
             return w.scrollWidth <= w.clientWidth && r.right <= box.right;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        fits,
        json!(true),
        "the sessions table scrolls sideways at 1280 px"
    );
    let (scroll, inner) = overflows(&browser).await;
    assert!(scroll <= inner, "{scroll} > {inner}");

    // Act 2: the queue at phone width.
    client.set_window_size(390, 844).await.unwrap();
    client
        .goto(&format!("{}/staff#/queue", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("#queue-body", "Radweg")
        .await
        .unwrap();
    browser
        .screenshot(std::env::temp_dir().join("sprechstunde-queue-390.png"))
        .await
        .unwrap();

    // Assert 2: no sideways scrolling; the unrouted question is the citizens' office's.
    let (scroll, inner) = overflows(&browser).await;
    assert!(inner <= 400, "the window is phone-sized: {inner}");
    let filter_fits = client
        .execute(
            "const f = document.getElementById('queue-filter'); \
             return f.scrollWidth <= f.clientWidth && \
               f.getBoundingClientRect().right <= window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        filter_fits,
        json!(true),
        "the filter form overflows at 390 px"
    );
    assert!(scroll <= inner, "{scroll} > {inner}");
    let department = page_text(&browser, "#queue-body td.department").await;
    assert_eq!(department, "Bürgerreferat");

    a.close().await;
    browser.close().await.unwrap();
    app.stop().await.unwrap();
}
