//! Questions (Anliegen) and their threads.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::channel::ChannelKind;
use crate::ids::{CitizenId, DepartmentId, OutboxId, QuestionId, Reference, SessionId, StaffId};

/// Which queue a question waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "session")]
pub enum Queue {
    /// The live (or pre-submission) queue of a session.
    Session(SessionId),
    /// The citizens' office (Bürgerreferat), for everything outside a live session.
    CitizensOffice,
}

/// Where a question stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionStatus {
    /// Waiting for an answer.
    Open,
    /// Answered by staff.
    Answered,
    /// Rejected by staff with a reason.
    Rejected,
    /// Withdrawn by the citizen.
    Withdrawn,
}

impl QuestionStatus {
    /// Stable lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionStatus::Open => "open",
            QuestionStatus::Answered => "answered",
            QuestionStatus::Rejected => "rejected",
            QuestionStatus::Withdrawn => "withdrawn",
        }
    }
}

/// A staff member as recorded in a thread entry (the name as it was at the time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffRef {
    /// Id.
    pub id: StaffId,
    /// Display name.
    pub name: String,
}

/// What kind of entry a thread holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum EntryKind {
    /// Written by the citizen.
    Citizen,
    /// An answer sent to the citizen.
    Answer {
        /// Who answered.
        staff: StaffRef,
    },
    /// An internal note; citizens never see it.
    Note {
        /// Who wrote it.
        staff: StaffRef,
    },
    /// A notice the system sent to the citizen (acknowledgement, rejection, hand-over).
    System,
}

/// One entry of a question's thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// When.
    pub at: Timestamp,
    /// What kind.
    #[serde(flatten)]
    pub kind: EntryKind,
    /// The text.
    pub text: String,
    /// The outbox message that carries this entry to the citizen, if any.
    #[serde(default)]
    pub outbox: Option<OutboxId>,
}

impl Entry {
    /// Whether the citizen may see this entry.
    pub fn visible_to_citizen(&self) -> bool {
        !matches!(self.kind, EntryKind::Note { .. })
    }
}

/// A question (Anliegen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Internal id.
    pub id: QuestionId,
    /// Human reference, e.g. `A-1042`.
    pub reference: Reference,
    /// Who asked.
    pub citizen: CitizenId,
    /// On which channel.
    pub channel: ChannelKind,
    /// The session it was asked in or for, if any.
    #[serde(default)]
    pub session: Option<SessionId>,
    /// The queue it waits in.
    pub queue: Queue,
    /// Status.
    pub status: QuestionStatus,
    /// Department it is routed to, if any.
    #[serde(default)]
    pub department: Option<DepartmentId>,
    /// When it was asked.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// Answer expected by (citizens' office queue).
    #[serde(default)]
    pub due: Option<jiff::civil::Date>,
    /// Rejection reason, if rejected.
    #[serde(default)]
    pub rejection: Option<String>,
    /// The thread.
    pub entries: Vec<Entry>,
    /// The department the routing rules suggested when the question came in.
    #[serde(default)]
    pub suggestion: Option<crate::triage::RouteSuggestion>,
    /// The staff member working on it.
    #[serde(default)]
    pub assignee: Option<StaffRef>,
    /// An answer waiting for four-eyes approval; the citizen has not seen it.
    #[serde(default)]
    pub draft: Option<crate::triage::Draft>,
    /// Merged as a duplicate into this (primary) question: answering the primary answers
    /// this one too, on its own channel and with its own reference.
    #[serde(default)]
    pub merged_into: Option<QuestionId>,
}

impl Question {
    /// The first thing the citizen wrote, for previews.
    pub fn first_text(&self) -> &str {
        self.entries
            .iter()
            .find(|e| e.kind == EntryKind::Citizen)
            .map_or("", |e| e.text.as_str())
    }

    /// Whether it still waits for staff.
    pub fn is_open(&self) -> bool {
        self.status == QuestionStatus::Open
    }

    /// Whether it is open and its due date lies before `today` (local date).
    pub fn is_overdue(&self, today: jiff::civil::Date) -> bool {
        self.is_open() && self.due.is_some_and(|d| d < today)
    }

    /// When it was first answered, if it was.
    pub fn answered_at(&self) -> Option<Timestamp> {
        self.entries
            .iter()
            .find(|e| matches!(e.kind, EntryKind::Answer { .. }))
            .map(|e| e.at)
    }
}
