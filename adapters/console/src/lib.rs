//! The staff console (`/staff`, a page served by the binary) and the JSON API under
//! `/api/v1` that the console and city systems use (see `docs/api.md`).

pub mod accounts;
pub mod auth;
pub mod error;
mod routes;
pub mod views;

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use jiff::SignedDuration;
use sprechstunde_runtime::Office;
use tokio_util::sync::CancellationToken;

pub use routes::sessions::parse_time;

/// The console: office handle and login settings.
#[derive(Clone, Debug)]
pub struct Console {
    pub(crate) office: Office,
    pub(crate) decoy: Arc<String>,
    pub(crate) login_lifetime: SignedDuration,
    pub(crate) secure_cookies: bool,
    pub(crate) shutdown: CancellationToken,
}

/// Console settings.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleSettings {
    /// How long a console login lasts.
    pub login_lifetime: SignedDuration,
    /// Mark cookies `Secure` (behind TLS).
    pub secure_cookies: bool,
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
        })
    }

    /// Routes of the console page and the API.
    pub fn router(&self) -> Router {
        use routes::{events, login, office_hours, outbox, questions, sessions};
        let api = Router::new()
            .route("/login", post(login::login))
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
            // Office hours as events: series, live moderation, merging, summaries.
            .route("/sessions/series", post(office_hours::create_series))
            .route("/sessions/{id}/live", get(office_hours::live))
            .route("/sessions/{id}/answering", post(office_hours::answering))
            .route("/questions/{reference}/merge", post(office_hours::merge))
            .route(
                "/sessions/{id}/summary",
                get(office_hours::summary).put(office_hours::edit_summary),
            )
            .route(
                "/sessions/{id}/summary/draft",
                post(office_hours::draft_summary),
            )
            .route(
                "/sessions/{id}/summary/publish",
                post(office_hours::publish_summary),
            );
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
