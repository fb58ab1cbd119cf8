//! The Matrix channel (skeleton: configuration and lifecycle; the adapter comes next).

use std::path::Path;

use serde::Deserialize;
use sprechstunde_runtime::{Office, Pseudonymizer};
use tokio_util::sync::CancellationToken;

/// `[matrix]` configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixConfig {
    /// Run the Matrix bot.
    #[serde(default)]
    pub enabled: bool,
}

/// A Matrix start-up failure.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    /// Not built yet.
    #[error("the Matrix channel is not available in this build")]
    Unavailable,
}

/// The running Matrix channel.
#[derive(Debug)]
pub struct Matrix;

impl Matrix {
    /// Starts the channel if enabled; `None` when disabled. matrix-sdk keeps its own state
    /// under `data_dir`.
    ///
    /// # Errors
    /// Invalid configuration, failed login.
    pub async fn start(
        _office: Office,
        config: &MatrixConfig,
        _pseudonyms: Pseudonymizer,
        _data_dir: &Path,
        _shutdown: CancellationToken,
    ) -> Result<Option<Matrix>, MatrixError> {
        if config.enabled {
            return Err(MatrixError::Unavailable);
        }
        Ok(None)
    }

    /// Waits until the channel's tasks have stopped (after the shutdown token was cancelled).
    pub async fn join(self) {}
}
