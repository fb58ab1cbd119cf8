//! Readiness (`/readyz`), apart from liveness (`/healthz`): a live server may still not be
//! ready to take work (starting, stopping, or a standby that does not hold the store).
//! Whoever decides readiness holds a [`Readiness`] handle and calls
//! [`set_ready`](Readiness::set_ready); `/readyz` answers 200 while it is ready and the store
//! answers its health check, else 503.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::State;
use axum::http::StatusCode;
use sprechstunde_runtime::Office;

/// Whether this server takes work. Clones share one flag; it starts not ready.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// A handle that is not ready yet.
    pub fn new() -> Readiness {
        Readiness::default()
    }

    /// Marks the server ready (store open, channels started) or not (stopping, standby).
    pub fn set_ready(&self, ready: bool) {
        self.0.store(ready, Ordering::Release);
    }

    /// Whether the server is marked ready.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// `GET /readyz`: 200 when marked ready and the store is healthy, else 503.
pub(crate) async fn readyz(State((readiness, office)): State<(Readiness, Office)>) -> StatusCode {
    if !readiness.is_ready() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    match office.store().health().await {
        Ok(()) => StatusCode::OK,
        Err(error) => {
            tracing::warn!(%error, "not ready: the store fails its health check");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}
