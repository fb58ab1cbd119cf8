//! What the live hour keeps beside the office state, per running session: the index of
//! suggested duplicates (issue 18), the host's dismissals, the stage link and the text the
//! host approved for the stage.
//!
//! None of it is inside the engine's state lock: the live view copies the open questions out
//! of a read and updates the index afterwards, so a slow similarity look-up never holds up an
//! intake. It lives in memory for as long as the server runs: a dismissal is remembered for
//! the session (a restart may suggest a pair again), a stage link ends with a restart (the
//! press office creates a new one), which errs on the side of a link that stops working
//! rather than one that outlives its revocation.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use sprechstunde_core::{QuestionId, SessionId};
use sprechstunde_similarity::{Analysis, DuplicateIndex};
use tokio::sync::broadcast;

/// One suggested duplicate of a question: the other question and the score (0–1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Suggested {
    pub(crate) id: QuestionId,
    pub(crate) score: f32,
}

/// The live hour's extras of one session.
#[derive(Default)]
struct Board {
    index: DuplicateIndex<QuestionId>,
    /// The questions in `index`.
    ids: HashSet<QuestionId>,
    /// Pairs the host said are not the same question, smaller id first.
    dismissed: HashSet<(QuestionId, QuestionId)>,
    /// SHA-256 of the stage link's secret, hex.
    stage_secret: Option<String>,
    /// The stage text the host approved, for the question it was approved for.
    stage_text: Option<(QuestionId, String)>,
}

/// The live hour's extras of every session.
pub(crate) struct LiveBoards {
    boards: Mutex<HashMap<SessionId, Board>>,
    /// Stage changes that are not office events (the host's stage text, a revoked link).
    stage: broadcast::Sender<SessionId>,
}

impl std::fmt::Debug for LiveBoards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveBoards").finish_non_exhaustive()
    }
}

impl Default for LiveBoards {
    fn default() -> Self {
        Self {
            boards: Mutex::default(),
            stage: broadcast::channel(64).0,
        }
    }
}

fn pair(a: QuestionId, b: QuestionId) -> (QuestionId, QuestionId) {
    if a.0 <= b.0 { (a, b) } else { (b, a) }
}

impl LiveBoards {
    fn with<T>(&self, session: SessionId, f: impl FnOnce(&mut Board) -> T) -> T {
        // A panic while holding the lock leaves plain data behind; carry on with it.
        let mut boards = self
            .boards
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(boards.entry(session).or_default())
    }

    /// Brings the session's index to `open` (the open questions of its queue with their first
    /// text) and returns the suggested duplicates of each, without dismissed pairs.
    pub(crate) fn suggestions(
        &self,
        session: SessionId,
        open: &[(QuestionId, String)],
    ) -> HashMap<QuestionId, Vec<Suggested>> {
        // Analyse the new questions outside the board's lock: it is the costly part.
        let known: HashSet<QuestionId> = self.with(session, |b| {
            open.iter()
                .map(|(id, _)| *id)
                .filter(|id| b.ids.contains(id))
                .collect()
        });
        let fresh: Vec<(QuestionId, Analysis)> = open
            .iter()
            .filter(|(id, _)| !known.contains(id))
            .map(|(id, text)| (*id, Analysis::of(text)))
            .collect();
        self.with(session, |b| {
            let keep: HashSet<QuestionId> = open.iter().map(|(id, _)| *id).collect();
            let gone: Vec<QuestionId> = b
                .ids
                .iter()
                .filter(|id| !keep.contains(id))
                .copied()
                .collect();
            for id in gone {
                b.index.remove(&id);
                b.ids.remove(&id);
            }
            for (id, analysis) in fresh {
                if b.ids.insert(id) {
                    b.index.insert_analysed(id, analysis);
                }
            }
            open.iter()
                .map(|(id, _)| {
                    let list = b
                        .index
                        .suggest_for(id)
                        .into_iter()
                        .filter(|s| !b.dismissed.contains(&pair(*id, s.id)))
                        .map(|s| Suggested {
                            id: s.id,
                            score: s.score,
                        })
                        .collect();
                    (*id, list)
                })
                .collect()
        })
    }

    /// Remembers that `a` and `b` are not the same question.
    pub(crate) fn dismiss(&self, session: SessionId, a: QuestionId, b: QuestionId) {
        self.with(session, |board| board.dismissed.insert(pair(a, b)));
    }

    /// Sets the stage link's secret (hashed), replacing any earlier link.
    pub(crate) fn set_stage_secret(&self, session: SessionId, hash: Option<String>) {
        self.with(session, |b| b.stage_secret = hash);
        let _ = self.stage.send(session);
    }

    /// The session whose stage link has the secret with this hash.
    pub(crate) fn stage_session(&self, hash: &str) -> Option<SessionId> {
        let boards = self
            .boards
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        boards
            .iter()
            .find(|(_, b)| b.stage_secret.as_deref() == Some(hash))
            .map(|(id, _)| *id)
    }

    /// The stage text the host approved for `question`, if any.
    pub(crate) fn stage_text(&self, session: SessionId, question: QuestionId) -> Option<String> {
        self.with(session, |b| {
            b.stage_text
                .as_ref()
                .filter(|(q, _)| *q == question)
                .map(|(_, t)| t.clone())
        })
    }

    /// Sets the stage text for `question` (`None`: show its text as asked).
    pub(crate) fn set_stage_text(
        &self,
        session: SessionId,
        question: QuestionId,
        text: Option<String>,
    ) {
        self.with(session, |b| b.stage_text = text.map(|t| (question, t)));
        let _ = self.stage.send(session);
    }

    /// Stage changes that are not office events.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<SessionId> {
        self.stage.subscribe()
    }
}
