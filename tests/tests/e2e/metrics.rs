//! `/metrics` read as Prometheus reads it (a Prometheus text parser, `prometheus-parse`): the
//! figures move with the work done, labels name no reference and no text, the bearer token is
//! required; `/readyz` apart from `/healthz`.

use std::collections::BTreeSet;

use prometheus_parse::{Scrape, Value};
use reqwest::{Client, StatusCode};
use serde_json::json;
use sprechstunde_runtime::SystemClock;
use sprechstunde_tests::app::{TestApp, test_settings};
use sprechstunde_tests::staff::create_member;

const TOKEN: &str = "scrape-token-0123456789abcdef";

async fn start(dir: &std::path::Path, token: Option<&str>) -> TestApp {
    let mut settings = test_settings(dir);
    settings.metrics.token = token.map(str::to_owned);
    TestApp::start_with(settings, std::sync::Arc::new(SystemClock))
        .await
        .unwrap()
}

/// `GET /metrics` with this `Authorization` value (none: no header).
async fn get_metrics(app: &TestApp, authorization: Option<&str>) -> (StatusCode, String) {
    let mut request = Client::new().get(format!("{}/metrics", app.base));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

/// A scrape with the right token, parsed.
async fn scrape(app: &TestApp) -> Scrape {
    let (status, body) = get_metrics(app, Some(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

/// The value of the sample `name` whose labels include `labels`; 0 when there is none
/// (`None` when the metric is missing altogether).
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut found = None;
    for sample in scrape.samples.iter().filter(|s| s.metric == name) {
        let matches = labels.iter().all(|(k, v)| sample.labels.get(k) == Some(*v));
        let v = match sample.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            _ => continue,
        };
        let sum = found.get_or_insert(0.0);
        if matches {
            *sum += v;
        }
    }
    found
}

fn must(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    value(scrape, name, labels).unwrap_or_else(|| panic!("{name} missing from the scrape"))
}

/// Scrapes until `done` holds for the value, or fails at the deadline.
async fn wait_for(app: &TestApp, name: &str, labels: &[(&str, &str)], done: impl Fn(f64) -> bool) {
    let deadline = tokio::time::Instant::now() + sprechstunde_tests::DEADLINE;
    loop {
        let v = must(&scrape(app).await, name, labels);
        if done(v) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name}{labels:?} still {v}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn metrics_move_with_the_work_done_and_name_no_reference_or_text() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path(), Some(TOKEN)).await;
    create_member(&app, "br", &["citizens_office"])
        .await
        .unwrap();
    let before = scrape(&app).await;
    let web = [("channel", "web")];
    let office = [("queue", "citizens_office")];

    // Act: a web-chat question, a refused login.
    let mut citizen = app.citizen().await.unwrap();
    let text = "Die Straßenlaterne in der Kastanienallee flackert seit Wochen";
    let (accepted, _ack) = citizen.ask(text).await.unwrap();
    let reference = accepted["reference"].as_str().unwrap().to_owned();
    let refused = Client::new()
        .post(format!("{}/api/v1/login", app.base))
        .json(&json!({"login": "br", "password": "falsch-falsch-falsch"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    // Assert: the counters and gauges moved by what was done.
    let after = scrape(&app).await;
    let taken = "sprechstunde_questions_taken_in_total";
    assert_eq!(must(&before, taken, &web), 0.0);
    assert_eq!(must(&after, taken, &web), 1.0);
    assert_eq!(must(&after, taken, &[("channel", "telegram")]), 0.0);
    let open = "sprechstunde_open_questions";
    assert_eq!(must(&before, open, &office), 0.0);
    assert_eq!(must(&after, open, &office), 1.0);
    let failures = "sprechstunde_login_failures_total";
    assert_eq!(must(&before, failures, &[]), 0.0);
    assert_eq!(must(&after, failures, &[]), 1.0);
    let acks = "sprechstunde_acknowledgement_seconds_count";
    assert!(must(&after, acks, &web) >= 1.0, "acknowledgement observed");
    assert!(must(&after, "sprechstunde_store_flush_seconds_count", &[]) >= 1.0);
    for gauge in [
        "sprechstunde_overdue_questions",
        "sprechstunde_outbox_failed",
        "sprechstunde_sessions",
    ] {
        assert!(value(&after, gauge, &[]).is_some(), "{gauge}");
    }
    // The acknowledgement went out through the outbox: a web delivery, nothing pending.
    wait_for(&app, "sprechstunde_deliveries_total", &web, |v| v >= 1.0).await;
    wait_for(&app, "sprechstunde_outbox_pending", &web, |v| v == 0.0).await;

    // Labels: only the known names, and no value that is a reference or from the text.
    let keys: BTreeSet<&str> = after
        .samples
        .iter()
        .flat_map(|s| s.labels.keys().map(String::as_str))
        .collect();
    let allowed = ["channel", "queue", "department", "state", "le"];
    assert!(keys.iter().all(|k| allowed.contains(k)), "{keys:?}");
    for sample in &after.samples {
        for label in sample.labels.values() {
            assert!(!label.contains(&reference), "{}: {label}", sample.metric);
            assert!(!label.contains("A-"), "{}: {label}", sample.metric);
            for word in text.split_whitespace().filter(|w| w.len() > 3) {
                assert!(!label.contains(word), "{}: {label}", sample.metric);
            }
        }
    }
    citizen.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn metrics_need_the_bearer_token_and_are_off_without_one() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path(), Some(TOKEN)).await;
    let off_dir = tempfile::tempdir().unwrap();
    let off = start(off_dir.path(), None).await;

    // Act and assert: missing, wrong, not bearer → 401; the token → 200; no token set → 404.
    for authorization in [
        None,
        Some("Bearer scrape-token-0123456789abcdeX".to_owned()),
        Some(format!("Bearer {TOKEN}x")),
        Some(format!("Basic {TOKEN}")),
        Some(TOKEN.to_owned()),
    ] {
        let (status, body) = get_metrics(&app, authorization.as_deref()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{authorization:?}");
        assert!(!body.contains("sprechstunde_"), "{authorization:?}: {body}");
    }
    let (status, body) = get_metrics(&app, Some(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.trim_end().ends_with("# EOF"), "{body}");
    let (status, _) = get_metrics(&off, Some(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await.unwrap();
    off.stop().await.unwrap();
}

#[tokio::test]
async fn readyz_answers_200_while_ready_and_503_when_not_and_healthz_stays_apart() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let settings = test_settings(dir.path());
    let app = sprechstunde::Application::build(&settings).await.unwrap();
    let readiness = app.readiness().clone();
    let base = format!("http://{}", app.local_addr().unwrap());
    let stop = app.shutdown_token();
    let running = tokio::spawn(app.run());
    let status = |path: &'static str| {
        let base = base.clone();
        async move {
            reqwest::get(format!("{base}{path}"))
                .await
                .unwrap()
                .status()
        }
    };

    // Act and assert: ready once built (store open, channels started).
    assert_eq!(status("/readyz").await, StatusCode::OK);
    assert_eq!(status("/healthz").await, StatusCode::OK);
    // A standby (or a server stopping) is alive but not ready.
    readiness.set_ready(false);
    assert_eq!(status("/readyz").await, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(status("/healthz").await, StatusCode::OK);
    readiness.set_ready(true);
    assert_eq!(status("/readyz").await, StatusCode::OK);
    stop.cancel();
    running.await.unwrap().unwrap();
    assert!(!readiness.is_ready(), "not ready after shutdown");
}
