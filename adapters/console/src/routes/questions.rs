//! The queue and single questions: list, read, answer, note, reject.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use sprechstunde_core::triage::fold;
use sprechstunde_core::{Input, Permission, QuestionId, QuestionStatus, Queue, StaffAction};

use crate::Console;
use crate::auth::Staff;
use crate::error::ApiError;
use crate::views::{self, Detail};

/// Queue filters (all optional; see docs/api.md).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filter {
    #[serde(default)]
    queue: Option<String>,
    #[serde(default)]
    status: Option<String>,
    /// Department slug, or `none` for unrouted questions.
    #[serde(default)]
    department: Option<String>,
    /// `web`, `telegram`, `matrix`.
    #[serde(default)]
    channel: Option<String>,
    /// Session id.
    #[serde(default)]
    session: Option<u64>,
    /// Only overdue questions.
    #[serde(default)]
    overdue: Option<bool>,
    /// Staff id, `me` or `none`.
    #[serde(default)]
    assignee: Option<String>,
    /// Only questions with a draft awaiting approval.
    #[serde(default)]
    draft: Option<bool>,
    /// Full-text search over the thread (case- and umlaut-insensitive, all words).
    #[serde(default)]
    q: Option<String>,
}

pub(crate) async fn list(
    State(console): State<Console>,
    staff: Staff,
    Query(filter): Query<Filter>,
) -> Result<Json<Value>, ApiError> {
    staff.require_any(crate::access::READERS)?;
    let queue = filter.queue.as_deref().unwrap_or("all");
    let want_queue = |q: Queue| match queue {
        "live" => matches!(q, Queue::Session(_)),
        "office" => q == Queue::CitizensOffice,
        _ => true,
    };
    if !matches!(queue, "live" | "office" | "all") {
        return Err(ApiError::BadRequest(
            "queue must be live, office or all".into(),
        ));
    }
    let status = match filter.status.as_deref().unwrap_or("open") {
        "all" => None,
        "open" => Some(QuestionStatus::Open),
        "answered" => Some(QuestionStatus::Answered),
        "rejected" => Some(QuestionStatus::Rejected),
        "withdrawn" => Some(QuestionStatus::Withdrawn),
        _ => {
            return Err(ApiError::BadRequest(
                "status must be open, answered, rejected, withdrawn or all".into(),
            ));
        }
    };
    if let Some(c) = filter.channel.as_deref()
        && !matches!(c, "web" | "telegram" | "matrix")
    {
        return Err(ApiError::BadRequest(
            "channel must be web, telegram or matrix".into(),
        ));
    }
    let assignee = match filter.assignee.as_deref() {
        None => None,
        Some("me") => Some(Some(staff.member.id.0)),
        Some("none") => Some(None),
        Some(id) => Some(Some(id.parse::<u64>().map_err(|_| {
            ApiError::BadRequest("assignee must be a staff id, me or none".into())
        })?)),
    };
    let words: Vec<String> = filter
        .q
        .as_deref()
        .map(fold)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let member = staff.member.clone();
    let questions = console
        .office
        .read(move |state, engine, now| {
            let today = crate::access::today(engine, now);
            let department = match filter.department.as_deref() {
                None => Ok(None),
                Some("none") => Ok(Some(None)),
                Some(slug) => state
                    .department_by_slug(slug)
                    .map(|d| Some(Some(d.id)))
                    .ok_or_else(|| ApiError::BadRequest(format!("no department {slug:?}"))),
            }?;
            Ok::<_, ApiError>(
                state
                    .questions()
                    .filter(|q| {
                        want_queue(q.queue)
                            && status.is_none_or(|s| q.status == s)
                            && crate::access::visible(&member, q)
                            && department.is_none_or(|d| q.department == d)
                            && filter
                                .channel
                                .as_deref()
                                .is_none_or(|c| q.channel.as_str() == c)
                            && filter
                                .session
                                .is_none_or(|s| q.session.map(|x| x.0) == Some(s))
                            && (filter.overdue != Some(true) || q.is_overdue(today))
                            && (filter.draft != Some(true) || q.draft.is_some())
                            && assignee.is_none_or(|a| q.assignee.as_ref().map(|x| x.id.0) == a)
                            && matches_words(q, &words)
                    })
                    .map(|q| views::summary(state, q, today))
                    .collect::<Vec<_>>(),
            )
        })
        .await?;
    Ok(Json(json!({ "questions": questions })))
}

/// Whether every word occurs somewhere in the thread or the reference.
fn matches_words(q: &sprechstunde_core::Question, words: &[String]) -> bool {
    if words.is_empty() {
        return true;
    }
    let mut hay = fold(&q.reference.to_string());
    for e in &q.entries {
        hay.push('\n');
        hay.push_str(&fold(&e.text));
    }
    words.iter().all(|w| hay.contains(w.as_str()))
}

pub(crate) async fn detail_of(console: &Console, id: QuestionId) -> Result<Json<Detail>, ApiError> {
    console
        .office
        .read(|state, engine, now| {
            let today = crate::access::today(engine, now);
            state.question(id).map(|q| views::detail(state, q, today))
        })
        .await
        .map(Json)
        .ok_or(ApiError::NotFound)
}

pub(crate) async fn detail(
    State(console): State<Console>,
    staff: Staff,
    Path(reference): Path<String>,
) -> Result<Json<Detail>, ApiError> {
    staff.require_any(crate::access::READERS)?;
    let id = crate::access::question(&console, &staff, &reference).await?;
    detail_of(&console, id).await
}

/// A text body.
#[derive(Debug, Deserialize)]
pub(crate) struct TextBody {
    text: String,
}

/// A reason body.
#[derive(Debug, Deserialize)]
pub(crate) struct ReasonBody {
    reason: String,
}

pub(crate) async fn act(
    console: &Console,
    staff: &Staff,
    reference: &str,
    action: impl FnOnce(QuestionId) -> StaffAction,
) -> Result<Json<Detail>, ApiError> {
    staff.require(Permission::WorkQuestions)?;
    let id = crate::access::question(console, staff, reference).await?;
    console
        .office
        .submit(Input::Staff {
            actor: staff.as_ref(),
            action: action(id),
        })
        .await??;
    detail_of(console, id).await
}

pub(crate) async fn answer(
    State(console): State<Console>,
    staff: Staff,
    Path(reference): Path<String>,
    Json(body): Json<TextBody>,
) -> Result<Json<Detail>, ApiError> {
    act(&console, &staff, &reference, |question| {
        StaffAction::Answer {
            question,
            text: body.text,
        }
    })
    .await
}

pub(crate) async fn note(
    State(console): State<Console>,
    staff: Staff,
    Path(reference): Path<String>,
    Json(body): Json<TextBody>,
) -> Result<Json<Detail>, ApiError> {
    act(&console, &staff, &reference, |question| StaffAction::Note {
        question,
        text: body.text,
    })
    .await
}

pub(crate) async fn reject(
    State(console): State<Console>,
    staff: Staff,
    Path(reference): Path<String>,
    Json(body): Json<ReasonBody>,
) -> Result<Json<Detail>, ApiError> {
    act(&console, &staff, &reference, |question| {
        StaffAction::Reject {
            question,
            reason: body.reason,
        }
    })
    .await
}
