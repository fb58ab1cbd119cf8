//! The behaviour of the duplicate index, as the live hour relies on it.

mod fixture;
mod folding;
mod robustness;
mod suggest;
mod updates;

use sprechstunde_similarity::{DuplicateIndex, Suggestion};

/// An index of the given open questions, with ids 1, 2, 3, … in order.
fn session(questions: &[&str]) -> DuplicateIndex<u32> {
    let mut index = DuplicateIndex::default();
    for (id, text) in (1..).zip(questions) {
        index.insert(id, text);
    }
    index
}

/// The ids of suggestions, best first.
fn ids(suggestions: &[Suggestion<u32>]) -> Vec<u32> {
    suggestions.iter().map(|s| s.id).collect()
}

/// Open questions of a plausible session that have nothing to do with each other.
const BACKGROUND: &[&str] = &[
    "Warum wird die Grundsteuer erhöht?",
    "Wann öffnet das Freibad dieses Jahr?",
    "Wie viele Kitaplätze fehlen in der Stadt?",
    "Warum fährt die Linie 5 abends nicht mehr?",
    "Brauche ich eine Baugenehmigung für einen Gartenschuppen?",
    "Was tut die Stadt gegen den Lärm vom Festplatz?",
];
