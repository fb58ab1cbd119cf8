//! The queue and single questions: list, read, answer, note, reject.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use sprechstunde_core::{
    Input, Permission, QuestionId, QuestionStatus, Queue, Reference, StaffAction,
};

use crate::Console;
use crate::auth::Staff;
use crate::error::ApiError;
use crate::views::{self, Detail};

/// Queue filters.
#[derive(Debug, Deserialize)]
pub(crate) struct Filter {
    #[serde(default)]
    queue: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

pub(crate) async fn list(
    State(console): State<Console>,
    staff: Staff,
    Query(filter): Query<Filter>,
) -> Result<Json<Value>, ApiError> {
    staff.require(Permission::ReadQueue)?;
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
    let questions = console
        .office
        .read(|state, _, _| {
            state
                .questions()
                .filter(|q| want_queue(q.queue) && status.is_none_or(|s| q.status == s))
                .map(|q| views::summary(state, q))
                .collect::<Vec<_>>()
        })
        .await;
    Ok(Json(json!({ "questions": questions })))
}

async fn find(console: &Console, reference: &str) -> Result<QuestionId, ApiError> {
    let reference: Reference = reference
        .parse()
        .map_err(|e: sprechstunde_core::ids::BadReference| ApiError::BadRequest(e.to_string()))?;
    console
        .office
        .read(|state, _, _| state.question_by_reference(reference).map(|q| q.id))
        .await
        .ok_or(ApiError::NotFound)
}

async fn detail_of(console: &Console, id: QuestionId) -> Result<Json<Detail>, ApiError> {
    console
        .office
        .read(|state, _, _| state.question(id).map(|q| views::detail(state, q)))
        .await
        .map(Json)
        .ok_or(ApiError::NotFound)
}

pub(crate) async fn detail(
    State(console): State<Console>,
    staff: Staff,
    Path(reference): Path<String>,
) -> Result<Json<Detail>, ApiError> {
    staff.require(Permission::ReadQueue)?;
    let id = find(&console, &reference).await?;
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

async fn act(
    console: &Console,
    staff: &Staff,
    reference: &str,
    action: impl FnOnce(QuestionId) -> StaffAction,
) -> Result<Json<Detail>, ApiError> {
    staff.require(Permission::WorkQuestions)?;
    let id = find(console, reference).await?;
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
