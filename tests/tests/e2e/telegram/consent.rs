//! The privacy notice over Telegram as a citizen meets it: `/start`, a question, a plain "ja"
//! and a subscription asked for before agreeing.

use super::*;

#[tokio::test]
async fn after_start_and_a_question_a_plain_ja_agrees_and_greeting_and_notice_came_once() {
    // Arrange
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start_polling(dir.path(), &emulator).await;
    let anna = TestUser::de("Anna");

    // Act: the Start button, a question, a subscription, then "ja".
    emulator.user_says(4001, &anna, "/start");
    wait_text(&emulator, 4001, "Antworten Sie mit /einverstanden").await;
    emulator.user_says(4001, &anna, "Wann ist der Wertstoffhof offen?");
    wait_text(&emulator, 4001, "noch nicht gespeichert").await;
    emulator.user_says(4001, &anna, "/abonnieren");
    emulator.user_says(4001, &anna, "ja");
    let ack = wait_text(&emulator, 4001, "eingegangen").await;
    wait_text(&emulator, 4001, "Sie erhalten jetzt Ankündigungen").await;

    // Assert
    assert!(ack.text.contains("A-1001"), "{}", ack.text);
    let sent: Vec<String> = emulator.sent(4001).into_iter().map(|m| m.text).collect();
    let count = |start: &str| sent.iter().filter(|t| t.starts_with(start)).count();
    assert_eq!(count("Willkommen"), 1, "{sent:#?}");
    assert_eq!(count("Datenschutzhinweis:"), 1, "{sent:#?}");
    let (stored, subscribed) = app
        .office()
        .read(|state, _, _| {
            (
                state
                    .questions()
                    .map(|q| q.entries[0].text.clone())
                    .collect::<Vec<_>>(),
                state.citizens().any(|c| c.subscribed),
            )
        })
        .await;
    assert_eq!(stored, ["Wann ist der Wertstoffhof offen?"]);
    assert!(
        subscribed,
        "the subscription asked for before consent is carried out"
    );
    app.stop().await.unwrap();
}
