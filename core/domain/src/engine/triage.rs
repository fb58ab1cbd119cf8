//! Triage actions: routing, assignment, hand-back, four-eyes approval and departments.

use jiff::Timestamp;

use super::staff::{non_empty, open_question};
use super::{Engine, Receipt, Refusal, TriageAction};
use crate::ids::{DepartmentId, QuestionId};
use crate::question::{Entry, EntryKind, StaffRef};
use crate::staff_mail::Notice;
use crate::state::OfficeState;
use crate::triage::{Draft, validate_department};

impl Engine {
    pub(super) fn triage_action(
        &self,
        state: &mut OfficeState,
        actor: &StaffRef,
        action: TriageAction,
        now: Timestamp,
    ) -> Result<Receipt, Refusal> {
        match action {
            TriageAction::Route {
                question,
                department,
            } => {
                open_question(state, question)?;
                if let Some(d) = department
                    && state.department(d).is_none()
                {
                    return Err(Refusal::InvalidDepartment(format!("no department {d}")));
                }
                let moved = state.update_question(question, |q| {
                    let moved = q.department != department;
                    if moved {
                        q.assignee = None;
                        // The draft belongs to the old department's approval workflow.
                        discard_draft(q, actor, "weitergeleitet", now);
                    }
                    q.department = department;
                    q.updated_at = now;
                    moved.then_some(q.reference)
                });
                if let (Some(Some(reference)), Some(department)) = (moved, department) {
                    let notice = Notice::Routed {
                        question,
                        reference,
                        department,
                    };
                    self.notify_staff(state, notice, now);
                }
                Ok(Receipt::Done)
            }
            TriageAction::Assign { question, assignee } => {
                open_question(state, question)?;
                let newly = state.update_question(question, |q| {
                    let before = q.assignee.as_ref().map(|a| a.id);
                    let after = assignee.as_ref().map(|a| a.id);
                    q.assignee = assignee;
                    q.updated_at = now;
                    // Nobody is told what they did themselves.
                    (before != after && after != Some(actor.id))
                        .then_some(after.map(|a| (a, q.reference)))
                        .flatten()
                });
                if let Some(Some((staff, reference))) = newly {
                    let notice = Notice::Assigned {
                        question,
                        reference,
                        staff,
                    };
                    self.notify_staff(state, notice, now);
                }
                Ok(Receipt::Done)
            }
            TriageAction::ReturnToOffice { question, note } => {
                let note = non_empty(&note)?;
                open_question(state, question)?;
                state.update_question(question, |q| {
                    q.department = None;
                    q.assignee = None;
                    discard_draft(q, actor, "an das Bürgerreferat zurückgegeben", now);
                    push_note(q, actor, note, now);
                });
                Ok(Receipt::Done)
            }
            TriageAction::Approve { question, text } => {
                self.approve(state, actor, question, text, now)
            }
            TriageAction::SendBackDraft { question, note } => {
                let note = non_empty(&note)?;
                open_question(state, question)?;
                if state.question(question).is_none_or(|q| q.draft.is_none()) {
                    return Err(Refusal::NoDraft);
                }
                state.update_question(question, |q| {
                    q.draft = None;
                    push_note(q, actor, note, now);
                });
                Ok(Receipt::Done)
            }
            TriageAction::SaveDepartment(mut department) => {
                department.name = department.name.trim().to_owned();
                validate_department(&department)
                    .map_err(|e| Refusal::InvalidDepartment(e.to_string()))?;
                if department.id.0 == 0 {
                    let next = state.departments().map(|d| d.id.0).max().unwrap_or(0) + 1;
                    department.id = DepartmentId(next);
                }
                if state
                    .department_by_slug(&department.slug)
                    .is_some_and(|d| d.id != department.id)
                {
                    return Err(Refusal::InvalidDepartment(format!(
                        "the slug {:?} is taken",
                        department.slug
                    )));
                }
                state.put_department(department);
                Ok(Receipt::Done)
            }
        }
    }

    /// The approval hook of the answer path: if the question's department needs four-eyes
    /// approval, stores `text` as a draft by `actor` and returns `true` (nothing is sent).
    pub(super) fn hold_for_approval(
        &self,
        state: &mut OfficeState,
        actor: &StaffRef,
        id: QuestionId,
        text: &str,
        now: Timestamp,
    ) -> Result<bool, Refusal> {
        if !self.needs_approval(state, id) {
            return Ok(false);
        }
        let reference = state.update_question(id, |q| {
            q.draft = Some(Draft {
                staff: actor.clone(),
                text: text.to_owned(),
                at: now,
            });
            q.updated_at = now;
            q.reference
        });
        if let Some(reference) = reference {
            let notice = Notice::DraftWaiting {
                question: id,
                reference,
                author: actor.id,
            };
            self.notify_staff(state, notice, now);
        }
        Ok(true)
    }

    /// Whether question `id` is routed to a department whose answers need four-eyes
    /// approval.
    pub(super) fn needs_approval(&self, state: &OfficeState, id: QuestionId) -> bool {
        state
            .question(id)
            .and_then(|q| q.department)
            .and_then(|d| state.department(d))
            .is_some_and(|d| d.requires_approval)
    }

    fn approve(
        &self,
        state: &mut OfficeState,
        approver: &StaffRef,
        id: QuestionId,
        text: Option<String>,
        now: Timestamp,
    ) -> Result<Receipt, Refusal> {
        open_question(state, id)?;
        let draft = state
            .question(id)
            .and_then(|q| q.draft.clone())
            .ok_or(Refusal::NoDraft)?;
        if draft.staff.id == approver.id {
            return Err(Refusal::SameApprover);
        }
        let edited = match text {
            Some(t) => Some(non_empty(&t)?).filter(|t| *t != draft.text),
            None => None,
        };
        let note = match &edited {
            Some(_) => "Antwort bearbeitet und freigegeben.",
            None => "Antwort freigegeben.",
        };
        state.update_question(id, |q| push_note(q, approver, note.to_owned(), now));
        self.send_answer(
            state,
            &draft.staff,
            id,
            edited.unwrap_or(draft.text),
            super::staff::Approval::Approved,
            now,
        )
    }
}

fn push_note(q: &mut crate::question::Question, actor: &StaffRef, text: String, now: Timestamp) {
    q.entries.push(Entry {
        at: now,
        kind: EntryKind::Note {
            staff: actor.clone(),
        },
        text,
        outbox: None,
    });
    q.updated_at = now;
}

/// Drops a pending draft when its question leaves the department, keeping its text as an
/// internal note so the work is not lost; `why` completes "…, weil die Frage … wurde".
fn discard_draft(q: &mut crate::question::Question, actor: &StaffRef, why: &str, now: Timestamp) {
    if let Some(draft) = q.draft.take() {
        let text = format!(
            "Antwortentwurf von {} verworfen, weil die Frage {why} wurde:\n\n{}",
            draft.staff.name, draft.text
        );
        push_note(q, actor, text, now);
    }
}
