//! The stage view for the stream (issue 18, point 3): a page for an OBS browser source or a
//! second screen at `/buehne/{secret}`, showing the session's title and the question answered
//! now as the host approved it (no name, no reference), updated over its own event stream.
//! The press office creates and revokes the secret link; the host may shorten the text. The
//! page loads nothing of the console: its own style sheet and module under the same secret.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use sprechstunde_core::SessionId;
use tokio_stream::wrappers::BroadcastStream;

use super::office_hours::require_moderator;
use crate::Console;
use crate::accounts::{random_secret, sha256_hex};
use crate::auth::Staff;
use crate::error::ApiError;

/// The longest stage text the host may set (large type: a few lines).
const MAX_STAGE_TEXT: usize = 400;

/// `POST /sessions/{id}/stage-link`: a new secret link (an earlier one stops working).
pub(crate) async fn create_link(
    State(console): State<Console>,
    staff: Staff,
    Path(id): Path<u64>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    staff.require(sprechstunde_core::Permission::ManageSessions)?;
    let id = SessionId(id);
    exists(&console, id).await?;
    let secret = random_secret(24).map_err(|_| ApiError::Unavailable)?;
    console.live.set_stage_secret(id, Some(sha256_hex(&secret)));
    Ok((
        StatusCode::CREATED,
        Json(json!({ "path": format!("/buehne/{secret}") })),
    ))
}

/// `DELETE /sessions/{id}/stage-link`: the link stops working at once (open pages too).
pub(crate) async fn revoke_link(
    State(console): State<Console>,
    staff: Staff,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    staff.require(sprechstunde_core::Permission::ManageSessions)?;
    let id = SessionId(id);
    exists(&console, id).await?;
    console.live.set_stage_secret(id, None);
    Ok(Json(json!({ "revoked": true })))
}

/// Body of `PUT /sessions/{id}/stage-text`.
#[derive(Debug, Deserialize)]
pub(crate) struct StageTextBody {
    /// The text to show for the question answered now; `null` or empty shows it as asked.
    text: Option<String>,
}

/// `PUT /sessions/{id}/stage-text`: the host's (shortened) text of the question answered now.
pub(crate) async fn set_text(
    State(console): State<Console>,
    staff: Staff,
    Path(id): Path<u64>,
    Json(body): Json<StageTextBody>,
) -> Result<Json<Value>, ApiError> {
    require_moderator(&staff)?;
    let id = SessionId(id);
    let answering = console
        .office
        .read(move |state, _, _| state.session(id).map(|s| s.answering))
        .await
        .ok_or(ApiError::NotFound)?
        .ok_or_else(|| ApiError::Invalid("no question is being answered now".into()))?;
    let text = body
        .text
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty());
    if text
        .as_ref()
        .is_some_and(|t| t.chars().count() > MAX_STAGE_TEXT)
    {
        return Err(ApiError::Invalid(format!(
            "the stage text has at most {MAX_STAGE_TEXT} characters"
        )));
    }
    console.live.set_stage_text(id, answering, text);
    Ok(Json(now_json(&console, id).await?))
}

async fn exists(console: &Console, id: SessionId) -> Result<(), ApiError> {
    console
        .office
        .read(move |state, _, _| state.session(id).map(|_| ()))
        .await
        .ok_or(ApiError::NotFound)
}

/// What the stage shows now: the title and the approved text (or `null`).
async fn now_json(console: &Console, id: SessionId) -> Result<Value, ApiError> {
    let (title, answering) = console
        .office
        .read(move |state, _, _| {
            let session = state.session(id)?;
            let answering = session
                .answering
                .and_then(|q| state.question(q))
                .map(|q| (q.id, q.first_text().to_owned()));
            Some((session.title.clone(), answering))
        })
        .await
        .ok_or(ApiError::NotFound)?;
    let text = answering.map(|(q, asked)| {
        console.live.stage_text(id, q).unwrap_or_else(|| {
            crate::neutralise::neutralise(&asked)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
    });
    Ok(json!({ "title": title, "text": text }))
}

/// The session of a presented secret, or 404.
fn session_of(console: &Console, secret: &str) -> Result<SessionId, StatusCode> {
    let wellformed = !secret.is_empty()
        && secret.len() <= 64
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !wellformed {
        return Err(StatusCode::NOT_FOUND);
    }
    console
        .live
        .stage_session(&sha256_hex(secret))
        .ok_or(StatusCode::NOT_FOUND)
}

fn private(response: impl IntoResponse) -> Response {
    // The secret is in the address: keep it out of caches and referrers.
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        response,
    )
        .into_response()
}

/// `GET /buehne/{secret}`: the stage page.
pub(crate) async fn page(State(console): State<Console>, Path(secret): Path<String>) -> Response {
    if let Err(status) = session_of(&console, &secret) {
        return private((status, "Dieser Link ist nicht gültig."));
    }
    let html = include_str!("../../assets/stage.html").replace("{secret}", &secret);
    private(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html))
}

/// `GET /buehne/{secret}/{file}`: the stage's style sheet and module, and `now`.
pub(crate) async fn file(
    State(console): State<Console>,
    Path((secret, file)): Path<(String, String)>,
) -> Response {
    let id = match session_of(&console, &secret) {
        Ok(id) => id,
        Err(status) => return private(status),
    };
    match file.as_str() {
        "stage.css" => private((
            [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
            include_str!("../../assets/stage.css"),
        )),
        "stage.js" => private((
            [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
            include_str!("../../assets/stage.js"),
        )),
        "now" => match now_json(&console, id).await {
            Ok(v) => private(Json(v)),
            Err(e) => e.into_response(),
        },
        _ => private(StatusCode::NOT_FOUND),
    }
}

/// `GET /buehne/{secret}/events`: `changed` whenever the stage may show something else; the
/// stream ends when the link is revoked.
pub(crate) async fn events(
    State(console): State<Console>,
    Path(secret): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, StatusCode> {
    let id = session_of(&console, &secret)?;
    let hash = sha256_hex(&secret);
    let office = BroadcastStream::new(console.office.subscribe()).map(|_| ());
    let stage = BroadcastStream::new(console.live.subscribe()).map(|_| ());
    let stop = console.shutdown.clone().cancelled_owned();
    let live = console.clone();
    let stream = futures_util::stream::select(office, stage)
        .take_until(stop)
        .take_while(move |()| {
            let valid = live.live.stage_session(&hash) == Some(id);
            async move { valid }
        })
        .map(|()| Ok(Event::default().event("changed").data("{}")));
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
