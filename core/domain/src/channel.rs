//! The channel port: how a citizen is reached, and how delivery reports failure.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::ids::{OutboxId, QuestionId};

/// The channels citizens write on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// The web chat on the city's site.
    Web,
    /// A Telegram bot.
    Telegram,
    /// A Matrix bot.
    Matrix,
    /// A Threema Gateway ID in end-to-end mode.
    Threema,
}

impl ChannelKind {
    /// All channels, in display order.
    pub const ALL: [ChannelKind; 4] = [
        ChannelKind::Web,
        ChannelKind::Telegram,
        ChannelKind::Matrix,
        ChannelKind::Threema,
    ];

    /// The stable lower-case name used in config, APIs and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Web => "web",
            ChannelKind::Telegram => "telegram",
            ChannelKind::Matrix => "matrix",
            ChannelKind::Threema => "threema",
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who wrote, as a channel adapter sees it.
///
/// `pseudonym` identifies the citizen on the channel without being the raw id (a keyed hash,
/// or for the web chat the hash of the browser's token); `address` is what the adapter needs
/// to reply and is never logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelIdentity {
    /// The channel.
    pub channel: ChannelKind,
    /// Stable pseudonym of the sender on this channel.
    pub pseudonym: String,
    /// Where replies go (chat id, room id, web pseudonym).
    pub address: String,
}

/// One message on its way to a citizen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The outbox entry; stable across retries, usable as an idempotency key.
    pub id: OutboxId,
    /// The channel address to deliver to.
    pub address: String,
    /// The text, already rendered in the citizen's language.
    pub text: String,
    /// The question this message belongs to, if any.
    pub question: Option<QuestionId>,
    /// Choices to offer with it (channels without buttons may ignore them).
    pub choices: Vec<crate::outbox::Choice>,
}

/// Why a delivery did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The channel asked us to wait (e.g. Telegram's 429 `retry_after`).
    #[error("rate limited, retry after {0:?}")]
    RetryAfter(Duration),
    /// The citizen is not reachable right now (the web chat is closed); the message waits
    /// until the citizen comes back and is handed over then.
    #[error("recipient not connected")]
    Deferred,
    /// A temporary failure; retried with backoff.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The citizen cannot be reached on this channel any more (blocked the bot, left the room).
    #[error("undeliverable: {0}")]
    Permanent(String),
}

/// A channel adapter's outbound side.
#[async_trait]
pub trait Channel: Send + Sync {
    /// Which channel this adapter serves.
    fn kind(&self) -> ChannelKind;

    /// How many deliveries the dispatcher hands this channel at once. A channel that paces
    /// its sends (rate limits) keeps this small, so messages wait in the durable outbox rather
    /// than in memory.
    fn max_in_flight(&self) -> usize {
        256
    }

    /// Delivers one message.
    ///
    /// # Errors
    /// A [`DeliveryError`] saying whether and when to try again.
    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError>;
}
