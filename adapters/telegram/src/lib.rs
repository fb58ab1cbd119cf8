//! The Telegram channel (skeleton: configuration and lifecycle; the adapter comes next).

use axum::Router;
use serde::Deserialize;
use sprechstunde_runtime::{Office, Pseudonymizer};
use tokio_util::sync::CancellationToken;

/// `[telegram]` configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// Run the Telegram bot.
    #[serde(default)]
    pub enabled: bool,
}

/// A Telegram start-up failure.
#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    /// Not built yet.
    #[error("the Telegram channel is not available in this build")]
    Unavailable,
}

/// The running Telegram channel.
#[derive(Debug)]
pub struct Telegram;

impl Telegram {
    /// Starts the channel if enabled; `None` when disabled.
    ///
    /// # Errors
    /// Invalid configuration or an unreachable Bot API.
    pub async fn start(
        _office: Office,
        config: &TelegramConfig,
        _pseudonyms: Pseudonymizer,
        _shutdown: CancellationToken,
    ) -> Result<Option<Telegram>, TelegramError> {
        if config.enabled {
            return Err(TelegramError::Unavailable);
        }
        Ok(None)
    }

    /// Routes the channel serves (the webhook, in webhook mode).
    pub fn router(&self) -> Router {
        Router::new()
    }

    /// Waits until the channel's tasks have stopped (after the shutdown token was cancelled).
    pub async fn join(self) {}
}
