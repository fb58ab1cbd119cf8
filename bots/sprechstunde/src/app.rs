//! The server: store, office, adapters and HTTP, started together and stopped together.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use sprechstunde_console::{Console, ConsoleSettings};
use sprechstunde_core::{Engine, Store, Texts};
use sprechstunde_runtime::{Clock, Office, SystemClock, Workers};
use sprechstunde_store_postgres::PgStore;
use sprechstunde_store_sled::SledStore;
use sprechstunde_webchat::WebChat;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Cancelling it stops a running [`Application`].
pub use tokio_util::sync::CancellationToken as ShutdownToken;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::readiness::Readiness;
use crate::settings::{Settings, StoreBackend};
use crate::web_security;

/// Opens the configured store: sled in the data directory, or PostgreSQL
/// (`[store] backend = "postgres"`), whose migrations are applied here.
///
/// # Errors
/// The directory cannot be created or is in use by another process; the database cannot
/// be reached or has a newer schema.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    match settings.store.backend {
        StoreBackend::Sled => Ok(open_sled(settings)?),
        StoreBackend::Postgres => {
            let url = settings.store.database_url()?;
            let store = PgStore::connect(&url)
                .await
                .context("cannot open the PostgreSQL store (store.url)")?;
            tracing::info!(backend = "postgres", "store opened");
            Ok(Arc::new(store))
        }
    }
}

/// Opens the sled store in the data directory.
///
/// # Errors
/// The directory cannot be created or is in use by another process.
fn open_sled(settings: &Settings) -> anyhow::Result<Arc<SledStore>> {
    let dir = &settings.server.data_dir;
    let store = SledStore::open(dir)
        .with_context(|| format!("cannot open the data directory {}", dir.display()))?;
    Ok(Arc::new(store))
}

/// Opens the configured store, and for sled how `POST /api/v1/backup` copies it.
async fn open_store_with_backup(
    settings: &Settings,
) -> anyhow::Result<(Arc<dyn Store>, Option<sprechstunde_console::BackupFn>)> {
    match settings.store.backend {
        StoreBackend::Sled => {
            let store = open_sled(settings)?;
            let backup = crate::backup_cli::maker(Arc::clone(&store), settings);
            Ok((store, Some(backup)))
        }
        StoreBackend::Postgres => Ok((open_store(settings).await?, None)),
    }
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
    let office = Office::open(engine, store, clock).await?;
    seed_departments(settings, &office).await?;
    Ok(office)
}

/// Creates the configured departments whose slug the store does not know yet (durably,
/// through the engine). Departments edited in the console are left as they are.
async fn seed_departments(settings: &Settings, office: &Office) -> anyhow::Result<()> {
    for d in &settings.departments {
        let known = office
            .read(|state, _, _| {
                state.department_by_slug(&d.slug).is_some()
                    || state
                        .department(sprechstunde_core::DepartmentId(d.id))
                        .is_some()
            })
            .await;
        if known {
            continue;
        }
        office
            .submit(sprechstunde_core::Input::Staff {
                actor: sprechstunde_core::StaffRef {
                    id: sprechstunde_core::StaffId(0),
                    name: "configuration".into(),
                },
                action: sprechstunde_core::StaffAction::Triage(
                    sprechstunde_core::TriageAction::SaveDepartment(d.department()),
                ),
            })
            .await?
            .map_err(|e| anyhow::anyhow!("department {}: {e}", d.slug))?;
    }
    Ok(())
}

/// A built, not yet running server.
pub struct Application {
    listener: TcpListener,
    router: Router,
    office: Office,
    web: sprechstunde_webchat::WebChannel,
    telegram: Option<sprechstunde_telegram::Telegram>,
    matrix: Option<sprechstunde_matrix::Matrix>,
    threema: Option<sprechstunde_threema::Threema>,
    workers: Workers,
    shutdown: CancellationToken,
    audit_purge: tokio::task::JoinHandle<()>,
    serve_limits: crate::serve::ServeLimits,
    readiness: Readiness,
}

/// The listener's limits; raises the open-file limit first when the connection maximum is
/// derived from it.
fn serve_limits(settings: &Settings) -> crate::serve::ServeLimits {
    let max_connections = match settings.limits.max_connections {
        0 => {
            let open_files = crate::serve::raise_open_file_limit();
            crate::serve::default_max_connections(open_files)
        }
        n => n,
    };
    tracing::info!(max_connections, "connection limit");
    crate::serve::ServeLimits {
        max_connections,
        header_read_timeout: settings.limits.header_read_timeout(),
    }
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
        let (store, backup) = open_store_with_backup(settings).await?;
        let listener = TcpListener::bind(settings.server.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.server.listen))?;
        Self::build_on(settings, clock, store, backup, listener).await
    }

    /// As [`Application::build_with_clock`], on a store opened and a listener bound already
    /// (a standby on PostgreSQL hands both over once it holds the lease, [`crate::lease`]);
    /// `backup` copies a sled store for `POST /api/v1/backup`.
    ///
    /// # Errors
    /// As [`Application::build`].
    pub async fn build_on(
        settings: &Settings,
        clock: Arc<dyn Clock>,
        store: Arc<dyn Store>,
        backup: Option<sprechstunde_console::BackupFn>,
        listener: TcpListener,
    ) -> anyhow::Result<Application> {
        let pseudonyms = settings.privacy.pseudonymizer(&settings.server.data_dir)?;
        let office = open_office(settings, store, clock).await?;
        // Counting starts before any channel takes a message.
        let metrics = sprechstunde_metrics::Metrics::new();
        metrics.observe(&office);
        let metrics_token = settings
            .metrics
            .token()
            .map_err(|problem| anyhow::anyhow!("metrics.token: {problem}"))?
            .map(|t| sprechstunde_metrics::MetricsToken::new(&t));
        let readiness = Readiness::new();
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
            pseudonyms.clone(),
            &settings.server.data_dir,
            shutdown.clone(),
        )
        .await
        .context("cannot start the Matrix channel")?;
        let threema = sprechstunde_threema::Threema::start(
            office.clone(),
            &settings.threema,
            pseudonyms.clone(),
            shutdown.clone(),
        )
        .await
        .context("cannot start the Threema channel")?;
        if let Some(threema) = &threema {
            let credits = threema.credits();
            metrics.add_gauge(
                "threema_credits",
                "Remaining Threema Gateway credits (one per message sent), as last asked for",
                Arc::new(move || credits.remaining()),
            );
        }
        let webchat = WebChat::with_limits(
            office.clone(),
            shutdown.clone(),
            settings.limits.web_limits(),
            settings.limits.client_addresses()?,
        );
        let serve_limits = serve_limits(settings);
        // Bound first: the allowed origins default to the listen address with its real port.
        let bound = listener.local_addr()?;
        if let Some(warning) = web_security::cookie_warning(
            settings.server.secure_cookies,
            bound,
            &settings.server.public_url,
        ) {
            tracing::warn!("{warning}");
        }
        let origins = settings.allowed_origins(bound);
        let console = Console::new(
            office.clone(),
            ConsoleSettings {
                login_lifetime: jiff::SignedDuration::from_hours(i64::from(
                    settings.server.login_hours,
                )),
                secure_cookies: settings.server.secure_cookies,
                limits: crate::web_security::console_limits(&settings.limits),
            },
            shutdown.clone(),
        )?;
        let console = crate::sign_on::with_oidc(console, settings, bound)?;
        let console = match backup {
            Some(backup) => console.with_backup(backup),
            None => console,
        };
        let console = match &threema {
            Some(threema) => {
                let credits = threema.credits();
                console.with_channel_status(Arc::new(move || {
                    serde_json::json!({
                        "channel": "threema",
                        "credits": credits.remaining(),
                        "credits_warn_below": credits.warn_below(),
                        "credits_low": credits.low(),
                    })
                }))
            }
            None => console,
        };
        let mut router = Router::new()
            .route("/healthz", get(healthz).with_state(office.clone()))
            .merge(crate::readiness::ready_route(
                readiness.clone(),
                office.clone(),
            ))
            .merge(sprechstunde_metrics::router(
                metrics,
                office.clone(),
                metrics_token,
            ))
            .merge(webchat.router())
            .merge(console.router())
            .merge(
                sprechstunde_public::Public::new(office.clone(), settings.office.name.clone())
                    .with_channels(running_channels(
                        telegram.is_some(),
                        matrix.is_some(),
                        threema.is_some(),
                    ))
                    .with_accessibility(settings.accessibility.clone())
                    .router(),
            );
        if let Some(telegram) = &telegram {
            router = router.merge(telegram.router());
        }
        if let Some(threema) = &threema {
            router = router.merge(threema.router());
        }
        // Web hardening (docs/security.md), for every route of every adapter.
        let router = router
            .layer(RequestBodyLimitLayer::new(settings.limits.max_body_bytes))
            .layer(axum::middleware::map_response(
                web_security::clear_payload_too_large,
            ))
            .layer(axum::middleware::from_fn_with_state(
                web_security::OriginPolicy::new(origins.clone()),
                web_security::origin_guard,
            ));
        let router = web_security::with_headers(
            router,
            web_security::security_headers(&origins, settings.hsts()),
        )
        .layer(TraceLayer::new_for_http());
        if settings.mail.enabled() {
            let mailer = sprechstunde_mail::SmtpMailer::new(&settings.mail.smtp_config()?)
                .context("cannot set up staff mail")?;
            office.register_mailer(Arc::new(mailer));
        }
        let workers = office.spawn_workers();
        let audit_purge = tokio::spawn(purge_audit_daily(
            office.clone(),
            crate::audit_cli::retention(settings),
            shutdown.clone(),
        ));
        // Store open, channels started, background work running: ready until shutdown.
        readiness.set_ready(true);
        tokio::spawn({
            let readiness = readiness.clone();
            let shutdown = shutdown.clone();
            async move {
                shutdown.cancelled().await;
                readiness.set_ready(false);
            }
        });
        Ok(Application {
            listener,
            router,
            office,
            web: webchat.channel().clone(),
            telegram,
            matrix,
            threema,
            workers,
            shutdown,
            audit_purge,
            serve_limits,
            readiness,
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

    /// The readiness flag behind `/readyz` (set when built; a standby clears it).
    pub fn readiness(&self) -> &Readiness {
        &self.readiness
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
            threema,
            workers,
            shutdown,
            audit_purge,
            serve_limits,
            readiness,
        } = self;
        drop(readiness);
        drop(web);
        crate::serve::serve(listener, router, serve_limits, shutdown.clone()).await;
        // However the server ended, the channels stop too.
        shutdown.cancel();
        if let Some(telegram) = telegram {
            telegram.join().await;
        }
        if let Some(matrix) = matrix {
            matrix.join().await;
        }
        if let Some(threema) = threema {
            threema.join().await;
        }
        workers.shutdown().await;
        let _ = audit_purge.await;
        drop(office);
        Ok(())
    }
}

/// How often the audit trail's retention is enforced.
const AUDIT_PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// Removes audit entries older than `retention` at start and then once a day.
async fn purge_audit_daily(
    office: Office,
    retention: jiff::SignedDuration,
    shutdown: CancellationToken,
) {
    loop {
        if let Err(error) = office.audit().purge(retention).await {
            tracing::error!(%error, "audit retention purge failed; retrying tomorrow");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(AUDIT_PURGE_EVERY) => {}
        }
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

/// The channels this server runs, in the order citizens read them.
fn running_channels(
    telegram: bool,
    matrix: bool,
    threema: bool,
) -> Vec<sprechstunde_core::ChannelKind> {
    let mut channels = vec![sprechstunde_core::ChannelKind::Web];
    if telegram {
        channels.push(sprechstunde_core::ChannelKind::Telegram);
    }
    if matrix {
        channels.push(sprechstunde_core::ChannelKind::Matrix);
    }
    if threema {
        channels.push(sprechstunde_core::ChannelKind::Threema);
    }
    channels
}
