//! The triage console in headless Chromium: filters, keyboard shortcuts that act, routing,
//! statistics, each view checked with axe-core.

use super::*;

#[tokio::test]
async fn the_console_filters_routes_with_shortcuts_and_shows_statistics_accessibly() {
    use fantoccini::Locator;
    use sprechstunde_tests::browser::Browser;
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path()).await;
    member(&app, "erika", &[Role::CitizensOffice], None).await;
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Ein Schlagloch am Markt").await.unwrap();
    let mut second = app.citizen().await.unwrap();
    second.ask("Wo bleibt mein Bauantrag?").await.unwrap();
    let client = browser.client();
    browser
        .log_in_staff(&app.base, "erika", PASSWORD)
        .await
        .unwrap();
    browser
        .wait_for("#queue tr[data-reference='A-1002']")
        .await
        .unwrap();
    browser
        .wait_for_text(
            "#queue tr[data-reference='A-1002'] td.department",
            "Bauordnungsamt",
        )
        .await
        .unwrap();

    // "/" jumps to the search; the queue narrows to the building application.
    client
        .active_element()
        .await
        .unwrap()
        .send_keys("/")
        .await
        .unwrap();
    client
        .active_element()
        .await
        .unwrap()
        .send_keys("BAUANTRAG\u{E007}")
        .await
        .unwrap();
    browser
        .wait_for_text("#queue-caption", "(1)")
        .await
        .unwrap();
    // "j" selects the first row and focuses its link; Enter opens it.
    browser.type_into("#view-title", "j").await.unwrap();
    browser
        .wait_for("#queue tr.selected[data-reference='A-1002']")
        .await
        .unwrap();
    client
        .active_element()
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    browser
        .wait_for_text("#question-meta", "Regel: keyword \"Bauantrag\"")
        .await
        .unwrap();
    assert_accessible(&browser, "question with triage").await;
    // Route with the suggestion preselected.
    browser.click("#route-submit").await.unwrap();
    browser
        .wait_for_text("#action-status", "weitergeleitet")
        .await
        .unwrap();
    let routed = app
        .office()
        .read(|state, _, _| {
            state
                .question_by_reference(sprechstunde_core::Reference(1002))
                .and_then(|q| q.department)
        })
        .await;
    assert_eq!(routed, Some(DepartmentId(2)));

    // "r" on A-1001 focuses the department select (the road works office is suggested);
    // the arrow key picks the building office and Enter routes it there.
    client
        .goto(&format!("{}/staff#/questions/A-1001", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("#question-meta", "Regel: keyword \"Schlagloch\"")
        .await
        .unwrap();
    browser.type_into("#view-title", "r").await.unwrap();
    let focused = client.active_element().await.unwrap();
    assert_eq!(
        focused.attr("id").await.unwrap().as_deref(),
        Some("route-department")
    );
    focused.send_keys("\u{E015}").await.unwrap();
    focused.send_keys("\u{E007}").await.unwrap();
    browser
        .wait_for_text("#action-status", "weitergeleitet")
        .await
        .unwrap();
    let api = StaffClient::login(&app.base, "erika", PASSWORD)
        .await
        .unwrap();
    let routed = api.get("/api/v1/questions/A-1001").await.unwrap();
    assert_eq!(routed["department"]["slug"], "bauamt", "{routed}");

    // From the queue, "n" opens the selected question with the focus in the note box.
    client
        .goto(&format!("{}/staff#/queue", app.base))
        .await
        .unwrap();
    browser
        .wait_for("#queue tr[data-reference='A-1002']")
        .await
        .unwrap();
    let title = client.find(Locator::Css("#view-title")).await.unwrap();
    title.send_keys("j").await.unwrap();
    browser
        .wait_for("#queue tr.selected[data-reference='A-1002']")
        .await
        .unwrap();
    client
        .active_element()
        .await
        .unwrap()
        .send_keys("n")
        .await
        .unwrap();
    browser
        .wait_for_text("#view-title", "Anliegen A-1002")
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + sprechstunde_tests::DEADLINE;
    loop {
        let focused = client
            .active_element()
            .await
            .unwrap()
            .attr("id")
            .await
            .unwrap();
        if focused.as_deref() == Some("note-text") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "focus on {focused:?}, not the note box"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    client
        .goto(&format!("{}/staff#/stats", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("#stats-body", "Gesamt")
        .await
        .unwrap();
    assert_accessible(&browser, "statistics").await;
    client
        .goto(&format!("{}/staff#/departments", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("#departments-body", "Bauordnungsamt")
        .await
        .unwrap();
    assert_accessible(&browser, "departments").await;

    citizen.close().await;
    second.close().await;
    browser.close().await.unwrap();
    app.stop().await.unwrap();
}
