//! Public pages: upcoming office hours (`/sprechstunden`), their iCal feed (`/sessions.ics`)
//! and published summaries (`/zusammenfassungen/{id}`, with `.md` and `.json` exports).
//!
//! No login, no scripts, no inline styles: plain German HTML that works with a strict
//! content security policy and with screen readers.

pub mod ical;
mod pages;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sprechstunde_core::{Session, SessionId, SessionStatus};
use sprechstunde_runtime::Office;

/// The public pages of one office.
#[derive(Clone, Debug)]
pub struct Public {
    office: Office,
    name: String,
}

impl Public {
    /// Public pages for `office`, titled with the municipality's `name`.
    pub fn new(office: Office, name: impl Into<String>) -> Self {
        Public {
            office,
            name: name.into(),
        }
    }

    /// The routes.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/sessions.ics", get(calendar))
            .route("/sprechstunden", get(upcoming))
            .route("/zusammenfassungen/{file}", get(summary))
            .route("/oeffentlich/public.css", get(style))
            .with_state(self.clone())
    }
}

/// Sessions the public should see: not ended, and cancelled ones only while still ahead.
fn upcoming_sessions(
    sessions: impl Iterator<Item = Session>,
    now: jiff::Timestamp,
) -> Vec<Session> {
    let mut list: Vec<Session> = sessions
        .filter(|s| match s.status {
            SessionStatus::Scheduled | SessionStatus::Live => s.ends_at > now,
            SessionStatus::Cancelled => s.starts_at > now,
            SessionStatus::Closed => false,
        })
        .collect();
    list.sort_by_key(|s| (s.starts_at, s.id));
    list
}

async fn calendar(State(public): State<Public>) -> Response {
    let body = public
        .office
        .read(|state, _, now| {
            let sessions = upcoming_sessions(state.sessions().cloned(), now);
            let refs: Vec<&Session> = sessions.iter().collect();
            ical::feed(&public.name, "sprechstunde", &refs, now)
        })
        .await;
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"sessions.ics\"",
            ),
        ],
        body,
    )
        .into_response()
}

async fn upcoming(State(public): State<Public>) -> Response {
    let body = public
        .office
        .read(|state, engine, now| {
            let sessions = upcoming_sessions(state.sessions().cloned(), now);
            let published: Vec<_> = state
                .summaries()
                .rev()
                .filter(|s| s.is_published())
                .cloned()
                .collect();
            pages::upcoming(&public.name, engine, &sessions, &published, now)
        })
        .await;
    html(body)
}

async fn summary(State(public): State<Public>, Path(file): Path<String>) -> Response {
    let (id, format) = match file.rsplit_once('.') {
        Some((id, "md")) => (id, Format::Markdown),
        Some((id, "json")) => (id, Format::Json),
        Some(_) => return not_found(),
        None => (file.as_str(), Format::Html),
    };
    let Ok(id) = id.parse::<u64>() else {
        return not_found();
    };
    let found = public
        .office
        .read(|state, engine, _| {
            state
                .summary(SessionId(id))
                .filter(|s| s.is_published())
                .map(|s| {
                    let when = engine
                        .policy()
                        .calendar
                        .format_datetime(s.starts_at, sprechstunde_core::Lang::De);
                    (s.clone(), when)
                })
        })
        .await;
    let Some((summary, when)) = found else {
        return not_found();
    };
    match format {
        Format::Html => html(pages::summary(&public.name, &summary, &when)),
        Format::Markdown => (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            summary.to_markdown(&when),
        )
            .into_response(),
        Format::Json => axum::Json(pages::summary_json(&summary)).into_response(),
    }
}

enum Format {
    Html,
    Markdown,
    Json,
}

async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../assets/public.css"),
    )
}

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, html(pages::not_found())).into_response()
}

/// Channel names for citizens, e.g. "Web-Chat, Telegram".
pub(crate) fn channel_names(channels: &[sprechstunde_core::ChannelKind]) -> String {
    channels
        .iter()
        .map(|c| match c {
            sprechstunde_core::ChannelKind::Web => "Web-Chat",
            sprechstunde_core::ChannelKind::Telegram => "Telegram",
            sprechstunde_core::ChannelKind::Matrix => "Matrix",
        })
        .collect::<Vec<_>>()
        .join(", ")
}
