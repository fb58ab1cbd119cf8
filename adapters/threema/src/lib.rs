//! The Threema channel: citizens write to a Threema Gateway ID in end-to-end mode, built on
//! the official SDK (`threema-gateway`).
//!
//! - **Keys**: the Gateway ID's private key stays on the installation (a file or the
//!   environment); messages are encrypted and decrypted here, the Gateway only relays boxes.
//! - **Inbound**: the Gateway POSTs each message to the callback route (module `callback`):
//!   MAC checked in constant time, box opened, text stored durably before the callback is
//!   answered. Threema IDs are stored only as keyed pseudonyms (and, for replies, in the
//!   sealed outbox address, like chat ids).
//! - **Outbound**: a [`Channel`](sprechstunde_core::Channel) that encrypts each outbox
//!   message to the citizen's public key (looked up once, cached) and sends it with
//!   `send_e2e`; delivery receipts from the citizen's app update the delivery state.
//! - **Credits**: asked for at start and periodically; below `credits_warn_below` a warning
//!   is logged, and [`Threema::credits`] gives administrators the figure.
//!
//! The API secret and the private key never appear in logs or errors; Threema IDs and texts
//! are not logged at info level or above.

mod callback;
mod channel;
mod config;
mod gateway;

use std::sync::Arc;

use axum::Router;
use sprechstunde_runtime::{Office, Pseudonymizer};
use threema_gateway::ApiBuilder;
use threema_gateway::errors::ApiError;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::{
    DEFAULT_API_URL, DEFAULT_CALLBACK_PATH, DEFAULT_CREDITS_WARN_BELOW, ThreemaConfig,
};
pub use gateway::Credits;

use crate::callback::Inbound;
use crate::channel::ThreemaChannel;
use crate::gateway::Gateway;

/// A Threema start-up failure. Never contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum ThreemaError {
    /// A configuration value is missing or wrong.
    #[error("configuration key threema.{key}: {problem}")]
    Config {
        /// The key below `[threema]`.
        key: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The Gateway refused the Gateway ID or its secret.
    #[error("the Threema Gateway at {api_url} refused the Gateway ID or its secret")]
    Refused {
        /// The configured `threema.api_url`.
        api_url: String,
    },
}

/// The running Threema channel.
pub struct Threema {
    router: Router,
    gateway: Arc<Gateway>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Threema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Threema")
            .field("tasks", &self.tasks.len())
            .finish_non_exhaustive()
    }
}

impl Threema {
    /// Starts the channel if enabled; `None` when disabled. Registers the outbound channel
    /// with the office, checks the credentials by asking for the credits, and starts the
    /// periodic credit check.
    ///
    /// # Errors
    /// Invalid configuration (naming the key), or a Gateway that refuses the ID or secret.
    /// An unreachable Gateway does not stop start-up: messages wait in the outbox.
    pub async fn start(
        office: Office,
        config: &ThreemaConfig,
        pseudonyms: Pseudonymizer,
        shutdown: CancellationToken,
    ) -> Result<Option<Threema>, ThreemaError> {
        if !config.enabled {
            return Ok(None);
        }
        let valid = config.validate()?;
        let api = ApiBuilder::new(valid.gateway_id, valid.secret.0.clone())
            .with_custom_endpoint(valid.api_url.clone())
            .with_private_key_str(&valid.private_key.0)
            .and_then(ApiBuilder::into_e2e)
            .map_err(|_| ThreemaError::Config {
                key: "private_key",
                problem: "is not a valid private key".to_owned(),
            })?;
        let gateway = Arc::new(Gateway::new(api, valid.credits_warn_below));
        match gateway.check_credits().await {
            Ok(_) => {}
            Err(ApiError::BadCredentials) => {
                return Err(ThreemaError::Refused {
                    api_url: valid.api_url,
                });
            }
            Err(error) => {
                tracing::warn!(%error, "Threema Gateway not reachable at start; messages wait in the outbox");
            }
        }
        office.register_channel(Arc::new(ThreemaChannel::new(gateway.clone())));
        let inbound = Inbound::new(office, pseudonyms, gateway.clone(), valid.gateway_id);
        let router = callback::router(&valid.callback_path, inbound);
        let every = valid.credits_every;
        let tasks = vec![tokio::spawn({
            let gateway = gateway.clone();
            async move {
                loop {
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(every) => {}
                    }
                    if let Err(error) = gateway.check_credits().await {
                        tracing::warn!(%error, "could not ask the Threema Gateway for its credits");
                    }
                }
            }
        })];
        tracing::info!("Threema channel started");
        Ok(Some(Threema {
            router,
            gateway,
            tasks,
        }))
    }

    /// The callback route.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The remaining credits as last asked for, with the warning threshold.
    pub fn credits(&self) -> Arc<Credits> {
        self.gateway.credits().clone()
    }

    /// Asks the Gateway for the remaining credits now.
    ///
    /// # Errors
    /// The Gateway could not be asked; the last known figure stays.
    pub async fn refresh_credits(&self) -> Result<i64, String> {
        self.gateway
            .check_credits()
            .await
            .map_err(|e| e.to_string())
    }

    /// Waits until the channel's tasks have stopped (after the shutdown token was cancelled).
    pub async fn join(self) {
        for task in self.tasks {
            let _ = task.await;
        }
    }
}
