//! The caller's own e-mail notifications: each member switches them off (or on again)
//! for themselves, without an administrator. Only the switch: the address is set by an
//! administrator (`sprechstunde staff update --email`) or comes from single sign-on.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use sprechstunde_core::{AuditRecord, StaffMember};

use crate::Console;
use crate::auth::Staff;
use crate::error::ApiError;

/// The body of `PUT /me/notifications`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NotificationsBody {
    /// `false`: no more notification mails; `true`: mails again.
    notify: bool,
}

/// What `GET /me` and `PUT /me/notifications` say about the caller's mails.
pub(crate) fn view(member: &StaffMember) -> Value {
    json!({
        "notify": member.notify,
        "email": member.email.is_some(),
    })
}

/// `PUT /me/notifications`: stores the caller's switch (durably, with an audit entry as
/// for every change to a staff record) and answers the new state.
pub(crate) async fn set(
    State(console): State<Console>,
    staff: Staff,
    Json(body): Json<NotificationsBody>,
) -> Result<Json<Value>, ApiError> {
    let store = console.office.store();
    // The stored record, not the copy the request was identified with: another change
    // since then must not be overwritten.
    let mut member = store
        .staff_member(staff.member.id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if member.notify != body.notify {
        member.notify = body.notify;
        store.put_staff(&member).await?;
        console
            .office
            .audit()
            .record(AuditRecord {
                actor: crate::audit::actor(&staff),
                action: "staff.notify".to_owned(),
                object: format!(
                    "staff={} mail={}",
                    member.id,
                    if member.notify { "on" } else { "off" }
                ),
                outcome: "ok".to_owned(),
            })
            .await?;
        tracing::info!(
            staff = member.id.0,
            notify = member.notify,
            "notification mails switched"
        );
    }
    Ok(Json(view(&member)))
}
