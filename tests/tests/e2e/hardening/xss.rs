//! The XSS payload corpus (`tests/fixtures/xss-payloads.txt`) placed in question texts through
//! the web chat renders inert and literal in the console, in headless Chromium: in the queue,
//! each question, the live moderation view and the summary editor.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sprechstunde_console::neutralise::neutralise;
use sprechstunde_runtime::ManualClock;
use sprechstunde_tests::app::{TestApp, test_settings};
use sprechstunde_tests::browser::Browser;
use sprechstunde_tests::staff::{PASSWORD, StaffClient, create_member};

/// The corpus: one payload per line, without blank lines and `# ` comments.
fn corpus() -> Vec<String> {
    include_str!("../../../fixtures/xss-payloads.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("# "))
        .map(str::to_owned)
        .collect()
}

/// Watches for CSP violations from now on (an injected inline script or handler would cause
/// one even though the CSP blocks it).
const WATCH: &str = r"
window.__violations = window.__violations || [];
if (!window.__watching) {
  window.__watching = true;
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`);
  });
}
return true;
";

/// Evidence that a payload ran or was parsed as markup.
const EVIDENCE: &str = r"
const bad = ['script','iframe','object','embed','svg','img','video','audio','math','template',
  'xss-marker','marquee','base','meta','link','style','source','noscript','frame','frameset'];
const suspicious = [...document.body.querySelectorAll('*')]
  .filter((el) => bad.includes(el.tagName.toLowerCase())
    || [...el.attributes].some((a) => a.name.toLowerCase().startsWith('on')
      || /^\s*(javascript|data):/i.test(a.value)))
  .map((el) => el.outerHTML.slice(0, 120));
return {
  fired: window.__xss === undefined ? null : String(window.__xss),
  title: document.title,
  suspicious,
  violations: window.__violations || [],
};
";

/// Texts of the thread's entries.
const THREAD_TEXTS: &str = r"
return [...document.querySelectorAll('#thread .entry-text')].map((p) => p.textContent);
";

/// Question texts of the live moderation view.
const LIVE_TEXTS: &str = r"
return [...document.querySelectorAll('#live-questions .live-card-text')].map((p) => p.textContent);
";

/// Question fields of the summary editor.
const SUMMARY_TEXTS: &str = r"
return [...document.querySelectorAll('#summary-items .summary-question')].map((t) => t.value);
";

/// Polls `script` (a list of strings) until every payload is among them, raw or as the
/// console neutralises it; returns how many were found.
async fn wait_for_all(browser: &Browser, script: &str, payloads: &[String], view: &str) -> usize {
    let deadline = tokio::time::Instant::now() + sprechstunde_tests::DEADLINE;
    loop {
        let texts: Vec<String> =
            serde_json::from_value(browser.client().execute(script, vec![]).await.unwrap())
                .unwrap_or_default();
        let missing: Vec<&String> = payloads
            .iter()
            .filter(|p| {
                !texts
                    .iter()
                    .any(|t| t == *p || *t == neutralise(p).into_owned())
            })
            .collect();
        if missing.is_empty() {
            return payloads.len();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{view}: {} payloads not shown literally, e.g. {:?}; shown: {}",
            missing.len(),
            missing.first(),
            texts.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Preview cells of the queue.
const PREVIEWS: &str = r"
return [...document.querySelectorAll('#queue-body tr')].map((tr) => tr.textContent);
";

async fn assert_inert(browser: &Browser, after: &str) {
    let evidence = browser
        .client()
        .execute(EVIDENCE, vec![])
        .await
        .unwrap_or_else(|e| {
            panic!("after {after}: the page is not scriptable (an alert open?): {e}")
        });
    assert_eq!(evidence["fired"], Value::Null, "after {after}: {evidence}");
    assert!(
        !evidence["title"]
            .as_str()
            .unwrap_or_default()
            .contains("XSS"),
        "after {after}: {evidence}"
    );
    assert_eq!(
        evidence["suspicious"],
        json!([]),
        "after {after}: {evidence}"
    );
    assert_eq!(
        evidence["violations"],
        json!([]),
        "after {after}: {evidence}"
    );
}

#[tokio::test]
async fn the_xss_corpus_in_question_texts_renders_inert_and_literal_in_the_console() {
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    // Arrange: every payload is the question of its own web chat citizen, asked in a
    // running session (the clock is the test's, so that the session can close later).
    let payloads = corpus();
    assert!(payloads.len() >= 50, "{} payloads", payloads.len());
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new("2026-12-01T16:10:00Z".parse().unwrap()));
    let app = TestApp::start_with(test_settings(dir.path()), clock.clone())
        .await
        .unwrap();
    create_member(&app, "erika", &["citizens_office", "press_office"])
        .await
        .unwrap();
    let staff = StaffClient::login(&app.base, "erika", PASSWORD)
        .await
        .unwrap();
    let session = staff
        .post(
            "/api/v1/sessions",
            json!({"title": "Bürgersprechstunde", "host": "Oberbürgermeisterin",
                   "starts_at": "2026-12-01T16:00:00Z", "ends_at": "2026-12-01T17:00:00Z"}),
        )
        .await
        .unwrap();
    assert_eq!(session["status"], "live", "{session}");
    let session = session["id"].as_u64().unwrap();
    let mut references = Vec::new();
    for payload in &payloads {
        let mut citizen = app.citizen().await.unwrap();
        let (accepted, _) = citizen
            .ask(payload)
            .await
            .unwrap_or_else(|e| panic!("{payload:?}: {e}"));
        references.push(accepted["reference"].as_str().unwrap().to_owned());
        citizen.close().await;
    }
    let client = browser.client();
    client.goto(&format!("{}/staff", app.base)).await.unwrap();
    client.execute(WATCH, vec![]).await.unwrap();
    browser.submit_staff_login("erika", PASSWORD).await.unwrap();
    let last = references.last().unwrap();
    browser
        .wait_for(&format!("#queue tr[data-reference='{last}']"))
        .await
        .unwrap();

    // Act / Assert: the queue shows every payload as text and nothing ran.
    assert_inert(&browser, "the queue").await;
    let previews: Vec<String> =
        serde_json::from_value(client.execute(PREVIEWS, vec![]).await.unwrap()).unwrap();
    for payload in &payloads {
        let shown: String = neutralise(payload).chars().take(40).collect();
        assert!(
            previews.iter().any(|p| p.contains(&shown)),
            "queue preview of {payload:?}"
        );
    }

    // … and so does each question.
    let mut literal = 0;
    for (payload, reference) in payloads.iter().zip(&references) {
        client
            .goto(&format!("{}/staff#/questions/{reference}", app.base))
            .await
            .unwrap();
        let expected = neutralise(payload).into_owned();
        let deadline = tokio::time::Instant::now() + sprechstunde_tests::DEADLINE;
        loop {
            let texts: Vec<String> =
                serde_json::from_value(client.execute(THREAD_TEXTS, vec![]).await.unwrap())
                    .unwrap_or_default();
            if texts.contains(&expected) {
                literal += 1;
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{reference}: {expected:?} not shown literally; thread: {texts:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_inert(&browser, &format!("question {reference} ({payload:?})")).await;
    }

    // … and so does the live moderation view (list and answer form) …
    client
        .goto(&format!("{}/staff#/sessions/{session}/live", app.base))
        .await
        .unwrap();
    let live = wait_for_all(&browser, LIVE_TEXTS, &payloads, "live view").await;
    assert_inert(&browser, "the live view").await;

    // … and the summary editor, once every question is answered and the session closed.
    for reference in &references {
        staff
            .answer(reference, &format!("Antwort auf {reference}"))
            .await
            .unwrap();
    }
    clock.set("2026-12-01T17:05:00Z".parse().unwrap());
    app.office().tick().await.unwrap();
    client
        .goto(&format!("{}/staff#/sessions/{session}/summary", app.base))
        .await
        .unwrap();
    let summary = wait_for_all(&browser, SUMMARY_TEXTS, &payloads, "summary editor").await;
    assert_inert(&browser, "the summary editor").await;

    let bidi = payloads.iter().filter(|p| neutralise(p) != **p).count();
    let views = 1 + references.len() + 2;
    println!(
        "xss corpus: {} payloads placed through the web chat into a live session; {views} views \
         rendered in Chromium (queue, {} question views, live view, summary editor): \
         {} payloads x 4 kinds of view = {} placements checked; shown literally: {literal} in \
         question views, {live} in the live view, {summary} in the summary editor ({bidi} with \
         bidi/invisible characters shown as [U+XXXX] where the view neutralises); 0 executed, \
         0 CSP violations",
        payloads.len(),
        references.len(),
        payloads.len(),
        payloads.len() * 4
    );
    browser.close().await.unwrap();
    app.stop().await.unwrap();
}
