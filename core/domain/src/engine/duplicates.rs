//! Merged duplicates are never orphaned: when a primary question leaves without an answer
//! (withdrawn, rejected, erased, purged), its oldest open duplicate takes its place.

use jiff::Timestamp;

use super::Engine;
use crate::ids::{QuestionId, SessionId};
use crate::question::Queue;
use crate::state::OfficeState;

impl Engine {
    /// Keeps the duplicates of a primary question that leaves without an answer (withdrawn,
    /// rejected, erased or purged) from being orphaned: the oldest open duplicate becomes
    /// the primary, the others are merged into it, and "answering now" follows it. When no
    /// duplicate is open and the primary is gone, the rest are detached, so no question
    /// points at one that no longer exists.
    pub(super) fn promote_duplicates(
        &self,
        state: &mut OfficeState,
        primary: QuestionId,
        now: Timestamp,
    ) {
        let heir = reattach_duplicates(state, primary, now);
        // "Answering now" follows the heir, or ends with the question that left.
        let heir_queue = heir.and_then(|h| state.question(h)).map(|q| q.queue);
        let sessions: Vec<SessionId> = state
            .sessions()
            .filter(|s| s.answering == Some(primary))
            .map(|s| s.id)
            .collect();
        for id in sessions {
            if let Some(s) = state.session_mut(id) {
                // Only a question of the session's own queue can be "answering now" there.
                s.answering = heir.filter(|_| heir_queue == Some(Queue::Session(id)));
            }
        }
    }
}

/// Re-attaches the duplicates of `primary` to its heir, the oldest open one, and returns the
/// heir; detaches them when none is open and the primary is gone.
fn reattach_duplicates(
    state: &mut OfficeState,
    primary: QuestionId,
    now: Timestamp,
) -> Option<QuestionId> {
    let mut duplicates: Vec<(Timestamp, QuestionId, bool)> = state
        .merged_into(primary)
        .map(|q| (q.created_at, q.id, q.is_open()))
        .collect();
    if duplicates.is_empty() {
        return None;
    }
    duplicates.sort_unstable();
    let heir = duplicates
        .iter()
        .find(|(_, _, open)| *open)
        .map(|(_, id, _)| *id);
    let gone = state.question(primary).is_none();
    if heir.is_none() && !gone {
        return None;
    }
    for (_, id, open) in duplicates {
        state.update_question(id, |q| {
            q.merged_into = heir.filter(|h| *h != id);
            // Closed questions keep their last change: retention counts from it.
            if open {
                q.updated_at = now;
            }
        });
    }
    heir
}
