//! Console logins end when they should: at logout (with the live event stream), everywhere
//! at the member's or an admin's request; API tokens stay valid and show their last use.

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use sprechstunde_tests::app::TestApp;
use sprechstunde_tests::staff::{PASSWORD, StaffClient, create_member};

/// Waits until the event stream `events` ends (the server closed it); fails at the deadline.
async fn ends(mut events: reqwest::Response) -> bool {
    let deadline = tokio::time::Instant::now() + sprechstunde_tests::DEADLINE;
    loop {
        match tokio::time::timeout_at(deadline, events.chunk()).await {
            Err(_) => return false,
            Ok(Ok(Some(_))) => {}
            Ok(Ok(None) | Err(_)) => return true,
        }
    }
}

async fn open_events(staff: &StaffClient, base: &str) -> reqwest::Response {
    let events = staff
        .http()
        .get(format!("{base}/api/v1/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    events
}

async fn me(staff: &StaffClient) -> StatusCode {
    staff
        .request(Method::GET, "/api/v1/me", None)
        .await
        .unwrap()
        .0
}

/// A token for `staff` (id), stored directly; returns the bearer value.
async fn token_for(app: &TestApp, staff: sprechstunde_core::StaffId) -> (String, String) {
    let (id, secret) = sprechstunde_console::accounts::new_token().unwrap();
    app.office()
        .store()
        .put_token(&sprechstunde_core::ApiToken {
            id: id.clone(),
            name: "Ratsinformationssystem".into(),
            staff,
            secret_hash: sprechstunde_console::accounts::sha256_hex(&secret),
            created_at: jiff::Timestamp::now(),
            revoked_at: None,
        })
        .await
        .unwrap();
    let bearer = sprechstunde_console::accounts::format_token(&id, &secret);
    (id, bearer)
}

#[tokio::test]
async fn logout_ends_the_live_event_stream_of_that_login() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let staff = app.staff("br", &["citizens_office"]).await.unwrap();
    let events = open_events(&staff, &app.base).await;

    // Act
    let (status, _) = staff
        .request(Method::POST, "/api/v1/logout", None)
        .await
        .unwrap();

    // Assert
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(ends(events).await, "the stream ends with the login");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn logging_out_everywhere_ends_the_members_other_logins_but_not_this_one_or_tokens() {
    // Arrange: one member, two browsers and a token; the second browser watches events.
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let id = create_member(&app, "erika", &["citizens_office"])
        .await
        .unwrap();
    let here = StaffClient::login(&app.base, "erika", PASSWORD)
        .await
        .unwrap();
    let elsewhere = StaffClient::login(&app.base, "erika", PASSWORD)
        .await
        .unwrap();
    let other = app.staff("max", &["citizens_office"]).await.unwrap();
    let events = open_events(&elsewhere, &app.base).await;
    let (_, bearer) = token_for(&app, id).await;

    // Act
    let ended = here
        .post("/api/v1/logout/everywhere", json!({}))
        .await
        .unwrap();

    // Assert
    assert_eq!(ended["ended"], 1, "{ended}");
    assert_eq!(me(&here).await, StatusCode::OK, "this login stays");
    assert_eq!(me(&elsewhere).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&other).await, StatusCode::OK, "nobody else's");
    assert!(ends(events).await, "the other login's stream ends");
    let with_token = Client::new()
        .get(format!("{}/api/v1/me", app.base))
        .header("authorization", format!("Bearer {bearer}"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(with_token, StatusCode::OK, "tokens stay valid");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_admin_ends_every_login_of_a_member_and_sees_the_tokens_last_use() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let admin = app.staff("admin", &["admin"]).await.unwrap();
    let id = create_member(&app, "erika", &["citizens_office"])
        .await
        .unwrap();
    let first = StaffClient::login(&app.base, "erika", PASSWORD)
        .await
        .unwrap();
    let second = StaffClient::login(&app.base, "erika", PASSWORD)
        .await
        .unwrap();
    let (token_id, bearer) = token_for(&app, id).await;
    let (_, unused_bearer) = token_for(&app, id).await;
    drop(unused_bearer);
    let used = Client::new()
        .get(format!("{}/api/v1/questions", app.base))
        .header("authorization", format!("Bearer {bearer}"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(used, StatusCode::OK);

    // Act
    let ended = admin
        .post(&format!("/api/v1/staff/{}/logout", id.0), json!({}))
        .await
        .unwrap();
    let (not_admin, _) = first
        .request(
            Method::POST,
            &format!("/api/v1/staff/{}/logout", id.0),
            None,
        )
        .await
        .unwrap();
    let tokens = admin.get("/api/v1/tokens").await.unwrap();

    // Assert
    assert_eq!(ended["ended"], 2, "{ended}");
    assert_eq!(not_admin, StatusCode::UNAUTHORIZED, "already logged out");
    assert_eq!(me(&first).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&second).await, StatusCode::UNAUTHORIZED);
    let listed = tokens["tokens"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{tokens}");
    let last_used = |t: &Value| t["last_used_at"].clone();
    for t in listed {
        assert!(t.get("secret_hash").is_none(), "{t}");
        if t["id"] == token_id.as_str() {
            assert!(last_used(t).is_string(), "{t}");
        } else {
            assert_eq!(last_used(t), Value::Null, "{t}");
        }
    }
    app.stop().await.unwrap();
}
