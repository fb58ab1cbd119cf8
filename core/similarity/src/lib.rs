//! Suggested duplicates for the live hour: which open questions of a session look like the
//! same question as a new one.
//!
//! Pure and without I/O, so the caller can keep a [`DuplicateIndex`] beside the engine and
//! update and query it outside the engine's state lock. A text is analysed once
//! ([`Analysis::of`]: Unicode normalisation, case, umlaut and ß folding, a few municipal
//! abbreviations, German stop words, the Snowball German stemmer, character trigrams); the
//! index weighs the features by their rarity among the session's questions (TF-IDF) and
//! suggests the questions whose cosine similarity reaches a threshold.
//!
//! ```
//! use sprechstunde_similarity::DuplicateIndex;
//!
//! let mut index = DuplicateIndex::default();
//! index.insert(1_u32, "Wann ist der Radweg in der Bahnhofstraße fertig?");
//! index.insert(2_u32, "Warum wird die Grundsteuer erhöht?");
//! let suggestions = index.suggest("Radweg Bahnhofstr. – wann fertig?");
//! assert_eq!(suggestions.iter().map(|s| s.id).collect::<Vec<_>>(), vec![1]);
//! ```

mod analysis;
pub mod fixture;
mod index;
mod normalise;

pub use analysis::Analysis;
pub use index::{DuplicateIndex, Settings, Suggestion};
