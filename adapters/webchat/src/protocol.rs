//! The frames of the web chat protocol (see `docs/webchat-protocol.md`).

use serde::{Deserialize, Serialize};

/// A frame from the browser.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// First frame: resume a conversation or start one.
    Hello {
        /// The browser's token, `None` for a new conversation.
        #[serde(default)]
        token: Option<String>,
        /// UI language.
        #[serde(default)]
        lang: Option<String>,
    },
    /// A citizen message.
    Message {
        /// Unique per message; resending it never duplicates.
        client_id: String,
        /// The text.
        text: String,
    },
    /// Send me my data as JSON (answered with [`ServerFrame::Export`]).
    Export,
}

/// The running or next session, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Title.
    pub title: String,
    /// Host.
    pub host: String,
    /// Description.
    pub description: String,
    /// Start, RFC 3339.
    pub starts_at: String,
    /// End, RFC 3339.
    pub ends_at: String,
    /// Start in local time and the citizen's language.
    pub starts_local: String,
    /// End in local time and the citizen's language.
    pub ends_local: String,
    /// Running now.
    pub live: bool,
}

/// Who wrote a history item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum From {
    /// The citizen.
    Citizen,
    /// The office (acknowledgements, answers, notices).
    Office,
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryItem {
    /// Stable id (`o<n>` for office messages, `c<question>-<entry>` for the citizen's).
    pub id: String,
    /// Who.
    pub from: From,
    /// Text.
    pub text: String,
    /// When, RFC 3339.
    pub at: String,
}

/// A frame to the browser.
#[allow(clippy::large_enum_variant)] // `Welcome` is sent once per connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// Answer to `hello`.
    Welcome {
        /// Keep this token to resume.
        token: String,
        /// Language in use.
        lang: String,
        /// Greeting text.
        greeting: String,
        /// Running or next session.
        session: Option<SessionInfo>,
        /// The conversation so far.
        history: Vec<HistoryItem>,
        /// Longest accepted message, in characters.
        max_chars: usize,
        /// The privacy notice, while the citizen has not agreed to it (agree by sending
        /// `/einverstanden` or `/agree`).
        #[serde(default)]
        privacy_notice: Option<String>,
        /// Whether the citizen subscribed to announcements (the page offers the opposite).
        #[serde(default)]
        subscribed: bool,
        /// The office's time zone (IANA name): the page shows message times in it, as the
        /// texts do.
        #[serde(default)]
        time_zone: String,
    },
    /// A message was stored durably (flushed to disk).
    Accepted {
        /// The browser's id of the message.
        client_id: String,
        /// The question reference, if the message was a question (or the agreement that
        /// took a held question in).
        reference: Option<String>,
        /// For a command: whether the citizen is subscribed to announcements now.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subscribed: Option<bool>,
    },
    /// A message sent before the citizen agreed to the privacy notice: it is **not** stored,
    /// only held in the server's memory, and taken in (stored, with a reference in the
    /// acknowledgement) once the citizen agrees; declining discards it, and so does a restart
    /// of the server before the answer.
    Held {
        /// The browser's id of the message.
        client_id: String,
    },
    /// A message to the citizen.
    Message {
        /// Stable id.
        id: String,
        /// Always the office.
        from: From,
        /// Text.
        text: String,
        /// When, RFC 3339.
        at: String,
        /// Choices offered with it (the page shows them as buttons that send `command`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        choices: Vec<sprechstunde_core::Choice>,
    },
    /// A refused frame.
    Error {
        /// The message concerned, if any.
        client_id: Option<String>,
        /// `too_long`, `empty`, `bad_request`, `unavailable`, `flooded`.
        code: String,
        /// Text for the citizen.
        message: String,
    },
    /// Everything stored about the citizen, for a JSON download; `null` if nothing is.
    Export {
        /// The data.
        data: Option<sprechstunde_core::CitizenExport>,
    },
}
