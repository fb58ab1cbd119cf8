//! Office hours in the staff console, in headless Chromium with axe-core: the live moderation
//! view (merge, answering now, an answer from the live view), the summary editor and the
//! public pages it publishes to, and scheduling a series.

use super::*;

#[tokio::test]
async fn the_console_live_view_merges_duplicates_and_picks_the_question_answered_now() {
    use fantoccini::Locator;
    use sprechstunde_tests::browser::{Browser, describe};

    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let press = app.staff("presse", &["press_office"]).await.unwrap();
    sprechstunde_tests::staff::create_member(&app, "ob", &["host"])
        .await
        .unwrap();
    // A session running now.
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
    let id = session["id"].as_u64().unwrap();
    let mut first = app.citizen().await.unwrap();
    first.ask("Wann wird die Brücke saniert?").await.unwrap();
    let mut second = app.citizen().await.unwrap();
    second.ask("Brücke: wann saniert?").await.unwrap();

    let client = browser.client();
    browser
        .log_in_staff(&app.base, "ob", sprechstunde_tests::staff::PASSWORD)
        .await
        .unwrap();
    browser.wait_for("#queue").await.unwrap();
    client
        .goto(&format!("{}/staff#/sessions/{id}/live", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("#live-questions", "Brücke: wann saniert?")
        .await
        .unwrap();
    let violations = browser.axe().await.unwrap();
    assert!(
        violations.is_empty(),
        "live view: {}",
        describe(&violations)
    );

    // Merge by choosing cards: select the second, then "merge the selected into this one" on
    // the first; no reference is typed anywhere (both are plain controls a keyboard reaches).
    click_when_ready(&browser, "#live-select-A-1002").await;
    click_when_ready(&browser, "li[data-reference='A-1001'] .live-merge").await;
    browser
        .wait_for_text("#live-questions", "1× „Ich auch“ (A-1002)")
        .await
        .unwrap();
    second
        .office_message_containing("zusammengefasst")
        .await
        .unwrap();

    // Pick it as "answering now". Live updates may redraw the list between finding the
    // button and clicking it; then the click is repeated on the new button.
    let deadline = tokio::time::Instant::now() + sprechstunde_tests::DEADLINE;
    loop {
        let clicked = match client
            .find(Locator::Css(
                "#live-questions .live-pick[data-ref='A-1001']",
            ))
            .await
        {
            Ok(button) => button.click().await.map(|_| ()),
            Err(e) => Err(e),
        };
        match clicked {
            Ok(()) => break,
            Err(e) => assert!(
                tokio::time::Instant::now() < deadline,
                "could not press 'answer now': {e}"
            ),
        }
    }
    browser
        .wait_for_text("#live-answering", "Auf der Bühne: A-1001")
        .await
        .unwrap();
    let violations = browser.axe().await.unwrap();
    assert!(
        violations.is_empty(),
        "live view: {}",
        describe(&violations)
    );

    // Answer from the live view: the form follows "answering now", and the one answer
    // reaches both askers on their web chats.
    let deadline = tokio::time::Instant::now() + sprechstunde_tests::DEADLINE;
    loop {
        let chosen = client
            .execute(
                "return document.getElementById('live-answer-ref').value",
                vec![],
            )
            .await
            .unwrap();
        if chosen == "A-1001" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the answer form did not follow 'answering now': {chosen}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    browser
        .wait_for("#live-answer-text")
        .await
        .unwrap()
        .send_keys("Die Brücke wird im Frühjahr 2027 saniert.")
        .await
        .unwrap();
    browser.click("#live-answer-submit").await.unwrap();
    browser
        .wait_for_text(
            "#live-status-text",
            "Die Antwort auf A-1001 wurde gespeichert",
        )
        .await
        .unwrap();
    let to_first = first
        .office_message_containing("im Frühjahr 2027 saniert")
        .await
        .unwrap();
    let to_second = second
        .office_message_containing("im Frühjahr 2027 saniert")
        .await
        .unwrap();
    assert!(
        to_first["text"].as_str().unwrap().contains("A-1001"),
        "{to_first}"
    );
    assert!(
        to_second["text"].as_str().unwrap().contains("A-1002"),
        "{to_second}"
    );
    browser
        .wait_for_text("#live-questions", "erledigt")
        .await
        .unwrap();

    first.close().await;
    second.close().await;
    browser.close().await.unwrap();
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_press_office_edits_and_publishes_the_summary_in_the_console() {
    use sprechstunde_tests::browser::{Browser, describe};

    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(at("2026-12-01T16:10:00Z")));
    let app = TestApp::start_with(test_settings(dir.path()), clock.clone())
        .await
        .unwrap();
    let press = app.staff("presse", &["press_office"]).await.unwrap();
    let host = app.staff("ob", &["host"]).await.unwrap();
    sprechstunde_tests::staff::create_member(&app, "redaktion", &["press_office"])
        .await
        .unwrap();
    let session = press
        .create_session("Bürgersprechstunde", "2026-12-01T17:00", "2026-12-01T18:00")
        .await
        .unwrap();
    let id = session["id"].as_u64().unwrap();
    let mut citizen = app.citizen().await.unwrap();
    let (_, ack) = citizen.ask("Wann öffnet das Hallenbad?").await.unwrap();
    host.answer(&crate::telegram::reference_in(&ack), "Im Mai.")
        .await
        .unwrap();
    clock.set(at("2026-12-01T17:00:00Z"));
    app.office().tick().await.unwrap();

    let client = browser.client();
    browser
        .log_in_staff(&app.base, "redaktion", sprechstunde_tests::staff::PASSWORD)
        .await
        .unwrap();
    browser.wait_for("#nav-sessions").await.unwrap();
    client
        .goto(&format!("{}/staff#/sessions/{id}/summary", app.base))
        .await
        .unwrap();
    let answer = browser.wait_for("#sum-a-0").await.unwrap();
    browser
        .wait_for_text("#summary-state", "Entwurf")
        .await
        .unwrap();
    let violations = browser.axe().await.unwrap();
    assert!(
        violations.is_empty(),
        "summary view: {}",
        describe(&violations)
    );
    answer.clear().await.unwrap();
    answer
        .send_keys("Das Hallenbad öffnet am 2. Mai.")
        .await
        .unwrap();
    browser.click("#summary-publish").await.unwrap();
    browser
        .wait_for_text("#summary-state", "Veröffentlicht")
        .await
        .unwrap();

    let (status, _, html) = public_get(&app, &format!("/zusammenfassungen/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Das Hallenbad öffnet am 2. Mai."), "{html}");
    assert!(html.contains("Wann öffnet das Hallenbad?"), "{html}");

    // The public pages the summary appears on pass axe-core too, in German and in English.
    for path in [
        format!("/zusammenfassungen/{id}"),
        format!("/zusammenfassungen/{id}?lang=en"),
        "/sprechstunden".to_owned(),
        "/sprechstunden?lang=en".to_owned(),
    ] {
        client.goto(&format!("{}{path}", app.base)).await.unwrap();
        browser.wait_for("main h1").await.unwrap();
        let violations = browser.axe().await.unwrap();
        assert!(violations.is_empty(), "{path}: {}", describe(&violations));
    }

    citizen.close().await;
    browser.close().await.unwrap();
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_press_office_schedules_a_weekly_series_in_the_console() {
    use fantoccini::Locator;
    use sprechstunde_tests::browser::{Browser, describe};

    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(at("2026-10-01T09:00:00Z")));
    let app = TestApp::start_with(test_settings(dir.path()), clock)
        .await
        .unwrap();
    sprechstunde_tests::staff::create_member(&app, "redaktion", &["press_office"])
        .await
        .unwrap();
    let client = browser.client();
    browser
        .log_in_staff(&app.base, "redaktion", sprechstunde_tests::staff::PASSWORD)
        .await
        .unwrap();
    browser.wait_for("#nav-sessions").await.unwrap();
    client
        .goto(&format!("{}/staff#/sessions", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("#sessions-caption", "Sprechstunden (0)")
        .await
        .unwrap();
    browser
        .wait_for("#s-title")
        .await
        .unwrap()
        .send_keys("Wöchentliche Sprechstunde")
        .await
        .unwrap();
    browser.type_into("#s-host", "Bürgermeister").await.unwrap();
    client
        .execute(
            "document.getElementById('s-start').value = '2026-10-20T17:00';\
             document.getElementById('s-end').value = '2026-10-20T18:00';\
             document.getElementById('s-repeat').value = 'weekly';",
            vec![],
        )
        .await
        .unwrap();
    browser.type_into("#s-count", "3").await.unwrap();
    let violations = browser.axe().await.unwrap();
    assert!(
        violations.is_empty(),
        "sessions view: {}",
        describe(&violations)
    );
    browser.click("#session-submit").await.unwrap();
    browser
        .wait_for_text("#sessions-caption", "Sprechstunden (3)")
        .await
        .unwrap();

    let starts: Vec<String> = app
        .office()
        .read(|state, _, _| state.sessions().map(|s| s.starts_at.to_string()).collect())
        .await;
    assert_eq!(
        starts,
        [
            "2026-10-20T15:00:00Z",
            "2026-10-27T16:00:00Z",
            "2026-11-03T16:00:00Z"
        ]
    );

    // A second series ends on a date instead; count and date together are refused.
    browser
        .type_into("#s-title", "Sprechstunde im Advent")
        .await
        .unwrap();
    browser.type_into("#s-host", "Bürgermeister").await.unwrap();
    client
        .execute(
            "document.getElementById('s-start').value = '2026-12-01T17:00';\
             document.getElementById('s-end').value = '2026-12-01T18:00';\
             document.getElementById('s-repeat').value = 'weekly';\
             document.getElementById('s-until').value = '2026-12-15';",
            vec![],
        )
        .await
        .unwrap();
    browser.type_into("#s-count", "2").await.unwrap();
    browser.click("#session-submit").await.unwrap();
    browser
        .wait_for_text("#session-error", "nicht beides")
        .await
        .unwrap();
    let violations = browser.axe().await.unwrap();
    assert!(
        violations.is_empty(),
        "series form with an error: {}",
        describe(&violations)
    );
    client
        .find(Locator::Css("#s-count"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    browser.click("#session-submit").await.unwrap();
    browser
        .wait_for_text("#sessions-status", "mit 3 Terminen angelegt")
        .await
        .unwrap();
    browser
        .wait_for_text("#sessions-caption", "Sprechstunden (6)")
        .await
        .unwrap();
    let advent: Vec<String> = app
        .office()
        .read(|state, _, _| {
            state
                .sessions()
                .filter(|s| s.title == "Sprechstunde im Advent")
                .map(|s| s.starts_at.to_string())
                .collect()
        })
        .await;
    assert_eq!(
        advent,
        [
            "2026-12-01T16:00:00Z",
            "2026-12-08T16:00:00Z",
            "2026-12-15T16:00:00Z"
        ]
    );
    browser.close().await.unwrap();
    app.stop().await.unwrap();
}

/// Clicks `css` once it is there; live updates may redraw the board between finding the
/// element and clicking it, and then the click is repeated on the new one.
pub(super) async fn click_when_ready(browser: &sprechstunde_tests::browser::Browser, css: &str) {
    let deadline = tokio::time::Instant::now() + sprechstunde_tests::DEADLINE;
    loop {
        let clicked = match browser.client().find(fantoccini::Locator::Css(css)).await {
            Ok(element) => element.click().await.map(|_| ()),
            Err(e) => Err(e),
        };
        match clicked {
            Ok(()) => return,
            Err(e) => assert!(
                tokio::time::Instant::now() < deadline,
                "could not click {css}: {e}"
            ),
        }
        tokio::task::yield_now().await;
    }
}
