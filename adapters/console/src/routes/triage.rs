//! Triage of single questions: route to a department, assign, hand back to the citizens'
//! office, four-eyes approval, and text modules for the answer box.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use sprechstunde_core::triage::{department_scoped, render_module};
use sprechstunde_core::{
    Input, Lang, Permission, QuestionId, StaffAction, StaffId, StaffRef, TriageAction,
};

use crate::Console;
use crate::auth::Staff;
use crate::error::ApiError;
use crate::routes::questions::detail_of;
use crate::views::Detail;

/// Loads the question through the department scope, submits the action, returns the detail.
async fn submit(
    console: &Console,
    staff: &Staff,
    reference: &str,
    action: impl FnOnce(QuestionId) -> StaffAction,
) -> Result<Json<Detail>, ApiError> {
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

/// `{"department": "tiefbau"}`, or `null` for the citizens' office.
#[derive(Debug, Deserialize)]
pub(crate) struct RouteBody {
    department: Option<String>,
}

pub(crate) async fn route(
    State(console): State<Console>,
    staff: Staff,
    Path(reference): Path<String>,
    Json(body): Json<RouteBody>,
) -> Result<Json<Detail>, ApiError> {
    staff.require(Permission::RouteQuestions)?;
    let department = match body.department {
        None => None,
        Some(slug) => Some(
            console
                .office
                .read(|state, _, _| state.department_by_slug(&slug).map(|d| d.id))
                .await
                .ok_or_else(|| ApiError::Invalid(format!("no department {slug:?}")))?,
        ),
    };
    submit(&console, &staff, &reference, |question| {
        StaffAction::Triage(TriageAction::Route {
            question,
            department,
        })
    })
    .await
}

/// `{"staff": 12}`, or `null` to unassign.
#[derive(Debug, Deserialize)]
pub(crate) struct AssignBody {
    staff: Option<u64>,
}

pub(crate) async fn assign(
    State(console): State<Console>,
    staff: Staff,
    Path(reference): Path<String>,
    Json(body): Json<AssignBody>,
) -> Result<Json<Detail>, ApiError> {
    staff.require(Permission::WorkQuestions)?;
    let id = crate::access::question(&console, &staff, &reference).await?;
    let assignee = match body.staff {
        None => None,
        Some(sid) => {
            let member = console
                .office
                .store()
                .staff_member(StaffId(sid))
                .await?
                .filter(|m| !m.disabled && m.may(Permission::WorkQuestions))
                .ok_or_else(|| ApiError::Invalid(format!("no active staff member {sid}")))?;
            let department = console
                .office
                .read(|state, _, _| state.question(id).and_then(|q| q.department))
                .await;
            if department_scoped(&member) && member.department != department {
                return Err(ApiError::Invalid(
                    "the staff member belongs to another department".into(),
                ));
            }
            Some(StaffRef {
                id: member.id,
                name: member.name,
            })
        }
    };
    submit(&console, &staff, &reference, |question| {
        StaffAction::Triage(TriageAction::Assign { question, assignee })
    })
    .await
}

/// `{"note": "…"}`.
#[derive(Debug, Deserialize)]
pub(crate) struct NoteBody {
    note: String,
}

pub(crate) async fn return_to_office(
    State(console): State<Console>,
    staff: Staff,
    Path(reference): Path<String>,
    Json(body): Json<NoteBody>,
) -> Result<Json<Detail>, ApiError> {
    staff.require(Permission::WorkQuestions)?;
    submit(&console, &staff, &reference, |question| {
        StaffAction::Triage(TriageAction::ReturnToOffice {
            question,
            note: body.note,
        })
    })
    .await
}

/// `{"text": "…"}` to send an edited text, or `{}` to send the draft as it is.
#[derive(Debug, Deserialize)]
pub(crate) struct ApproveBody {
    #[serde(default)]
    text: Option<String>,
}

pub(crate) async fn approve(
    State(console): State<Console>,
    staff: Staff,
    Path(reference): Path<String>,
    Json(body): Json<ApproveBody>,
) -> Result<Json<Detail>, ApiError> {
    staff.require(Permission::ApproveAnswers)?;
    submit(&console, &staff, &reference, |question| {
        StaffAction::Triage(TriageAction::Approve {
            question,
            text: body.text,
        })
    })
    .await
}

pub(crate) async fn send_back(
    State(console): State<Console>,
    staff: Staff,
    Path(reference): Path<String>,
    Json(body): Json<NoteBody>,
) -> Result<Json<Detail>, ApiError> {
    staff.require(Permission::ApproveAnswers)?;
    submit(&console, &staff, &reference, |question| {
        StaffAction::Triage(TriageAction::SendBackDraft {
            question,
            note: body.note,
        })
    })
    .await
}

/// The text modules of the question's department (or, before routing, of the suggested
/// one), with `{reference}`, `{session}` and `{due}` filled in.
pub(crate) async fn text_modules(
    State(console): State<Console>,
    staff: Staff,
    Path(reference): Path<String>,
) -> Result<Json<Value>, ApiError> {
    staff.require(Permission::ReadQueue)?;
    let id = crate::access::question(&console, &staff, &reference).await?;
    let modules = console
        .office
        .read(|state, engine, _| {
            let Some(q) = state.question(id) else {
                return Vec::new();
            };
            let department = q
                .department
                .or(q.suggestion.as_ref().map(|s| s.department))
                .and_then(|d| state.department(d));
            let Some(d) = department else {
                return Vec::new();
            };
            let lang = state.citizen(q.citizen).map_or(Lang::De, |c| c.lang);
            let session = q
                .session
                .and_then(|s| state.session(s))
                .map(|s| s.title.clone())
                .unwrap_or_default();
            let due = q
                .due
                .map(|d| engine.policy().calendar.format_date(d, lang))
                .unwrap_or_default();
            d.text_modules
                .iter()
                .map(|m| {
                    json!({
                        "department": d.slug,
                        "key": m.key,
                        "title": m.title,
                        "text": render_module(&m.text, &q.reference.to_string(), &session, &due),
                    })
                })
                .collect()
        })
        .await;
    Ok(Json(json!({ "text_modules": modules })))
}
