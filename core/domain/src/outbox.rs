//! The outbox: every message to a citizen, persisted before it is sent.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::channel::ChannelKind;
use crate::ids::{CitizenId, OutboxId, QuestionId};

/// Delivery state of an outbox message, visible to staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum DeliveryState {
    /// Not delivered yet.
    Pending {
        /// Failed attempts so far.
        attempts: u32,
        /// Earliest next attempt; `None` waits until the citizen is reachable again.
        next_attempt_at: Option<Timestamp>,
        /// Last failure, for staff.
        last_error: Option<String>,
    },
    /// Handed to the channel.
    Delivered {
        /// When.
        at: Timestamp,
    },
    /// Given up: the citizen cannot be reached on this channel.
    Failed {
        /// When.
        at: Timestamp,
        /// Why.
        reason: String,
    },
}

impl DeliveryState {
    /// A fresh, immediately due message.
    pub fn new_pending(now: Timestamp) -> Self {
        DeliveryState::Pending {
            attempts: 0,
            next_attempt_at: Some(now),
            last_error: None,
        }
    }

    /// Stable name: `pending`, `delivered`, `failed`.
    pub fn name(&self) -> &'static str {
        match self {
            DeliveryState::Pending { .. } => "pending",
            DeliveryState::Delivered { .. } => "delivered",
            DeliveryState::Failed { .. } => "failed",
        }
    }
}

/// A choice offered with a message (an inline button on Telegram). Choosing it is the same as
/// the citizen sending `command`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Button text, in the citizen's language.
    pub label: String,
    /// The command it stands for, e.g. `/status` or `/zurueckziehen A-1042`.
    pub command: String,
}

/// One message to a citizen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// Id, increasing in creation order.
    pub id: OutboxId,
    /// Recipient.
    pub citizen: CitizenId,
    /// Channel.
    pub channel: ChannelKind,
    /// Address on that channel.
    pub address: String,
    /// Rendered text.
    pub text: String,
    /// Question it belongs to.
    #[serde(default)]
    pub question: Option<QuestionId>,
    /// Created.
    pub created_at: Timestamp,
    /// Delivery state.
    pub state: DeliveryState,
    /// Choices offered with the message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    /// Forgotten as soon as it is delivered (exports, the last notice after an erasure).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ephemeral: bool,
    /// What the citizen's app confirmed about it (channels with delivery receipts: Threema).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<Confirmation>,
}

/// A delivery receipt from the citizen's app, in the order they can happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryReceipt {
    /// The message arrived on the citizen's device.
    Received,
    /// The citizen opened it.
    Read,
}

impl DeliveryReceipt {
    /// Stable name: `received`, `read`.
    pub fn name(self) -> &'static str {
        match self {
            DeliveryReceipt::Received => "received",
            DeliveryReceipt::Read => "read",
        }
    }
}

/// The furthest receipt for an outbox message, and when it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// Received or read.
    pub receipt: DeliveryReceipt,
    /// When the receipt arrived.
    pub at: Timestamp,
}

impl OutboxMessage {
    /// Whether it still waits for delivery.
    pub fn is_pending(&self) -> bool {
        matches!(self.state, DeliveryState::Pending { .. })
    }
}
