//! Data protection: consent to the privacy notice, retention periods, and the export of a
//! citizen's data (GDPR Art. 15/20).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::channel::ChannelKind;
use crate::question::{EntryKind, QuestionStatus};
use crate::state::OfficeState;
use crate::texts::Lang;

/// A citizen's consent to the privacy notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// When the citizen agreed.
    pub at: Timestamp,
    /// Which version of the notice the citizen saw.
    pub notice: String,
}

/// How long closed questions and inactive citizens are kept, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Answered questions, counted from their last change.
    pub answered_days: u32,
    /// Rejected questions.
    pub rejected_days: u32,
    /// Withdrawn questions.
    pub withdrawn_days: u32,
    /// A citizen with no questions left and no contact for this long is erased.
    pub inactive_citizen_days: u32,
    /// A citizen who never agreed to the privacy notice (never answered it, or declined) is
    /// forgotten this long after the last contact: only the pseudonym and the reply address
    /// are kept meanwhile, so the notice can still be answered.
    pub unconsented_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            answered_days: 90,
            rejected_days: 90,
            withdrawn_days: 30,
            inactive_citizen_days: 90,
            unconsented_days: 7,
        }
    }
}

impl Retention {
    /// Days a closed question with this status is kept; `None` for open questions.
    pub fn days_for(&self, status: QuestionStatus) -> Option<u32> {
        match status {
            QuestionStatus::Open => None,
            QuestionStatus::Answered => Some(self.answered_days),
            QuestionStatus::Rejected => Some(self.rejected_days),
            QuestionStatus::Withdrawn => Some(self.withdrawn_days),
        }
    }
}

/// The data protection part of the [`Policy`](crate::Policy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacyPolicy {
    /// Whether a citizen must agree to the notice before a question is kept. Only switch this
    /// off where consent is obtained before the citizen reaches the channel.
    pub require_consent: bool,
    /// Version of the notice, recorded with each consent.
    pub notice_version: String,
    /// The municipality's own notice text (German), replacing the built-in one.
    pub notice_de: Option<String>,
    /// The municipality's own notice text (English).
    pub notice_en: Option<String>,
    /// Retention periods.
    pub retention: Retention,
}

impl Default for PrivacyPolicy {
    fn default() -> Self {
        PrivacyPolicy {
            require_consent: true,
            notice_version: "1".to_owned(),
            notice_de: None,
            notice_en: None,
            retention: Retention::default(),
        }
    }
}

impl PrivacyPolicy {
    /// The configured notice text in `lang`, if the municipality set one.
    pub fn notice_override(&self, lang: Lang) -> Option<&str> {
        match lang {
            Lang::De => self.notice_de.as_deref(),
            Lang::En => self.notice_en.as_deref(),
        }
        .map(str::trim)
        .filter(|t| !t.is_empty())
    }
}

/// Everything stored about one citizen, as handed to the citizen (JSON download in the web
/// chat). Internal staff notes are left out: they are working notes of the office, not
/// messages to or from the citizen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CitizenExport {
    /// The channel.
    pub channel: ChannelKind,
    /// The pseudonym the citizen is stored under.
    pub pseudonym: String,
    /// Where replies go: the Telegram chat id, the Matrix room, or (web chat) the pseudonym.
    pub address: String,
    /// Whether the citizen subscribed to announcements of office hours.
    pub subscribed: bool,
    /// Language.
    pub lang: Lang,
    /// First contact.
    pub first_seen: Timestamp,
    /// Last message.
    pub last_seen: Option<Timestamp>,
    /// Consent, if given.
    pub consent: Option<Consent>,
    /// Questions, oldest first.
    pub questions: Vec<ExportedQuestion>,
}

/// One question in an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedQuestion {
    /// Reference, e.g. `A-1042`.
    pub reference: String,
    /// Status.
    pub status: QuestionStatus,
    /// Asked.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// The messages the citizen can see.
    pub messages: Vec<ExportedMessage>,
}

/// One message in an exported question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedMessage {
    /// When.
    pub at: Timestamp,
    /// `citizen`, `answer` or `system`.
    pub from: String,
    /// Text.
    pub text: String,
}

/// The export of the citizen with this channel pseudonym, if known (and not erased).
pub fn export(state: &OfficeState, channel: ChannelKind, pseudonym: &str) -> Option<CitizenExport> {
    let citizen = state.citizen_by_pseudonym(channel, pseudonym)?;
    let questions = state
        .questions_of(citizen.id)
        .map(|q| ExportedQuestion {
            reference: q.reference.to_string(),
            status: q.status,
            created_at: q.created_at,
            updated_at: q.updated_at,
            messages: q
                .entries
                .iter()
                .filter(|e| e.visible_to_citizen())
                .map(|e| ExportedMessage {
                    at: e.at,
                    from: match e.kind {
                        EntryKind::Citizen => "citizen",
                        EntryKind::Answer { .. } => "answer",
                        _ => "system",
                    }
                    .to_owned(),
                    text: e.text.clone(),
                })
                .collect(),
        })
        .collect();
    Some(CitizenExport {
        channel: citizen.channel,
        pseudonym: citizen.pseudonym.clone(),
        address: citizen.address.clone(),
        subscribed: citizen.subscribed,
        lang: citizen.lang,
        first_seen: citizen.first_seen,
        last_seen: citizen.last_seen,
        consent: citizen.consent.clone(),
        questions,
    })
}
