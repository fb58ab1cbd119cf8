//! Readiness for load balancers: `/readyz` answers 200 on the instance that serves, and a
//! standby (an instance waiting for the lease on PostgreSQL, see [`crate::lease`]) answers
//! `/readyz` and everything else but `/healthz` with 503 and `Retry-After: 1`, so HAProxy,
//! nginx or a Kubernetes readiness probe send traffic to the active instance only.
//!
//! `/healthz` says whether the process is alive (200 on a standby too); `/readyz` whether it
//! takes requests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use sprechstunde_runtime::Office;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::settings::Settings;

/// Connections a standby serves at once (health checks and clients being turned away).
const STANDBY_CONNECTIONS: usize = 64;

/// Time a standby gives a client for its request head.
const STANDBY_HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// Prints the line that says where the server listens (the first line on stdout; scripts
/// and tests read the address from it).
pub fn announce(addr: SocketAddr, settings: &Settings) {
    println!(
        "sprechstunde listening on http://{addr} (web chat: /, staff console: /staff, data: {})",
        settings.server.data_dir.display()
    );
}

/// Whether the serving instance takes work: set once the store is open, the channels are
/// started and the background work runs; cleared when it starts to stop. Clones share one
/// flag; it starts not ready.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// A handle that is not ready yet.
    pub fn new() -> Readiness {
        Readiness::default()
    }

    /// Marks the instance ready or not (stopping).
    pub fn set_ready(&self, ready: bool) {
        self.0.store(ready, Ordering::Release);
    }

    /// Whether the instance is marked ready.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// `/readyz` of the serving instance: 200 while it is marked ready and its store answers,
/// else 503.
pub fn ready_route(readiness: Readiness, office: Office) -> Router {
    Router::new().route("/readyz", get(readyz).with_state((readiness, office)))
}

async fn readyz(State((readiness, office)): State<(Readiness, Office)>) -> StatusCode {
    if !readiness.is_ready() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    match office.store().health().await {
        Ok(()) => StatusCode::OK,
        Err(error) => {
            tracing::error!(%error, "readiness check failed");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// What a standby answers: `/healthz` 200, everything else 503 with `Retry-After: 1`.
pub fn standby_router() -> Router {
    Router::new()
        .route("/healthz", get(|| async { (StatusCode::OK, "standby\n") }))
        .fallback(|| async { standby() })
}

/// The answer of a standby to anything but `/healthz`.
fn standby() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::RETRY_AFTER, "1"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        "Dieser Server ist in Bereitschaft; ein anderer bedient gerade. Bitte versuchen Sie es \
         gleich noch einmal. / This server is on standby; another one is serving. Please try \
         again shortly.\n",
    )
        .into_response()
}

/// Answers every connection on `listener` with [`standby_router`], one request per
/// connection (so none is left open when the instance becomes active). Runs until dropped;
/// the listener stays usable afterwards.
pub async fn serve_standby(listener: &TcpListener) {
    let router = standby_router();
    let places = Arc::new(Semaphore::new(STANDBY_CONNECTIONS));
    loop {
        let (tcp, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(place) = Arc::clone(&places).try_acquire_owned() else {
            continue;
        };
        let router = router.clone();
        let service = tower::service_fn(move |request: Request<Incoming>| {
            let router = router.clone();
            async move { router.oneshot(request).await }
        });
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(STANDBY_HEADER_TIMEOUT)
                .keep_alive(false);
            let connection =
                builder.serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service));
            if let Err(error) = connection.await {
                tracing::debug!(%error, "standby connection ended with an error");
            }
            drop(place);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_standby_answers_health_but_refuses_everything_else_with_retry_after() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let server = tokio::spawn(async move { serve_standby(&listener).await });
        let client = reqwest::Client::new();
        let get = |path: &str| client.get(format!("{base}{path}")).send();

        let health = get("/healthz").await.expect("healthz");
        let ready = get("/readyz").await.expect("readyz");
        let page = get("/staff").await.expect("page");

        server.abort();
        assert_eq!(health.status(), 200);
        for refused in [&ready, &page] {
            assert_eq!(refused.status(), 503);
            assert_eq!(
                refused
                    .headers()
                    .get(header::RETRY_AFTER)
                    .map(|v| v.as_bytes()),
                Some(&b"1"[..])
            );
        }
    }
}
