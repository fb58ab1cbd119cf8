//! `GET /channels`: how the running channels are doing, for administrators — today the
//! Threema Gateway's remaining credits (each message costs one) against the warning
//! threshold. What each channel reports belongs to whoever set
//! [`crate::Console::with_channel_status`].

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use sprechstunde_core::Permission;

use crate::Console;
use crate::auth::Staff;
use crate::error::ApiError;

/// Reports one channel's status as a JSON object (at least `"channel"`).
pub type ChannelStatusFn = Arc<dyn Fn() -> Value + Send + Sync>;

/// The status reporters in the console's state.
#[derive(Clone, Default)]
pub(crate) struct Reporters(pub(crate) Vec<ChannelStatusFn>);

impl std::fmt::Debug for Reporters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} channel status reporters", self.0.len())
    }
}

impl Console {
    /// Adds a channel's status to `GET /api/v1/channels`.
    pub fn with_channel_status(mut self, report: ChannelStatusFn) -> Self {
        self.channel_status.0.push(report);
        self
    }
}

/// `GET /channels`.
pub(crate) async fn list(
    State(console): State<Console>,
    staff: Staff,
) -> Result<Json<Value>, ApiError> {
    staff.require(Permission::ManageDepartments)?;
    let channels: Vec<Value> = console.channel_status.0.iter().map(|r| r()).collect();
    Ok(Json(json!({ "channels": channels })))
}
