//! Departments (Fachämter): list with members; create and edit (admins).

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use sprechstunde_core::triage::TextModule;
use sprechstunde_core::{Department, DepartmentId, Input, Permission, StaffAction, TriageAction};

use crate::Console;
use crate::auth::Staff;
use crate::error::ApiError;

/// A department as the API reads and writes it.
#[derive(Debug, Deserialize)]
pub(crate) struct DepartmentBody {
    name: String,
    slug: String,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    patterns: Vec<String>,
    #[serde(default)]
    requires_approval: bool,
    #[serde(default)]
    text_modules: Vec<TextModule>,
}

impl DepartmentBody {
    fn into_department(self, id: DepartmentId) -> Department {
        Department {
            id,
            name: self.name,
            slug: self.slug,
            keywords: self.keywords,
            patterns: self.patterns,
            requires_approval: self.requires_approval,
            text_modules: self.text_modules,
        }
    }
}

pub(crate) async fn list(
    State(console): State<Console>,
    staff: Staff,
) -> Result<Json<Value>, ApiError> {
    staff.require(Permission::ReadQueue)?;
    let members = console.office.store().staff().await?;
    let departments = console
        .office
        .read(|state, _, _| {
            state
                .departments()
                .map(|d| {
                    let members: Vec<Value> = members
                        .iter()
                        .filter(|m| m.department == Some(d.id) && !m.disabled)
                        .map(|m| json!({"id": m.id.0, "name": m.name, "login": m.login}))
                        .collect();
                    json!({
                        "id": d.id.0,
                        "slug": d.slug,
                        "name": d.name,
                        "keywords": d.keywords,
                        "patterns": d.patterns,
                        "requires_approval": d.requires_approval,
                        "text_modules": d.text_modules,
                        "members": members,
                    })
                })
                .collect::<Vec<_>>()
        })
        .await;
    Ok(Json(json!({ "departments": departments })))
}

async fn save(console: &Console, staff: &Staff, d: Department) -> Result<Json<Value>, ApiError> {
    let slug = d.slug.clone();
    console
        .office
        .submit(Input::Staff {
            actor: staff.as_ref(),
            action: StaffAction::Triage(TriageAction::SaveDepartment(d)),
        })
        .await??;
    let saved = console
        .office
        .read(|state, _, _| state.department_by_slug(&slug).cloned())
        .await
        .ok_or(ApiError::NotFound)?;
    Ok(Json(json!({
        "id": saved.id.0,
        "slug": saved.slug,
        "name": saved.name,
        "keywords": saved.keywords,
        "patterns": saved.patterns,
        "requires_approval": saved.requires_approval,
        "text_modules": saved.text_modules,
    })))
}

pub(crate) async fn create(
    State(console): State<Console>,
    staff: Staff,
    Json(body): Json<DepartmentBody>,
) -> Result<Json<Value>, ApiError> {
    staff.require(Permission::ManageDepartments)?;
    save(&console, &staff, body.into_department(DepartmentId(0))).await
}

pub(crate) async fn update(
    State(console): State<Console>,
    staff: Staff,
    Path(slug): Path<String>,
    Json(body): Json<DepartmentBody>,
) -> Result<Json<Value>, ApiError> {
    staff.require(Permission::ManageDepartments)?;
    let id = console
        .office
        .read(|state, _, _| state.department_by_slug(&slug).map(|d| d.id))
        .await
        .ok_or(ApiError::NotFound)?;
    save(&console, &staff, body.into_department(id)).await
}
