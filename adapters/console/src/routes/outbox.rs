//! Delivery state of messages to citizens.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use sprechstunde_core::Permission;

use crate::Console;
use crate::auth::Staff;
use crate::error::ApiError;

/// Filter by state.
#[derive(Debug, Deserialize)]
pub(crate) struct Filter {
    #[serde(default)]
    state: Option<String>,
}

/// Most messages listed.
const LIMIT: usize = 500;

pub(crate) async fn list(
    State(console): State<Console>,
    staff: Staff,
    Query(filter): Query<Filter>,
) -> Result<Json<Value>, ApiError> {
    staff.require(Permission::ReadQueue)?;
    let wanted = filter.state.unwrap_or_else(|| "pending".into());
    if !matches!(wanted.as_str(), "pending" | "delivered" | "failed") {
        return Err(ApiError::BadRequest(
            "state must be pending, delivered or failed".into(),
        ));
    }
    let member = staff.member.clone();
    let messages = console
        .office
        .read(move |state, _, _| {
            // Department staff see only messages about their department's questions.
            let visible = |m: &&sprechstunde_core::OutboxMessage| {
                !sprechstunde_core::triage::department_scoped(&member)
                    || m.question
                        .and_then(|q| state.question(q))
                        .is_some_and(|q| crate::access::visible(&member, q))
            };
            let all: Box<dyn Iterator<Item = _>> = if wanted == "pending" {
                Box::new(state.pending_outbox())
            } else {
                Box::new(state.outbox().rev().filter(|m| m.state.name() == wanted))
            };
            all.filter(visible)
                .take(LIMIT)
                .map(|m| {
                    let view = crate::views::DeliveryView::of(m);
                    json!({
                        "id": m.id.0,
                        "reference": m.question
                            .and_then(|q| state.question(q))
                            .map(|q| q.reference.to_string()),
                        "channel": m.channel.as_str(),
                        "state": view.state,
                        "attempts": view.attempts,
                        "last_error": view.last_error,
                        "created_at": m.created_at.to_string(),
                    })
                })
                .collect::<Vec<_>>()
        })
        .await;
    Ok(Json(json!({ "messages": messages })))
}
