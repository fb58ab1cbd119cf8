//! The staff console (`/staff`, a page served by the binary) and the JSON API under
//! `/api/v1` that the console and city systems use (see `docs/api.md`).

pub mod accounts;
pub mod auth;
mod csrf;
pub mod error;
pub mod neutralise;
mod routes;
pub mod throttle;
pub mod views;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use jiff::SignedDuration;
use sprechstunde_runtime::Office;
use tokio_util::sync::CancellationToken;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub use routes::sessions::parse_time;

/// The console: office handle and login settings.
#[derive(Clone, Debug)]
pub struct Console {
    pub(crate) office: Office,
    pub(crate) decoy: Arc<String>,
    pub(crate) login_lifetime: SignedDuration,
    pub(crate) secure_cookies: bool,
    pub(crate) shutdown: CancellationToken,
    pub(crate) limits: Arc<throttle::ConsoleLimits>,
    pub(crate) throttle: Arc<throttle::LoginThrottle>,
}

/// Console settings.
#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    /// How long a console login lasts.
    pub login_lifetime: SignedDuration,
    /// The login cookie is `__Host-sprechstunde_staff` and `Secure` (default); `false` only for
    /// plain HTTP on a non-loopback address: then `sprechstunde_staff`, not `Secure`.
    pub secure_cookies: bool,
    /// Login throttling and request body sizes.
    pub limits: throttle::ConsoleLimits,
}

impl Console {
    /// Creates the console. Live event streams end when `shutdown` is cancelled.
    ///
    /// # Errors
    /// No randomness for the decoy password hash.
    pub fn new(
        office: Office,
        settings: ConsoleSettings,
        shutdown: CancellationToken,
    ) -> Result<Self, accounts::AccountError> {
        Ok(Console {
            office,
            decoy: Arc::new(accounts::decoy_hash()?),
            login_lifetime: settings.login_lifetime,
            secure_cookies: settings.secure_cookies,
            shutdown,
            limits: Arc::new(settings.limits),
            throttle: Arc::default(),
        })
    }

    /// The name of the login cookie: `__Host-sprechstunde_staff`, or without the prefix when
    /// cookies are not `Secure` (the prefix requires it).
    pub fn cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            auth::HOST_COOKIE
        } else {
            auth::COOKIE
        }
    }

    /// Routes of the console page and the API.
    pub fn router(&self) -> Router {
        use routes::{events, login, outbox, questions, sessions};
        let api = Router::new()
            .route(
                "/login",
                post(login::login).layer(RequestBodyLimitLayer::new(self.limits.login_body_bytes)),
            )
            .route("/logout", post(login::logout))
            .route("/me", get(login::me))
            .route("/questions", get(questions::list))
            .route("/questions/{reference}", get(questions::detail))
            .route("/questions/{reference}/answer", post(questions::answer))
            .route("/questions/{reference}/notes", post(questions::note))
            .route("/questions/{reference}/reject", post(questions::reject))
            .route("/sessions", get(sessions::list).post(sessions::create))
            .route("/sessions/{id}", put(sessions::update))
            .route("/sessions/{id}/cancel", post(sessions::cancel))
            .route("/outbox", get(outbox::list))
            .route("/events", get(events::stream))
            // Web hardening: body size, CSRF for every state-changing route, no caching.
            .layer(RequestBodyLimitLayer::new(self.limits.api_body_bytes))
            .layer(middleware::from_fn_with_state(self.clone(), csrf::guard))
            .layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store"),
            ));
        Router::new()
            .route("/staff", get(page))
            .route("/staff/", get(page))
            .route("/staff/assets/console.js", get(script))
            .route("/staff/assets/console.css", get(style))
            .nest("/api/v1", api)
            .with_state(self.clone())
    }
}

async fn page() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("../assets/index.html"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../assets/console.js"),
    )
}

async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../assets/console.css"),
    )
}
