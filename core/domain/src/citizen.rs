//! Citizens: pseudonymous identities per channel.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::channel::ChannelKind;
use crate::ids::CitizenId;
use crate::texts::Lang;

/// A citizen as known on one channel. There is no account and no name: only what is
/// needed to recognise a returning citizen and to reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citizen {
    /// Internal id.
    pub id: CitizenId,
    /// The channel the citizen uses.
    pub channel: ChannelKind,
    /// Stable pseudonym on that channel (see [`crate::ChannelIdentity`]).
    pub pseudonym: String,
    /// Reply address on that channel.
    pub address: String,
    /// Preferred language for messages to the citizen.
    pub lang: Lang,
    /// First contact.
    pub first_seen: Timestamp,
    /// Intake keys seen recently (e.g. a Telegram `update_id` or a web client's message id),
    /// so a message delivered twice becomes one question.
    #[serde(default)]
    pub recent_intake: Vec<String>,
    /// Consent to the privacy notice, once given.
    #[serde(default)]
    pub consent: Option<crate::privacy::Consent>,
    /// The citizen's last message (retention of inactive citizens).
    #[serde(default)]
    pub last_seen: Option<Timestamp>,
    /// Erased at the citizen's request: only the reply address is left, for the last
    /// notice; the record is forgotten once that notice is delivered.
    #[serde(default)]
    pub erased: bool,
    /// Wants announcements of office hours (new, rescheduled, cancelled, reminders).
    #[serde(default)]
    pub subscribed: bool,
    /// When the privacy notice was last sent to the citizen. Only while it is pending (sent,
    /// no consent yet) does an agreement count: nobody agrees to a text they never saw.
    #[serde(default)]
    pub notice_sent: Option<Timestamp>,
}

impl Citizen {
    /// How many intake keys are remembered per citizen.
    pub const INTAKE_MEMORY: usize = 64;

    /// Whether an intake key was already processed.
    pub fn has_seen(&self, key: &str) -> bool {
        self.recent_intake.iter().any(|k| k == key)
    }

    /// Remembers an intake key, forgetting the oldest beyond [`Self::INTAKE_MEMORY`].
    pub fn remember(&mut self, key: String) {
        self.recent_intake.push(key);
        if self.recent_intake.len() > Self::INTAKE_MEMORY {
            let excess = self.recent_intake.len() - Self::INTAKE_MEMORY;
            self.recent_intake.drain(..excess);
        }
    }
}
