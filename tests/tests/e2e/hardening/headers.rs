//! Every route of the server answers with the security headers, whatever the status.

use reqwest::{Client, Method, StatusCode};
use serde_json::json;
use sprechstunde_botapi_emulator::Emulator;
use sprechstunde_runtime::SystemClock;
use sprechstunde_tests::app::{TestApp, test_settings};
use sprechstunde_tests::telegram::webhook_settings;

use super::assert_hardened;

/// Routes outside the API table of `docs/api.md` (the web chat's and the console's assets come
/// from their tables).
const PAGES: [(&str, &str); 9] = [
    ("GET", "/"),
    ("GET", "/assets/no-such-module.js"),
    ("GET", "/ws"),
    ("GET", "/staff"),
    ("GET", "/staff/"),
    ("GET", "/staff/assets/no-such-module.js"),
    ("GET", "/healthz"),
    ("POST", "/telegram/webhook"),
    ("GET", "/no/such/page"),
];

/// Every `METHOD /api/v1/...` in the endpoint table of docs/api.md, with path parameters
/// filled in and queries dropped. New API routes get documented there, so they get scanned.
fn documented_api_routes() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/api.md"))
        .expect("docs/api.md");
    let mut routes: Vec<(String, String)> = doc
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .filter_map(|route| route.split_once(' '))
        .filter(|(method, path)| {
            ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(method) && path.starts_with('/')
        })
        .map(|(method, path)| {
            let path = path.split('?').next().unwrap_or(path);
            let filled: String = path
                .split('/')
                .map(|segment| match segment {
                    "{reference}" => "A-1001",
                    s if s.starts_with('{') => "1",
                    s => s,
                })
                .collect::<Vec<_>>()
                .join("/");
            (method.to_owned(), filled)
        })
        .collect();
    routes.dedup();
    routes
}

#[tokio::test]
async fn every_route_answers_with_the_security_headers_for_anonymous_and_logged_in_callers() {
    // Arrange: the Telegram webhook is on, a question and a session exist.
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(
        webhook_settings(dir.path(), &emulator),
        std::sync::Arc::new(SystemClock),
    )
    .await
    .unwrap();
    let staff = app.staff("scan", &["admin"]).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Wann ist die Bibliothek offen?").await.unwrap();
    staff
        .create_session("Sprechstunde", "2030-01-01T17:00", "2030-01-01T18:00")
        .await
        .unwrap();
    let api = documented_api_routes();
    assert!(api.len() >= 14, "the API table was read: {api:?}");
    let mut routes: Vec<(String, String)> = PAGES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    routes.extend(
        sprechstunde_webchat::ASSETS
            .iter()
            .map(|asset| ("GET".to_owned(), format!("/assets/{}", asset.name))),
    );
    routes.extend(
        sprechstunde_console::ASSETS
            .iter()
            .map(|asset| ("GET".to_owned(), format!("/staff/assets/{}", asset.name))),
    );
    routes.extend(api);
    // Logout last, so the staff member stays logged in for the others.
    routes.sort_by_key(|(_, path)| path.ends_with("/logout"));
    let anonymous = Client::new();

    // Act / Assert
    let mut requests = 0;
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for (method, path) in &routes {
        let method: Method = method.parse().unwrap();
        let body = (method != Method::GET).then(|| json!({}));
        let url = format!("{}{path}", app.base);
        let mut plain = anonymous.request(method.clone(), &url);
        if let Some(body) = &body {
            plain = plain.json(body);
        }
        let response = plain.send().await.unwrap();
        *statuses.entry(response.status().as_u16()).or_default() += 1;
        assert_hardened(&format!("anonymous {method} {path}"), response.headers());
        assert_no_store(
            &format!("anonymous {method} {path}"),
            path,
            response.headers(),
        );
        let logged_in = staff
            .http()
            .request(method.clone(), &url)
            .header("x-csrf-token", staff.csrf())
            .json(&body.clone().unwrap_or(json!(null)));
        let logged_in = if method == Method::GET {
            staff.http().get(&url)
        } else {
            logged_in
        };
        let response = logged_in.send().await.unwrap();
        *statuses.entry(response.status().as_u16()).or_default() += 1;
        assert_hardened(&format!("staff {method} {path}"), response.headers());
        assert_no_store(&format!("staff {method} {path}"), path, response.headers());
        requests += 2;
    }
    // Refusals of the hardening layers themselves carry the headers too.
    let refused = anonymous
        .post(format!("{}/api/v1/login", app.base))
        .header("origin", "https://evil.example")
        .json(&json!({"login": "x", "password": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_hardened("cross-origin refusal", refused.headers());
    assert_no_store("cross-origin refusal", "/api/v1/login", refused.headers());
    for (method, path) in [
        (Method::GET, "/api/v1/no-such-route"),
        (Method::DELETE, "/api/v1/questions"),
    ] {
        let response = anonymous
            .request(method.clone(), format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{method} {path}");
        assert_no_store(&format!("{method} {path}"), path, response.headers());
        requests += 1;
    }
    let too_large = anonymous
        .post(format!("{}/api/v1/login", app.base))
        .body(vec![b'x'; 300 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_hardened("413", too_large.headers());
    assert_no_store("413", "/api/v1/login", too_large.headers());
    requests += 2;
    assert!(
        statuses.keys().any(|s| *s == 200) && statuses.keys().any(|s| *s >= 400),
        "both successes and refusals were scanned: {statuses:?}"
    );
    println!(
        "security headers: {} routes scanned, {requests} requests, all with {} headers \
         (statuses seen: {statuses:?})",
        routes.len(),
        super::REQUIRED.len()
    );
    app.stop().await.unwrap();
}

/// Every answer of the API, errors included, says `Cache-Control: no-store`.
fn assert_no_store(what: &str, path: &str, headers: &reqwest::header::HeaderMap) {
    if path.starts_with("/api/") {
        assert_eq!(
            headers.get("cache-control").and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{what}"
        );
    }
}

/// Whether `source` is a valid CSP host-source or keyword (CSP Level 3 grammar: a host is
/// `*`, or labels of letters, digits and `-`, optionally after `*.`; no IPv6 literal).
fn valid_csp_source(source: &str) -> bool {
    if source.starts_with('\'') {
        return source.ends_with('\'') && source.len() > 2;
    }
    let Some((scheme, rest)) = source.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let (host, port) = rest.rsplit_once(':').unwrap_or((rest, ""));
    let host = host.strip_prefix("*.").unwrap_or(host);
    let host_ok = host == "*"
        || (!host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            }));
    let port_ok = port.is_empty() || port == "*" || port.chars().all(|c| c.is_ascii_digit());
    scheme_ok && host_ok && port_ok
}

#[tokio::test]
async fn every_source_of_the_csp_is_valid_so_browsers_ignore_none() {
    // Arrange: a loopback server, whose own origins include http://[::1]:PORT.
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();

    // Act
    let response = Client::new()
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap();

    // Assert: every source of every directive parses (Chromium drops, with a console
    // error, a source such as ws://[::1]:PORT, which the grammar has no room for).
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let mut sources = 0;
    for directive in csp.split(';') {
        let mut parts = directive.split_whitespace();
        let _name = parts.next();
        for source in parts {
            sources += 1;
            let keyword_or_scheme = ["data:"].contains(&source);
            assert!(
                keyword_or_scheme || valid_csp_source(source),
                "{source} in {csp}"
            );
        }
    }
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    println!("csp: {sources} sources, all valid");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn pages_whose_language_follows_the_browser_say_they_vary_by_it() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let client = Client::new();

    // Act / Assert: the public pages (also their 404) pick German or English from
    // Accept-Language.
    for path in ["/sprechstunden", "/sessions.ics", "/zusammenfassungen/999"] {
        let response = client
            .get(format!("{}{path}", app.base))
            .header("accept-language", "en-GB,en;q=0.9")
            .send()
            .await
            .unwrap();
        let vary: Vec<String> = response
            .headers()
            .get_all("vary")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_ascii_lowercase())
            .collect();
        assert!(
            vary.contains(&"accept-language".to_owned()),
            "{path}: {vary:?}"
        );
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn hsts_is_sent_only_behind_tls() {
    for (public_url, hsts, expected) in [
        ("", "auto", false),
        ("https://sprechstunde.musterstadt.example", "auto", true),
        ("", "on", true),
        ("https://sprechstunde.musterstadt.example", "off", false),
    ] {
        // Arrange
        let dir = tempfile::tempdir().unwrap();
        let mut settings = test_settings(dir.path());
        settings.server.public_url = public_url.to_owned();
        settings.server.hsts = match hsts {
            "on" => sprechstunde::settings::Hsts::On,
            "off" => sprechstunde::settings::Hsts::Off,
            _ => sprechstunde::settings::Hsts::Auto,
        };
        let app = TestApp::start_with(settings, std::sync::Arc::new(SystemClock))
            .await
            .unwrap();

        // Act
        let response = reqwest::get(format!("{}/", app.base)).await.unwrap();

        // Assert
        let value = response
            .headers()
            .get("strict-transport-security")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            value.is_some(),
            expected,
            "{public_url:?} {hsts}: {value:?}"
        );
        if let Some(value) = value {
            assert!(value.starts_with("max-age=31536000"), "{value}");
        }
        app.stop().await.unwrap();
    }
}
