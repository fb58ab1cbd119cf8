//! The server: store, office, adapters and HTTP, started together and stopped together.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::serve::ListenerExt;
use sprechstunde_console::{Console, ConsoleSettings};
use sprechstunde_core::{Engine, Store, Texts};
use sprechstunde_runtime::{Clock, Office, SystemClock, Workers};
use sprechstunde_store_sled::SledStore;
use sprechstunde_webchat::WebChat;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Cancelling it stops a running [`Application`].
pub use tokio_util::sync::CancellationToken as ShutdownToken;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::settings::Settings;

/// Largest HTTP request body accepted.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// Opens the store in the configured data directory.
///
/// # Errors
/// The directory cannot be created or is in use by another process.
pub fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let dir = &settings.server.data_dir;
    let store = SledStore::open(dir)
        .with_context(|| format!("cannot open the data directory {}", dir.display()))?;
    Ok(Arc::new(store))
}

/// Builds the office on a store.
///
/// # Errors
/// The store cannot be read, or the built-in texts are broken.
pub async fn open_office(
    settings: &Settings,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Office> {
    let engine = Engine::new(settings.policy(), Texts::builtin()?);
    Ok(Office::open(engine, store, clock).await?)
}

/// A built, not yet running server.
pub struct Application {
    listener: TcpListener,
    router: Router,
    office: Office,
    web: sprechstunde_webchat::WebChannel,
    telegram: Option<sprechstunde_telegram::Telegram>,
    matrix: Option<sprechstunde_matrix::Matrix>,
    workers: Workers,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("addr", &self.listener.local_addr().ok())
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Opens the store, loads the office, binds the listener and starts the background work.
    ///
    /// # Errors
    /// The data directory or the listen address cannot be used.
    pub async fn build(settings: &Settings) -> anyhow::Result<Application> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// As [`Application::build`], with a given clock (tests).
    ///
    /// # Errors
    /// As [`Application::build`].
    pub async fn build_with_clock(
        settings: &Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Application> {
        let store = open_store(settings)?;
        let pseudonyms = settings.privacy.pseudonymizer(&settings.server.data_dir)?;
        let office = open_office(settings, store, clock).await?;
        let shutdown = CancellationToken::new();
        let telegram = sprechstunde_telegram::Telegram::start(
            office.clone(),
            &settings.telegram,
            pseudonyms.clone(),
            shutdown.clone(),
        )
        .await
        .context("cannot start the Telegram channel")?;
        let matrix = sprechstunde_matrix::Matrix::start(
            office.clone(),
            &settings.matrix,
            pseudonyms,
            &settings.server.data_dir,
            shutdown.clone(),
        )
        .await
        .context("cannot start the Matrix channel")?;
        let webchat = WebChat::new(office.clone(), shutdown.clone());
        let console = Console::new(
            office.clone(),
            ConsoleSettings {
                login_lifetime: jiff::SignedDuration::from_hours(i64::from(
                    settings.server.login_hours,
                )),
                secure_cookies: settings.server.secure_cookies,
            },
            shutdown.clone(),
        )?;
        let mut router = Router::new()
            .route("/healthz", get(healthz).with_state(office.clone()))
            .merge(webchat.router())
            .merge(console.router())
            .merge(
                sprechstunde_public::Public::new(office.clone(), settings.office.name.clone())
                    .router(),
            );
        if let Some(telegram) = &telegram {
            router = router.merge(telegram.router());
        }
        let router = router
            .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
            .layer(TraceLayer::new_for_http());
        let listener = TcpListener::bind(settings.server.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.server.listen))?;
        let workers = office.spawn_workers();
        Ok(Application {
            listener,
            router,
            office,
            web: webchat.channel().clone(),
            telegram,
            matrix,
            workers,
            shutdown,
        })
    }

    /// The bound address (port 0 resolved).
    ///
    /// # Errors
    /// The socket is gone.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The office, for tests that look inside.
    pub fn office(&self) -> &Office {
        &self.office
    }

    /// The web chat's open connections, for tests.
    pub fn web_channel(&self) -> &sprechstunde_webchat::WebChannel {
        &self.web
    }

    /// A token that stops the server when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until the shutdown token is cancelled, then closes open connections, stops the
    /// background work and releases the store.
    ///
    /// # Errors
    /// The server failed.
    pub async fn run(self) -> anyhow::Result<()> {
        let Application {
            listener,
            router,
            office,
            web,
            telegram,
            matrix,
            workers,
            shutdown,
        } = self;
        drop(web);
        let signal = shutdown.clone();
        // Chat frames are small: send them at once instead of waiting for Nagle's algorithm.
        let listener = listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "could not set TCP_NODELAY");
            }
        });
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move { signal.cancelled().await })
            .await;
        // However the server ended, the channels stop too.
        shutdown.cancel();
        if let Some(telegram) = telegram {
            telegram.join().await;
        }
        if let Some(matrix) = matrix {
            matrix.join().await;
        }
        workers.shutdown().await;
        drop(office);
        served.context("HTTP server failed")
    }
}

async fn healthz(State(office): State<Office>) -> StatusCode {
    match office.store().health().await {
        Ok(()) => StatusCode::OK,
        Err(error) => {
            tracing::error!(%error, "health check failed");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}
