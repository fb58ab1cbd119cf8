//! The features of one question's text, computed once and independent of any index.
//!
//! Two kinds of feature describe a text: its word stems (numbers included), which say what
//! it is about, and the character trigrams of those stems, which survive what stems do not:
//! typos ("fertich"), compounds written apart ("Bahnhof Straße") and inflections the
//! stemmer leaves alone. The index weighs both and mixes their similarities.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::normalise::{Case, Token, tokens};

/// How much a word counts by what its capitalisation says: nouns name what a question is
/// about, so they weigh most.
fn case_weight(case: Case) -> f32 {
    match case {
        Case::Noun => 4.0,
        Case::Unknown => 1.5,
        Case::Other => 1.0,
    }
}

/// The kind of a feature; each kind has its own cosine similarity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// A word stem or a number.
    Word,
    /// A character trigram of a word stem, with `#` marking the word's ends.
    Gram,
}

/// One feature of a text: its kind, a 64-bit hash of its content and its weighted count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Feature {
    pub(crate) kind: Kind,
    pub(crate) key: u64,
    /// `1 + ln(count)` (a word said twice is not twice as much the subject), times what the
    /// word's capitalisation says it is worth.
    pub(crate) weight: f32,
}

/// The analysed form of a question's text: its word stems and character trigrams with their
/// counts. Computing it is the costly part of a look-up, so a caller analyses a text once
/// (outside any lock) and hands the result to [`crate::DuplicateIndex::suggest_analysed`]
/// and [`crate::DuplicateIndex::insert_analysed`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Analysis {
    /// In the order of first occurrence, so that sums over them run in the same order for
    /// the same text whatever index they meet.
    pub(crate) features: Vec<Feature>,
    /// The hashes of the numbers in the text, sorted.
    pub(crate) numbers: Vec<u64>,
    /// The distinct words (not numbers), for telling which words the other text lacks.
    pub(crate) words: Vec<Word>,
}

/// A distinct word of a text with its trigrams, for fuzzy matching against another text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Word {
    /// The key of its [`Kind::Word`] feature.
    pub(crate) key: u64,
    /// The keys of its trigrams, sorted and without repeats.
    pub(crate) grams: Vec<u64>,
    /// What its capitalisation says it is worth.
    pub(crate) weight: f32,
}

impl Analysis {
    /// Analyses a question's text. Any string is accepted; text without letters or digits
    /// beyond stop words yields an empty analysis, which matches nothing.
    #[must_use]
    pub fn of(text: &str) -> Self {
        // Per feature: how often it occurs and the highest case weight it occurs with.
        let mut counts: HashMap<(Kind, u64), (u32, f32)> = HashMap::new();
        let mut order: Vec<(Kind, u64)> = Vec::new();
        let mut numbers = Vec::new();
        let mut words: Vec<Word> = Vec::new();
        let mut add = |kind: Kind, key: u64, weight: f32| {
            let entry = counts.entry((kind, key)).or_insert((0, 0.0));
            if entry.0 == 0 {
                order.push((kind, key));
            }
            entry.0 += 1;
            entry.1 = entry.1.max(weight);
        };
        for token in tokens(text) {
            match token {
                Token::Number(n) => {
                    let key = hash(Kind::Word, &n);
                    numbers.push(key);
                    add(Kind::Word, key, 1.0);
                }
                Token::Word(w, case) => {
                    let weight = case_weight(case);
                    let key = hash(Kind::Word, &w);
                    add(Kind::Word, key, weight);
                    let padded: Vec<char> = std::iter::once('#')
                        .chain(w.chars())
                        .chain(std::iter::once('#'))
                        .collect();
                    let mut grams = Vec::with_capacity(padded.len());
                    for gram in padded.windows(3) {
                        let gram: String = gram.iter().collect();
                        let gram = hash(Kind::Gram, &gram);
                        add(Kind::Gram, gram, weight);
                        grams.push(gram);
                    }
                    grams.sort_unstable();
                    grams.dedup();
                    match words.iter_mut().find(|known| known.key == key) {
                        Some(known) => known.weight = known.weight.max(weight),
                        None => words.push(Word { key, grams, weight }),
                    }
                }
            }
        }
        numbers.sort_unstable();
        numbers.dedup();
        let features = order
            .into_iter()
            .map(|(kind, key)| {
                let (count, case) = counts.get(&(kind, key)).copied().unwrap_or((1, 1.0));
                Feature {
                    kind,
                    key,
                    // Counts are small (a text has at most a few hundred tokens).
                    weight: case * (1.0 + (count as f32).ln()),
                }
            })
            .collect();
        Self {
            features,
            numbers,
            words,
        }
    }

    /// Whether the text had nothing to compare (no letters or digits beyond stop words).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }
}

/// A stable hash of a feature, so an analysis can be made without an index's vocabulary.
/// Collisions among the few thousand features of a session are vanishingly rare at 64 bits
/// and would only make two questions look a little more alike.
fn hash(kind: Kind, text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    kind.hash(&mut hasher);
    text.hash(&mut hasher);
    hasher.finish()
}
