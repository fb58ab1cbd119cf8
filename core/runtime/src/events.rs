//! Change notifications for live views (the staff console's queue and thread views).

use std::collections::BTreeSet;

use sprechstunde_core::{Change, OfficeState, Reference, SessionId};

/// What changed in one commit. Carries no content, only references.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfficeEvent {
    /// Questions that changed (their thread, status, or the delivery of a message to the asker).
    pub questions: BTreeSet<Reference>,
    /// Sessions that changed.
    pub sessions: BTreeSet<SessionId>,
    /// Whether new outbox messages are waiting.
    pub new_outbox: bool,
    /// Questions were forgotten (erasure, retention): views should reload.
    pub forgotten: bool,
    /// Whether new staff mails are waiting.
    pub new_mail: bool,
}

impl OfficeEvent {
    pub(crate) fn from_changes(state: &OfficeState, changes: &[Change]) -> Self {
        let mut event = OfficeEvent::default();
        for change in changes {
            match change {
                Change::Question(q) => {
                    event.questions.insert(q.reference);
                }
                Change::Session(s) => {
                    event.sessions.insert(s.id);
                }
                Change::Outbox(m) => {
                    if m.is_pending() {
                        event.new_outbox = true;
                    }
                    if let Some(q) = m.question.and_then(|q| state.question(q)) {
                        event.questions.insert(q.reference);
                    }
                }
                Change::ForgetQuestion(_) => event.forgotten = true,
                // A summary belongs to its session: its views refresh with the session's.
                Change::Summary(s) => {
                    event.sessions.insert(s.session);
                }
                Change::Mail(m) => {
                    if m.is_pending() {
                        event.new_mail = true;
                    }
                }
                Change::Citizen(_)
                | Change::Counters(_)
                | Change::Department(_)
                | Change::ForgetCitizen(_)
                | Change::ForgetOutbox(_)
                | Change::ForgetMail(_) => {}
            }
        }
        event
    }
}
