//! The login cookie, CSRF and origin checks, login throttling and body limits over HTTP.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sprechstunde_runtime::{ManualClock, SystemClock};
use sprechstunde_tests::app::{TestApp, test_settings};
use sprechstunde_tests::staff::{PASSWORD, create_member};

use super::json_of;

#[tokio::test]
async fn the_login_cookie_is_host_prefixed_secure_http_only_and_strict() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    create_member(&app, "erika", &["citizens_office"])
        .await
        .unwrap();
    let client = Client::new();

    // Act
    let login = client
        .post(format!("{}/api/v1/login", app.base))
        .json(&json!({"login": "erika", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    // The login sets the device cookie too; this test is about the login cookie.
    let set_cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-sprechstunde_staff="))
        .unwrap_or_default()
        .to_owned();
    let csrf = json_of(login).await["csrf"].as_str().unwrap().to_owned();
    let secret = set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .unwrap();
    let logout = client
        .post(format!("{}/api/v1/logout", app.base))
        .header("cookie", format!("__Host-sprechstunde_staff={secret}"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();

    // Assert
    assert!(
        set_cookie.starts_with("__Host-sprechstunde_staff="),
        "{set_cookie}"
    );
    let attributes: Vec<&str> = set_cookie.split(';').map(str::trim).skip(1).collect();
    for wanted in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attributes.contains(&wanted), "{wanted} in {set_cookie}");
    }
    assert!(
        !set_cookie.to_ascii_lowercase().contains("domain="),
        "{set_cookie}"
    );
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let removal = logout.headers()["set-cookie"].to_str().unwrap();
    assert!(
        removal.starts_with("__Host-sprechstunde_staff=") && removal.contains("Secure"),
        "a __Host- cookie is only removed by a Secure Set-Cookie: {removal}"
    );
    app.stop().await.unwrap();
}

/// (name, `Origin`, `Sec-Fetch-Site`, `X-CSRF-Token`, expected status).
type Case<'a> = (
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    StatusCode,
);

#[tokio::test]
async fn state_changing_requests_need_the_csrf_token_and_a_same_origin_unless_bearer() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let staff = app.staff("erika", &["citizens_office"]).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Wo parke ich am Rathaus?").await.unwrap();
    let note = format!("{}/api/v1/questions/A-1001/notes", app.base);
    let body = json!({"text": "interne Notiz"});
    let post = |origin: Option<&str>, site: Option<&str>, token: Option<&str>| {
        let mut request = staff.http().post(&note).json(&body);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        if let Some(token) = token {
            request = request.header("x-csrf-token", token);
        }
        request.send()
    };
    let csrf = staff.csrf().to_owned();
    let own = app.base.clone();

    // Act / Assert: (origin, sec-fetch-site, token) → status.
    let cases: [Case<'_>; 7] = [
        ("no token", None, None, None, StatusCode::FORBIDDEN),
        (
            "wrong token",
            None,
            None,
            Some("forged"),
            StatusCode::FORBIDDEN,
        ),
        (
            "foreign origin",
            Some("https://evil.example"),
            None,
            Some(&csrf),
            StatusCode::FORBIDDEN,
        ),
        (
            "opaque origin",
            Some("null"),
            None,
            Some(&csrf),
            StatusCode::FORBIDDEN,
        ),
        (
            "cross-site fetch",
            None,
            Some("cross-site"),
            Some(&csrf),
            StatusCode::FORBIDDEN,
        ),
        (
            "same-site fetch",
            None,
            Some("same-site"),
            Some(&csrf),
            StatusCode::FORBIDDEN,
        ),
        (
            "own page",
            Some(&own),
            Some("same-origin"),
            Some(&csrf),
            StatusCode::OK,
        ),
    ];
    for (name, origin, site, token, expected) in cases {
        let response = post(origin, site, token).await.unwrap();
        assert_eq!(response.status(), expected, "{name}");
    }
    let notes = app
        .office()
        .read(|state, _, _| {
            state
                .questions()
                .flat_map(|q| q.entries.iter())
                .filter(|e| e.text == "interne Notiz")
                .count()
        })
        .await;
    assert_eq!(notes, 1, "only the request from the own page was taken");

    // The login and the logout are covered too.
    let anonymous = Client::new();
    let login = |origin: &'static str| {
        anonymous
            .post(format!("{}/api/v1/login", app.base))
            .header("origin", origin)
            .json(&json!({"login": "erika", "password": PASSWORD}))
            .send()
    };
    assert_eq!(
        login("https://evil.example").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let form = anonymous
        .post(format!("{}/api/v1/login", app.base))
        .form(&[("login", "erika"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let logout = staff
        .http()
        .post(format!("{}/api/v1/logout", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::FORBIDDEN);

    // A bearer token needs neither (no ambient browser credentials).
    let member = create_member(&app, "system", &["citizens_office"])
        .await
        .unwrap();
    let (id, secret) = sprechstunde_console::accounts::new_token().unwrap();
    app.office()
        .store()
        .put_token(&sprechstunde_core::ApiToken {
            id: id.clone(),
            name: "Fachverfahren".into(),
            staff: member,
            secret_hash: sprechstunde_console::accounts::sha256_hex(&secret),
            created_at: Timestamp::now(),
            revoked_at: None,
        })
        .await
        .unwrap();
    let bearer = anonymous
        .post(&note)
        .bearer_auth(sprechstunde_console::accounts::format_token(&id, &secret))
        .json(&json!({"text": "vom Fachverfahren"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
    app.stop().await.unwrap();
}

/// A login attempt from `address` (via the trusted proxy header).
async fn attempt(app: &TestApp, address: &str, login: &str, password: &str) -> (StatusCode, Value) {
    let response = Client::new()
        .post(format!("{}/api/v1/login", app.base))
        .header("x-forwarded-for", format!("192.0.2.1, {address}"))
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry > 0 && retry <= 15 * 60, "Retry-After {retry}");
    }
    (status, json_of(response).await)
}

#[tokio::test]
async fn logins_are_locked_per_name_and_address_without_revealing_which_names_exist() {
    // Arrange: 3 failures per name and source, 5 per address, 15 minutes; addresses from a
    // proxy header.
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.limits.login_failures_per_name = 3;
    settings.limits.login_failures_per_address = 5;
    settings.limits.client_address_header = "x-forwarded-for".into();
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let app = TestApp::start_with(settings, clock.clone()).await.unwrap();
    create_member(&app, "erika", &["citizens_office"])
        .await
        .unwrap();

    // Act / Assert: a known and an unknown name behave the same, answer for answer.
    let mut attempts = 0;
    for (n, name) in ["erika", "niemand"].into_iter().enumerate() {
        let address = format!("10.0.{n}.1");
        let mut answers = Vec::new();
        for _ in 0..3 {
            answers.push(attempt(&app, &address, name, "falsch-falsch-falsch").await);
        }
        answers.push(attempt(&app, &address, name, PASSWORD).await);
        attempts += answers.len();
        let statuses: Vec<StatusCode> = answers.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            statuses,
            [
                StatusCode::UNAUTHORIZED,
                StatusCode::UNAUTHORIZED,
                StatusCode::UNAUTHORIZED,
                StatusCode::TOO_MANY_REQUESTS
            ],
            "{name}: even the right password is refused from there while locked"
        );
        let locked = &answers[3].1;
        assert_eq!(locked["error"], "too_many_requests");
        assert_eq!(
            locked["message"],
            "Zu viele fehlgeschlagene Anmeldeversuche. Bitte versuchen Sie es in 15 Minute(n) \
             erneut.",
            "{name}"
        );
        assert_eq!(
            answers[0].1,
            json!({"error": "unauthorized", "message": "login required"})
        );
    }

    // After the lockout the right password works again from there.
    clock.advance(SignedDuration::from_mins(15) + SignedDuration::from_secs(1));
    assert_eq!(
        attempt(&app, "10.0.0.1", "erika", PASSWORD).await.0,
        StatusCode::OK
    );

    // One address guessing many names is locked for every name, other addresses are not.
    for i in 0..5 {
        let (status, _) = attempt(&app, "10.9.9.9", &format!("rate{i}"), "falsch").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let from_attacker = attempt(&app, "10.9.9.9", "erika", PASSWORD).await.0;
    let from_elsewhere = attempt(&app, "10.9.9.10", "erika", PASSWORD).await.0;
    attempts += 7;
    assert_eq!(from_attacker, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(from_elsewhere, StatusCode::OK);
    println!("login throttling: {attempts} login attempts, lockouts per name and per address");
    app.stop().await.unwrap();
}

/// A login attempt from `address` with the cookies of `client` (its device cookie).
async fn attempt_with(
    client: &Client,
    app: &TestApp,
    address: &str,
    login: &str,
    password: &str,
) -> StatusCode {
    client
        .post(format!("{}/api/v1/login", app.base))
        .header("x-forwarded-for", address)
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn wrong_passwords_from_elsewhere_never_lock_the_member_out_and_an_admin_clears_a_lockout() {
    // Arrange: 3 failures per name and source; Erika's browser logged in once before.
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.limits.login_failures_per_name = 3;
    settings.limits.login_failures_per_address = 1000;
    settings.limits.client_address_header = "x-forwarded-for".into();
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let app = TestApp::start_with(settings, clock.clone()).await.unwrap();
    let erika = create_member(&app, "erika", &["citizens_office"])
        .await
        .unwrap();
    let admin = app.staff("admin", &["admin"]).await.unwrap();
    let browser = Client::builder().cookie_store(true).build().unwrap();
    let first = browser
        .post(format!("{}/api/v1/login", app.base))
        .header("x-forwarded-for", "10.5.0.1")
        .json(&json!({"login": "erika", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let csrf = json_of(first).await["csrf"].as_str().unwrap().to_owned();
    // Logged out again: the browser keeps only its device cookie.
    let logout = browser
        .post(format!("{}/api/v1/logout", app.base))
        .header("x-csrf-token", csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);

    // Act: an attacker guesses from one address, then from many (the name's total limit,
    // ten times the per-source one).
    let mut guesses = 0;
    for _ in 0..3 {
        attempt(&app, "10.6.0.1", "erika", "geraten").await;
        guesses += 1;
    }
    let attacker_right = attempt(&app, "10.6.0.1", "erika", PASSWORD).await.0;
    let erika_new_place = attempt(&app, "10.7.0.1", "erika", PASSWORD).await.0;
    for i in 0..30 {
        attempt(
            &app,
            &format!("10.8.{}.{}", i / 3, i % 3),
            "erika",
            "geraten",
        )
        .await;
        guesses += 1;
    }
    let new_browser = attempt(&app, "10.7.0.2", "erika", PASSWORD).await.0;
    let known_device = attempt_with(&browser, &app, "10.6.0.1", "erika", PASSWORD).await;
    let unlocked = admin
        .post(&format!("/api/v1/staff/{}/unlock", erika.0), json!({}))
        .await
        .unwrap();
    let after_unlock = attempt(&app, "10.7.0.2", "erika", PASSWORD).await.0;

    // Assert: the attacker's address is locked for the name; Erika elsewhere is not; while
    // the name is locked for everyone, her known browser still gets in; the admin's unlock
    // lets a new browser in again.
    assert_eq!(attacker_right, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(erika_new_place, StatusCode::OK);
    assert_eq!(new_browser, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(known_device, StatusCode::OK);
    assert_eq!(unlocked["was_locked"], true, "{unlocked}");
    assert_eq!(after_unlock, StatusCode::OK);
    println!("lockout without denial of service: {guesses} wrong guesses, the member got in");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn parallel_wrong_logins_get_no_more_guesses_verified_than_the_limit() {
    // Arrange: 3 failures per name; the address limit out of the way.
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.limits.login_failures_per_name = 3;
    settings.limits.login_failures_per_address = 1000;
    settings.limits.client_address_header = "x-forwarded-for".into();
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let app = Arc::new(TestApp::start_with(settings, clock.clone()).await.unwrap());
    create_member(&app, "erika", &["citizens_office"])
        .await
        .unwrap();

    // Act: 20 wrong passwords for one name at once.
    let mut parallel = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let app = app.clone();
        parallel.spawn(async move {
            // From one address: the name is locked for the source that failed.
            attempt(&app, "10.3.0.1", "erika", "falsch-falsch-falsch")
                .await
                .0
        });
    }
    let statuses = parallel.join_all().await;

    // Assert: only as many were verified (401) as the limit allows, the rest were refused
    // (429) without a verification; the name is locked, even for the right password.
    let verified = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((verified, refused), (3, 17), "{statuses:?}");
    let (status, body) = attempt(&app, "10.3.0.1", "erika", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("fehlgeschlagene Anmeldeversuche"),
        "{body}"
    );
    clock.advance(SignedDuration::from_mins(15) + SignedDuration::from_secs(1));
    assert_eq!(
        attempt(&app, "10.3.0.1", "erika", PASSWORD).await.0,
        StatusCode::OK
    );
    println!("login race: 20 parallel wrong logins, {verified} verified, {refused} refused");
    Arc::into_inner(app).unwrap().stop().await.unwrap();
}

#[tokio::test]
async fn oversized_request_bodies_get_a_clear_413_per_route() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(test_settings(dir.path()), Arc::new(SystemClock))
        .await
        .unwrap();
    let staff = app.staff("erika", &["citizens_office"]).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Eine Frage").await.unwrap();
    let anonymous = Client::new();

    // Act / Assert: (what, request, limit) → 413 JSON; just below the limit is accepted.
    let login_body = |size: usize| {
        let padding = "x".repeat(size);
        json!({"login": padding, "password": "p"})
    };
    let too_big_login = anonymous
        .post(format!("{}/api/v1/login", app.base))
        .json(&login_body(5000))
        .send()
        .await
        .unwrap();
    let fits_login = anonymous
        .post(format!("{}/api/v1/login", app.base))
        .json(&login_body(3000))
        .send()
        .await
        .unwrap();
    let note = |size: usize| {
        staff
            .http()
            .post(format!("{}/api/v1/questions/A-1001/notes", app.base))
            .header("x-csrf-token", staff.csrf())
            .json(&json!({"text": "n".repeat(size)}))
            .send()
    };
    let too_big_note = note(70 * 1024).await.unwrap();
    let fits_note = note(8 * 1024).await.unwrap();
    let elsewhere = anonymous
        .post(format!("{}/anything", app.base))
        .body(vec![b'x'; 300 * 1024])
        .send()
        .await
        .unwrap();

    assert_eq!(fits_login.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(fits_note.status(), StatusCode::OK);
    for (what, response) in [
        ("login over 4 KiB", too_big_login),
        ("note over 64 KiB", too_big_note),
        ("any route over 256 KiB", elsewhere),
    ] {
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{what}");
        let body = json_of(response).await;
        assert_eq!(body["error"], "payload_too_large", "{what}: {body}");
    }
    app.stop().await.unwrap();
}
