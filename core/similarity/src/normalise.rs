//! Normalisation of German question text into comparable word stems.
//!
//! Citizens write the same word in many ways: "Straße", "Strasse", "STRASSE", "Str.",
//! "Muell" for "Müll" on a keyboard without umlauts, "Kita-Plätze" and "Kitaplätze". Every
//! text goes through the same steps, so that these become the same token:
//!
//! 1. Unicode compatibility decomposition (NFKD): ligatures, full-width and mathematical
//!    letters become plain letters, and composed umlauts become a vowel plus a combining
//!    diaeresis, just like decomposed input.
//! 2. Lower case (after noting which words are capitalised: German capitalises nouns);
//!    ä, ö, ü → ae, oe, ue and ß → ss (the spelling without umlauts that German
//!    itself allows), other diacritics dropped (é → e).
//! 3. Words split at anything that is not a letter or digit, except that a hyphen between
//!    letters joins ("Kita-Plätze" is "kitaplaetze") and invisible format characters (soft
//!    hyphen, zero-width space) vanish; letters and digits part ("B8" is "b 8").
//! 4. A few cheap abbreviations: "str"/"…str" → "strasse"/"…strasse", and the kinds of
//!    day-care centre ("Kindergarten", "Kindertagesstätte") → "kita", also inside compounds.
//! 5. German stop words (the Snowball/NLTK list, folded the same way) and filler of chat
//!    messages ("hallo", "bitte", "mal") dropped. Question words stay (they are weak hints:
//!    "wann" against "warum"), with "wieso", "weshalb" and "wozu" read as "warum", as
//!    paraphrases swap them freely.
//! 6. The Snowball German stemmer on what is left.

use std::collections::HashSet;
use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Text beyond this many characters is not looked at: a question's subject is in its first
/// sentences, and the bound keeps the cost of one look-up bounded whatever a citizen sends.
const MAX_CHARS: usize = 4_000;

/// At most this many tokens are kept of one text, for the same reason.
const MAX_TOKENS: usize = 400;

/// One comparable unit of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// A stemmed, folded word.
    Word(String, Case),
    /// A number, compared exactly ("Linie 5" is not "Linie 7").
    Number(String),
}

/// What the capitalisation of a word says about it. German capitalises nouns, and the nouns
/// of a question name what it is about ("Radweg", "Bahnhofstraße"): two questions that name
/// different things are different questions however alike their verbs are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
    /// Capitalised inside a sentence of a text written in mixed case: a noun or a name.
    Noun,
    /// Lower case in a text written in mixed case: a verb, adjective or the like.
    Other,
    /// Nothing to tell: the first word of a sentence, or a text written all in lower or all
    /// in upper case.
    Unknown,
}

/// The tokens of a text, in order, after all the steps of the module documentation.
pub(crate) fn tokens(text: &str) -> Vec<Token> {
    let folded = fold(bounded(text));
    // Capitals tell nouns only in a text that has some, but not mostly capitals.
    let mixed_case = folded.chars().any(char::is_lowercase)
        && folded.chars().any(char::is_uppercase)
        && folded.chars().filter(|c| c.is_uppercase()).count() * 4
            < folded.chars().filter(|c| c.is_alphabetic()).count();
    let stemmer = Stemmer::create(Algorithm::German);
    let stop = stop_words();
    let mut out = Vec::new();
    let mut previous_end = 0;
    for (start, end) in split(&folded) {
        if out.len() == MAX_TOKENS {
            break;
        }
        let raw = &folded[start..end];
        let gap = &folded[previous_end..start];
        let sentence_start = previous_end == 0 || gap.contains(['.', '?', '!', ':', '–', '\n']);
        previous_end = end;
        if raw.chars().all(|c| c.is_ascii_digit()) {
            out.push(Token::Number(raw.trim_start_matches('0').to_owned()));
            continue;
        }
        let case = match raw.chars().next() {
            _ if !mixed_case => Case::Unknown,
            Some(c) if c.is_lowercase() => Case::Other,
            Some(_) if !sentence_start => Case::Noun,
            _ => Case::Unknown,
        };
        let word = synonym(&expand_abbreviation(&raw.to_lowercase()));
        if word.chars().count() < 2 || stop.contains(word.as_str()) {
            continue;
        }
        let stem = if word.is_ascii() {
            stemmer.stem(&word).into_owned()
        } else {
            // The stemmer is for German; words of other scripts are compared as written.
            word
        };
        out.push(Token::Word(stem, case));
    }
    out
}

/// The text up to [`MAX_CHARS`] characters.
fn bounded(text: &str) -> &str {
    match text.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// Steps 1 and 2: decomposition, umlaut and ß folding, diacritics dropped, control
/// characters turned into spaces and invisible format characters removed. Case is kept, as
/// it tells nouns; words are lowered one by one.
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.nfkd().peekable();
    while let Some(c) = chars.next() {
        if is_combining_mark(c) || is_invisible(c) {
            // A mark without a base letter, one folding does not keep (é → e), or a format
            // character inside a word.
            continue;
        }
        match c {
            _ if c.is_control() => out.push(' '),
            'ß' => out.push_str("ss"),
            'ẞ' => out.push_str("SS"),
            'a' | 'o' | 'u' | 'A' | 'O' | 'U' if chars.peek() == Some(&'\u{0308}') => {
                chars.next();
                out.push(c);
                out.push(if c.is_uppercase() && upper_follows(&mut chars) {
                    'E'
                } else {
                    'e'
                });
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether the next letter is upper case, so "ÜBER" folds to "UEBER" and "Über" to "Ueber".
fn upper_follows(chars: &mut std::iter::Peekable<impl Iterator<Item = char>>) -> bool {
    chars.peek().is_some_and(|c| c.is_uppercase())
}

/// Format characters that are invisible in a message and must not split a word.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
    )
}

/// Step 3: the byte ranges of the words, of letters or of digits; a hyphen between two
/// letters joins.
fn split(folded: &str) -> Vec<(usize, usize)> {
    let mut words = Vec::new();
    let mut start: Option<usize> = None;
    let mut previous: Option<char> = None;
    let mut iter = folded.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let next = iter.peek().map(|&(_, n)| n);
        let joins_hyphen = matches!(c, '-' | '\u{2010}' | '\u{2011}')
            && previous.is_some_and(char::is_alphabetic)
            && next.is_some_and(char::is_alphabetic);
        if c.is_alphanumeric() || joins_hyphen {
            let kind_changes = previous.is_some_and(|p| {
                p.is_alphanumeric() && p.is_numeric() != c.is_numeric() && !joins_hyphen
            });
            if kind_changes && let Some(s) = start.take() {
                words.push((s, i));
            }
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            words.push((s, i));
        }
        previous = Some(c);
    }
    if let Some(s) = start {
        words.push((s, folded.len()));
    }
    words
}

/// Step 4a: the one abbreviation every street name comes with; hyphens of compounds are
/// dropped here, so "kita-plaetze" and "kitaplaetze" agree.
fn expand_abbreviation(word: &str) -> String {
    let joined: String = word.chars().filter(|c| c.is_alphanumeric()).collect();
    if joined == "str" || (joined.len() > 3 && joined.ends_with("str") && joined.is_ascii()) {
        format!("{joined}asse")
    } else {
        joined
    }
}

/// Step 4b: names of the same thing that are cheap to recognise, also inside compounds,
/// and the question words of step 5 that mean the same.
fn synonym(word: &str) -> String {
    match word {
        "wieso" | "weshalb" | "warum" | "wozu" => return "warum".to_owned(),
        "wer" | "wen" | "wem" => return "wer".to_owned(),
        _ => {}
    }
    let mut word = word.to_owned();
    for long in ["kindertagesstaette", "kindergarten"] {
        if word.contains(long) {
            word = word.replace(long, "kita");
        }
    }
    word
}

/// Step 5: the Snowball German stop words (via the `stop-words` crate), folded as texts
/// are, plus words of chat greetings and filler that say nothing about the question.
fn stop_words() -> &'static HashSet<String> {
    static WORDS: OnceLock<HashSet<String>> = OnceLock::new();
    WORDS.get_or_init(|| {
        // The crate is built with its NLTK lists only, where "de" is the Snowball list.
        let listed = stop_words::lookup("de").unwrap_or_default();
        const CHAT: &[&str] = &[
            "hallo",
            "moin",
            "servus",
            "guten",
            "tag",
            "morgen",
            "abend",
            "liebe",
            "lieber",
            "bitte",
            "danke",
            "gruss",
            "gruesse",
            "frage",
            "fragen",
            "mal",
            "eigentlich",
            "ja",
            "gibt",
            "gibts",
            "geht",
            "gerne",
            "herr",
            "frau",
            "buergermeister",
            "buergermeisterin",
            "ist",
            "sind",
            "waere",
        ];
        listed
            .iter()
            .copied()
            .chain(CHAT.iter().copied())
            .map(|w| fold(w).to_lowercase())
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        tokens(text)
            .into_iter()
            .map(|t| match t {
                Token::Word(w, _) | Token::Number(w) => w,
            })
            .collect()
    }

    #[test]
    fn street_abbreviation_and_sharp_s_give_the_same_stem() {
        assert_eq!(words("Bahnhofstr."), words("Bahnhofstraße"));
        assert_eq!(words("Bahnhofstrasse"), words("BAHNHOFSTRASSE"));
    }

    #[test]
    fn hyphenated_compounds_are_one_word() {
        assert_eq!(words("Kita-Plätze"), words("Kitaplätze"));
    }

    #[test]
    fn letters_and_digits_part() {
        assert_eq!(words("B8"), words("B 8"));
    }
}
