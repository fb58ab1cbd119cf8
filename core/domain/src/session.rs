//! Office-hour sessions and their lifecycle.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::channel::ChannelKind;
use crate::ids::SessionId;

/// Where a session stands. The session clock moves `Scheduled → Live → Closed`;
/// staff may cancel a session that has not closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Planned, not started.
    Scheduled,
    /// Running now: questions go to its live queue.
    Live,
    /// Over; its unanswered questions went to the citizens' office.
    Closed,
    /// Called off.
    Cancelled,
}

/// An office-hour session (Sprechstunde).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Id.
    pub id: SessionId,
    /// Title, e.g. "Bürgersprechstunde der Oberbürgermeisterin".
    pub title: String,
    /// Who holds it.
    pub host: String,
    /// Free text for citizens.
    #[serde(default)]
    pub description: String,
    /// Start.
    pub starts_at: Timestamp,
    /// End.
    pub ends_at: Timestamp,
    /// Lifecycle state.
    pub status: SessionStatus,
    /// At most this many questions go to the live queue; the rest to the citizens' office.
    #[serde(default)]
    pub question_cap: Option<u32>,
    /// Questions may be submitted this long before the start.
    #[serde(default)]
    pub presubmission: Option<SignedDuration>,
    /// Questions admitted to this session's queue so far (counted against the cap).
    #[serde(default)]
    pub admitted: u32,
    /// The series this session belongs to: the id of the series' first session.
    #[serde(default)]
    pub series: Option<SessionId>,
    /// Reminder offsets (before the start) already sent or no longer due, so a reminder
    /// never goes out twice, also across restarts.
    #[serde(default)]
    pub reminded: Vec<SignedDuration>,
    /// The question the host is answering right now (live moderation).
    #[serde(default)]
    pub answering: Option<crate::ids::QuestionId>,
    /// The channels the session is held on; empty for every channel. Only subscribers on
    /// these channels are told about it, and only questions from them enter its queue.
    #[serde(default)]
    pub channels: Vec<ChannelKind>,
}

impl Session {
    /// Whether a question arriving at `now` belongs to this session's queue before it starts.
    pub fn accepts_presubmission(&self, now: Timestamp) -> bool {
        self.status == SessionStatus::Scheduled
            && now < self.starts_at
            && self
                .presubmission
                .is_some_and(|window| now >= self.starts_at - window)
    }

    /// Whether the session is held on `channel` (an empty list means every channel).
    pub fn offered_on(&self, channel: ChannelKind) -> bool {
        self.channels.is_empty() || self.channels.contains(&channel)
    }

    /// Whether the session has neither closed nor been cancelled.
    pub fn is_upcoming_or_live(&self) -> bool {
        matches!(self.status, SessionStatus::Scheduled | SessionStatus::Live)
    }
}

/// What staff enter to create or edit a session; validated by [`SessionDraft::validate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDraft {
    /// Title.
    pub title: String,
    /// Host.
    pub host: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Start.
    pub starts_at: Timestamp,
    /// End.
    pub ends_at: Timestamp,
    /// Optional cap on live questions.
    #[serde(default)]
    pub question_cap: Option<u32>,
    /// Optional pre-submission window.
    #[serde(default)]
    pub presubmission: Option<SignedDuration>,
    /// Channels the session is held on; empty for every channel.
    #[serde(default)]
    pub channels: Vec<ChannelKind>,
}

/// A session draft that cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionDraftError {
    /// Title missing.
    #[error("the title must not be empty")]
    EmptyTitle,
    /// Host missing.
    #[error("the host must not be empty")]
    EmptyHost,
    /// End not after start.
    #[error("the session must end after it starts")]
    EndsBeforeStart,
    /// A cap of zero.
    #[error("a question cap must be at least 1")]
    ZeroCap,
    /// A negative pre-submission window.
    #[error("the pre-submission window must not be negative")]
    NegativeWindow,
}

impl SessionDraft {
    /// Checks the draft and returns it trimmed.
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(mut self) -> Result<Self, SessionDraftError> {
        self.title = self.title.trim().to_owned();
        self.host = self.host.trim().to_owned();
        self.description = self.description.trim().to_owned();
        self.channels.sort_unstable();
        self.channels.dedup();
        if self.channels.len() == ChannelKind::ALL.len() {
            // Every channel is the same as none named: new channels are included later too.
            self.channels.clear();
        }
        if self.title.is_empty() {
            return Err(SessionDraftError::EmptyTitle);
        }
        if self.host.is_empty() {
            return Err(SessionDraftError::EmptyHost);
        }
        if self.ends_at <= self.starts_at {
            return Err(SessionDraftError::EndsBeforeStart);
        }
        if self.question_cap == Some(0) {
            return Err(SessionDraftError::ZeroCap);
        }
        if self.presubmission.is_some_and(|w| w.is_negative()) {
            return Err(SessionDraftError::NegativeWindow);
        }
        Ok(self)
    }
}
