//! Department scoping in one place: every handler that reads or changes a question loads it
//! through [`question`], which answers 404 for questions outside a department member's
//! department (as if they did not exist), and every list filters with [`visible`].

use sprechstunde_core::{OfficeState, Question, QuestionId, Reference, StaffMember};

use crate::Console;
use crate::auth::Staff;
use crate::error::ApiError;

/// Whether `member` may see `q` (see [`sprechstunde_core::triage::may_access`]).
pub fn visible(member: &StaffMember, q: &Question) -> bool {
    sprechstunde_core::triage::may_access(member, q)
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
