//! The audit trail for the admin and the data protection officer: list with filters, verify.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use sprechstunde_core::{AuditEntry, Permission};
use sprechstunde_runtime::AuditFilter;

use crate::Console;
use crate::auth::Staff;
use crate::error::ApiError;

/// Most entries one list returns.
const MAX_LIMIT: usize = 1000;

/// Filters of `GET /api/v1/audit`.
#[derive(Debug, Deserialize)]
pub(crate) struct AuditQuery {
    /// Login of the actor.
    #[serde(default)]
    login: Option<String>,
    /// Part of the object, e.g. `A-1042`.
    #[serde(default)]
    object: Option<String>,
    /// Part of the action, e.g. `questions`.
    #[serde(default)]
    action: Option<String>,
    /// RFC 3339, inclusive.
    #[serde(default)]
    from: Option<String>,
    /// RFC 3339, exclusive.
    #[serde(default)]
    until: Option<String>,
    /// Newest this many (default 200, at most 1000).
    #[serde(default)]
    limit: Option<usize>,
}

fn time(value: Option<&str>, key: &str) -> Result<Option<jiff::Timestamp>, ApiError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    v.parse()
        .map(Some)
        .map_err(|_| ApiError::BadRequest(format!("{key} must be an RFC 3339 time")))
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

pub(crate) async fn list(
    State(console): State<Console>,
    staff: Staff,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    staff.require(Permission::ViewAudit)?;
    let filter = AuditFilter {
        from: time(q.from.as_deref(), "from")?,
        until: time(q.until.as_deref(), "until")?,
        login: nonempty(q.login),
        object: nonempty(q.object),
        action: nonempty(q.action),
    };
    let limit = q.limit.unwrap_or(200).clamp(1, MAX_LIMIT);
    let entries: Vec<Value> = console
        .office
        .audit()
        .entries(&filter, limit)
        .await?
        .iter()
        .map(view)
        .collect();
    Ok(Json(json!({ "entries": entries })))
}

/// An entry as the API shows it: the actor's fields beside the others.
fn view(e: &AuditEntry) -> Value {
    json!({
        "seq": e.seq,
        "at": e.at,
        "staff": e.record.actor.staff.map(|s| s.0),
        "login": e.record.actor.login,
        "via": e.record.actor.via,
        "action": e.record.action,
        "object": e.record.object,
        "outcome": e.record.outcome,
        "prev": e.prev,
        "hash": e.hash,
    })
}

pub(crate) async fn verify(
    State(console): State<Console>,
    staff: Staff,
) -> Result<Json<Value>, ApiError> {
    staff.require(Permission::ViewAudit)?;
    let verification = console.office.audit().verify().await?;
    Ok(Json(json!({
        "intact": verification.is_intact(),
        "checked": verification.checked,
        "anchor": verification.anchor,
        "broken": verification.broken.as_ref().map(|b| json!({
            "detail": b,
            "message": b.to_string(),
        })),
    })))
}
