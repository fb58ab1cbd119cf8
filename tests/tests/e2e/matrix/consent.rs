//! The privacy notice over Matrix as a citizen meets it: the greeting lists every command in
//! the `!` form, a subscription asked for before agreeing is carried out, and a plain "ja"
//! agrees to the notice, which came once.

use super::World;

#[tokio::test]
async fn a_matrix_citizen_subscribes_asks_and_agrees_with_a_plain_ja() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let anna = world.citizen("anna").await;
    let room = anna.create_room(&[&world.bot], false).await.unwrap();

    // The greeting lists the commands as a Matrix client lets one type them.
    let greeting = anna.nth_notice(&room, 1).await.unwrap();
    for name in sprechstunde_core::Command::names(sprechstunde_core::Lang::De) {
        assert!(
            greeting.body.contains(&format!("!{name}")),
            "!{name}: {}",
            greeting.body
        );
    }

    // Act: a subscription and a question before agreeing, then "ja".
    anna.send(&room, "!abonnieren").await.unwrap();
    anna.notice_containing(&room, "Datenschutzhinweis:")
        .await
        .unwrap();
    anna.send(&room, "Wann ist das Standesamt offen?")
        .await
        .unwrap();
    anna.notice_containing(&room, "noch nicht gespeichert")
        .await
        .unwrap();
    anna.send(&room, "ja").await.unwrap();
    anna.notice_containing(&room, "eingegangen").await.unwrap();
    anna.notice_containing(&room, "Sie erhalten jetzt Ankündigungen")
        .await
        .unwrap();

    // Assert
    let notices = anna.notices(&room);
    let notice_count = notices
        .iter()
        .filter(|n| n.body.starts_with("Datenschutzhinweis:"))
        .count();
    assert_eq!(notice_count, 1);
    let questions = world.questions().await;
    assert_eq!(questions.len(), 1);
    let subscribed = world
        .app()
        .office()
        .read(|s, _, _| s.citizens().any(|c| c.subscribed))
        .await;
    assert!(
        subscribed,
        "the subscription asked for before consent is carried out"
    );
    world.stop_bot().await;
}
