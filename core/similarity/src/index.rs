//! The incrementally updated index of a session's open questions.

use std::collections::HashMap;
use std::hash::Hash;

use crate::Analysis;
use crate::analysis::{Kind, Word};

/// How much the word stems count against the trigrams in a score (the rest is trigrams).
/// Stems carry the meaning; trigrams catch typos and compounds, but also give unrelated
/// questions with a shared long word a high score, so they count less.
const WORD_SHARE: f32 = 0.3;

/// The share of a score that is lost when both questions name things the other does not
/// (a swap: "Radweg in der Bahnhofstraße" against "Radweg in der Schillerstraße"), in
/// proportion to the weight of those things. A question that only adds detail to another
/// loses nothing.
const SWAP_PENALTY: f32 = 1.5;

/// Two word stems with at least this share of trigrams in common (Dice) count as the same
/// word when looking for swaps: typos and inflections the stemmer missed.
const FUZZY_MATCH: f32 = 0.5;

/// Two questions that name numbers, none of them the same ("Linie 5", "Linie 7";
/// "Hausnummer 12", "Hausnummer 40"), are about different things however alike the rest
/// is; their score is multiplied by this.
const NUMBER_MISMATCH: f32 = 0.3;

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
            threshold: 0.4,
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
///
/// Adding and removing a question costs time in proportion to the session's vocabulary (the
/// weights of all features change with the number of questions); a look-up costs time in
/// proportion to how many questions share features with the text. Neither blocks anything
/// else: the index is plain data that the caller keeps beside, not inside, the engine's state.
#[derive(Debug, Clone)]
pub struct DuplicateIndex<K> {
    settings: Settings,
    vocabulary: HashMap<u64, u32>,
    terms: Vec<Term>,
    slots: Vec<Option<Doc<K>>>,
    free: Vec<u32>,
    by_id: HashMap<K, u32>,
    live: usize,
}

/// A feature that some question of the index has (or had).
#[derive(Debug, Clone)]
struct Term {
    /// How many questions of the index have it.
    questions: u32,
    /// Its weight given how rare it is, updated whenever the index changes.
    idf: f32,
    /// The slots of the questions that have it, with the feature's weight in each.
    postings: Vec<(u32, f32)>,
}

/// One indexed question.
#[derive(Debug, Clone)]
struct Doc<K> {
    id: K,
    analysis: Analysis,
    /// The terms of `analysis.features`, in the same order.
    terms: Vec<u32>,
    /// The length of its word vector and of its trigram vector under the current weights.
    norms: [f32; 2],
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
            vocabulary: HashMap::new(),
            terms: Vec::new(),
            slots: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
            live: 0,
        }
    }

    /// The settings the index decides with.
    #[must_use]
    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// How many questions the index holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether the index holds no question.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }
}

impl<K: Copy + Eq + Hash + Ord> DuplicateIndex<K> {
    /// Adds an open question, or replaces its text if the id is already there.
    pub fn insert(&mut self, id: K, text: &str) {
        self.insert_analysed(id, Analysis::of(text));
    }

    /// Adds an open question whose text was analysed already, or replaces it.
    pub fn insert_analysed(&mut self, id: K, analysis: Analysis) {
        self.add(id, analysis);
        self.reweigh();
    }

    /// Adds many questions at once (a session's open questions when the index is built),
    /// weighing the features once at the end instead of after each question.
    pub fn extend<I: IntoIterator<Item = (K, Analysis)>>(&mut self, questions: I) {
        for (id, analysis) in questions {
            self.add(id, analysis);
        }
        self.reweigh();
    }

    /// Removes a question (answered, merged, withdrawn); returns whether it was there.
    pub fn remove(&mut self, id: &K) -> bool {
        let removed = self.take(id);
        if removed {
            self.reweigh();
        }
        removed
    }

    /// The open questions that look like the same question as `text`, best first, at most
    /// [`Settings::max_suggestions`] of them.
    #[must_use]
    pub fn suggest(&self, text: &str) -> Vec<Suggestion<K>> {
        self.suggest_analysed(&Analysis::of(text))
    }

    /// As [`Self::suggest`], for a text analysed already.
    #[must_use]
    pub fn suggest_analysed(&self, query: &Analysis) -> Vec<Suggestion<K>> {
        self.suggestions(query, None)
    }

    /// The questions in the index that look like the same question as the indexed question
    /// `id` (itself excluded), best first; empty when `id` is not in the index.
    #[must_use]
    pub fn suggest_for(&self, id: &K) -> Vec<Suggestion<K>> {
        let Some(&slot) = self.by_id.get(id) else {
            return Vec::new();
        };
        match self.slots.get(slot as usize) {
            Some(Some(doc)) => self.suggestions(&doc.analysis, Some(slot)),
            _ => Vec::new(),
        }
    }

    /// The score of `text` against the indexed question `id`, whatever the threshold;
    /// `None` when `id` is not in the index.
    #[must_use]
    pub fn score(&self, text: &str, id: &K) -> Option<f32> {
        let slot = *self.by_id.get(id)?;
        let scores = self.scores(&Analysis::of(text), f32::NEG_INFINITY);
        Some(
            scores
                .into_iter()
                .find(|&(s, _)| s == slot)
                .map_or(0.0, |(_, score)| score),
        )
    }

    fn suggestions(&self, query: &Analysis, exclude: Option<u32>) -> Vec<Suggestion<K>> {
        let mut found: Vec<Suggestion<K>> = self
            .scores(query, self.settings.threshold)
            .into_iter()
            .filter(|&(slot, score)| Some(slot) != exclude && score >= self.settings.threshold)
            .filter_map(|(slot, score)| {
                let doc = self.slots.get(slot as usize)?.as_ref()?;
                Some(Suggestion { id: doc.id, score })
            })
            .collect();
        found.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
        found.truncate(self.settings.max_suggestions);
        found
    }

    /// The score of every question that shares a feature with `query`, by slot, leaving out
    /// those whose cosine mix is below `floor`: the penalties only lower a score, and working
    /// them out is the costly part of a look-up.
    fn scores(&self, query: &Analysis, floor: f32) -> Vec<(u32, f32)> {
        let unknown = idf(self.live, 0);
        let mut query_norms = [0.0_f32; 2];
        let mut dots: Vec<[f32; 2]> = vec![[0.0; 2]; self.slots.len()];
        let mut touched: Vec<u32> = Vec::new();
        for feature in &query.features {
            let k = kind_index(feature.kind);
            let term = self
                .vocabulary
                .get(&feature.key)
                .and_then(|&t| self.terms.get(t as usize));
            let weight = feature.weight * term.map_or(unknown, |t| t.idf);
            query_norms[k] += weight * weight;
            let Some(term) = term else { continue };
            for &(slot, doc_weight) in &term.postings {
                let Some(dot) = dots.get_mut(slot as usize) else {
                    continue;
                };
                if *dot == [0.0; 2] {
                    touched.push(slot);
                }
                dot[k] += weight * doc_weight * term.idf;
            }
        }
        let query_norms = query_norms.map(f32::sqrt);
        touched
            .into_iter()
            .filter_map(|slot| {
                let doc = self.slots.get(slot as usize)?.as_ref()?;
                let dot = dots.get(slot as usize)?;
                let mut score = mix(dot, query_norms, doc.norms);
                if score < floor {
                    return None;
                }
                let swapped = self
                    .unmatched(&query.words, &doc.analysis.words)
                    .min(self.unmatched(&doc.analysis.words, &query.words));
                score *= 1.0 - SWAP_PENALTY * swapped;
                if disjoint_numbers(&query.numbers, &doc.analysis.numbers) {
                    score *= NUMBER_MISMATCH;
                }
                Some((slot, score.clamp(0.0, 1.0)))
            })
            .collect()
    }

    /// The weighted share of the words of `a` that `b` has no match for.
    fn unmatched(&self, a: &[Word], b: &[Word]) -> f32 {
        let unknown = idf(self.live, 0);
        let mut total = 0.0;
        let mut missing = 0.0;
        for word in a {
            let idf = self
                .vocabulary
                .get(&word.key)
                .and_then(|&t| self.terms.get(t as usize))
                .map_or(unknown, |t| t.idf);
            let weight = word.weight * idf;
            total += weight;
            let credit = b
                .iter()
                .map(|other| {
                    if other.key == word.key {
                        1.0
                    } else {
                        let d = dice(&word.grams, &other.grams);
                        if d >= FUZZY_MATCH { 1.0 } else { 0.0 }
                    }
                })
                .fold(0.0_f32, f32::max);
            missing += weight * (1.0 - credit);
        }
        if total > 0.0 { missing / total } else { 0.0 }
    }

    /// Puts a question into a slot and counts its features, without reweighing.
    fn add(&mut self, id: K, analysis: Analysis) {
        self.take(&id);
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        let mut terms = Vec::with_capacity(analysis.features.len());
        for feature in &analysis.features {
            let next = u32::try_from(self.terms.len()).unwrap_or(u32::MAX);
            let t = *self.vocabulary.entry(feature.key).or_insert(next);
            if t == next {
                self.terms.push(Term {
                    questions: 0,
                    idf: 0.0,
                    postings: Vec::new(),
                });
            }
            if let Some(term) = self.terms.get_mut(t as usize) {
                term.questions += 1;
                term.postings.push((slot, feature.weight));
            }
            terms.push(t);
        }
        if let Some(place) = self.slots.get_mut(slot as usize) {
            *place = Some(Doc {
                id,
                analysis,
                terms,
                norms: [0.0; 2],
            });
        }
        self.by_id.insert(id, slot);
        self.live += 1;
    }

    /// Takes a question out of its slot and its features' counts, without reweighing.
    fn take(&mut self, id: &K) -> bool {
        let Some(slot) = self.by_id.remove(id) else {
            return false;
        };
        let Some(doc) = self.slots.get_mut(slot as usize).and_then(Option::take) else {
            return false;
        };
        for t in doc.terms {
            if let Some(term) = self.terms.get_mut(t as usize) {
                term.questions = term.questions.saturating_sub(1);
                term.postings.retain(|&(s, _)| s != slot);
            }
        }
        self.free.push(slot);
        self.live -= 1;
        true
    }

    /// Recomputes every feature's weight and every question's vector lengths: both depend on
    /// the number of questions, which has just changed.
    fn reweigh(&mut self) {
        for term in &mut self.terms {
            term.idf = idf(self.live, term.questions);
        }
        let terms = &self.terms;
        for doc in self.slots.iter_mut().flatten() {
            let mut norms = [0.0_f32; 2];
            for (feature, &t) in doc.analysis.features.iter().zip(&doc.terms) {
                let idf = terms.get(t as usize).map_or(0.0, |term| term.idf);
                let weight = feature.weight * idf;
                norms[kind_index(feature.kind)] += weight * weight;
            }
            doc.norms = norms.map(f32::sqrt);
        }
    }
}

/// Smoothed inverse document frequency: rarer features weigh more; with few questions all
/// weigh about the same, so a small session compares plain word overlap.
fn idf(questions: usize, with_feature: u32) -> f32 {
    // Sessions hold far fewer than 2^24 questions, so the conversions are exact.
    ((1.0 + questions as f32) / (1.0 + with_feature as f32)).ln() + 1.0
}

fn kind_index(kind: Kind) -> usize {
    match kind {
        Kind::Word => 0,
        Kind::Gram => 1,
    }
}

/// The mix of the word and the trigram cosine; a kind that one side lacks entirely (a text
/// of numbers only has no trigrams) is left out rather than counted as zero.
fn mix(dot: &[f32; 2], query: [f32; 2], doc: [f32; 2]) -> f32 {
    let shares = [WORD_SHARE, 1.0 - WORD_SHARE];
    let mut score = 0.0;
    let mut total = 0.0;
    for k in 0..2 {
        let length = query[k] * doc[k];
        if length > 0.0 {
            score += shares[k] * dot[k] / length;
            total += shares[k];
        }
    }
    if total > 0.0 { score / total } else { 0.0 }
}

/// The Dice coefficient of two sorted sets of trigram keys.
fn dice(a: &[u64], b: &[u64]) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0_u32);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        match x.cmp(y) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    // Trigram counts of one word are tiny, so the conversions are exact.
    2.0 * common as f32 / (a.len() + b.len()) as f32
}

/// Whether both texts name numbers and none is the same; both lists are sorted.
fn disjoint_numbers(a: &[u64], b: &[u64]) -> bool {
    !a.is_empty() && !b.is_empty() && !a.iter().any(|n| b.binary_search(n).is_ok())
}
