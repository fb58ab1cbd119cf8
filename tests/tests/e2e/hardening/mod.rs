//! Web hardening end to end (`docs/security.md`): security headers on every route, the login
//! cookie, CSRF and origin checks, login throttling, body limits, the WebSocket origin
//! allow-list, per-citizen flood limits, and an XSS payload corpus in headless Chromium.
//! Each test prints its figures (routes scanned, payloads tried, …).

mod connections;
mod flood;
mod headers;
mod held;
mod requests;
mod sockets;
mod websocket;
mod xss;

use reqwest::header::HeaderMap;

/// Headers every response must carry, with a fragment its value must contain.
pub(super) const REQUIRED: [(&str, &str); 7] = [
    ("content-security-policy", "frame-ancestors 'none'"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("permissions-policy", "camera=()"),
];

/// Asserts the security headers on one response; `what` names it in failures.
pub(super) fn assert_hardened(what: &str, headers: &HeaderMap) {
    for (name, fragment) in REQUIRED {
        let value = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: header {name} is missing"));
        assert!(value.contains(fragment), "{what}: {name}: {value}");
    }
    let csp = headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    ] {
        assert!(
            csp.contains(directive),
            "{what}: CSP lacks {directive}: {csp}"
        );
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-eval"), "{what}: {csp}");
}

/// The JSON body of a response, or Null.
pub(super) async fn json_of(response: reqwest::Response) -> serde_json::Value {
    response.json().await.unwrap_or(serde_json::Value::Null)
}
