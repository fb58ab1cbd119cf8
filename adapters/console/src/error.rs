//! API errors as JSON `{"error", "message"}` with the right status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sprechstunde_core::{Refusal, StoreError};
use sprechstunde_runtime::OfficeError;

/// An error answer of the API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400.
    #[error("{0}")]
    BadRequest(String),
    /// 401.
    #[error("login required")]
    Unauthorized,
    /// 403.
    #[error("{0}")]
    Forbidden(&'static str),
    /// 404.
    #[error("not found")]
    NotFound,
    /// 409.
    #[error("{0}")]
    Conflict(String),
    /// 422.
    #[error("{0}")]
    Invalid(String),
    /// 503: storage failed; nothing was changed.
    #[error("the service is unavailable, please try again")]
    Unavailable,
    /// 429: too many failed logins; the name or address is locked for a while.
    #[error(
        "Zu viele fehlgeschlagene Anmeldeversuche. Bitte versuchen Sie es in {minutes} \
         Minute(n) erneut."
    )]
    TooManyRequests {
        /// Whole minutes until the next attempt may succeed (rounded up).
        minutes: u64,
        /// Seconds, for `Retry-After`.
        retry_after_secs: u64,
    },
    /// 429: other login attempts for the name or address are being verified, or too many
    /// logins arrive at once; nothing was counted.
    #[error(
        "Zu viele gleichzeitige Anmeldeversuche. Bitte versuchen Sie es in einigen Sekunden \
         erneut."
    )]
    Busy {
        /// Seconds, for `Retry-After`.
        retry_after_secs: u64,
    },
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::TooManyRequests { .. } | ApiError::Busy { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        let mut response = (
            status,
            Json(json!({"error": code, "message": self.to_string()})),
        )
            .into_response();
        if let ApiError::TooManyRequests {
            retry_after_secs, ..
        }
        | ApiError::Busy { retry_after_secs } = self
        {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after_secs),
            );
        }
        response
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NotFound => ApiError::NotFound,
            Refusal::NotOpen(_) | Refusal::SessionOver => ApiError::Conflict(refusal.to_string()),
            Refusal::Empty
            | Refusal::EmptyText
            | Refusal::TooLong { .. }
            | Refusal::InvalidSession(_)
            | Refusal::InvalidDepartment(_)
            | Refusal::RejectNeedsApproval
            | Refusal::MergeNeedsApproval
            | Refusal::Flooded { .. } => ApiError::Invalid(refusal.to_string()),
            Refusal::NoDraft | Refusal::SameApprover => ApiError::Conflict(refusal.to_string()),
            // Office hours as events.
            Refusal::InvalidSeries(_) => ApiError::Invalid(refusal.to_string()),
            Refusal::CannotMerge
            | Refusal::NotInSession
            | Refusal::SessionNotLive
            | Refusal::SessionNotClosed
            | Refusal::SummaryPublished => ApiError::Conflict(refusal.to_string()),
        }
    }
}

impl From<OfficeError> for ApiError {
    fn from(error: OfficeError) -> Self {
        tracing::error!(%error, "office failed");
        ApiError::Unavailable
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        tracing::error!(%error, "store failed");
        ApiError::Unavailable
    }
}
