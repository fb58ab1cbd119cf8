//! The moderation board's answers to suggested duplicates (issue 18): accept (merge the
//! suggested question into this one) or dismiss (the pair is not suggested again for the
//! session, see [`crate::live`]). Both answer with the live view.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;
use sprechstunde_core::{OfficeHoursAction, SessionId, StaffAction};

use super::office_hours::{live, require_moderator, submit};
use crate::Console;
use crate::auth::Staff;
use crate::error::ApiError;

/// Body of `POST /sessions/{id}/suggestions/accept` and `…/dismiss`.
#[derive(Debug, Deserialize)]
pub(crate) struct SuggestionBody {
    /// The question the suggestion was shown at (the primary when accepted).
    reference: String,
    /// The suggested duplicate.
    duplicate: String,
}

/// `POST /sessions/{id}/suggestions/accept`: merges `duplicate` into `reference`.
pub(crate) async fn accept(
    State(console): State<Console>,
    staff: Staff,
    Path(id): Path<u64>,
    Json(body): Json<SuggestionBody>,
) -> Result<Json<Value>, ApiError> {
    require_moderator(&staff)?;
    let primary = crate::access::question(&console, &staff, &body.reference).await?;
    let duplicate = crate::access::question(&console, &staff, &body.duplicate).await?;
    submit(
        &console,
        &staff,
        StaffAction::OfficeHours(OfficeHoursAction::Merge {
            primary,
            duplicates: vec![duplicate],
        }),
    )
    .await?;
    live(State(console), staff, Path(id)).await
}

/// `POST /sessions/{id}/suggestions/dismiss`: the two are not the same question.
pub(crate) async fn dismiss(
    State(console): State<Console>,
    staff: Staff,
    Path(id): Path<u64>,
    Json(body): Json<SuggestionBody>,
) -> Result<Json<Value>, ApiError> {
    require_moderator(&staff)?;
    let a = crate::access::question(&console, &staff, &body.reference).await?;
    let b = crate::access::question(&console, &staff, &body.duplicate).await?;
    if a == b {
        return Err(ApiError::Invalid(
            "a question is not its own duplicate".into(),
        ));
    }
    console.live.dismiss(SessionId(id), a, b);
    live(State(console), staff, Path(id)).await
}
