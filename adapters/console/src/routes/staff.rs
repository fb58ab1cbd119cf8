//! Staff members for administrators: the list (without password hash or tokens) and
//! department membership. Membership changes here while the server runs; the CLI needs the
//! data directory to itself (sled allows one process).
//!
//! The caller's member is loaded from the store on every request ([`crate::auth`]), so a
//! moved member's next request is scoped to the new department.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use sprechstunde_core::{OfficeState, Permission, Role, StaffId, StaffMember};

use crate::Console;
use crate::auth::Staff;
use crate::error::ApiError;

/// The body of `PUT /staff/{id}/department`.
#[derive(Debug, Deserialize)]
pub(crate) struct MembershipBody {
    /// Department slug; `null`: no department. Required (an empty body must not silently
    /// take a member out of their department), hence the explicit deserializer.
    #[serde(deserialize_with = "present")]
    department: Option<String>,
}

/// Deserializes an `Option` without serde's "a missing field is `None`", so the field must
/// be present (its value may be `null`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

/// A member as the API shows it: no password hash, no tokens.
fn view(state: &OfficeState, m: &StaffMember) -> Value {
    let department = m
        .department
        .and_then(|id| state.department(id))
        .map(|d| json!({"slug": d.slug, "name": d.name}));
    json!({
        "id": m.id.0,
        "login": m.login,
        "name": m.name,
        "roles": m.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "department": department,
        "disabled": m.disabled,
    })
}

pub(crate) async fn list(
    State(console): State<Console>,
    staff: Staff,
) -> Result<Json<Value>, ApiError> {
    staff.require(Permission::ManageDepartments)?;
    let members = console.office.store().staff().await?;
    let listed = console
        .office
        .read(|state, _, _| members.iter().map(|m| view(state, m)).collect::<Vec<_>>())
        .await;
    Ok(Json(json!({ "staff": listed })))
}

pub(crate) async fn set_department(
    State(console): State<Console>,
    staff: Staff,
    Path(id): Path<u64>,
    Json(body): Json<MembershipBody>,
) -> Result<Json<Value>, ApiError> {
    staff.require(Permission::ManageDepartments)?;
    let store = console.office.store();
    let mut member = store
        .staff_member(StaffId(id))
        .await?
        .ok_or(ApiError::NotFound)?;
    let department = match body.department.as_deref().map(str::trim) {
        None => None,
        Some(slug) => {
            let found = console
                .office
                .read(|state, _, _| state.department_by_slug(slug).map(|d| d.id))
                .await;
            let shown: String = slug.chars().take(64).collect();
            Some(found.ok_or_else(|| {
                ApiError::Invalid(format!(
                    "Es gibt kein Fachamt mit dem Kürzel {shown:?}. / There is no department \
                     with the slug {shown:?}."
                ))
            })?)
        }
    };
    if department.is_none() && member.roles.contains(&Role::Department) {
        return Err(ApiError::Invalid(
            "Mitarbeitende mit der Rolle „Fachamt“ (department) brauchen ein Fachamt, sonst \
             sehen sie keine Anliegen; verschieben Sie sie in ein anderes Fachamt. / Members \
             with the department role need a department, otherwise they would see no \
             questions; move them to another department instead."
                .to_owned(),
        ));
    }
    if member.department != department {
        member.department = department;
        // Durable before the answer: the admin is told the change is stored.
        store.put_staff(&member).await?;
        tracing::info!(staff = id, "department membership changed");
        unassign_out_of_reach(&console, &staff, &member).await?;
    }
    let shown = console
        .office
        .read(|state, _, _| view(state, &member))
        .await;
    Ok(Json(shown))
}

/// Hands back the open questions assigned to `member` that the member may no longer see
/// after a move (another department's), so nothing waits on somebody who cannot open it.
async fn unassign_out_of_reach(
    console: &Console,
    staff: &Staff,
    member: &StaffMember,
) -> Result<(), ApiError> {
    let stranded: Vec<sprechstunde_core::QuestionId> = console
        .office
        .read(|state, _, _| {
            state
                .questions()
                .filter(|q| {
                    q.is_open()
                        && q.assignee.as_ref().is_some_and(|a| a.id == member.id)
                        && !sprechstunde_core::triage::may_access(member, q)
                })
                .map(|q| q.id)
                .collect()
        })
        .await;
    for question in stranded {
        console
            .office
            .submit(sprechstunde_core::Input::Staff {
                actor: staff.as_ref(),
                action: sprechstunde_core::StaffAction::Triage(
                    sprechstunde_core::TriageAction::Assign {
                        question,
                        assignee: None,
                    },
                ),
            })
            .await??;
    }
    Ok(())
}

/// `POST /staff/{id}/logout`: ends every console login of a member (an admin's "log out
/// everywhere"); their API tokens stay valid.
pub(crate) async fn end_logins(
    State(console): State<Console>,
    staff: Staff,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    staff.require(Permission::ManageDepartments)?;
    let store = console.office.store();
    let member = store
        .staff_member(StaffId(id))
        .await?
        .ok_or(ApiError::NotFound)?;
    let ended = store.end_logins_of(member.id, None).await?;
    console.logins_ended();
    tracing::info!(staff = id, ended, "logins of a member ended by an admin");
    Ok(Json(json!({ "ended": ended })))
}

/// `POST /staff/{id}/unlock`: clears every login lockout of a member's name (from every
/// source), e.g. after the member locked themselves out.
pub(crate) async fn unlock(
    State(console): State<Console>,
    staff: Staff,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    staff.require(Permission::ManageDepartments)?;
    let member = console
        .office
        .store()
        .staff_member(StaffId(id))
        .await?
        .ok_or(ApiError::NotFound)?;
    let was_locked = console.throttle.unlock(&member.login, console.office.now());
    tracing::info!(staff = id, was_locked, "login lockout cleared by an admin");
    Ok(Json(json!({ "was_locked": was_locked })))
}

/// `GET /tokens`: every API token (no secrets) with its last use.
pub(crate) async fn tokens(
    State(console): State<Console>,
    staff: Staff,
) -> Result<Json<Value>, ApiError> {
    staff.require(Permission::ManageDepartments)?;
    let store = console.office.store();
    let mut listed = Vec::new();
    for t in store.tokens().await? {
        let last_used = store.token_last_used(&t.id).await?;
        listed.push(json!({
            "id": t.id,
            "name": t.name,
            "staff": t.staff.0,
            "created_at": t.created_at,
            "revoked_at": t.revoked_at,
            "last_used_at": last_used,
        }));
    }
    Ok(Json(json!({ "tokens": listed })))
}
