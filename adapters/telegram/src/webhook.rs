//! Webhook mode: Telegram POSTs each update to `webhook_path` with the secret given to
//! `setWebhook` in `X-Telegram-Bot-Api-Secret-Token`. Requests without the right secret are
//! refused with 401; an update is answered with 200 only after it is stored durably, so
//! Telegram keeps retrying whatever was not.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use teloxide::types::Update;

use crate::config::Secret;
use crate::updates::Updates;

/// The header Telegram puts the secret in.
pub(crate) const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

#[derive(Clone)]
struct Hook {
    updates: Updates,
    secret: Secret,
}

pub(crate) fn router(path: &str, updates: Updates, secret: Secret) -> Router {
    Router::new()
        .route(path, post(receive))
        .with_state(Hook { updates, secret })
}

/// Compares in time independent of where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for (i, x) in a.iter().enumerate() {
        diff |= x ^ b.get(i).copied().unwrap_or(!x);
    }
    diff == 0
}

async fn receive(State(hook): State<Hook>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let given = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !same(given, hook.secret.0.as_bytes()) {
        tracing::warn!("webhook request without the right secret refused");
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(update) = serde_json::from_slice::<Update>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    match hook.updates.handle(&update).await {
        Ok(()) => StatusCode::OK,
        Err(error) => {
            tracing::error!(%error, "could not store an update; Telegram will send it again");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(same(b"abc-123", b"abc-123"));
        assert!(!same(b"abc-123", b"abc-124"));
        assert!(!same(b"abc-123", b"abc-12"));
        assert!(!same(b"", b"abc"));
        assert!(!same(b"abc", b""));
    }
}
