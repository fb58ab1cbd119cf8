//! The Telegram channel: citizens write to a Telegram bot, built on teloxide.
//!
//! - **Inbound**: long polling (`getUpdates`) or a webhook; each update from a private chat
//!   becomes an [`Input::Citizen`](sprechstunde_core::Input) with the chat id as a keyed
//!   pseudonym and `tg:<update_id>` as intake key, stored durably before the update is
//!   confirmed (modules `polling` and `webhook`). Groups and channels get one polite refusal
//!   and nothing is stored about them.
//! - **Outbound**: a [`Channel`](sprechstunde_core::Channel) that sends outbox messages with
//!   `sendMessage` under Telegram's limits (1 message/s per chat, under 30/s overall, 429s
//!   honoured), long texts split, choices as inline keyboards.
//! - **Start**: checks the token with `getMe`, registers the command list in German (also
//!   the default) and English with `setMyCommands`, and sets or deletes the webhook.
//!
//! The bot token never appears in logs or errors: teloxide's errors are scrubbed
//! (`translate::Scrubber`) and the configuration's `Debug` redacts it. Chat ids and texts
//! are not logged at info level or above.

mod channel;
mod config;
mod pace;
mod polling;
mod translate;
mod updates;
mod webhook;

use std::sync::Arc;

use axum::Router;
use sprechstunde_core::Lang;
use sprechstunde_runtime::{Office, Pseudonymizer};
use teloxide::prelude::*;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::{DEFAULT_API_URL, DEFAULT_WEBHOOK_PATH, TelegramConfig, TelegramMode};

use crate::channel::TelegramChannel;
use crate::pace::Pacer;
use crate::translate::Scrubber;
use crate::updates::Updates;

/// A Telegram start-up failure. Never contains the token.
#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    /// A configuration value is missing or wrong.
    #[error("configuration key telegram.{key}: {problem}")]
    Config {
        /// The key below `[telegram]`.
        key: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The Bot API refused a start-up call or could not be reached.
    #[error("the Bot API at {api_url} failed on {method}: {problem}")]
    Api {
        /// The configured `telegram.api_url`.
        api_url: String,
        /// The Bot API method.
        method: &'static str,
        /// What went wrong (token scrubbed).
        problem: String,
    },
}

/// The running Telegram channel.
pub struct Telegram {
    router: Router,
    tasks: Vec<JoinHandle<()>>,
    unreadable: Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Telegram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telegram")
            .field("tasks", &self.tasks.len())
            .finish_non_exhaustive()
    }
}

impl Telegram {
    /// Starts the channel if enabled; `None` when disabled. Registers the outbound channel
    /// with the office and, in polling mode, starts the polling task.
    ///
    /// # Errors
    /// Invalid configuration (naming the key), or a Bot API that refuses the token or cannot
    /// be reached.
    pub async fn start(
        office: Office,
        config: &TelegramConfig,
        pseudonyms: Pseudonymizer,
        shutdown: CancellationToken,
    ) -> Result<Option<Telegram>, TelegramError> {
        if !config.enabled {
            return Ok(None);
        }
        let valid = config.validate()?;
        let scrubber = Scrubber::new(&valid.token.0);
        let bot = Bot::new(valid.token.0.clone()).set_api_url(valid.api_url.clone());
        let api_url = valid.api_url.to_string();
        let failed = |method: &'static str, error: teloxide::RequestError| TelegramError::Api {
            api_url: scrubber.scrub(&api_url),
            method,
            problem: scrubber.error(&error),
        };

        // A refused token or request stops start-up; an unreachable Bot API does not stop the
        // other channels: the set-up is retried in the background.
        let ready = match prepare(&bot, &valid.intake).await {
            Ok(()) => true,
            Err((method, error)) if is_unreachable(&error) => {
                tracing::warn!(
                    method,
                    problem = %scrubber.error(&error),
                    "Telegram Bot API not reachable; retrying in the background"
                );
                false
            }
            Err((method, error)) => return Err(failed(method, error)),
        };

        let pacer = Arc::new(Pacer::default());
        office.register_channel(Arc::new(TelegramChannel::new(
            bot.clone(),
            pacer.clone(),
            scrubber.clone(),
        )));
        let updates = Updates::new(office, pseudonyms, bot.clone(), pacer, scrubber.clone());
        let unreadable = updates.unreadable();

        let mut tasks = Vec::new();
        let intake = valid.intake.clone();
        let router = match &valid.intake {
            config::Intake::Polling => Router::new(),
            config::Intake::Webhook { path, secret, .. } => {
                webhook::router(path, updates.clone(), secret.clone())
            }
        };
        let polling = matches!(valid.intake, config::Intake::Polling);
        tasks.push(tokio::spawn(async move {
            if !ready && !retry_prepare(&bot, &intake, &scrubber, &shutdown).await {
                return;
            }
            if polling {
                polling::run(bot, updates, scrubber, shutdown).await;
            }
        }));
        tracing::info!(mode = ?config.mode, "Telegram channel started");
        Ok(Some(Telegram {
            router,
            tasks,
            unreadable,
        }))
    }

    /// Routes the channel serves (the webhook, in webhook mode).
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Updates skipped since start because they could not be read (a kind teloxide does not
    /// know, or a known kind with a field missing). Each is also logged, by update id only.
    pub fn unreadable_updates(&self) -> u64 {
        self.unreadable.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Waits until the channel's tasks have stopped (after the shutdown token was cancelled).
    pub async fn join(self) {
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Verifies the token, registers the commands and sets up the intake (deletes the webhook for
/// polling, sets it for webhook mode). Returns the failing method with its error.
async fn prepare(
    bot: &Bot,
    intake: &config::Intake,
) -> Result<(), (&'static str, teloxide::RequestError)> {
    bot.get_me().await.map_err(|e| ("getMe", e))?;
    for (lang, code) in [
        (Lang::De, None),
        (Lang::De, Some("de")),
        (Lang::En, Some("en")),
    ] {
        let mut request = bot.set_my_commands(translate::commands(lang));
        if let Some(code) = code {
            request = request.language_code(code);
        }
        request.await.map_err(|e| ("setMyCommands", e))?;
    }
    match intake {
        config::Intake::Polling => {
            bot.delete_webhook()
                .await
                .map_err(|e| ("deleteWebhook", e))?;
        }
        config::Intake::Webhook { url, secret, .. } => {
            bot.set_webhook(url.clone())
                .secret_token(secret.0.clone())
                .allowed_updates(polling::allowed_updates())
                .await
                .map_err(|e| ("setWebhook", e))?;
        }
    }
    Ok(())
}

/// Whether an error means "not reachable right now" rather than "refused".
fn is_unreachable(error: &teloxide::RequestError) -> bool {
    matches!(
        error,
        teloxide::RequestError::Network(_)
            | teloxide::RequestError::Io(_)
            | teloxide::RequestError::RetryAfter(_)
    )
}

/// Retries [`prepare`] with backoff (1 s doubling to 60 s) until it succeeds (true) or the
/// shutdown token is cancelled (false).
async fn retry_prepare(
    bot: &Bot,
    intake: &config::Intake,
    scrubber: &Scrubber,
    shutdown: &CancellationToken,
) -> bool {
    let mut wait = std::time::Duration::from_secs(1);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return false,
            () = tokio::time::sleep(wait) => {}
        }
        match prepare(bot, intake).await {
            Ok(()) => {
                tracing::info!("Telegram Bot API reachable again; channel set up");
                return true;
            }
            Err((method, error)) => {
                tracing::warn!(method, problem = %scrubber.error(&error), "Telegram set-up failed; retrying");
                wait = (wait * 2).min(std::time::Duration::from_secs(60));
            }
        }
    }
}
