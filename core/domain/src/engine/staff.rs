//! Staff actions: answer, note, reject, and session management.

use jiff::Timestamp;

use super::{Engine, QuestionAction, Receipt, Refusal, SessionAction, StaffAction};
use crate::ids::QuestionId;
use crate::question::{Entry, EntryKind, QuestionStatus, StaffRef};
use crate::session::{Session, SessionDraft, SessionStatus};
use crate::state::OfficeState;
use crate::texts::Arg::Str;

impl Engine {
    pub(super) fn staff_action(
        &self,
        state: &mut OfficeState,
        actor: &StaffRef,
        action: StaffAction,
        now: Timestamp,
    ) -> Result<Receipt, Refusal> {
        match action {
            StaffAction::Question(action) => self.question_action(state, actor, action, now),
            StaffAction::Session(action) => self.session_action(state, action, now),
            StaffAction::Triage(action) => self.triage_action(state, actor, action, now),
            StaffAction::OfficeHours(action) => self.office_hours_action(state, action, now),
        }
    }

    fn question_action(
        &self,
        state: &mut OfficeState,
        actor: &StaffRef,
        action: QuestionAction,
        now: Timestamp,
    ) -> Result<Receipt, Refusal> {
        match action {
            QuestionAction::Answer { question, text } => {
                self.answer(state, actor, question, &text, now)
            }
            QuestionAction::Note { question, text } => {
                let text = non_empty(&text)?;
                state
                    .update_question(question, |q| {
                        q.entries.push(Entry {
                            at: now,
                            kind: EntryKind::Note {
                                staff: actor.clone(),
                            },
                            text,
                            outbox: None,
                        });
                    })
                    .ok_or(Refusal::NotFound)?;
                Ok(Receipt::Done)
            }
            QuestionAction::Reject { question, reason } => {
                self.reject(state, question, &reason, now)
            }
        }
    }

    fn session_action(
        &self,
        state: &mut OfficeState,
        action: SessionAction,
        now: Timestamp,
    ) -> Result<Receipt, Refusal> {
        match action {
            SessionAction::Create(draft) => {
                // A session that is already over would be announced just as it closes.
                let draft = draft.validate_at(now)?;
                let id = state.alloc_session();
                state.put_session(session_from(id, draft, SessionStatus::Scheduled, 0));
                self.after_create(state, id, now);
                Ok(Receipt::Session(id))
            }
            SessionAction::Update { id, draft } => {
                let draft = draft.validate()?;
                let current = state.session(id).ok_or(Refusal::NotFound)?;
                if !current.is_upcoming_or_live() {
                    return Err(Refusal::SessionOver);
                }
                draft.check_not_over(now)?;
                // A running session moved into the future waits again for its new start.
                let status = if current.status == SessionStatus::Live && draft.starts_at > now {
                    SessionStatus::Scheduled
                } else {
                    current.status
                };
                let admitted = current.admitted;
                let previous = current.clone();
                state.put_session(session_from(id, draft, status, admitted));
                if let Some(s) = state.session_mut(id) {
                    s.revision = previous.revision.saturating_add(1);
                }
                self.after_update(state, &previous, now);
                Ok(Receipt::Session(id))
            }
            SessionAction::Cancel(id) => {
                let session = state.session(id).ok_or(Refusal::NotFound)?;
                if !session.is_upcoming_or_live() {
                    return Err(Refusal::SessionOver);
                }
                if let Some(s) = state.session_mut(id) {
                    s.revision = s.revision.saturating_add(1);
                }
                self.announce_cancelled(state, id, now);
                self.hand_over_session(state, id, SessionStatus::Cancelled, now);
                Ok(Receipt::Session(id))
            }
        }
    }

    fn answer(
        &self,
        state: &mut OfficeState,
        actor: &StaffRef,
        id: QuestionId,
        text: &str,
        now: Timestamp,
    ) -> Result<Receipt, Refusal> {
        let text = non_empty(text)?;
        open_question(state, id)?;
        // Four-eyes approval: in departments that need it the answer waits as a draft.
        if self.hold_for_approval(state, actor, id, &text, now)? {
            return Ok(Receipt::Done);
        }
        self.send_answer(state, actor, id, text, Approval::None, now)
    }

    /// Sends `text` as the answer to open question `id`, by `actor`, and closes it; its
    /// merged duplicates get it too, those that need approval only if it was approved.
    pub(super) fn send_answer(
        &self,
        state: &mut OfficeState,
        actor: &StaffRef,
        id: QuestionId,
        text: String,
        approval: Approval,
        now: Timestamp,
    ) -> Result<Receipt, Refusal> {
        let (citizen, reference) = open_question(state, id)?;
        let message = self.render(
            citizen.lang,
            "answer",
            &[("reference", Str(&reference)), ("text", Str(&text))],
        );
        let text_for_fan_out = text.clone();
        let outbox = self.enqueue(state, &citizen, Some(id), message, now);
        state.update_question(id, |q| {
            q.entries.push(Entry {
                at: now,
                kind: EntryKind::Answer {
                    staff: actor.clone(),
                },
                text,
                outbox: Some(outbox),
            });
            q.status = QuestionStatus::Answered;
            q.due = None;
            q.draft = None;
            q.updated_at = now;
        });
        self.fan_out(state, actor, id, &text_for_fan_out, approval, now);
        Ok(Receipt::Done)
    }

    fn reject(
        &self,
        state: &mut OfficeState,
        id: QuestionId,
        reason: &str,
        now: Timestamp,
    ) -> Result<Receipt, Refusal> {
        let reason = non_empty(reason)?;
        let (citizen, reference) = open_question(state, id)?;
        if self.needs_approval(state, id) {
            return Err(Refusal::RejectNeedsApproval);
        }
        let message = self.render(
            citizen.lang,
            "rejected",
            &[("reference", Str(&reference)), ("reason", Str(&reason))],
        );
        state.update_question(id, |q| {
            q.status = QuestionStatus::Rejected;
            q.rejection = Some(reason);
            q.due = None;
            q.draft = None;
            q.updated_at = now;
        });
        let _ = self.notify(state, &citizen, id, message, now);
        // The reason is for this citizen only; the duplicates still wait for an answer.
        self.promote_duplicates(state, id, now);
        Ok(Receipt::Done)
    }
}

/// Whether an answer went through four-eyes approval: only then may it reach a citizen whose
/// question needs approval (a merged duplicate of the answered question, say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Approval {
    /// Sent as written.
    None,
    /// Approved by a second person.
    Approved,
}

/// The asker and reference of a question staff may still act on.
pub(super) fn open_question(
    state: &OfficeState,
    id: QuestionId,
) -> Result<(crate::citizen::Citizen, String), Refusal> {
    let q = state.question(id).ok_or(Refusal::NotFound)?;
    if !q.is_open() {
        return Err(Refusal::NotOpen(q.status));
    }
    let citizen = state.citizen(q.citizen).cloned().ok_or(Refusal::NotFound)?;
    Ok((citizen, q.reference.to_string()))
}

pub(super) fn non_empty(text: &str) -> Result<String, Refusal> {
    let t = text.trim();
    if t.is_empty() {
        Err(Refusal::EmptyText)
    } else {
        Ok(t.to_owned())
    }
}

fn session_from(
    id: crate::ids::SessionId,
    d: SessionDraft,
    status: SessionStatus,
    admitted: u32,
) -> Session {
    Session {
        id,
        title: d.title,
        host: d.host,
        description: d.description,
        starts_at: d.starts_at,
        ends_at: d.ends_at,
        status,
        question_cap: d.question_cap,
        presubmission: d.presubmission,
        admitted,
        series: None,
        reminded: Vec::new(),
        revision: 0,
        answering: None,
        channels: d.channels,
    }
}
