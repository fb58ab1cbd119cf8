//! The accessibility statement (BITV 2.0 § 7) in headless Chromium: reached by a link from the
//! citizen page, the public pages and the console, showing the installation's own contact and
//! arbitration body in German and English, and axe-core clean like every other page.

use std::sync::Arc;

use sprechstunde_runtime::SystemClock;
use sprechstunde_tests::app::{TestApp, test_settings};
use sprechstunde_tests::browser::{Browser, describe};

async fn assert_accessible(browser: &Browser, view: &str) {
    let violations = browser.axe().await.unwrap();
    assert!(violations.is_empty(), "{view}: {}", describe(&violations));
}

/// Follows the link to the statement from the page open in the browser and waits for it (in
/// the language the browser prefers).
async fn follow_statement_link(browser: &Browser) {
    browser
        .click("footer a[href^='/barrierefreiheit']")
        .await
        .unwrap();
    browser.wait_for("h1#statement").await.unwrap();
    let url = browser.client().current_url().await.unwrap();
    assert_eq!(url.path(), "/barrierefreiheit");
}

#[tokio::test]
async fn every_kind_of_page_links_to_the_configured_accessibility_statement() {
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    // Arrange: an installation with its own feedback contact and arbitration body.
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.accessibility.contact_email = "barrierefrei@beispielhausen.example".into();
    settings.accessibility.arbitration_name = "Ombudsstelle für barrierefreie IT des Landes".into();
    settings.accessibility.not_accessible_de =
        "Die Statistik-Diagramme haben keine Textfassung.".into();
    let app = TestApp::start_with(settings, Arc::new(SystemClock))
        .await
        .unwrap();
    let client = browser.client();

    // Act / Assert: from the citizen page.
    client.goto(&format!("{}/", app.base)).await.unwrap();
    browser
        .wait_for("#connection[data-state='connected']")
        .await
        .unwrap();
    follow_statement_link(&browser).await;
    client
        .goto(&format!("{}/barrierefreiheit?lang=de", app.base))
        .await
        .unwrap();
    for text in [
        "barrierefrei@beispielhausen.example",
        "Ombudsstelle für barrierefreie IT des Landes",
        "Die Statistik-Diagramme haben keine Textfassung.",
        "teilweise vereinbar",
    ] {
        browser.wait_for_text("main", text).await.unwrap();
    }
    let mail = client
        .execute(
            "return document.querySelector(\"a[href^='mailto:']\").getAttribute('href')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(mail, "mailto:barrierefrei@beispielhausen.example");
    assert_accessible(&browser, "accessibility statement").await;

    // In English, with the German text kept where no English one is configured.
    browser.click("p.lang a").await.unwrap();
    browser
        .wait_for_text("h1", "Accessibility statement")
        .await
        .unwrap();
    browser
        .wait_for_text("main", "Arbitration procedure")
        .await
        .unwrap();
    browser
        .wait_for_text("main", "Die Statistik-Diagramme haben keine Textfassung.")
        .await
        .unwrap();
    assert_accessible(&browser, "accessibility statement in English").await;

    // From the public pages (the English link keeps the language).
    client
        .goto(&format!("{}/sprechstunden?lang=en", app.base))
        .await
        .unwrap();
    browser
        .click("footer a[href^='/barrierefreiheit']")
        .await
        .unwrap();
    browser
        .wait_for_text("h1", "Accessibility statement")
        .await
        .unwrap();
    client
        .goto(&format!("{}/sprechstunden", app.base))
        .await
        .unwrap();
    follow_statement_link(&browser).await;

    // From the console's login page.
    client.goto(&format!("{}/staff", app.base)).await.unwrap();
    browser.wait_for("#login-form").await.unwrap();
    follow_statement_link(&browser).await;

    browser.close().await.unwrap();
    app.stop().await.unwrap();
}
