//! The incrementally updated index of a session's open questions.

use std::collections::HashMap;
use std::hash::Hash;

use crate::Analysis;

/// How the index decides what counts as a duplicate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// The lowest score (0 to 1) that is suggested.
    pub threshold: f32,
    /// At most this many suggestions are returned, the best first.
    pub max_suggestions: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            max_suggestions: 5,
        }
    }
}

/// An open question that looks like the same question, with its score (0 to 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Suggestion<K> {
    /// The caller's id of the open question.
    pub id: K,
    /// How alike the two questions are, from 0 (nothing in common) to 1 (the same words).
    pub score: f32,
}

/// The open questions of one session, analysed, with the counts that weigh their features.
#[derive(Debug, Clone)]
pub struct DuplicateIndex<K> {
    settings: Settings,
    docs: HashMap<K, Analysis>,
}

impl<K> Default for DuplicateIndex<K> {
    fn default() -> Self {
        Self::new(Settings::default())
    }
}

impl<K> DuplicateIndex<K> {
    /// An empty index with the given settings.
    #[must_use]
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            docs: HashMap::new(),
        }
    }
}

impl<K: Copy + Eq + Hash + Ord> DuplicateIndex<K> {
    /// Adds an open question, or replaces its text if the id is already there.
    pub fn insert(&mut self, id: K, text: &str) {
        self.insert_analysed(id, Analysis::of(text));
    }

    /// Adds an open question whose text was analysed already.
    pub fn insert_analysed(&mut self, id: K, analysis: Analysis) {
        self.docs.insert(id, analysis);
    }

    /// Removes a question (answered, merged, withdrawn); returns whether it was there.
    pub fn remove(&mut self, id: &K) -> bool {
        self.docs.remove(id).is_some()
    }

    /// How many questions the index holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether the index holds no question.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The open questions that look like the same question as `text`, best first.
    #[must_use]
    pub fn suggest(&self, text: &str) -> Vec<Suggestion<K>> {
        self.suggest_analysed(&Analysis::of(text))
    }

    /// As [`Self::suggest`], for a text analysed already.
    #[must_use]
    pub fn suggest_analysed(&self, _query: &Analysis) -> Vec<Suggestion<K>> {
        Vec::new()
    }

    /// The questions in the index that look like the same question as the indexed question
    /// `id` (itself excluded); empty when `id` is not in the index.
    #[must_use]
    pub fn suggest_for(&self, _id: &K) -> Vec<Suggestion<K>> {
        Vec::new()
    }

    /// The score of `text` against the indexed question `id`, whatever the threshold;
    /// `None` when `id` is not in the index.
    #[must_use]
    pub fn score(&self, _text: &str, _id: &K) -> Option<f32> {
        None
    }
}
