//! The session clock: sessions open and close as time passes.

use jiff::Timestamp;

use super::Engine;
use crate::ids::SessionId;
use crate::question::{QuestionStatus, Queue};
use crate::session::SessionStatus;
use crate::state::OfficeState;
use crate::texts::Arg::Str;

impl Engine {
    /// Applies every session transition due at `now`.
    pub(super) fn advance_clock(&self, state: &mut OfficeState, now: Timestamp) {
        self.send_reminders(state, now);
        let due: Vec<(SessionId, SessionStatus)> = state
            .sessions()
            .filter_map(|s| match s.status {
                SessionStatus::Scheduled if s.ends_at <= now => Some((s.id, SessionStatus::Closed)),
                SessionStatus::Scheduled if s.starts_at <= now => Some((s.id, SessionStatus::Live)),
                SessionStatus::Live if s.ends_at <= now => Some((s.id, SessionStatus::Closed)),
                _ => None,
            })
            .collect();
        for (id, status) in due {
            match status {
                SessionStatus::Live => {
                    if let Some(s) = state.session_mut(id) {
                        s.status = SessionStatus::Live;
                    }
                }
                _ => {
                    self.hand_over_session(state, id, status, now);
                    self.summary_on_close(state, id, now);
                }
            }
        }
        self.daily_digest(state, now);
    }

    /// Ends a session (closed or cancelled) and moves its open questions to the citizens'
    /// office, telling each asker.
    pub(super) fn hand_over_session(
        &self,
        state: &mut OfficeState,
        id: SessionId,
        status: SessionStatus,
        now: Timestamp,
    ) {
        let Some(session) = state.session_mut(id) else {
            return;
        };
        session.status = status;
        let title = session.title.clone();
        let key = if status == SessionStatus::Cancelled {
            "moved-session-cancelled"
        } else {
            "moved-session-closed"
        };
        let open: Vec<_> = state.session_queue(id).map(|q| q.id).collect();
        let due = self.due_date(now);
        for qid in open {
            let Some(reference) = state.update_question(qid, |q| {
                q.queue = Queue::CitizensOffice;
                q.due = Some(due);
                q.updated_at = now;
                debug_assert_eq!(q.status, QuestionStatus::Open);
                q.reference
            }) else {
                continue;
            };
            let Some(citizen) = state
                .question(qid)
                .and_then(|q| state.citizen(q.citizen))
                .cloned()
            else {
                continue;
            };
            let reference = reference.to_string();
            let due_text = self.format_due(due, citizen.lang);
            let text = self.render(
                citizen.lang,
                key,
                &[
                    ("session", Str(&title)),
                    ("reference", Str(&reference)),
                    ("due", Str(&due_text)),
                ],
            );
            let _ = self.notify(state, &citizen, qid, text, now);
        }
    }
}
