//! Spelling variants that must not keep two questions apart.

use crate::session;

fn score_of(indexed: &str, query: &str) -> f32 {
    let index = session(&[indexed, "Warum wird die Grundsteuer erhöht?"]);
    index.score(query, &1).expect("question 1 is indexed")
}

#[test]
fn umlauts_and_their_ae_oe_ue_spelling_are_the_same() {
    // Arrange
    let written = "Wann wird die Müllabfuhr in der Südstadt geändert?";

    // Act
    let score = score_of(
        written,
        "Wann wird die Muellabfuhr in der Suedstadt geaendert?",
    );

    // Assert
    assert_eq!(score, score_of(written, written));
}

#[test]
fn sharp_s_and_ss_are_the_same() {
    // Act
    let score = score_of(
        "Wann wird die Straße gemacht?",
        "Wann wird die Strasse gemacht?",
    );

    // Assert
    assert_eq!(
        score,
        score_of(
            "Wann wird die Straße gemacht?",
            "Wann wird die Straße gemacht?"
        )
    );
}

#[test]
fn a_question_in_capitals_or_in_lower_case_is_still_the_same_question() {
    // Arrange: the words fold to the same stems; only the hint that capitals give about
    // nouns is missing, so the score is a little below that of the same spelling.
    let written = "Wann wird die Müllabfuhr in der Rosenstraße geändert?";

    // Act
    let shouted = score_of(
        written,
        "WANN WIRD DIE MÜLLABFUHR IN DER ROSENSTRASSE GEÄNDERT?",
    );
    let lowered = score_of(
        written,
        "wann wird die müllabfuhr in der rosenstraße geändert?",
    );

    // Assert
    assert_eq!(shouted, lowered);
    assert!(shouted >= 0.8, "score {shouted}");
}

#[test]
fn a_decomposed_umlaut_is_the_same_as_a_composed_one() {
    // Arrange: "ü" as u + combining diaeresis, as some keyboards and clipboards send it.
    let decomposed = "Wann wird die Mu\u{0308}llabfuhr gea\u{0308}ndert?";

    // Act
    let score = score_of("Wann wird die Müllabfuhr geändert?", decomposed);

    // Assert
    assert_eq!(
        score,
        score_of(
            "Wann wird die Müllabfuhr geändert?",
            "Wann wird die Müllabfuhr geändert?"
        )
    );
}

#[test]
fn an_identical_question_scores_one() {
    // Act
    let score = score_of(
        "Wann wird die Müllabfuhr geändert?",
        "Wann wird die Müllabfuhr geändert?",
    );

    // Assert
    assert!((score - 1.0).abs() < 1e-4, "score {score}");
}
