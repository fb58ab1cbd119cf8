//! Odd input never panics and never produces a suggestion out of nothing.

use sprechstunde_similarity::Analysis;

use crate::{BACKGROUND, ids, session};

#[test]
fn an_emoji_only_question_matches_nothing() {
    // Arrange
    let mut index = session(BACKGROUND);
    index.insert(50, "🙂🙂🙂");

    // Act
    let suggestions = index.suggest("🙂🙂🙂 👍🏽🚲");

    // Assert
    assert!(Analysis::of("🙂🙂🙂 👍🏽🚲").is_empty());
    assert_eq!(ids(&suggestions), Vec::<u32>::new());
    assert_eq!(index.suggest_for(&50).len(), 0);
}

#[test]
fn an_empty_or_blank_question_matches_nothing() {
    // Arrange
    let mut index = session(BACKGROUND);
    index.insert(50, "");

    // Act
    let suggestions: Vec<_> = ["", "   \n\t", "?!.", "der die das"]
        .iter()
        .map(|q| index.suggest(q))
        .collect();

    // Assert
    assert!(suggestions.iter().all(Vec::is_empty), "{suggestions:?}");
}

#[test]
fn a_ten_kilobyte_question_is_handled() {
    // Arrange
    let long = "Wann ist der Radweg in der Bahnhofstraße fertig? ".repeat(220);
    assert!(long.len() > 10_000);
    let mut index = session(BACKGROUND);
    index.insert(50, &long);

    // Act
    let suggestions = index.suggest("Radweg Bahnhofstr. – wann fertig?");
    let suggestions_for_long = index.suggest(&long);

    // Assert
    assert_eq!(ids(&suggestions), vec![50]);
    assert_eq!(ids(&suggestions_for_long), vec![50]);
}

#[test]
fn control_characters_do_not_change_the_match() {
    // Arrange
    let mut questions = BACKGROUND.to_vec();
    questions.push("Wann ist der Radweg in der Bahnhofstraße fertig?");
    let index = session(&questions);

    // Act
    let suggestions =
        index.suggest("Radweg\u{0}\u{7}\u{1b}[31m Bahnhof\u{200b}str.\r\n – wann\u{7f} fertig?");

    // Assert
    assert_eq!(ids(&suggestions), vec![7]);
}

#[test]
fn unusual_scripts_and_lone_combining_marks_do_not_panic() {
    // Arrange
    let mut index = session(BACKGROUND);
    let odd = [
        "\u{0308}\u{0308}\u{0308}",
        "ẞTRASSE ǅ ﬁ ①②③ ＲＡＤＷＥＧ",
        "مرحبا كيف حالك",
        "道路はいつ完成しますか",
        "a\u{0}b\u{ffff}c",
        "𝔚𝔞𝔫𝔫",
    ];

    // Act
    for (id, text) in (100..).zip(odd) {
        index.insert(id, text);
    }
    let results: Vec<_> = odd.iter().map(|t| index.suggest(t)).collect();

    // Assert
    assert_eq!(results.len(), odd.len());
    for suggestion in results.iter().flatten() {
        assert!((0.0..=1.0).contains(&suggestion.score), "{suggestion:?}");
    }
}
