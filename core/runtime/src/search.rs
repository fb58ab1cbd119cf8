//! The folded search text of every question (reference and thread, lower-cased, umlauts
//! folded as [`fold`] does), so a staff search does not fold the whole store on every request
//! and does not hold the state lock while it matches.
//!
//! Kept in memory only, never persisted: the store holds question texts encrypted, and a
//! folded copy in clear on disk would undo that. The index follows every commit: a changed
//! question is brought up to date (threads only grow, so only new entries are folded), a
//! forgotten question (erasure, retention purge) is dropped in the same commit.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use sprechstunde_core::triage::fold;
use sprechstunde_core::{Change, OfficeState, Question, QuestionId};

/// The folded text of one question and how much of its thread it covers.
#[derive(Debug, Clone)]
struct Folded {
    /// Thread entries folded so far.
    entries: usize,
    /// Time of the last folded entry, to notice a thread that did not simply grow.
    last_at: Option<Timestamp>,
    text: Arc<str>,
}

impl Folded {
    fn of(q: &Question) -> Folded {
        let mut text = fold(&q.reference.to_string());
        for e in &q.entries {
            text.push('\n');
            text.push_str(&fold(&e.text));
        }
        Folded {
            entries: q.entries.len(),
            last_at: q.entries.last().map(|e| e.at),
            text: text.into(),
        }
    }

    /// The text for `q`, folding only entries added since `self` was made.
    fn updated(&self, q: &Question) -> Folded {
        let grown = q.entries.len() >= self.entries
            && self
                .entries
                .checked_sub(1)
                .and_then(|i| q.entries.get(i))
                .map(|e| e.at)
                == self.last_at;
        if !grown {
            return Folded::of(q);
        }
        if q.entries.len() == self.entries {
            return self.clone();
        }
        let mut text = String::from(&*self.text);
        for e in q.entries.iter().skip(self.entries) {
            text.push('\n');
            text.push_str(&fold(&e.text));
        }
        Folded {
            entries: q.entries.len(),
            last_at: q.entries.last().map(|e| e.at),
            text: text.into(),
        }
    }
}

/// Folded search texts by question.
#[derive(Debug, Default)]
pub(crate) struct SearchIndex {
    texts: RwLock<HashMap<QuestionId, Folded>>,
}

impl SearchIndex {
    /// The index of every question in `state`.
    pub(crate) fn build(state: &OfficeState) -> SearchIndex {
        let index = SearchIndex::default();
        index.reset(state);
        index
    }

    /// Rebuilds the index from `state` (after the state was reloaded from the store).
    pub(crate) fn reset(&self, state: &OfficeState) {
        let texts = state.questions().map(|q| (q.id, Folded::of(q))).collect();
        *self.write() = texts;
    }

    /// Follows one commit. Call it while the state lock is held, so commits are applied in
    /// the order they were made.
    pub(crate) fn apply(&self, changes: &[Change]) {
        let mut texts = None;
        for change in changes {
            match change {
                Change::Question(q) => {
                    let texts = texts.get_or_insert_with(|| self.write());
                    let folded = match texts.get(&q.id) {
                        Some(old) => old.updated(q),
                        None => Folded::of(q),
                    };
                    texts.insert(q.id, folded);
                }
                Change::ForgetQuestion(id) => {
                    texts.get_or_insert_with(|| self.write()).remove(id);
                }
                _ => {}
            }
        }
    }

    /// The folded texts of `ids`, in the same order (`None` for a question not indexed,
    /// i.e. forgotten meanwhile). The lock is held only to copy the handles.
    pub(crate) fn texts(&self, ids: &[QuestionId]) -> Vec<Option<Arc<str>>> {
        let texts = self.texts.read().unwrap_or_else(|e| e.into_inner());
        ids.iter()
            .map(|id| texts.get(id).map(|f| Arc::clone(&f.text)))
            .collect()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<QuestionId, Folded>> {
        self.texts.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sprechstunde_core::{
        ChannelKind, CitizenId, Entry, EntryKind, QuestionStatus, Queue, Reference,
    };

    fn question(id: u64, texts: &[&str]) -> Question {
        let at = |i: usize| Timestamp::from_second(1_000 + i as i64).unwrap_or_default();
        Question {
            id: QuestionId(id),
            reference: Reference(1000 + id as u32),
            citizen: CitizenId(id),
            channel: ChannelKind::Web,
            session: None,
            queue: Queue::CitizensOffice,
            status: QuestionStatus::Open,
            department: None,
            created_at: at(0),
            updated_at: at(texts.len()),
            due: None,
            rejection: None,
            entries: texts
                .iter()
                .enumerate()
                .map(|(i, t)| Entry {
                    at: at(i),
                    kind: EntryKind::Citizen,
                    text: (*t).to_owned(),
                    outbox: None,
                })
                .collect(),
            suggestion: None,
            assignee: None,
            draft: None,
            merged_into: None,
        }
    }

    fn text(index: &SearchIndex, id: u64) -> Option<String> {
        index.texts(&[QuestionId(id)])[0]
            .as_deref()
            .map(str::to_owned)
    }

    #[test]
    fn the_index_follows_new_grown_and_forgotten_questions() {
        let index = SearchIndex::default();
        let cases: [(&str, Vec<Change>, u64, Option<&str>); 5] = [
            (
                "new",
                vec![Change::Question(question(1, &["Straße"]))],
                1,
                Some("a-1001\nstrasse"),
            ),
            (
                "grown",
                vec![Change::Question(question(1, &["Straße", "Müll"]))],
                1,
                Some("a-1001\nstrasse\nmuell"),
            ),
            (
                "rewritten thread",
                vec![Change::Question(question(1, &["Öl"]))],
                1,
                Some("a-1001\noel"),
            ),
            ("other untouched", vec![], 2, None),
            (
                "forgotten",
                vec![Change::ForgetQuestion(QuestionId(1))],
                1,
                None,
            ),
        ];
        for (name, changes, id, expected) in cases {
            index.apply(&changes);
            assert_eq!(text(&index, id).as_deref(), expected, "{name}");
        }
    }
}
