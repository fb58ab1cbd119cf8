//! Sessions: list, create, edit, cancel.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use sprechstunde_core::{
    Input, Permission, Receipt, SessionAction, SessionDraft, SessionId, StaffAction,
};

use crate::Console;
use crate::auth::Staff;
use crate::error::ApiError;
use crate::views::{self, SessionView};

/// What the API accepts for a session.
#[derive(Debug, Deserialize)]
pub(crate) struct SessionInput {
    title: String,
    host: String,
    #[serde(default)]
    description: String,
    starts_at: String,
    ends_at: String,
    #[serde(default)]
    question_cap: Option<u32>,
    #[serde(default)]
    presubmission_minutes: Option<i64>,
    /// `web`, `telegram`, `matrix`; empty or missing for every channel.
    #[serde(default)]
    channels: Vec<sprechstunde_core::ChannelKind>,
}

/// Parses RFC 3339, or local wall-clock time in the office's time zone.
pub fn parse_time(text: &str, zone: &jiff::tz::TimeZone) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    text.parse::<jiff::civil::DateTime>()
        .map_err(|_| format!("{text:?} is not a date and time (e.g. 2026-12-01T17:00)"))?
        .to_zoned(zone.clone())
        .map(|z| z.timestamp())
        .map_err(|e| e.to_string())
}

impl SessionInput {
    pub(crate) fn draft(self, zone: &jiff::tz::TimeZone) -> Result<SessionDraft, ApiError> {
        let starts_at = parse_time(&self.starts_at, zone).map_err(ApiError::Invalid)?;
        let ends_at = parse_time(&self.ends_at, zone).map_err(ApiError::Invalid)?;
        Ok(SessionDraft {
            channels: self.channels,
            title: self.title,
            host: self.host,
            description: self.description,
            starts_at,
            ends_at,
            question_cap: self.question_cap,
            presubmission: self
                .presubmission_minutes
                .map(SessionDraft::window_from_minutes)
                .transpose()
                .map_err(|e| ApiError::Invalid(e.to_string()))?,
        })
    }
}

async fn view(console: &Console, id: SessionId) -> Result<Json<SessionView>, ApiError> {
    console
        .office
        .read(|state, engine, _| state.session(id).map(|s| views::session(engine, s)))
        .await
        .map(Json)
        .ok_or(ApiError::NotFound)
}

pub(crate) async fn list(
    State(console): State<Console>,
    staff: Staff,
) -> Result<Json<Value>, ApiError> {
    if !staff.member.may(Permission::ReadQueue) {
        staff.require(Permission::ManageSessions)?;
    }
    let mut sessions = console
        .office
        .read(|state, engine, _| {
            state
                .sessions()
                .map(|s| (s.starts_at, views::session(engine, s)))
                .collect::<Vec<_>>()
        })
        .await;
    sessions.sort_by_key(|s| std::cmp::Reverse(s.0));
    let sessions: Vec<_> = sessions.into_iter().map(|(_, s)| s).collect();
    Ok(Json(json!({ "sessions": sessions })))
}

async fn save(
    console: &Console,
    staff: &Staff,
    action: StaffAction,
) -> Result<SessionId, ApiError> {
    staff.require(Permission::ManageSessions)?;
    match console
        .office
        .submit(Input::Staff {
            actor: staff.as_ref(),
            action,
        })
        .await??
    {
        Receipt::Session(id) => Ok(id),
        _ => Err(ApiError::Unavailable),
    }
}

pub(crate) async fn create(
    State(console): State<Console>,
    staff: Staff,
    Json(input): Json<SessionInput>,
) -> Result<(StatusCode, Json<SessionView>), ApiError> {
    let draft = input.draft(&console.office.engine().policy().calendar.zone)?;
    let id = save(
        &console,
        &staff,
        StaffAction::Session(SessionAction::Create(draft)),
    )
    .await?;
    Ok((StatusCode::CREATED, view(&console, id).await?))
}

pub(crate) async fn update(
    State(console): State<Console>,
    staff: Staff,
    Path(id): Path<u64>,
    Json(input): Json<SessionInput>,
) -> Result<Json<SessionView>, ApiError> {
    let draft = input.draft(&console.office.engine().policy().calendar.zone)?;
    let id = SessionId(id);
    save(
        &console,
        &staff,
        StaffAction::Session(SessionAction::Update { id, draft }),
    )
    .await?;
    view(&console, id).await
}

pub(crate) async fn cancel(
    State(console): State<Console>,
    staff: Staff,
    Path(id): Path<u64>,
) -> Result<Json<SessionView>, ApiError> {
    let id = SessionId(id);
    save(
        &console,
        &staff,
        StaffAction::Session(SessionAction::Cancel(id)),
    )
    .await?;
    view(&console, id).await
}
