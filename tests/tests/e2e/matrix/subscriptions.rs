//! Announcements of office hours over Matrix: a citizen subscribes in the direct chat, gets
//! the announcement of a new session there, unsubscribes, and gets no more.

use super::World;

#[tokio::test]
async fn a_matrix_subscriber_is_told_of_a_new_session_until_unsubscribing() {
    let Some(world) = World::start().await else {
        return;
    };
    // Arrange: a citizen in a direct chat who agreed and subscribed (with `!`, as Matrix
    // clients keep `/` for their own commands).
    let anna = world.citizen("anna").await;
    let room = anna.create_room(&[&world.bot], false).await.unwrap();
    anna.nth_notice(&room, 1).await.unwrap();
    anna.agree(&room).await.unwrap();
    anna.send(&room, "!abonnieren").await.unwrap();
    anna.notice_containing(&room, "Sie erhalten jetzt Ankündigungen")
        .await
        .unwrap();
    let press = world
        .app()
        .staff("presse", &["press_office"])
        .await
        .unwrap();

    // Act: a session is scheduled, the citizen unsubscribes, a second one is scheduled; then
    // a marker: the answer to /hilfe comes after anything queued for the citizen before it
    // (the outbox delivers one citizen's messages in order).
    press
        .create_session("Sprechstunde Hafen", "2030-05-07T17:00", "2030-05-07T18:00")
        .await
        .unwrap();
    let announced = anna
        .notice_containing(&room, "Sprechstunde Hafen")
        .await
        .unwrap();
    anna.send(&room, "/abbestellen").await.unwrap();
    anna.notice_containing(
        &room,
        "Sie erhalten keine Ankündigungen der Sprechstunden mehr",
    )
    .await
    .unwrap();
    press
        .create_session(
            "Sprechstunde Bahnhof",
            "2030-05-14T17:00",
            "2030-05-14T18:00",
        )
        .await
        .unwrap();
    let before_marker = anna.notices(&room).len();
    anna.send(&room, "/hilfe").await.unwrap();
    let marker = anna.nth_notice(&room, before_marker + 1).await.unwrap();

    // Assert.
    assert!(
        announced.body.contains("Neue Sprechstunde") && announced.body.contains("7. Mai 2030"),
        "{}",
        announced.body
    );
    assert!(
        marker
            .body
            .contains("So funktioniert die digitale Bürgersprechstunde"),
        "the first notice after the marker is its answer: {}",
        marker.body
    );
    let notices = anna.notices(&room);
    assert!(
        !notices.iter().any(|n| n.body.contains("Bahnhof")),
        "{:?}",
        notices.iter().map(|n| &n.body).collect::<Vec<_>>()
    );
    // Nor is it waiting in the outbox for later.
    let queued = world
        .app()
        .office()
        .read(|s, _, _| s.outbox().filter(|m| m.text.contains("Bahnhof")).count())
        .await;
    assert_eq!(queued, 0);
    world.stop().await;
}
