//! The staff console (`/staff`, a page served by the binary) and the JSON API under
//! `/api/v1` that the console and city systems use (see `docs/api.md`).

pub mod access;
pub mod accounts;
mod apidoc;
mod audit;
pub mod auth;
mod csrf;
pub mod error;
mod live;
pub mod neutralise;
pub mod oidc;
mod routes;
pub mod table;
pub mod throttle;
pub mod views;

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::SignedDuration;
pub use sprechstunde_runtime::Asset;
use sprechstunde_runtime::Office;
use tokio_util::sync::CancellationToken;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub use routes::backup::BackupFn;
pub use routes::channels::ChannelStatusFn;
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
    /// Slots for password verification (argon2id needs 19 MiB each).
    pub(crate) verifications: Arc<tokio::sync::Semaphore>,
    /// Counts ends of logins (logout, "log out everywhere"): open event streams check then
    /// whether their own login still exists, and end if not.
    pub(crate) logins_ended: Arc<tokio::sync::watch::Sender<u64>>,
    /// The live hour's suggested duplicates and stage links, beside the office state.
    pub(crate) live: Arc<live::LiveBoards>,
    /// Whether `POST /api/v1/login` (password) is allowed; off only with single sign-on.
    pub(crate) password_login: bool,
    /// Single sign-on through an OpenID provider ([`Console::with_oidc`]).
    pub(crate) oidc: Option<Arc<oidc::Oidc>>,
    /// Makes backups for `POST /api/v1/backup` ([`Console::with_backup`]).
    pub(crate) backup: Option<routes::backup::Maker>,
    /// What the channels report for `GET /api/v1/channels` ([`Console::with_channel_status`]).
    pub(crate) channel_status: routes::channels::Reporters,
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
            verifications: Arc::new(tokio::sync::Semaphore::new(
                throttle::CONCURRENT_VERIFICATIONS,
            )),
            logins_ended: Arc::new(tokio::sync::watch::Sender::new(0)),
            live: Arc::default(),
            password_login: true,
            oidc: None,
            backup: None,
            channel_status: routes::channels::Reporters::default(),
        })
    }

    /// Tells open event streams that logins ended (they check their own).
    pub(crate) fn logins_ended(&self) {
        self.logins_ended.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The name of the device cookie (prefixed like the login cookie).
    pub fn device_cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            auth::HOST_DEVICE_COOKIE
        } else {
            auth::DEVICE_COOKIE
        }
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

    /// Routes of the console page and the API. Every `/api/v1` route is declared in the
    /// route table below (method, path, access, summary, handler); see `docs/api.md`.
    pub fn router(&self) -> Router {
        use axum::http::Method;
        use routes::{
            audit, backup, board, channels, departments, events, login, notifications,
            office_hours, outbox, questions, sessions, staff, stage, stats, triage,
        };
        use sprechstunde_core::Permission::*;
        use table::Access::{Login, Public, Staff};
        const GET: Method = Method::GET;
        const POST: Method = Method::POST;
        const PUT: Method = Method::PUT;
        const DELETE: Method = Method::DELETE;
        let api = table::ApiTable::new()
            .limit_body("/login", self.limits.login_body_bytes)
            .add(
                POST,
                "/login",
                Public,
                "Log in to the console (cookie)",
                login::login,
            )
            .doc(apidoc::login())
            .add(POST, "/logout", Login, "Log out", login::logout)
            .doc(apidoc::logout())
            .add(
                POST,
                "/logout/everywhere",
                Login,
                "Log out everywhere else: end the caller's other console logins",
                login::logout_everywhere,
            )
            .add(GET, "/me", Login, "The caller", login::me)
            .add(
                PUT,
                "/me/notifications",
                Login,
                "Switch the caller's own notification mails off or on",
                notifications::set,
            )
            .doc(apidoc::notifications())
            .add(
                GET,
                "/questions",
                Staff(crate::access::READERS),
                "The queue, filtered",
                questions::list,
            )
            .doc(apidoc::questions())
            .add(
                GET,
                "/questions/{reference}",
                Staff(crate::access::READERS),
                "A question with its thread",
                questions::detail,
            )
            .add(
                POST,
                "/questions/{reference}/answer",
                Staff(&[WorkQuestions]),
                "Answer (a draft where approval is required)",
                questions::answer,
            )
            .doc(apidoc::answer())
            .add(
                POST,
                "/questions/{reference}/notes",
                Staff(&[WorkQuestions]),
                "Add an internal note",
                questions::note,
            )
            .doc(apidoc::note())
            .add(
                POST,
                "/questions/{reference}/reject",
                Staff(&[WorkQuestions]),
                "Reject with a reason",
                questions::reject,
            )
            .doc(apidoc::reject())
            .add(
                GET,
                "/sessions",
                Staff(&[ReadQueue, ManageSessions]),
                "Sessions",
                sessions::list,
            )
            .add(
                POST,
                "/sessions",
                Staff(&[ManageSessions]),
                "Create a session",
                sessions::create,
            )
            .doc(apidoc::create_session())
            .add(
                PUT,
                "/sessions/{id}",
                Staff(&[ManageSessions]),
                "Edit a session",
                sessions::update,
            )
            .doc(apidoc::update_session())
            .add(
                POST,
                "/sessions/{id}/cancel",
                Staff(&[ManageSessions]),
                "Cancel a session",
                sessions::cancel,
            )
            .doc(apidoc::cancel_session())
            .add(
                GET,
                "/outbox",
                Staff(&[ReadQueue]),
                "Delivery state of messages to citizens",
                outbox::list,
            )
            .doc(apidoc::outbox())
            .add(
                GET,
                "/events",
                Staff(crate::access::READERS),
                "Live change notifications (SSE)",
                events::stream,
            )
            .doc(apidoc::events())
            // Triage and departments (issue 6).
            .add(
                POST,
                "/questions/{reference}/route",
                Staff(&[RouteQuestions]),
                "Route to a department or back to the citizens' office",
                triage::route,
            )
            .doc(apidoc::route())
            .add(
                POST,
                "/questions/{reference}/assign",
                Staff(&[WorkQuestions]),
                "Assign to a staff member",
                triage::assign,
            )
            .doc(apidoc::assign())
            .add(
                POST,
                "/questions/{reference}/return",
                Staff(&[WorkQuestions]),
                "Hand back to the citizens' office with a note",
                triage::return_to_office,
            )
            .doc(apidoc::return_to_office())
            .add(
                POST,
                "/questions/{reference}/approve",
                Staff(&[ApproveAnswers]),
                "Approve (and optionally edit) the draft answer",
                triage::approve,
            )
            .doc(apidoc::approve())
            .add(
                POST,
                "/questions/{reference}/send-back",
                Staff(&[ApproveAnswers]),
                "Send the draft answer back with a note",
                triage::send_back,
            )
            .doc(apidoc::send_back())
            .add(
                GET,
                "/questions/{reference}/text-modules",
                Staff(&[ReadQueue]),
                "Text modules for the answer, placeholders filled",
                triage::text_modules,
            )
            .add(
                GET,
                "/departments",
                Staff(&[ReadQueue]),
                "Departments with rules, text modules and members",
                departments::list,
            )
            .add(
                POST,
                "/departments",
                Staff(&[ManageDepartments]),
                "Create a department",
                departments::create,
            )
            .doc(apidoc::department())
            .add(
                PUT,
                "/departments/{slug}",
                Staff(&[ManageDepartments]),
                "Edit a department",
                departments::update,
            )
            .doc(apidoc::department())
            .add(
                GET,
                "/staff",
                Staff(&[ManageDepartments]),
                "Staff members (no secrets) with roles and department",
                staff::list,
            )
            .add(
                PUT,
                "/staff/{id}/department",
                Staff(&[ManageDepartments]),
                "Move a staff member to a department (or none)",
                staff::set_department,
            )
            .doc(apidoc::membership())
            .add(
                POST,
                "/staff/{id}/logout",
                Staff(&[ManageDepartments]),
                "End every console login of a staff member",
                staff::end_logins,
            )
            .add(
                POST,
                "/staff/{id}/unlock",
                Staff(&[ManageDepartments]),
                "Clear the login lockout of a staff member",
                staff::unlock,
            )
            .add(
                GET,
                "/tokens",
                Staff(&[ManageDepartments]),
                "API tokens (no secrets) with their last use",
                staff::tokens,
            )
            .add(
                GET,
                "/stats",
                Staff(&[ReadStats]),
                "Statistics",
                stats::json,
            )
            .doc(apidoc::stats())
            .add(
                GET,
                "/stats.csv",
                Staff(&[ReadStats]),
                "Statistics as CSV",
                stats::csv,
            )
            .doc(apidoc::stats_csv())
            // Office hours as events (issue 5): series, live moderation, merging, summaries.
            .add(
                POST,
                "/sessions/series",
                Staff(&[ManageSessions]),
                "Create a recurring series of sessions",
                office_hours::create_series,
            )
            .doc(apidoc::create_series())
            .add(
                GET,
                "/sessions/{id}/live",
                Staff(&[ModerateSessions]),
                "Live moderation: the session's queue with me-too counts",
                office_hours::live,
            )
            .add(
                POST,
                "/sessions/{id}/answering",
                Staff(&[ModerateSessions]),
                "Pick the question answered now",
                office_hours::answering,
            )
            .doc(apidoc::answering())
            .add(
                POST,
                "/questions/{reference}/merge",
                Staff(&[ModerateSessions]),
                "Merge duplicate questions into this one",
                office_hours::merge,
            )
            .doc(apidoc::merge())
            // The moderation board and the stage view (issue 18).
            .add(
                POST,
                "/sessions/{id}/suggestions/accept",
                Staff(&[ModerateSessions]),
                "Accept a suggested duplicate: merge it into the question",
                board::accept,
            )
            .doc(apidoc::suggestion())
            .add(
                POST,
                "/sessions/{id}/suggestions/dismiss",
                Staff(&[ModerateSessions]),
                "Dismiss a suggested duplicate for the session",
                board::dismiss,
            )
            .doc(apidoc::suggestion())
            .add(
                POST,
                "/sessions/{id}/stage-link",
                Staff(&[ManageSessions]),
                "Create the stage view's secret link (replaces an earlier one)",
                stage::create_link,
            )
            .add(
                DELETE,
                "/sessions/{id}/stage-link",
                Staff(&[ManageSessions]),
                "Revoke the stage view's secret link",
                stage::revoke_link,
            )
            .add(
                PUT,
                "/sessions/{id}/stage-text",
                Staff(&[ModerateSessions]),
                "The stage text of the question answered now (shortened by the host)",
                stage::set_text,
            )
            .doc(apidoc::stage_text())
            .add(
                GET,
                "/sessions/{id}/summary",
                Staff(&[ManageSessions]),
                "The session's summary",
                office_hours::summary,
            )
            .add(
                PUT,
                "/sessions/{id}/summary",
                Staff(&[ManageSessions]),
                "Edit the session's summary",
                office_hours::edit_summary,
            )
            .doc(apidoc::edit_summary())
            .add(
                POST,
                "/sessions/{id}/summary/draft",
                Staff(&[ManageSessions]),
                "Rebuild the summary draft from the answered questions",
                office_hours::draft_summary,
            )
            .doc(apidoc::summary_change())
            .add(
                POST,
                "/sessions/{id}/summary/publish",
                Staff(&[ManageSessions]),
                "Publish the summary",
                office_hours::publish_summary,
            )
            .doc(apidoc::summary_change())
            // Audit trail (issue 7): admin and data protection officer.
            .add(
                GET,
                "/audit",
                Staff(&[ViewAudit]),
                "The audit trail, filtered",
                audit::list,
            )
            .doc(apidoc::audit())
            .add(
                GET,
                "/audit/verify",
                Staff(&[ViewAudit]),
                "Verify the audit trail's hash chain",
                audit::verify,
            )
            // Backup (issue 15): the running server copies its store and keys.
            .add(
                POST,
                "/backup",
                Staff(&[ManageDepartments]),
                "A consistent backup of the store and its keys (sled)",
                backup::create,
            )
            .doc(apidoc::backup())
            // Channel status (issue 20): the Threema Gateway's credits.
            .add(
                GET,
                "/channels",
                Staff(&[ManageDepartments]),
                "How the channels are doing (Threema Gateway credits)",
                channels::list,
            )
            .finish()
            // Web hardening: body size, CSRF for every state-changing route, no caching.
            .layer(RequestBodyLimitLayer::new(self.limits.api_body_bytes))
            .layer(middleware::from_fn(csrf::guard))
            .layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store"),
            ));
        Router::new()
            .route("/staff", get(page))
            .route("/staff/", get(page))
            .route("/staff/assets/{name}", get(asset))
            .route("/favicon.ico", get(favicon))
            .merge(oidc::router())
            // The stage view: public behind its secret, nothing of the console.
            .route("/buehne/{secret}", get(routes::stage::page))
            .route("/buehne/{secret}/events", get(routes::stage::events))
            .route("/buehne/{secret}/{file}", get(routes::stage::file))
            // Every request to the API, whoever added its route, goes into the audit trail.
            // Outermost, `auth::identify` finds the caller once; the audit layer, the CSRF
            // guard, the route table's access guard and the handlers read what it found.
            .nest(
                "/api/v1",
                api.route_layer(middleware::from_fn_with_state(
                    self.clone(),
                    crate::audit::record,
                ))
                .route_layer(middleware::from_fn_with_state(self.clone(), auth::identify)),
            )
            .with_state(self.clone())
    }
}

async fn page() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("../assets/index.html"),
    )
}

/// Every file under `/staff/assets/`: the style sheet and the ES modules of the console
/// (`index.html` loads `main.js`, which imports the others). Any other name is a 404.
pub const ASSETS: &[Asset] = &[
    Asset::css("console.css", include_str!("../assets/console.css")),
    Asset::js("main.js", include_str!("../assets/main.js")),
    Asset::js("api.js", include_str!("../assets/api.js")),
    Asset::js("audit.js", include_str!("../assets/audit.js")),
    Asset::js("departments.js", include_str!("../assets/departments.js")),
    Asset::js("dom.js", include_str!("../assets/dom.js")),
    Asset::js("events.js", include_str!("../assets/events.js")),
    Asset::js("filters.js", include_str!("../assets/filters.js")),
    Asset::js("format.js", include_str!("../assets/format.js")),
    Asset::js("labels.js", include_str!("../assets/labels.js")),
    Asset::js("live.js", include_str!("../assets/live.js")),
    Asset::js("login.js", include_str!("../assets/login.js")),
    Asset::js("members.js", include_str!("../assets/members.js")),
    Asset::js("question.js", include_str!("../assets/question.js")),
    Asset::js("queue.js", include_str!("../assets/queue.js")),
    Asset::js("router.js", include_str!("../assets/router.js")),
    Asset::js("sessions.js", include_str!("../assets/sessions.js")),
    Asset::js("shortcuts.js", include_str!("../assets/shortcuts.js")),
    Asset::js("state.js", include_str!("../assets/state.js")),
    Asset::js("stats.js", include_str!("../assets/stats.js")),
    Asset::js("summary.js", include_str!("../assets/summary.js")),
    Asset::js("views.js", include_str!("../assets/views.js")),
];

/// The icon browsers ask for on every page (an SVG: one file for every size).
async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../assets/favicon.svg"),
    )
}

async fn asset(Path(name): Path<String>) -> Response {
    match Asset::find(ASSETS, &name) {
        Some(a) => ([(header::CONTENT_TYPE, a.content_type)], a.body).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
