//! The pages in headless Chromium: the citizen page and the console's answer flow, with
//! axe-core (WCAG 2.1 A/AA) run on every view.

use fantoccini::Locator;
use sprechstunde_tests::app::TestApp;
use sprechstunde_tests::browser::{Browser, describe};

async fn assert_accessible(browser: &Browser, view: &str) {
    let violations = browser.axe().await.unwrap();
    assert!(violations.is_empty(), "{view}: {}", describe(&violations));
}

#[tokio::test]
async fn a_citizen_asks_on_the_web_page_and_sees_the_acknowledgement_and_the_answer() {
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let staff = app.staff("br", &["citizens_office"]).await.unwrap();
    let client = browser.client();

    client.goto(&format!("{}/", app.base)).await.unwrap();
    browser
        .wait_for("#connection[data-state='connected']")
        .await
        .unwrap();
    assert_accessible(&browser, "citizen page, empty").await;
    browser
        .wait_for("#message")
        .await
        .unwrap()
        .send_keys("Wann öffnet das Bürgerbüro am Samstag?")
        .await
        .unwrap();
    client
        .find(Locator::Css("#send"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The question is held until the citizen agrees to the privacy notice on the page.
    browser
        .wait_for_text("#log", "Datenschutzhinweis")
        .await
        .unwrap();
    client
        .find(Locator::Css("#consent-agree"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for_text("#log", "A-1001").await.unwrap();
    staff
        .answer("A-1001", "Samstags von 9 bis 12 Uhr.")
        .await
        .unwrap();
    browser
        .wait_for_text("#log", "Samstags von 9 bis 12 Uhr.")
        .await
        .unwrap();
    assert_accessible(&browser, "citizen page, conversation").await;

    // A reload resumes the conversation from the token kept in the browser.
    client.refresh().await.unwrap();
    browser
        .wait_for("#connection[data-state='connected']")
        .await
        .unwrap();
    browser
        .wait_for_text("#log", "Samstags von 9 bis 12 Uhr.")
        .await
        .unwrap();
    browser
        .wait_for_text("#log", "Wann öffnet das Bürgerbüro am Samstag?")
        .await
        .unwrap();

    browser.close().await.unwrap();
    app.stop().await.unwrap();
}

#[tokio::test]
async fn staff_log_in_see_new_questions_live_and_answer_in_the_console() {
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    sprechstunde_tests::staff::create_member(&app, "erika", &["citizens_office"])
        .await
        .unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Ist der Sperrmüll diese Woche?").await.unwrap();
    let client = browser.client();

    client.goto(&format!("{}/staff", app.base)).await.unwrap();
    browser.wait_for("#login-form").await.unwrap();
    assert_accessible(&browser, "console login").await;
    browser
        .wait_for("#login")
        .await
        .unwrap()
        .send_keys("erika")
        .await
        .unwrap();
    client
        .find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(sprechstunde_tests::staff::PASSWORD)
        .await
        .unwrap();
    client
        .find(Locator::Css("#login-form button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for("#queue tr[data-reference='A-1001']")
        .await
        .unwrap();
    assert_accessible(&browser, "console queue").await;

    // A new question appears without a reload.
    let mut second = app.citizen().await.unwrap();
    second.ask("Eine zweite Frage, live").await.unwrap();
    browser
        .wait_for("#queue tr[data-reference='A-1002']")
        .await
        .unwrap();

    client
        .find(Locator::Css("#queue tr[data-reference='A-1001'] a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for("#answer-text")
        .await
        .unwrap()
        .send_keys("Ja, am Donnerstag.")
        .await
        .unwrap();
    assert_accessible(&browser, "console question").await;
    client
        .find(Locator::Css("#answer-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let answer = citizen
        .office_message_containing("Ja, am Donnerstag.")
        .await
        .unwrap();
    browser
        .wait_for_text("#thread", "Ja, am Donnerstag.")
        .await
        .unwrap();

    assert!(answer["text"].as_str().unwrap().contains("A-1001"));
    citizen.close().await;
    second.close().await;
    browser.close().await.unwrap();
    app.stop().await.unwrap();
}
