//! Which open questions are suggested as the same question.

use crate::{BACKGROUND, ids, session};

#[test]
fn the_obvious_paraphrase_of_an_open_question_is_suggested() {
    // Arrange
    let mut questions = BACKGROUND.to_vec();
    questions.push("Wann ist der Radweg in der Bahnhofstraße fertig?");
    let index = session(&questions);

    // Act
    let suggestions = index.suggest("Radweg Bahnhofstr. – wann fertig?");

    // Assert
    assert_eq!(ids(&suggestions), vec![7]);
    assert!(suggestions[0].score > 0.0 && suggestions[0].score <= 1.0);
}

#[test]
fn a_hard_negative_about_the_same_thing_in_another_street_is_not_suggested() {
    // Arrange
    let mut questions = BACKGROUND.to_vec();
    questions.push("Wann ist der Radweg in der Bahnhofstraße fertig?");
    let index = session(&questions);

    // Act
    let suggestions = index.suggest("Wann ist der Radweg in der Schillerstraße fertig?");

    // Assert
    assert_eq!(ids(&suggestions), Vec::<u32>::new());
}

#[test]
fn a_question_about_another_bus_line_is_not_suggested() {
    // Arrange
    let index = session(BACKGROUND);

    // Act
    let suggestions = index.suggest("Warum fährt die Linie 7 abends nicht mehr?");

    // Assert
    assert_eq!(ids(&suggestions), Vec::<u32>::new());
}

#[test]
fn the_same_question_about_the_same_bus_line_is_suggested() {
    // Arrange
    let index = session(BACKGROUND);

    // Act
    let suggestions = index.suggest("Wieso gibt es abends keinen Bus der Linie 5 mehr?");

    // Assert
    assert_eq!(ids(&suggestions), vec![4]);
}

#[test]
fn the_abbreviation_str_is_read_as_strasse() {
    // Arrange
    let index = session(&[
        "Wann wird die Goethestraße saniert?",
        "Wann wird die Goethe-Schule saniert?",
    ]);

    // Act
    let score_abbreviated = index.score("Wann wird die Goethestr. saniert?", &1);
    let score_written_out = index.score("Wann wird die Goethestraße saniert?", &1);

    // Assert
    assert_eq!(score_abbreviated, score_written_out);
}

#[test]
fn suggestions_come_best_first_and_no_more_than_the_settings_allow() {
    // Arrange
    let settings = sprechstunde_similarity::Settings {
        threshold: 0.1,
        max_suggestions: 2,
    };
    let mut index = sprechstunde_similarity::DuplicateIndex::new(settings);
    index.insert(1_u32, "Wann wird die gelbe Tonne geleert?");
    index.insert(2, "Wann wird die gelbe Tonne in der Rosenstraße geleert?");
    index.insert(3, "Wird die Tonne geleert?");
    index.insert(4, "Warum wird die Grundsteuer erhöht?");

    // Act
    let suggestions = index.suggest("Wann wird die gelbe Tonne in der Rosenstraße geleert?");

    // Assert
    assert_eq!(ids(&suggestions), vec![2, 1]);
    assert!(suggestions[0].score >= suggestions[1].score);
}

#[test]
fn an_indexed_question_is_not_suggested_as_its_own_duplicate() {
    // Arrange
    let index = session(&[
        "Wann ist der Radweg in der Bahnhofstraße fertig?",
        "Radweg Bahnhofstr. – wann fertig?",
        "Warum wird die Grundsteuer erhöht?",
    ]);

    // Act
    let suggestions = index.suggest_for(&2);

    // Assert
    assert_eq!(ids(&suggestions), vec![1]);
}
