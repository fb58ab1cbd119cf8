//! `GET /metrics` behind a bearer token. Without a configured token the route answers 404
//! (metrics are off); a missing or wrong token gets 401. The token is compared in constant
//! time.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sprechstunde_runtime::Office;
use subtle::ConstantTimeEq;

use crate::Metrics;

/// The content type of the exposition (OpenMetrics text, which Prometheus prefers).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The secret a scraper sends as `Authorization: Bearer …`.
#[derive(Clone)]
pub struct MetricsToken(Arc<str>);

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(..)")
    }
}

impl MetricsToken {
    /// Wraps a token (from the environment or a file; never from the configuration file).
    pub fn new(token: &str) -> MetricsToken {
        MetricsToken(Arc::from(token))
    }

    /// Whether `header` (the `Authorization` value) carries this token. Constant time in
    /// the token's content (a different length is refused at once; the length is no secret
    /// worth hiding).
    fn admits(&self, header: Option<&HeaderValue>) -> bool {
        let Some(given) = header
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
            .map(<[u8]>::trim_ascii)
        else {
            return false;
        };
        given.ct_eq(self.0.as_bytes()).into()
    }
}

#[derive(Clone)]
struct Scrape {
    metrics: Metrics,
    office: Office,
    token: Option<MetricsToken>,
}

/// The `/metrics` route. `token`: `None` switches metrics off (404).
pub fn router(metrics: Metrics, office: Office, token: Option<MetricsToken>) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(Scrape {
            metrics,
            office,
            token,
        })
}

async fn scrape(State(scrape): State<Scrape>, headers: HeaderMap) -> Response {
    let Some(token) = &scrape.token else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !token.admits(headers.get(header::AUTHORIZATION)) {
        tracing::info!("metrics scrape refused: missing or wrong token");
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
        )
            .into_response();
    }
    let body = scrape.metrics.render(&scrape.office).await;
    (
        [
            (header::CONTENT_TYPE, CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_is_admitted() {
        let token = MetricsToken::new("s3cr3t-s3cr3t-s3cr3t");
        let admits = |v: &str| token.admits(Some(&HeaderValue::from_str(v).unwrap()));
        assert!(admits("Bearer s3cr3t-s3cr3t-s3cr3t"));
        assert!(!admits("Bearer s3cr3t-s3cr3t-s3cr3"));
        assert!(!admits("Bearer s3cr3t-s3cr3t-s3cr3t-"));
        assert!(!admits("Basic s3cr3t-s3cr3t-s3cr3t"));
        assert!(!admits("s3cr3t-s3cr3t-s3cr3t"));
        assert!(!admits("Bearer "));
        assert!(!token.admits(None));
    }
}
