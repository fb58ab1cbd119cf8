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
    browser.click("#send").await.unwrap();
    // The question is held until the citizen agrees to the privacy notice on the page.
    browser
        .wait_for_text("#consent-heading", "Datenschutzhinweis")
        .await
        .unwrap();
    browser.click("#consent-agree").await.unwrap();
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
async fn the_citizen_page_works_in_english_with_enter_choices_quick_actions_export_and_a_kept_outbox()
 {
    // Arrange: a page whose downloads are recorded in the DOM instead of saved.
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let client = browser.client();
    client.goto(&format!("{}/", app.base)).await.unwrap();
    browser
        .wait_for("#connection[data-state='connected']")
        .await
        .unwrap();
    client
        .execute(
            "HTMLAnchorElement.prototype.click = function () { \
               const p = document.createElement('p'); p.id = 'test-download'; \
               p.textContent = this.download + ' ' + this.href.slice(0, 5); \
               document.body.append(p); };",
            vec![],
        )
        .await
        .unwrap();
    let page = &browser;
    let click = |css: &'static str| async move {
        page.wait_for(css).await.unwrap().click().await.unwrap();
    };

    // Act / Assert: the switch turns the page English and the server answers in English.
    click("#lang-switch").await;
    browser
        .wait_for_text("#title", "Digital citizens' office hours")
        .await
        .unwrap();
    browser.wait_for_text("#quick-help", "Help").await.unwrap();
    let message = browser.wait_for("#message").await.unwrap();
    message.send_keys("Where can I park?").await.unwrap();
    browser
        .wait_for_text("#counter", "17 / 2000 characters")
        .await
        .unwrap();
    message.send_keys("\u{E007}").await.unwrap(); // Enter sends
    browser
        .wait_for_text("#log .msg.citizen", "Where can I park?")
        .await
        .unwrap();
    browser
        .wait_for_text("#consent-heading", "Privacy notice")
        .await
        .unwrap();
    click("#consent-agree").await;
    browser
        .wait_for_text("#log .msg:last-child", "A-1001")
        .await
        .unwrap();
    click("#log .msg:last-child .msg-choices button").await; // the first choice: status
    browser.wait_for_text("#log", "A-1001: open").await.unwrap();
    click("#quick-mydata").await;
    browser
        .wait_for_text("#log", "Your data stored with us")
        .await
        .unwrap();
    click("#quick-export").await;
    browser
        .wait_for_text("#test-download", "sprechstunde-meine-daten.json blob:")
        .await
        .unwrap();

    // A message left unsent by an earlier visit is sent after a reload; English is kept.
    client
        .execute(
            "localStorage.setItem('sprechstunde.outbox', JSON.stringify([{ client_id: \
               'earlier-1', text: 'Is the library open?', at: new Date().toISOString() }]))",
            vec![],
        )
        .await
        .unwrap();
    client.refresh().await.unwrap();
    browser
        .wait_for_text("#title", "Digital citizens' office hours")
        .await
        .unwrap();
    browser
        .wait_for_text("#log [data-client-id='earlier-1']", "Is the library open?")
        .await
        .unwrap();
    browser
        .wait_for_text("#log [data-client-id='earlier-1']", "No. A-1001")
        .await
        .unwrap();
    assert_accessible(&browser, "citizen page in English").await;
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
        .submit_staff_login("erika", sprechstunde_tests::staff::PASSWORD)
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

    browser
        .click("#queue tr[data-reference='A-1001'] a")
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
    browser.click("#answer-submit").await.unwrap();
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

/// Records the URLs of the console's queue requests (the console calls the global `fetch`).
const RECORD_QUEUE_REQUESTS: &str = r"
window.__queueUrls = [];
const original = window.fetch;
window.fetch = function (url, init) {
  if (String(url).includes('/questions?')) window.__queueUrls.push(String(url));
  return original.call(this, url, init);
};
return true;
";

/// Holds the first request for the second queue page until `window.__releasePage()`, and
/// counts the requests for the first page made meanwhile (a refresh).
const HOLD_SECOND_QUEUE_PAGE: &str = r"
window.__pageHeld = false;
window.__refreshes = 0;
const original = window.fetch;
window.fetch = async function (url, init) {
  const u = String(url);
  if (u.includes('/questions?') && u.includes('offset=200') && !window.__pageHeld) {
    window.__pageHeld = true;
    await new Promise((resolve) => { window.__releasePage = resolve; });
  } else if (u.includes('/questions?') && u.includes('offset=0') && window.__pageHeld) {
    window.__refreshes += 1;
  }
  return original.call(this, url, init);
};
return true;
";

/// Waits until `script` returns true in the page.
async fn wait_for_js(client: &fantoccini::Client, script: &str) {
    let deadline = tokio::time::Instant::now() + sprechstunde_tests::DEADLINE;
    while client.execute(script, vec![]).await.unwrap() != serde_json::json!(true) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never true: {script}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_live_update_while_the_next_queue_page_loads_still_shows_that_page() {
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    // Arrange: a full first page and more; "load more" clicked, its request held.
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    sprechstunde_tests::staff::create_member(&app, "erika", &["citizens_office"])
        .await
        .unwrap();
    for i in 0..205 {
        let mut citizen = app.citizen().await.unwrap();
        citizen.ask(&format!("Frage Nummer {i}")).await.unwrap();
        citizen.close().await;
    }
    let client = browser.client();
    browser
        .log_in_staff(&app.base, "erika", sprechstunde_tests::staff::PASSWORD)
        .await
        .unwrap();
    browser
        .wait_for_text("#queue-caption", "(200, weitere vorhanden)")
        .await
        .unwrap();
    client
        .execute(HOLD_SECOND_QUEUE_PAGE, vec![])
        .await
        .unwrap();
    browser.click("#queue-more").await.unwrap();
    wait_for_js(client, "return window.__pageHeld").await;

    // Act: a new question arrives (a live update refreshes the queue), then the page comes.
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Noch eine Frage").await.unwrap();
    wait_for_js(client, "return window.__refreshes > 0").await;
    client
        .execute("window.__releasePage(); return true", vec![])
        .await
        .unwrap();

    // Assert: every question is shown, the second page too, and nothing more is offered.
    browser
        .wait_for_text("#queue-caption", "(206)")
        .await
        .unwrap();
    let rows = "return document.querySelectorAll('#queue-body tr[data-reference]').length";
    assert_eq!(client.execute(rows, vec![]).await.unwrap(), 206);
    browser.close().await.unwrap();
}

#[tokio::test]
async fn the_console_asks_for_the_queue_in_pages_of_200_and_every_question_stays_reachable() {
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    // Arrange: more open questions than one page holds.
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    sprechstunde_tests::staff::create_member(&app, "erika", &["citizens_office"])
        .await
        .unwrap();
    let total = 205;
    for i in 0..total {
        let mut citizen = app.citizen().await.unwrap();
        citizen.ask(&format!("Frage Nummer {i}")).await.unwrap();
        citizen.close().await;
    }
    let client = browser.client();
    client.goto(&format!("{}/staff", app.base)).await.unwrap();
    client.execute(RECORD_QUEUE_REQUESTS, vec![]).await.unwrap();
    browser
        .submit_staff_login("erika", sprechstunde_tests::staff::PASSWORD)
        .await
        .unwrap();

    // Act: the first page; "load more" while the console offers it (a server without paging
    // answers everything at once, and then the console offers nothing more).
    browser.wait_for("#queue tr[data-reference]").await.unwrap();
    let rows = "return document.querySelectorAll('#queue-body tr[data-reference]').length";
    let deadline = tokio::time::Instant::now() + sprechstunde_tests::DEADLINE;
    let mut pages = 1;
    loop {
        let shown = client.execute(rows, vec![]).await.unwrap();
        if shown == total {
            break;
        }
        let more = client.find(Locator::Css("#queue-more")).await.unwrap();
        if shown == 200 && more.is_displayed().await.unwrap() {
            assert_accessible(&browser, "queue with 'load more'").await;
            more.click().await.unwrap();
            pages += 1;
            browser
                .wait_for_text("#queue-caption", &format!("({total})"))
                .await
                .unwrap();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{shown} of {total} questions shown"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // Assert: every question is in the queue once; requests asked for pages of 200.
    let references = client
        .execute(
            "return [...document.querySelectorAll('#queue-body tr[data-reference]')]\
             .map((tr) => tr.dataset.reference)",
            vec![],
        )
        .await
        .unwrap();
    let references: std::collections::BTreeSet<String> =
        serde_json::from_value(references).unwrap();
    assert_eq!(references.len(), total);
    let urls: Vec<String> = serde_json::from_value(
        client
            .execute("return window.__queueUrls", vec![])
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(
        urls.first()
            .is_some_and(|u| u.contains("limit=200") && u.contains("offset=0")),
        "{urls:?}"
    );
    if pages == 2 {
        assert!(
            urls.iter()
                .any(|u| u.contains("limit=200") && u.contains("offset=200")),
            "{urls:?}"
        );
    } else {
        assert!(
            !client
                .find(Locator::Css("#queue-more"))
                .await
                .unwrap()
                .is_displayed()
                .await
                .unwrap()
        );
    }
    println!("queue paging: {total} questions shown in {pages} page(s) of at most 200");
    browser.close().await.unwrap();
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_console_marks_as_overdue_what_the_server_says_is_overdue() {
    use sprechstunde_runtime::ManualClock;
    use sprechstunde_tests::app::test_settings;
    use std::sync::Arc;

    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    // Arrange: the office's clock is months ahead of the browser's, so only the server can
    // know that the first question's due date has passed and the second's has not.
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new("2027-03-01T09:00:00Z".parse().unwrap()));
    let app = TestApp::start_with(test_settings(dir.path()), clock.clone())
        .await
        .unwrap();
    sprechstunde_tests::staff::create_member(&app, "erika", &["citizens_office"])
        .await
        .unwrap();
    let mut first = app.citizen().await.unwrap();
    first
        .ask("Wann wird der Spielplatz repariert?")
        .await
        .unwrap();
    clock.set("2027-04-14T09:00:00Z".parse().unwrap());
    let mut second = app.citizen().await.unwrap();
    second.ask("Wo gibt es Gelbe Säcke?").await.unwrap();
    clock.set("2027-04-15T09:00:00Z".parse().unwrap());

    // Act
    let client = browser.client();
    browser
        .log_in_staff(&app.base, "erika", sprechstunde_tests::staff::PASSWORD)
        .await
        .unwrap();

    // Assert: the queue and the question mark A-1001 overdue, A-1002 not.
    browser
        .wait_for_text("#queue-caption", "davon 1 überfällig")
        .await
        .unwrap();
    browser
        .wait_for("#queue tr.overdue[data-reference='A-1001'] .overdue-marker")
        .await
        .unwrap();
    let second_overdue = client
        .execute(
            "return document.querySelector(\"#queue tr[data-reference='A-1002']\")\
             .classList.contains('overdue')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(second_overdue, false);
    assert_accessible(&browser, "queue with an overdue question").await;
    client
        .goto(&format!("{}/staff#/questions/A-1001", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("#question-meta", "überfällig")
        .await
        .unwrap();

    first.close().await;
    second.close().await;
    browser.close().await.unwrap();
    app.stop().await.unwrap();
}
