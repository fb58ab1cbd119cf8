//! The conversation engine: `handle(state, input, now) -> outcome`.
//!
//! Pure and deterministic: no I/O, no clock reads, no randomness. Time comes in as `now`,
//! ids come from the state's counters, and the outcome lists every changed entity so the
//! runtime can persist it before anybody is told.

mod clock;
mod commands;
mod delivery;
mod duplicates;
mod flood;
mod intake;
mod notify;
mod office_hours;
mod privacy;
mod staff;
#[cfg(test)]
mod tests;
mod triage;

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::calendar::Calendar;
use crate::channel::{ChannelIdentity, ChannelKind, DeliveryError};
use crate::citizen::Citizen;
use crate::ids::{CitizenId, OutboxId, QuestionId, Reference, SessionId};
use crate::outbox::{Choice, DeliveryState, OutboxMessage};
use crate::question::{QuestionStatus, Queue, StaffRef};
use crate::session::{SessionDraft, SessionDraftError};
use crate::state::{Change, OfficeState};
use crate::texts::{Args, Lang, Texts};

pub use commands::Command;
pub use flood::{FloodPolicy, FloodWindows};

/// How the office works; from configuration.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Time zone and holidays.
    pub calendar: Calendar,
    /// Working days within which the citizens' office answers.
    pub answer_working_days: u32,
    /// How long after an answer a citizen's message reopens the same question.
    pub follow_up_window: SignedDuration,
    /// Longest accepted citizen message, in characters.
    pub max_message_chars: usize,
    /// Outbox retries.
    pub retry: RetryPolicy,
    /// Consent and retention.
    pub privacy: crate::privacy::PrivacyPolicy,
    /// Per-citizen flood limit.
    pub flood: FloodPolicy,
    /// Reminders to subscribers before a session starts, e.g. 24 hours and 15 minutes.
    pub reminders: Vec<SignedDuration>,
    /// Staff notifications by e-mail; `None` (mail not configured): nothing is queued.
    pub staff_mail: Option<crate::staff_mail::StaffMailPolicy>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            calendar: Calendar::berlin(),
            answer_working_days: 5,
            follow_up_window: SignedDuration::from_hours(14 * 24),
            max_message_chars: 2000,
            retry: RetryPolicy::default(),
            privacy: crate::privacy::PrivacyPolicy::default(),
            flood: FloodPolicy::default(),
            reminders: Vec::new(),
            staff_mail: None,
        }
    }
}

/// Outbox retry schedule: exponential backoff from `base` up to `max_delay`; after
/// `max_attempts` transient failures the message is marked failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// First delay.
    pub base: Duration,
    /// Longest delay.
    pub max_delay: Duration,
    /// Transient failures before giving up.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_secs(2),
            max_delay: Duration::from_secs(600),
            max_attempts: 30,
        }
    }
}

impl RetryPolicy {
    /// Delay before attempt number `attempts + 1`, given `attempts` failures so far (≥ 1).
    pub fn delay(&self, attempts: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempts.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max_delay)
    }
}

/// A message from a citizen, as an adapter hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenMessage {
    /// Who, on which channel.
    pub identity: ChannelIdentity,
    /// The language the channel reports, if any.
    pub lang: Option<Lang>,
    /// The text.
    pub text: String,
    /// A key that is the same when the channel delivers the same message twice.
    pub intake_key: Option<String>,
    /// The adapter shows refusals (too long) itself instead of as a chat reply.
    pub inline_errors: bool,
    /// Whether the channel reports this chat as end-to-end encrypted (Matrix); `None` where
    /// the channel has no such notion.
    pub encrypted: Option<bool>,
}

/// What staff do, by what it acts on. Every group is handled by one exhaustive `match`, so
/// an action added to a group that nobody handles does not compile (instead of failing at
/// run time as "not found").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffAction {
    /// Work on a question: answer, note, reject.
    Question(QuestionAction),
    /// Manage one session.
    Session(SessionAction),
    /// Triage: routing, assignment, four-eyes approval, departments.
    Triage(TriageAction),
    /// Office hours as events: series, live moderation, merging, summaries.
    OfficeHours(OfficeHoursAction),
}

/// Work on a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuestionAction {
    /// Answer the citizen; closes the question.
    Answer {
        /// Which question.
        question: QuestionId,
        /// The answer.
        text: String,
    },
    /// Add an internal note.
    Note {
        /// Which question.
        question: QuestionId,
        /// The note.
        text: String,
    },
    /// Reject with a reason the citizen is told.
    Reject {
        /// Which question.
        question: QuestionId,
        /// The reason.
        reason: String,
    },
}

/// Manage one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionAction {
    /// Create a session.
    Create(SessionDraft),
    /// Edit a session that has not closed.
    Update {
        /// Which session.
        id: SessionId,
        /// New values.
        draft: SessionDraft,
    },
    /// Cancel a session that has not closed.
    Cancel(SessionId),
}

/// Triage: routing, assignment, hand-back, four-eyes approval and departments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriageAction {
    /// Route an open question to a department (`None`: back to the citizens' office).
    Route {
        /// Which question.
        question: QuestionId,
        /// The department.
        department: Option<crate::ids::DepartmentId>,
    },
    /// Assign an open question to a staff member (`None`: unassign).
    Assign {
        /// Which question.
        question: QuestionId,
        /// Who.
        assignee: Option<StaffRef>,
    },
    /// Hand a question back from the department to the citizens' office, with a note.
    ReturnToOffice {
        /// Which question.
        question: QuestionId,
        /// Why (an internal note).
        note: String,
    },
    /// Approve the draft answer of a question (optionally edited) and send it.
    Approve {
        /// Which question.
        question: QuestionId,
        /// The edited text; `None` sends the draft as it is.
        text: Option<String>,
    },
    /// Send a draft answer back to its author with a note; nothing is sent.
    SendBackDraft {
        /// Which question.
        question: QuestionId,
        /// Why (an internal note).
        note: String,
    },
    /// Create (id 0: a new id is chosen) or replace a department.
    SaveDepartment(crate::staff::Department),
}

/// Office hours as events: series, live moderation, merging and summaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfficeHoursAction {
    /// Create a recurring series of sessions; the draft is the first one.
    CreateSeries {
        /// The first session.
        draft: SessionDraft,
        /// How it repeats.
        rule: crate::series::SeriesRule,
    },
    /// Merge duplicate questions into a primary one: answering the primary answers them all.
    Merge {
        /// The question that will be answered.
        primary: QuestionId,
        /// The duplicates.
        duplicates: Vec<QuestionId>,
    },
    /// Live moderation: the question being answered now in a live session (`None` clears it).
    AnsweringNow {
        /// The live session.
        session: SessionId,
        /// The question.
        question: Option<QuestionId>,
    },
    /// Build (or rebuild) the draft summary of a closed session from its answered questions.
    DraftSummary(SessionId),
    /// Replace the items of a session's summary (edit, reorder, remove).
    EditSummary {
        /// The session.
        session: SessionId,
        /// The new items.
        items: Vec<crate::summary::SummaryItem>,
    },
    /// Publish a session's summary.
    PublishSummary(SessionId),
}

impl From<QuestionAction> for StaffAction {
    fn from(action: QuestionAction) -> Self {
        StaffAction::Question(action)
    }
}

impl From<SessionAction> for StaffAction {
    fn from(action: SessionAction) -> Self {
        StaffAction::Session(action)
    }
}

impl From<TriageAction> for StaffAction {
    fn from(action: TriageAction) -> Self {
        StaffAction::Triage(action)
    }
}

impl From<OfficeHoursAction> for StaffAction {
    fn from(action: OfficeHoursAction) -> Self {
        StaffAction::OfficeHours(action)
    }
}

/// How one delivery went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// The message.
    pub id: OutboxId,
    /// The result.
    pub result: Result<(), DeliveryError>,
}

/// A delivery receipt a channel received for one outbox message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptReport {
    /// The message.
    pub id: OutboxId,
    /// What the citizen's app confirmed.
    pub receipt: crate::outbox::DeliveryReceipt,
}

/// How sending one staff mail went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailReport {
    /// The mail.
    pub id: crate::ids::MailId,
    /// The result.
    pub result: Result<(), DeliveryError>,
}

/// Everything the engine reacts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A citizen wrote.
    Citizen(CitizenMessage),
    /// A staff member acted.
    Staff {
        /// Who.
        actor: StaffRef,
        /// What.
        action: StaffAction,
    },
    /// Time passed: open and close sessions that are due.
    Tick,
    /// The outbox dispatcher reports deliveries.
    Delivered(Vec<DeliveryReport>),
    /// A channel reports delivery receipts from citizens' apps (Threema).
    Receipts(Vec<ReceiptReport>),
    /// The daily retention purge: forget closed questions and inactive citizens whose
    /// retention period has passed.
    Purge,
    /// The mail worker reports how sending staff mails went.
    MailSent(Vec<MailReport>),
}

/// How a citizen message was taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intake {
    /// A new question in this queue.
    New(Queue),
    /// Added to the citizen's open question.
    Extended,
    /// Reopened an answered question as a follow-up.
    FollowUp,
    /// The same message was taken in before; nothing changed.
    Duplicate,
}

/// What an input achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// A citizen message became or extended a question.
    Question {
        /// The citizen.
        citizen: CitizenId,
        /// The question.
        question: QuestionId,
        /// Its reference.
        reference: Reference,
        /// How.
        intake: Intake,
    },
    /// A citizen command was answered.
    Command {
        /// The citizen.
        citizen: CitizenId,
        /// Which command.
        command: Command,
    },
    /// A session was created or changed.
    Session(SessionId),
    /// Done.
    Done,
    /// The citizen has not agreed to the privacy notice yet: the message was not stored,
    /// the notice was sent.
    ConsentNeeded {
        /// The citizen.
        citizen: CitizenId,
    },
    /// A series of sessions was created.
    Series(Vec<SessionId>),
}

/// Why an input was refused. Nothing was changed, except that a citizen may have been
/// told (see [`CitizenMessage::inline_errors`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The message is empty.
    #[error("the message is empty")]
    Empty,
    /// The message is longer than allowed.
    #[error("the message is longer than {max} characters")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// No such question or session.
    #[error("not found")]
    NotFound,
    /// The question is not open any more.
    #[error("the question is {}", .0.as_str())]
    NotOpen(QuestionStatus),
    /// The session has closed or was cancelled.
    #[error("the session is over or cancelled")]
    SessionOver,
    /// The session draft is invalid.
    #[error(transparent)]
    InvalidSession(#[from] SessionDraftError),
    /// A text that must not be empty is empty.
    #[error("the text must not be empty")]
    EmptyText,
    /// The department is unknown or its settings are invalid.
    #[error("invalid department: {0}")]
    InvalidDepartment(String),
    /// The question has no draft answer awaiting approval.
    #[error("the question has no draft answer awaiting approval")]
    NoDraft,
    /// Four-eyes principle: the author of a draft cannot approve it.
    #[error("a draft must be approved by somebody other than its author")]
    SameApprover,
    /// Four-eyes principle: a question of a department whose answers need approval cannot
    /// be rejected there, since the reason would reach the citizen unapproved.
    #[error(
        "Fragen eines Fachamts mit Freigabepflicht können dort nicht abgelehnt werden: Geben \
         Sie die Frage an das Bürgerreferat zurück. / Questions of a department whose answers \
         need approval cannot be rejected there: hand the question back to the citizens' office."
    )]
    RejectNeedsApproval,
    /// Four-eyes principle: a question whose answers need approval cannot be merged into one
    /// whose answer would go out without it (the merged citizen would get it unapproved).
    #[error(
        "Eine Frage mit Freigabepflicht kann nicht mit einer Frage ohne Freigabepflicht \
         zusammengeführt werden: Leiten Sie die Hauptfrage an dasselbe Fachamt weiter oder \
         beantworten Sie beide einzeln. / A question whose answers need approval cannot be \
         merged into one answered without approval: route the primary question to the same \
         department, or answer both separately."
    )]
    MergeNeedsApproval,
    /// The citizen sent more messages than the flood limit allows; nothing was stored.
    #[error("too many messages; try again in {retry_after_secs} s")]
    Flooded {
        /// Seconds until a message is admitted again.
        retry_after_secs: u64,
    },
    /// The series rule is invalid.
    #[error(transparent)]
    InvalidSeries(#[from] crate::series::SeriesError),
    /// The questions cannot be merged this way.
    #[error(
        "a question cannot be merged into itself, into a merged question, or across ended questions"
    )]
    CannotMerge,
    /// The question is not in that session's queue.
    #[error("the question is not in this session's queue")]
    NotInSession,
    /// The session is not live.
    #[error("the session is not live")]
    SessionNotLive,
    /// The session has not closed yet.
    #[error("the session has not closed yet")]
    SessionNotClosed,
    /// The summary is already published and can only be edited.
    #[error("the summary is already published")]
    SummaryPublished,
}

/// The result of handling one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// What it achieved, or why not.
    pub result: Result<Receipt, Refusal>,
    /// The entities to persist (before anybody is told).
    pub changes: Vec<Change>,
}

/// The engine: policy and texts; the state is passed in.
#[derive(Debug)]
pub struct Engine {
    policy: Policy,
    texts: Texts,
}

impl Engine {
    /// An engine with this policy and these texts.
    pub fn new(policy: Policy, texts: Texts) -> Self {
        Engine { policy, texts }
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The texts.
    pub fn texts(&self) -> &Texts {
        &self.texts
    }

    /// Handles one input at `now`. Due session transitions are applied first, so the state
    /// never lags behind the clock, whatever the input.
    pub fn handle(&self, state: &mut OfficeState, input: Input, now: Timestamp) -> Outcome {
        self.advance_clock(state, now);
        let result = match input {
            Input::Citizen(message) => self.citizen_message(state, message, now),
            Input::Staff { actor, action } => self.staff_action(state, &actor, action, now),
            Input::Tick => Ok(Receipt::Done),
            Input::Delivered(reports) => {
                self.delivered(state, reports, now);
                Ok(Receipt::Done)
            }
            Input::Receipts(reports) => {
                self.receipts(state, reports, now);
                Ok(Receipt::Done)
            }
            Input::Purge => {
                self.purge(state, now);
                self.purge_mails(state, now);
                Ok(Receipt::Done)
            }
            Input::MailSent(reports) => {
                self.mail_sent(state, reports, now);
                Ok(Receipt::Done)
            }
        };
        // A session created or moved into its running window goes live at once.
        self.advance_clock(state, now);
        Outcome {
            result,
            changes: state.take_changes(),
        }
    }

    /// Renders a text for a citizen.
    pub fn render(&self, lang: Lang, key: &str, args: &Args<'_>) -> String {
        self.texts.render(lang, key, args)
    }

    /// The greeting for a citizen who opens `channel`: the current or next session held
    /// there.
    pub fn greeting(
        &self,
        state: &OfficeState,
        channel: ChannelKind,
        lang: Lang,
        now: Timestamp,
    ) -> String {
        self.greeting_for(state, channel, lang, now, None)
    }

    /// The greeting for a deep link such as Telegram's `t.me/<bot>?start=s12`: a payload
    /// naming a live or upcoming session (`s12` or `12`) greets with that session; any other
    /// payload greets as [`Engine::greeting`] does.
    pub fn greeting_for(
        &self,
        state: &OfficeState,
        channel: ChannelKind,
        lang: Lang,
        now: Timestamp,
        payload: Option<&str>,
    ) -> String {
        use crate::texts::Arg::Str;
        let cal = &self.policy.calendar;
        let chosen = payload.and_then(|p| preselected_session(state, p, now));
        if let Some(s) = chosen.filter(|s| s.status == crate::session::SessionStatus::Scheduled) {
            let start = cal.format_datetime(s.starts_at, lang);
            return self.render(
                lang,
                "greeting-next",
                &[
                    ("session", Str(&s.title)),
                    ("host", Str(&s.host)),
                    ("start", Str(&start)),
                ],
            );
        }
        if let Some(s) = chosen.or_else(|| {
            state
                .live_session_on(channel)
                .filter(|s| s.starts_at <= now && now < s.ends_at)
        }) {
            let end = cal.format_time(s.ends_at, lang);
            return self.render(
                lang,
                "greeting-live",
                &[
                    ("session", Str(&s.title)),
                    ("host", Str(&s.host)),
                    ("end", Str(&end)),
                ],
            );
        }
        if let Some(s) = state.next_session_on(now, channel) {
            let start = cal.format_datetime(s.starts_at, lang);
            return self.render(
                lang,
                "greeting-next",
                &[
                    ("session", Str(&s.title)),
                    ("host", Str(&s.host)),
                    ("start", Str(&start)),
                ],
            );
        }
        self.render(lang, "greeting-none", &[])
    }

    /// The date by which the citizens' office answers a question arriving at `now`.
    pub fn due_date(&self, now: Timestamp) -> jiff::civil::Date {
        self.policy
            .calendar
            .working_days_after(now, self.policy.answer_working_days)
    }

    fn format_due(&self, due: jiff::civil::Date, lang: Lang) -> String {
        self.policy.calendar.format_date(due, lang)
    }

    /// Queues a message to a citizen; returns its outbox id.
    fn enqueue(
        &self,
        state: &mut OfficeState,
        citizen: &Citizen,
        question: Option<QuestionId>,
        text: String,
        now: Timestamp,
    ) -> OutboxId {
        let id = state.alloc_outbox();
        state.put_outbox(OutboxMessage {
            id,
            citizen: citizen.id,
            channel: citizen.channel,
            address: citizen.address.clone(),
            text,
            question,
            created_at: now,
            state: DeliveryState::new_pending(now),
            choices: Vec::new(),
            ephemeral: false,
            confirmed: None,
        });
        id
    }

    /// Offers the standard choices with a queued message: status, and withdrawing `question`
    /// (if given), or help.
    fn offer(
        &self,
        state: &mut OfficeState,
        outbox: OutboxId,
        lang: Lang,
        withdraw: Option<Reference>,
    ) {
        let Some(mut message) = state.outbox_message(outbox).cloned() else {
            return;
        };
        let (status, help) = match lang {
            Lang::De => ("/status", "/hilfe"),
            Lang::En => ("/status", "/help"),
        };
        let mut choices = vec![Choice {
            label: self.render(lang, "button-status", &[]),
            command: status.into(),
        }];
        match withdraw {
            Some(reference) => choices.push(Choice {
                label: self.render(lang, "button-withdraw", &[]),
                command: match lang {
                    Lang::De => format!("/zurueckziehen {reference}"),
                    Lang::En => format!("/withdraw {reference}"),
                },
            }),
            None => choices.push(Choice {
                label: self.render(lang, "button-help", &[]),
                command: help.into(),
            }),
        }
        message.choices = choices;
        state.put_outbox(message);
    }
}

/// The session a `/start` payload (`s12` or `12`) names, if it is live or still to come.
fn preselected_session<'a>(
    state: &'a OfficeState,
    payload: &str,
    now: Timestamp,
) -> Option<&'a crate::session::Session> {
    let p = payload.trim();
    let digits = p.strip_prefix(['s', 'S']).unwrap_or(p);
    let id = digits.parse::<u64>().ok()?;
    state
        .session(crate::ids::SessionId(id))
        .filter(|s| match s.status {
            crate::session::SessionStatus::Live => now < s.ends_at,
            crate::session::SessionStatus::Scheduled => now < s.starts_at,
            _ => false,
        })
}
