//! The audit layer: every authenticated request to `/api/v1` is recorded in the audit trail —
//! who (staff id, login, console or token), what (method and route template), which object
//! (the path parameters, such as the reference `A-1042`), and the status. Never a body or a
//! query string, so no content reaches the trail.
//!
//! The layer sits on the whole API router ([`Console::router`](crate::Console::router)), so a
//! route added later is recorded without doing anything. If the record cannot be stored, the
//! caller gets 503 instead of the answer: a read that leaves no trace is not handed out.

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sprechstunde_core::{AuditActor, AuditRecord};

use crate::Console;
use crate::auth::{Staff, Via};
use crate::error::ApiError;

/// The actor of an authenticated staff request.
pub(crate) fn actor(staff: &Staff) -> AuditActor {
    AuditActor {
        staff: Some(staff.member.id),
        login: staff.member.login.clone(),
        via: match &staff.via {
            Via::Cookie { .. } => "console".to_owned(),
            Via::Bearer { token } => format!("token:{token}"),
        },
    }
}

/// Middleware: runs the request, then records it if a staff member made it.
pub(crate) async fn record(
    State(console): State<Console>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    // Found once, by `auth::identify`, which runs before this layer.
    let staff = parts.extensions.get::<Staff>().cloned();
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map_or_else(|| parts.uri.path().to_owned(), |m| m.as_str().to_owned());
    let object = RawPathParams::from_request_parts(&mut parts, &console)
        .await
        .map(|params| {
            params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    let action = format!("{} {route}", parts.method);
    let response = next.run(Request::from_parts(parts, body)).await;
    let Some(staff) = staff else {
        return response;
    };
    let record = AuditRecord {
        actor: actor(&staff),
        action,
        object,
        outcome: response.status().as_u16().to_string(),
    };
    match console.office.audit().record(record).await {
        Ok(_) => response,
        Err(error) => {
            tracing::error!(%error, "audit record failed; answer withheld");
            ApiError::Unavailable.into_response()
        }
    }
}
