//! The citizen page as a citizen sees it, at 1280 px and at phone width: what the first load
//! shows, the privacy notice, button bubbles, quick actions, message times and a language
//! switch in the middle of a conversation. axe-core runs on every view.

use fantoccini::Client;
use serde_json::Value;
use sprechstunde_tests::app::TestApp;
use sprechstunde_tests::browser::{Browser, describe};

const WIDTHS: [(u32, u32); 2] = [(1280, 900), (390, 844)];

async fn assert_accessible(browser: &Browser, view: &str) {
    let violations = browser.axe().await.unwrap();
    assert!(violations.is_empty(), "{view}: {}", describe(&violations));
}

/// Runs `script` (which returns a JSON value) in the page.
async fn js(client: &Client, script: &str) -> Value {
    client.execute(script, vec![]).await.unwrap()
}

/// The texts of the bubbles, in the order shown.
async fn bubbles(client: &Client) -> Vec<String> {
    let v = js(
        client,
        "return Array.from(document.querySelectorAll('#log .msg .msg-text')).map(e => e.textContent);",
    )
    .await;
    serde_json::from_value(v).unwrap()
}

/// The labels of the quick action buttons the citizen can see.
async fn visible_quick_actions(client: &Client) -> Vec<String> {
    let v = js(
        client,
        "return Array.from(document.querySelectorAll('.quick-list button'))\
           .filter(b => b.offsetParent !== null).map(b => b.innerText.trim());",
    )
    .await;
    serde_json::from_value(v).unwrap()
}

/// Each shown message time with the instant it stands for: (`datetime`, text).
async fn message_times(client: &Client) -> Vec<(String, String)> {
    let v = js(
        client,
        "return Array.from(document.querySelectorAll('#log time.msg-time'))\
           .map(t => [t.dateTime, t.textContent]);",
    )
    .await;
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn the_citizen_page_shows_labels_not_commands_keeps_order_and_office_times_at_both_widths() {
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    let client = browser.client();
    for (width, height) in WIDTHS {
        // Arrange: a fresh office (a new origin, so a new conversation) per width.
        let dir = tempfile::tempdir().unwrap();
        let app = TestApp::start(dir.path()).await.unwrap();
        client.set_window_size(width, height).await.unwrap();
        let view = |what: &str| format!("{width} px: {what}");
        client.goto(&format!("{}/", app.base)).await.unwrap();
        browser
            .wait_for("#connection[data-state='connected']")
            .await
            .unwrap();
        browser
            .wait_for_text("#consent-text", "Einverständnis")
            .await
            .unwrap();

        // Assert: the first load, before anything is written.
        let log_height = js(
            client,
            "return document.getElementById('log').offsetHeight;",
        )
        .await;
        assert_eq!(log_height, 0, "{}", view("no empty log box on first load"));
        let notice = js(
            client,
            "return document.getElementById('consent-text').innerText;",
        )
        .await;
        let notice = notice.as_str().unwrap_or_default().to_owned();
        for unwanted in [
            "Datenschutzhinweis",
            "/einverstanden",
            "Kennung im Messenger",
            "/",
        ] {
            assert!(
                !notice.contains(unwanted),
                "{}: {unwanted:?} in {notice}",
                view("notice")
            );
        }
        browser
            .wait_for_text("#consent-heading", "Datenschutzhinweis")
            .await
            .unwrap();
        let quick = visible_quick_actions(client).await;
        assert!(
            quick.iter().all(|q| !q.contains('/')),
            "{}: {quick:?}",
            view("quick actions")
        );
        assert!(
            quick.contains(&"Ankündigungen abonnieren".to_owned()),
            "{quick:?}"
        );
        assert!(
            !quick.contains(&"Ankündigungen abbestellen".to_owned()),
            "{quick:?}"
        );
        assert_accessible(&browser, &view("first load")).await;

        // Act: a question and a subscription before agreeing, then the agree button.
        browser
            .type_into("#message", "Wo kann ich parken?")
            .await
            .unwrap();
        browser.click("#send").await.unwrap();
        browser
            .wait_for_text("#log .msg.citizen", "noch nicht gespeichert")
            .await
            .unwrap();
        browser.click("#quick-subscribe").await.unwrap();
        browser.click("#consent-agree").await.unwrap();
        browser.wait_for_text("#log", "A-1001").await.unwrap();
        browser
            .wait_for_text("#log", "Sie erhalten jetzt Ankündigungen")
            .await
            .unwrap();
        browser.wait_for("#quick-unsubscribe").await.unwrap();
        browser.click("#quick-status").await.unwrap();
        browser
            .wait_for_text("#log", "A-1001: offen")
            .await
            .unwrap();
        browser.click("#quick-mydata").await.unwrap();
        browser
            .wait_for_text("#log", "Ankündigungen der Sprechstunden: abonniert")
            .await
            .unwrap();

        // Assert: bubbles show what the citizen pressed, the subscription is carried out and
        // the quick actions now offer to unsubscribe.
        let shown = bubbles(client).await;
        for label in [
            "Ankündigungen abonnieren",
            "Einverstanden",
            "Stand meines Anliegens",
            "Meine Daten anzeigen",
        ] {
            assert!(
                shown.iter().any(|b| b == label),
                "{}: {label:?} in {shown:#?}",
                view("bubbles")
            );
        }
        assert!(
            shown.iter().all(|b| !b.starts_with('/')),
            "{}: {shown:#?}",
            view("bubbles")
        );
        let quick = visible_quick_actions(client).await;
        assert!(
            quick.contains(&"Ankündigungen abbestellen".to_owned()),
            "{quick:?}"
        );
        assert!(
            !quick.contains(&"Ankündigungen abonnieren".to_owned()),
            "{quick:?}"
        );
        // Times in the office's zone (Berlin), like the texts; the machine may run on UTC.
        let times = message_times(client).await;
        assert!(!times.is_empty());
        for (instant, text) in &times {
            let at: jiff::Timestamp = instant.parse().unwrap();
            let berlin = at
                .in_tz("Europe/Berlin")
                .unwrap()
                .strftime("%H:%M")
                .to_string();
            assert!(
                text.contains(&berlin),
                "{}: {instant} shown as {text:?}, not {berlin}",
                view("times")
            );
        }
        assert_accessible(&browser, &view("conversation")).await;

        // Act: switch to English in the middle of the conversation.
        browser.click("#lang-switch").await.unwrap();
        browser.wait_for_text("#greeting", "Welcome").await.unwrap();

        // Assert: the same conversation in the same order.
        let after = bubbles(client).await;
        assert_eq!(after, shown, "{}", view("order after the language switch"));
        assert_accessible(&browser, &view("conversation in English")).await;
        app.stop().await.unwrap();
    }
    browser.close().await.unwrap();
}
