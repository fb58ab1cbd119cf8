//! Office hours as events: recurring series, live moderation (questions with "me too" counts,
//! "answering now"), merging duplicates, and the session summary the press office publishes.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sprechstunde_core::{
    Input, OfficeHoursAction, Permission, QuestionId, Queue, Receipt, Repeat, SeriesRule,
    SessionId, StaffAction, SummaryItem,
};

use super::sessions::SessionInput;
use crate::Console;
use crate::auth::Staff;
use crate::error::ApiError;
use crate::views::{self, SessionView};

/// A series: the first session plus the rule.
#[derive(Debug, Deserialize)]
pub(crate) struct SeriesInput {
    #[serde(flatten)]
    session: SessionInput,
    /// `weekly` or `monthly` (same nth weekday).
    repeat: Repeat,
    #[serde(default)]
    count: Option<u32>,
    /// Last local date, `YYYY-MM-DD`.
    #[serde(default)]
    until: Option<String>,
}

pub(crate) async fn submit(
    console: &Console,
    staff: &Staff,
    action: StaffAction,
) -> Result<Receipt, ApiError> {
    Ok(console
        .office
        .submit(Input::Staff {
            actor: staff.as_ref(),
            action,
        })
        .await??)
}

/// Host, press office, citizens' office and admin may moderate a live session.
pub(crate) fn require_moderator(staff: &Staff) -> Result<(), ApiError> {
    staff.require(Permission::ModerateSessions)
}

/// `POST /sessions/series`: creates every session of a recurring series.
pub(crate) async fn create_series(
    State(console): State<Console>,
    staff: Staff,
    Json(input): Json<SeriesInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    staff.require(Permission::ManageSessions)?;
    let zone = console.office.engine().policy().calendar.zone.clone();
    let until = input
        .until
        .as_deref()
        .map(|d| {
            d.trim()
                .parse::<jiff::civil::Date>()
                .map_err(|_| ApiError::Invalid(format!("{d:?} is not a date (e.g. 2027-06-30)")))
        })
        .transpose()?;
    let rule = SeriesRule {
        repeat: input.repeat,
        count: input.count,
        until,
    };
    let draft = input.session.draft(&zone)?;
    let Receipt::Series(ids) = submit(
        &console,
        &staff,
        StaffAction::OfficeHours(OfficeHoursAction::CreateSeries { draft, rule }),
    )
    .await?
    else {
        return Err(ApiError::Unavailable);
    };
    let sessions: Vec<SessionView> = console
        .office
        .read(|state, engine, _| {
            ids.iter()
                .filter_map(|id| state.session(*id).map(|s| views::session(engine, s)))
                .collect()
        })
        .await;
    Ok((StatusCode::CREATED, Json(json!({ "sessions": sessions }))))
}

/// One question in the live moderation view.
#[derive(Debug, Serialize)]
pub(crate) struct LiveQuestion {
    reference: String,
    channel: String,
    status: String,
    text: String,
    /// When it arrived, RFC 3339 (the board shows how long it has waited).
    arrived_at: String,
    /// How many others asked the same (merged duplicates).
    me_too: usize,
    /// References of the merged duplicates.
    merged: Vec<String>,
    answering: bool,
    /// Open questions of the session that look like the same question, best first.
    suggested_duplicates: Vec<SuggestedDuplicate>,
}

/// A suggested duplicate in the live view.
#[derive(Debug, Serialize)]
pub(crate) struct SuggestedDuplicate {
    reference: String,
    /// Similarity, 0–1 ([`sprechstunde_similarity`]).
    score: f32,
}

/// `GET /sessions/{id}/live`: the questions in the session's queue (duplicates folded into
/// their primary; overflow beyond the cap is the citizens' office's), open ones first. Only
/// the questions the caller may see ([`crate::access::visible`]): department staff who also
/// host see their department's; `me_too` counts every duplicate, `merged` lists the visible.
/// Each open question lists its `suggested_duplicates` among the visible open ones, from the
/// session's index beside the office state ([`crate::live`]), worked out after the read.
pub(crate) async fn live(
    State(console): State<Console>,
    staff: Staff,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    require_moderator(&staff)?;
    let id = SessionId(id);
    let member = staff.member;
    let read = console
        .office
        .read(move |state, engine, _| {
            let session = state.session(id)?;
            let visible = |q: &&sprechstunde_core::Question| crate::access::visible(&member, q);
            let mut open = Vec::new();
            let mut questions: Vec<(bool, u64, QuestionId, LiveQuestion)> = state
                .questions()
                .filter(|q| q.queue == Queue::Session(id) && q.merged_into.is_none())
                .filter(visible)
                .map(|q| {
                    let me_too = state.merged_into(q.id).count();
                    let merged: Vec<String> = state
                        .merged_into(q.id)
                        .filter(visible)
                        .map(|m| m.reference.to_string())
                        .collect();
                    if q.is_open() {
                        open.push((q.id, q.first_text().to_owned()));
                    }
                    (
                        !q.is_open(),
                        q.id.0,
                        q.id,
                        LiveQuestion {
                            reference: q.reference.to_string(),
                            channel: q.channel.as_str().into(),
                            status: q.status.as_str().into(),
                            text: crate::neutralise::neutralise(q.first_text()).into_owned(),
                            arrived_at: q.created_at.to_string(),
                            me_too,
                            merged,
                            answering: session.answering == Some(q.id),
                            suggested_duplicates: Vec::new(),
                        },
                    )
                })
                .collect();
            questions.sort_by_key(|(done, id, _, _)| (*done, *id));
            let answering = session
                .answering
                .and_then(|q| state.question(q))
                .filter(visible)
                .map(|q| q.reference.to_string());
            Some((views::session(engine, session), answering, questions, open))
        })
        .await;
    let Some((session, answering, questions, open)) = read else {
        return Err(ApiError::NotFound);
    };
    // Outside the state lock: the similarity index follows the open questions.
    let mut suggestions = console.live.suggestions(id, &open);
    let references: std::collections::HashMap<QuestionId, String> = questions
        .iter()
        .map(|(_, _, qid, q)| (*qid, q.reference.clone()))
        .collect();
    let questions: Vec<LiveQuestion> = questions
        .into_iter()
        .map(|(_, _, qid, mut q)| {
            q.suggested_duplicates = suggestions
                .remove(&qid)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|s| {
                    references.get(&s.id).map(|r| SuggestedDuplicate {
                        reference: r.clone(),
                        score: (s.score.clamp(0.0, 1.0) * 100.0).round() / 100.0,
                    })
                })
                .collect();
            q
        })
        .collect();
    Ok(Json(json!({
        "session": session,
        "answering": answering,
        "questions": questions,
    })))
}

/// Body of `POST /sessions/{id}/answering`.
#[derive(Debug, Deserialize)]
pub(crate) struct AnsweringBody {
    /// The question being answered now; `null` clears it.
    reference: Option<String>,
}

/// `POST /sessions/{id}/answering`: picks the question answered now.
pub(crate) async fn answering(
    State(console): State<Console>,
    staff: Staff,
    Path(id): Path<u64>,
    Json(body): Json<AnsweringBody>,
) -> Result<Json<Value>, ApiError> {
    require_moderator(&staff)?;
    let question = match body.reference.as_deref() {
        Some(r) => Some(crate::access::question(&console, &staff, r).await?),
        None => None,
    };
    let session = SessionId(id);
    submit(
        &console,
        &staff,
        StaffAction::OfficeHours(OfficeHoursAction::AnsweringNow { session, question }),
    )
    .await?;
    live(State(console), staff, Path(id)).await
}

/// Body of `POST /questions/{reference}/merge`.
#[derive(Debug, Deserialize)]
pub(crate) struct MergeBody {
    /// References of the duplicates.
    duplicates: Vec<String>,
}

/// `POST /questions/{reference}/merge`: merges duplicates into this question.
pub(crate) async fn merge(
    State(console): State<Console>,
    staff: Staff,
    Path(reference): Path<String>,
    Json(body): Json<MergeBody>,
) -> Result<Json<Value>, ApiError> {
    require_moderator(&staff)?;
    let primary = crate::access::question(&console, &staff, &reference).await?;
    let mut duplicates = Vec::with_capacity(body.duplicates.len());
    for d in &body.duplicates {
        duplicates.push(crate::access::question(&console, &staff, d).await?);
    }
    submit(
        &console,
        &staff,
        StaffAction::OfficeHours(OfficeHoursAction::Merge {
            primary,
            duplicates,
        }),
    )
    .await?;
    let merged: Vec<String> = console
        .office
        .read(|state, _, _| {
            state
                .merged_into(primary)
                .map(|q| q.reference.to_string())
                .collect()
        })
        .await;
    Ok(Json(json!({ "reference": reference, "merged": merged })))
}

/// The summary as staff see it ([`views::summary_for_staff`]).
async fn summary_json(console: &Console, id: SessionId) -> Result<Json<Value>, ApiError> {
    console
        .office
        .read(|state, _, _| {
            state
                .summary(id)
                .map(|s| json!(views::summary_for_staff(s)))
        })
        .await
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// `GET /sessions/{id}/summary`: the draft or published summary.
pub(crate) async fn summary(
    State(console): State<Console>,
    staff: Staff,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    staff.require(Permission::ManageSessions)?;
    summary_json(&console, SessionId(id)).await
}

/// `POST /sessions/{id}/summary/draft`: (re)builds the draft from the answered questions.
pub(crate) async fn draft_summary(
    State(console): State<Console>,
    staff: Staff,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    staff.require(Permission::ManageSessions)?;
    submit(
        &console,
        &staff,
        StaffAction::OfficeHours(OfficeHoursAction::DraftSummary(SessionId(id))),
    )
    .await?;
    summary_json(&console, SessionId(id)).await
}

/// Body of `PUT /sessions/{id}/summary`.
#[derive(Debug, Deserialize)]
pub(crate) struct SummaryBody {
    items: Vec<SummaryItem>,
}

/// `PUT /sessions/{id}/summary`: replaces the items (edit, reorder, remove).
pub(crate) async fn edit_summary(
    State(console): State<Console>,
    staff: Staff,
    Path(id): Path<u64>,
    Json(body): Json<SummaryBody>,
) -> Result<Json<Value>, ApiError> {
    staff.require(Permission::ManageSessions)?;
    let session = SessionId(id);
    submit(
        &console,
        &staff,
        StaffAction::OfficeHours(OfficeHoursAction::EditSummary {
            session,
            items: body.items,
        }),
    )
    .await?;
    summary_json(&console, session).await
}

/// `POST /sessions/{id}/summary/publish`.
pub(crate) async fn publish_summary(
    State(console): State<Console>,
    staff: Staff,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    staff.require(Permission::ManageSessions)?;
    submit(
        &console,
        &staff,
        StaffAction::OfficeHours(OfficeHoursAction::PublishSummary(SessionId(id))),
    )
    .await?;
    summary_json(&console, SessionId(id)).await
}
