//! The core of sprechstunde: domain types, the deterministic conversation engine and the
//! ports through which the world reaches it.
//!
//! Nothing here does I/O. Adapters translate their protocols into [`Input`]s, the runtime
//! feeds them to [`Engine::handle`] together with the time, persists the [`Change`]s through
//! a [`Store`], and delivers outbox messages through [`Channel`]s.

pub mod audit;
pub mod calendar;
pub mod channel;
pub mod citizen;
#[cfg(feature = "conformance")]
pub mod conformance;
mod deliverable;
pub mod engine;
pub mod holidays;
pub mod ids;
pub mod outbox;
pub mod privacy;
pub mod question;
pub mod series;
pub mod session;
pub mod staff;
pub mod staff_mail;
pub mod state;
pub mod stats;
pub mod store;
pub mod summary;
pub mod texts;
pub mod triage;

pub use audit::{AuditActor, AuditAnchor, AuditEntry, AuditRecord, ChainBreak, Verification};
pub use calendar::Calendar;
pub use channel::{Channel, ChannelIdentity, ChannelKind, Delivery, DeliveryError};
pub use citizen::Citizen;
pub use engine::{
    CitizenMessage, Command, DeliveryReport, Engine, FloodPolicy, Input, Intake, MailReport,
    OfficeHoursAction, Outcome, Policy, QuestionAction, Receipt, ReceiptReport, Refusal,
    RetryPolicy, SessionAction, StaffAction, TriageAction,
};
pub use ids::{
    CitizenId, DepartmentId, MailId, OutboxId, QuestionId, Reference, SessionId, StaffId, TenantId,
};
pub use outbox::{Choice, Confirmation, DeliveryReceipt, DeliveryState, OutboxMessage};
pub use privacy::{CitizenExport, Consent, PrivacyPolicy, Retention};
pub use question::{Entry, EntryKind, Question, QuestionStatus, Queue, StaffRef};
pub use series::{Repeat, SeriesError, SeriesRule};
pub use session::{Session, SessionDraft, SessionDraftError, SessionStatus};
pub use staff::{
    ApiToken, Department, ExternalIdentity, LoginSession, Permission, Role, StaffMember,
};
pub use staff_mail::{Mailer, Notice, OutgoingMail, StaffMail, StaffMailPolicy};
pub use state::{Change, Counters, OfficeState, Snapshot};
pub use store::{CommitSeq, Store, StoreError};
pub use summary::{ItemSource, Summary, SummaryItem};
pub use texts::{Lang, Texts};
