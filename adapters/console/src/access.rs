//! Who may see which question, in one place: every handler that reads or changes a question
//! loads it through [`question`], which answers 404 for questions the caller may not see (as
//! if they did not exist), and every list filters with [`visible`].
//!
//! The rule (docs/api.md, "Who sees which question"):
//!
//! - department staff (not also citizens' office or admin) see their department's questions
//!   and nothing else, whatever other roles they hold;
//! - everybody else with `read_queue` sees every question;
//! - without `read_queue`, a member sees only what their work needs (data minimisation):
//!   with `approve_answers` the questions whose answer draft awaits approval, with
//!   `moderate_sessions` the questions in a session's queue (what the live view lists).

use sprechstunde_core::{
    OfficeState, Permission, Question, QuestionId, Queue, Reference, StaffMember,
};

use crate::Console;
use crate::auth::Staff;
use crate::error::ApiError;

/// The permissions that let a member read questions at all (which ones: [`visible`]); the
/// access of the question read routes and the event stream.
pub const READERS: &[Permission] = &[
    Permission::ReadQueue,
    Permission::ApproveAnswers,
    Permission::ModerateSessions,
];

/// Whether `member` may see `q` (and act on it, as far as their permissions go).
pub fn visible(member: &StaffMember, q: &Question) -> bool {
    if sprechstunde_core::triage::department_scoped(member) {
        return sprechstunde_core::triage::may_access(member, q);
    }
    member.may(Permission::ReadQueue)
        || (member.may(Permission::ApproveAnswers) && q.draft.is_some())
        || (member.may(Permission::ModerateSessions) && matches!(q.queue, Queue::Session(_)))
}

/// Whether `member` sees only part of the questions (department staff, or staff who see
/// questions only through approval or moderation): lists and event streams must filter.
pub fn partial(member: &StaffMember) -> bool {
    sprechstunde_core::triage::department_scoped(member) || !member.may(Permission::ReadQueue)
}

/// The question `reference` names, if `staff` may see it.
///
/// # Errors
/// 400 for a malformed reference, 404 for an unknown or invisible question.
pub(crate) async fn question(
    console: &Console,
    staff: &Staff,
    reference: &str,
) -> Result<QuestionId, ApiError> {
    let reference: Reference = reference
        .parse()
        .map_err(|e: sprechstunde_core::ids::BadReference| ApiError::BadRequest(e.to_string()))?;
    let member = staff.member.clone();
    console
        .office
        .read(move |state, _, _| find(state, &member, reference))
        .await
        .ok_or(ApiError::NotFound)
}

fn find(state: &OfficeState, member: &StaffMember, reference: Reference) -> Option<QuestionId> {
    state
        .question_by_reference(reference)
        .filter(|q| visible(member, q))
        .map(|q| q.id)
}

/// Today's date in the office's time zone.
pub(crate) fn today(engine: &sprechstunde_core::Engine, now: jiff::Timestamp) -> jiff::civil::Date {
    engine.policy().calendar.local(now).date()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use sprechstunde_core::{DepartmentId, Role, StaffId};

    fn member(roles: &[Role], department: Option<u64>) -> StaffMember {
        StaffMember {
            id: StaffId(1),
            login: "m".into(),
            name: "M".into(),
            roles: roles.iter().copied().collect(),
            department: department.map(DepartmentId),
            password_hash: String::new(),
            disabled: false,
            created_at: jiff::Timestamp::UNIX_EPOCH,
            email: None,
            notify: true,
            external: None,
        }
    }

    /// A question for tests: in a session queue or not, with a draft or not, routed or not.
    pub(crate) fn question(in_session: bool, draft: bool, department: Option<u64>) -> Question {
        let t = jiff::Timestamp::UNIX_EPOCH;
        Question {
            id: QuestionId(1),
            reference: Reference(1001),
            citizen: sprechstunde_core::CitizenId(1),
            channel: sprechstunde_core::ChannelKind::Web,
            session: in_session.then_some(sprechstunde_core::SessionId(1)),
            queue: if in_session {
                Queue::Session(sprechstunde_core::SessionId(1))
            } else {
                Queue::CitizensOffice
            },
            status: sprechstunde_core::QuestionStatus::Open,
            department: department.map(DepartmentId),
            created_at: t,
            updated_at: t,
            due: None,
            rejection: None,
            entries: Vec::new(),
            suggestion: None,
            assignee: None,
            draft: draft.then(|| sprechstunde_core::triage::Draft {
                staff: sprechstunde_core::StaffRef {
                    id: StaffId(9),
                    name: "Autor".into(),
                },
                text: "Entwurf".into(),
                at: t,
            }),
            merged_into: None,
        }
    }

    #[test]
    fn each_role_sees_exactly_the_questions_its_work_needs() {
        use Role::*;
        // (roles, department, question: in a session queue, has a draft, department) -> seen
        type Case = (&'static [Role], Option<u64>, bool, bool, Option<u64>, bool);
        let table: &[Case] = &[
            (&[CitizensOffice], None, false, false, None, true),
            (&[Host], None, false, false, Some(2), true),
            (&[Department], Some(1), false, false, Some(1), true),
            (&[Department], Some(1), true, true, Some(2), false),
            // Department and host: the department scope holds in the live view too.
            (&[Department, Host], Some(1), true, false, Some(2), false),
            (&[Department, Host], Some(1), true, false, Some(1), true),
            (
                &[Department, PressOffice],
                Some(1),
                false,
                true,
                Some(2),
                false,
            ),
            (
                &[Department, CitizensOffice],
                Some(1),
                false,
                false,
                Some(2),
                true,
            ),
            // The press office: drafts awaiting approval and session questions only.
            (&[PressOffice], None, false, true, Some(2), true),
            (&[PressOffice], None, true, false, None, true),
            (&[PressOffice], None, false, false, Some(2), false),
            (&[DataProtection], None, true, true, None, false),
            (&[Admin], None, false, false, None, true),
        ];
        for &(roles, dept, in_session, draft, q_dept, seen) in table {
            let q = question(in_session, draft, q_dept);
            assert_eq!(
                visible(&member(roles, dept), &q),
                seen,
                "{roles:?} {dept:?} session={in_session} draft={draft} {q_dept:?}"
            );
        }
    }
}
