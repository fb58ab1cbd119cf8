//! Web hardening for every response and request of the server (`docs/security.md`): the
//! security headers (CSP without `unsafe-inline`, `frame-ancestors 'none'`, `nosniff`,
//! Referrer-Policy, HSTS behind TLS, …) and the origin guard, which refuses WebSocket upgrades
//! and state-changing browser requests from origins outside the allow-list.
//!
//! Both are applied in `app.rs` to the merged router, so routes added by any adapter get them.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;

/// The security headers, in the order they are set. A handler that sets one of them itself
/// (e.g. a stricter CSP) keeps its own value.
pub fn security_headers(allowed_origins: &[String], hsts: bool) -> Vec<(HeaderName, HeaderValue)> {
    let sockets: Vec<String> = allowed_origins
        .iter()
        .filter_map(|o| socket_source(o))
        .collect();
    let connect = std::iter::once("'self'".to_owned())
        .chain(sockets)
        .collect::<Vec<_>>()
        .join(" ");
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         font-src 'self'; connect-src {connect}; frame-ancestors 'none'; base-uri 'none'; \
         form-action 'self'; object-src 'none'"
    );
    let mut headers = vec![
        (header::CONTENT_SECURITY_POLICY, csp),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        (header::REFERRER_POLICY, "no-referrer".to_owned()),
        (header::X_FRAME_OPTIONS, "DENY".to_owned()),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin".to_owned(),
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin".to_owned(),
        ),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=(), usb=()".to_owned(),
        ),
    ];
    if hsts {
        headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000".to_owned(),
        ));
    }
    headers
        .into_iter()
        .filter_map(|(name, value)| Some((name, HeaderValue::from_str(&value).ok()?)))
        .collect()
}

/// The `connect-src` source for the WebSocket of an allowed origin: `wss://host[:port]` for
/// `https://…`, `ws://…` for `http://…`. `None` for an IPv6 literal (`http://[::1]:8080`):
/// CSP's host grammar has no room for one, and Chromium drops such a source with an error;
/// `'self'` covers the WebSocket of the page's own origin anyway (CSP Level 3 lets `'self'`
/// match `ws:`/`wss:` of the same host and port).
fn socket_source(origin: &str) -> Option<String> {
    let (scheme, rest) = if let Some(rest) = origin.strip_prefix("https://") {
        ("wss", rest)
    } else {
        ("ws", origin.strip_prefix("http://")?)
    };
    (!rest.starts_with('[')).then(|| format!("{scheme}://{rest}"))
}

/// Sets every header in `headers` on every response of `router` (where the response lacks it),
/// including the fallback's 404 and the refusals of inner layers; and `Cache-Control:
/// no-store` on every answer under `/api/`, errors of any layer included (they may carry
/// what a shared cache must not keep).
pub fn with_headers(
    mut router: axum::Router,
    headers: Vec<(HeaderName, HeaderValue)>,
) -> axum::Router {
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    router.layer(axum::middleware::from_fn(api_no_store))
}

/// `Cache-Control: no-store` on every response to a request under `/api/`.
async fn api_no_store(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    if api {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Turns a bare 413 (from the body limit layers) into a clear JSON error.
pub async fn clear_payload_too_large(response: Response) -> Response {
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE || json {
        return response;
    }
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        axum::Json(serde_json::json!({
            "error": "payload_too_large",
            "message": "the request body is larger than this server accepts (docs/security.md)",
        })),
    )
        .into_response()
}

/// The origins that may open WebSockets and send state-changing browser requests.
#[derive(Debug, Clone)]
pub struct OriginPolicy {
    allowed: Arc<Vec<String>>,
}

impl OriginPolicy {
    /// A policy allowing exactly these origins (`scheme://host[:port]`, lower-case).
    pub fn new(allowed: Vec<String>) -> Self {
        OriginPolicy {
            allowed: Arc::new(allowed),
        }
    }

    /// Whether a presented `Origin` header value is allowed.
    pub fn allows(&self, origin: &str) -> bool {
        crate::settings::origin_of(origin).is_some_and(|o| self.allowed.contains(&o))
    }
}

/// Why the guard refused.
fn refuse(what: &'static str, origin: Option<&str>) -> Response {
    tracing::warn!(
        origin = origin.unwrap_or("-"),
        "{what} refused: origin not allowed (see server.public_url, webchat.allowed_origins)"
    );
    (
        StatusCode::FORBIDDEN,
        axum::Json(serde_json::json!({
            "error": "forbidden",
            "message": "cross-origin request refused",
        })),
    )
        .into_response()
}

/// The origin guard middleware.
///
/// - A WebSocket upgrade (any path) with an `Origin` outside the allow-list gets 403.
/// - A state-changing request (not GET/HEAD/OPTIONS) without `Authorization` gets 403 when
///   `Sec-Fetch-Site` says another site sent it, or its `Origin` is outside the allow-list.
///
/// Requests without these headers come from programs, not browsers: they carry no ambient
/// browser credentials to abuse and pass (the console's CSRF token still applies).
pub async fn origin_guard(
    State(policy): State<OriginPolicy>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let origin = headers
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or("?"));
    let upgrade = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if upgrade {
        if let Some(origin) = origin
            && !policy.allows(origin)
        {
            return refuse("WebSocket upgrade", Some(origin));
        }
        return next.run(request).await;
    }
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && !headers.contains_key(header::AUTHORIZATION) {
        let site = headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("same-origin");
        if !matches!(site, "same-origin" | "none") {
            return refuse("cross-site request", origin);
        }
        if let Some(origin) = origin
            && !policy.allows(origin)
        {
            return refuse("cross-origin request", Some(origin));
        }
    }
    next.run(request).await
}

/// The console's limits from `[limits]`.
pub fn console_limits(
    limits: &crate::settings::LimitSettings,
) -> sprechstunde_console::throttle::ConsoleLimits {
    sprechstunde_console::throttle::ConsoleLimits {
        failures_per_name: limits.login_failures_per_name,
        failures_per_address: limits.login_failures_per_address,
        lockout: jiff::SignedDuration::from_mins(i64::from(limits.login_lockout_minutes)),
        lockout_max: jiff::SignedDuration::from_mins(i64::from(limits.login_lockout_max_minutes)),
        client_address_header: (!limits.client_address_header.is_empty())
            .then(|| HeaderName::try_from(limits.client_address_header.as_str()).ok())
            .flatten(),
        login_body_bytes: limits.login_body_bytes,
        api_body_bytes: limits.api_body_bytes,
    }
}

/// The start-up warning for a set-up in which browsers drop the `Secure` login cookie, so
/// that staff logins silently fail: `secure_cookies` on, plain HTTP on a non-loopback listen
/// address, and no https `public_url` (i.e. no TLS proxy in front). `None` when logins work.
pub fn cookie_warning(
    secure_cookies: bool,
    listen: std::net::SocketAddr,
    public_url: &str,
) -> Option<String> {
    let behind_tls = public_url
        .trim()
        .to_ascii_lowercase()
        .starts_with("https://");
    (secure_cookies && !listen.ip().is_loopback() && !behind_tls).then(|| {
        format!(
            "server.secure_cookies is on and the server listens on plain HTTP on {listen} \
             without an https server.public_url: browsers drop the Secure login cookie there, so \
             staff logins in the console will fail. Put a TLS proxy in front and set \
             server.public_url = \"https://…\", or listen on 127.0.0.1 (docs/security.md)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_on_a_non_loopback_address_with_secure_cookies_is_warned_about() {
        let lan = std::net::SocketAddr::from(([192, 168, 10, 5], 8080));
        let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 8080));
        let v6_loopback = std::net::SocketAddr::from(([0u16, 0, 0, 0, 0, 0, 0, 1], 8080));

        let warned = cookie_warning(true, lan, "");

        assert!(
            warned
                .as_deref()
                .is_some_and(|w| w.contains("secure_cookies")
                    && w.contains("192.168.10.5:8080")
                    && w.contains("public_url")),
            "{warned:?}"
        );
        assert!(cookie_warning(true, lan, "http://rathaus.intern").is_some());
        assert!(cookie_warning(true, lan, "https://sprechstunde.musterstadt.de").is_none());
        assert!(cookie_warning(false, lan, "").is_none());
        assert!(cookie_warning(true, loopback, "").is_none());
        assert!(cookie_warning(true, v6_loopback, "").is_none());
    }

    #[test]
    fn the_csp_has_no_unsafe_inline_and_allows_the_own_websocket() {
        let headers = security_headers(&["http://127.0.0.1:8080".to_owned()], false);
        let csp = headers
            .iter()
            .find(|(n, _)| *n == header::CONTENT_SECURITY_POLICY)
            .map(|(_, v)| v.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        assert!(!csp.contains("unsafe"), "{csp}");
        assert!(
            csp.contains("connect-src 'self' ws://127.0.0.1:8080;"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(
            !headers
                .iter()
                .any(|(n, _)| *n == header::STRICT_TRANSPORT_SECURITY)
        );
        assert!(
            security_headers(&[], true)
                .iter()
                .any(|(n, _)| *n == header::STRICT_TRANSPORT_SECURITY)
        );
    }

    #[test]
    fn the_csp_names_no_ipv6_literal_and_keeps_the_other_own_websockets() {
        let origins = [
            "http://127.0.0.1:8080".to_owned(),
            "http://[::1]:8080".to_owned(),
            "https://sprechstunde.musterstadt.de".to_owned(),
        ];

        let headers = security_headers(&origins, false);

        let csp = headers
            .iter()
            .find(|(n, _)| *n == header::CONTENT_SECURITY_POLICY)
            .map(|(_, v)| v.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        assert!(
            csp.contains(
                "connect-src 'self' ws://127.0.0.1:8080 wss://sprechstunde.musterstadt.de;"
            ),
            "{csp}"
        );
        assert!(!csp.contains('['), "{csp}");
    }

    #[test]
    fn origins_are_compared_normalised() {
        let policy = OriginPolicy::new(vec!["https://sprechstunde.musterstadt.de".to_owned()]);
        assert!(policy.allows("https://Sprechstunde.Musterstadt.de"));
        assert!(policy.allows("https://sprechstunde.musterstadt.de:443"));
        assert!(!policy.allows("https://evil.example"));
        assert!(!policy.allows("null"));
        assert!(!policy.allows("http://sprechstunde.musterstadt.de"));
    }
}
