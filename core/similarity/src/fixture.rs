//! The labelled pairs of the fixture set and the figures a threshold reaches on them.
//!
//! The format is one pair per line, tab-separated: `dup` or `diff`, question a, question b;
//! lines starting with `#` and blank lines are comments. The evaluation puts every question
//! of the set into one index, as if they were the open questions of one busy session, so the
//! feature weights are those a real session would give.

use std::collections::HashMap;

use crate::{Analysis, DuplicateIndex, Settings};

/// The fixture set kept in the crate (`fixtures/pairs.tsv`).
pub const PAIRS: &str = include_str!("../fixtures/pairs.tsv");

/// Two questions and whether they ask the same thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledPair {
    /// Whether the two questions ask the same thing.
    pub duplicate: bool,
    /// The first question.
    pub a: String,
    /// The second question.
    pub b: String,
}

/// A line of a fixture file that is not a labelled pair.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("fixture line {line}: {reason}")]
pub struct FixtureError {
    /// The line number, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Reads labelled pairs in the fixture format.
///
/// # Errors
///
/// A line that has not exactly three tab-separated fields, an unknown label or an empty
/// question.
pub fn parse(text: &str) -> Result<Vec<LabelledPair>, FixtureError> {
    let mut pairs = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line_no = number + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [label, a, b] = fields.as_slice() else {
            return Err(FixtureError {
                line: line_no,
                reason: "expected three tab-separated fields",
            });
        };
        let duplicate = match *label {
            "dup" => true,
            "diff" => false,
            _ => {
                return Err(FixtureError {
                    line: line_no,
                    reason: "label must be `dup` or `diff`",
                });
            }
        };
        if a.trim().is_empty() || b.trim().is_empty() {
            return Err(FixtureError {
                line: line_no,
                reason: "empty question",
            });
        }
        pairs.push(LabelledPair {
            duplicate,
            a: (*a).to_owned(),
            b: (*b).to_owned(),
        });
    }
    Ok(pairs)
}

/// The score of every pair, in order, with all questions of the set in one index.
#[must_use]
pub fn scores(pairs: &[LabelledPair]) -> Vec<f32> {
    let mut index = DuplicateIndex::new(Settings::default());
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for text in pairs.iter().flat_map(|p| [p.a.as_str(), p.b.as_str()]) {
        let next = ids.len();
        ids.entry(text).or_insert_with(|| {
            index.insert_analysed(next, Analysis::of(text));
            next
        });
    }
    pairs
        .iter()
        .map(|p| {
            ids.get(p.b.as_str())
                .and_then(|id| index.score(&p.a, id))
                .unwrap_or(0.0)
        })
        .collect()
}

/// Counts of right and wrong decisions at one threshold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evaluation {
    /// Duplicates that were suggested.
    pub true_positives: usize,
    /// Different questions that were suggested.
    pub false_positives: usize,
    /// Duplicates that were not suggested.
    pub false_negatives: usize,
    /// Different questions that were not suggested.
    pub true_negatives: usize,
}

impl Evaluation {
    /// Counts the decisions that `threshold` makes on pairs with the given scores.
    #[must_use]
    pub fn at(pairs: &[LabelledPair], scores: &[f32], threshold: f32) -> Self {
        let mut e = Self::default();
        for (pair, score) in pairs.iter().zip(scores) {
            match (pair.duplicate, *score >= threshold) {
                (true, true) => e.true_positives += 1,
                (false, true) => e.false_positives += 1,
                (true, false) => e.false_negatives += 1,
                (false, false) => e.true_negatives += 1,
            }
        }
        e
    }

    /// Of the suggested pairs, the share that are duplicates (1 when nothing was suggested).
    #[must_use]
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    /// Of the duplicates, the share that were suggested (1 when there were none).
    #[must_use]
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    /// The harmonic mean of precision and recall.
    #[must_use]
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        // Counts of a fixture set are far below 2^52, so the conversion is exact.
        part as f64 / whole as f64
    }
}
