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
    /// How often staff changed the session after creating it (rescheduled, edited,
    /// cancelled): the iCalendar `SEQUENCE`, so calendar programs take the newest version.
    #[serde(default)]
    pub revision: u32,
}

impl Session {
    /// Whether a question arriving at `now` belongs to this session's queue before it starts.
    pub fn accepts_presubmission(&self, now: Timestamp) -> bool {
        self.status == SessionStatus::Scheduled
            && now < self.starts_at
            && self
                .presubmission
                .is_some_and(|window| now >= self.before_start(window))
    }

    /// The moment `offset` before the start (a reminder, the opening of the pre-submission
    /// window), saturating at the ends of time: a session stored before the limits of
    /// [`SessionDraft::validate`] existed must not make the engine panic.
    pub fn before_start(&self, offset: SignedDuration) -> Timestamp {
        self.starts_at
            .checked_sub(offset)
            .unwrap_or(if offset.is_negative() {
                Timestamp::MAX
            } else {
                Timestamp::MIN
            })
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
    /// A pre-submission window longer than [`SessionDraft::MAX_WINDOW_DAYS`].
    #[error(
        "das Zeitfenster für Vorab-Fragen darf höchstens 365 Tage lang sein / \
         the pre-submission window must not be longer than 365 days"
    )]
    WindowTooLong,
    /// A start or end outside the years [`SessionDraft::FIRST_YEAR`] to
    /// [`SessionDraft::LAST_YEAR`].
    #[error(
        "Beginn und Ende müssen zwischen den Jahren 2000 und 2100 liegen / \
         start and end must lie between the years 2000 and 2100"
    )]
    OutOfRange,
    /// A session longer than [`SessionDraft::MAX_HOURS`].
    #[error(
        "eine Sprechstunde darf höchstens 24 Stunden dauern / \
         a session must not last longer than 24 hours"
    )]
    TooLong,
    /// The end is already past: subscribers would be told of a session that is over.
    #[error(
        "das Ende der Sprechstunde liegt in der Vergangenheit / \
         the session would end in the past"
    )]
    EndsInPast,
}

impl SessionDraft {
    /// The longest pre-submission window, in days.
    pub const MAX_WINDOW_DAYS: i64 = 365;
    /// The longest session, in hours.
    pub const MAX_HOURS: i64 = 24;
    /// The first year a session may start or end in.
    pub const FIRST_YEAR: i16 = 2000;
    /// The last year a session may start or end in.
    pub const LAST_YEAR: i16 = 2100;
    /// 2000-01-01T00:00:00Z.
    const EARLIEST: Timestamp = Timestamp::constant(946_684_800, 0);
    /// 2101-01-01T00:00:00Z, the first moment after [`Self::LAST_YEAR`].
    const AFTER_LAST: Timestamp = Timestamp::constant(4_133_980_800, 0);

    /// A pre-submission window from a number of minutes as staff enter it (console, API,
    /// CLI), without overflowing on absurd numbers.
    ///
    /// # Errors
    /// A negative window, or one longer than [`Self::MAX_WINDOW_DAYS`].
    pub fn window_from_minutes(minutes: i64) -> Result<SignedDuration, SessionDraftError> {
        if minutes < 0 {
            return Err(SessionDraftError::NegativeWindow);
        }
        SignedDuration::try_from_mins(minutes)
            .filter(|w| *w <= Self::max_window())
            .ok_or(SessionDraftError::WindowTooLong)
    }

    fn max_window() -> SignedDuration {
        SignedDuration::from_hours(Self::MAX_WINDOW_DAYS * 24)
    }

    /// Checks the draft as [`Self::validate`] does, and that the session does not end at
    /// or before `now`.
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate_at(self, now: Timestamp) -> Result<Self, SessionDraftError> {
        let draft = self.validate()?;
        draft.check_not_over(now)?;
        Ok(draft)
    }

    /// Refuses a draft whose end is not after `now`.
    ///
    /// # Errors
    /// [`SessionDraftError::EndsInPast`].
    pub fn check_not_over(&self, now: Timestamp) -> Result<(), SessionDraftError> {
        if self.ends_at <= now {
            return Err(SessionDraftError::EndsInPast);
        }
        Ok(())
    }

    /// Checks the draft and returns it trimmed. Times are bounded so that no arithmetic on
    /// them (reminders, the pre-submission window) can overflow.
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
        let in_range = |t: Timestamp| Self::EARLIEST <= t && t < Self::AFTER_LAST;
        if !in_range(self.starts_at) || !in_range(self.ends_at) {
            return Err(SessionDraftError::OutOfRange);
        }
        if self.ends_at <= self.starts_at {
            return Err(SessionDraftError::EndsBeforeStart);
        }
        if self.ends_at.duration_since(self.starts_at) > SignedDuration::from_hours(Self::MAX_HOURS)
        {
            return Err(SessionDraftError::TooLong);
        }
        if self.question_cap == Some(0) {
            return Err(SessionDraftError::ZeroCap);
        }
        if self.presubmission.is_some_and(|w| w.is_negative()) {
            return Err(SessionDraftError::NegativeWindow);
        }
        if self.presubmission.is_some_and(|w| w > Self::max_window()) {
            return Err(SessionDraftError::WindowTooLong);
        }
        Ok(self)
    }
}
