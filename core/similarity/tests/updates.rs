//! The index follows the session as questions arrive and leave.

use crate::{ids, session};

#[test]
fn a_removed_question_is_no_longer_suggested() {
    // Arrange
    let mut index = session(&[
        "Wann ist der Radweg in der Bahnhofstraße fertig?",
        "Warum wird die Grundsteuer erhöht?",
    ]);

    // Act
    let removed = index.remove(&1);
    let suggestions = index.suggest("Radweg Bahnhofstr. – wann fertig?");

    // Assert
    assert!(removed);
    assert_eq!(ids(&suggestions), Vec::<u32>::new());
    assert_eq!(index.len(), 1);
    assert_eq!(index.score("Radweg Bahnhofstr. – wann fertig?", &1), None);
}

#[test]
fn removing_an_unknown_question_changes_nothing() {
    // Arrange
    let mut index = session(&["Wann ist der Radweg in der Bahnhofstraße fertig?"]);

    // Act
    let removed = index.remove(&9);

    // Assert
    assert!(!removed);
    assert_eq!(
        ids(&index.suggest("Radweg Bahnhofstr. – wann fertig?")),
        vec![1]
    );
}

#[test]
fn inserting_an_id_again_replaces_its_text() {
    // Arrange
    let mut index = session(&["Wann ist der Radweg in der Bahnhofstraße fertig?"]);

    // Act
    index.insert(1, "Warum wird die Grundsteuer erhöht?");

    // Assert
    assert_eq!(index.len(), 1);
    assert_eq!(
        ids(&index.suggest("Radweg Bahnhofstr. – wann fertig?")),
        Vec::<u32>::new()
    );
    assert_eq!(
        ids(&index.suggest("Wieso steigt die Grundsteuer?")),
        vec![1]
    );
}

#[test]
fn scores_after_removal_equal_those_of_an_index_built_without_the_question() {
    // Arrange: removal must also undo the question's share of the feature weights.
    let mut updated = session(&[
        "Wann ist der Radweg in der Bahnhofstraße fertig?",
        "Warum wird der Radweg in der Bahnhofstraße gebaut?",
        "Warum wird die Grundsteuer erhöht?",
    ]);
    let mut rebuilt = session(&["Wann ist der Radweg in der Bahnhofstraße fertig?"]);
    rebuilt.insert(3, "Warum wird die Grundsteuer erhöht?");

    // Act
    updated.remove(&2);

    // Assert
    let query = "Radweg Bahnhofstr. – wann fertig?";
    assert_eq!(updated.score(query, &1), rebuilt.score(query, &1));
}

#[test]
fn an_empty_index_suggests_nothing() {
    // Arrange
    let index = session(&[]);

    // Act
    let suggestions = index.suggest("Wann ist der Radweg in der Bahnhofstraße fertig?");

    // Assert
    assert!(index.is_empty());
    assert_eq!(ids(&suggestions), Vec::<u32>::new());
}

#[test]
fn building_the_index_at_once_scores_as_adding_the_questions_one_by_one() {
    // Arrange
    let texts = [
        "Wann ist der Radweg in der Bahnhofstraße fertig?",
        "Warum wird der Radweg in der Bahnhofstraße gebaut?",
        "Warum wird die Grundsteuer erhöht?",
    ];
    let one_by_one = session(&texts);

    // Act
    let mut at_once = sprechstunde_similarity::DuplicateIndex::default();
    at_once.extend(
        (1..)
            .zip(texts)
            .map(|(id, t)| (id, sprechstunde_similarity::Analysis::of(t))),
    );

    // Assert
    let query = "Radweg Bahnhofstr. – wann fertig?";
    for id in 1..=3 {
        assert_eq!(at_once.score(query, &id), one_by_one.score(query, &id));
    }
}
