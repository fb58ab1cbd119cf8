//! Intake over Telegram: questions, languages, restarts, duplicates, groups, commands,
//! buttons and deep links.

use super::*;

#[tokio::test]
async fn a_telegram_question_is_stored_and_acknowledged_with_its_reference() {
    // Arrange
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start_polling(dir.path(), &emulator).await;

    agree(&emulator, 1001, &TestUser::de("Anna")).await;

    // Act
    emulator.user_says(
        1001,
        &TestUser::de("Anna"),
        "Wann wird die Schillerstraße saniert?",
    );
    let ack = wait_text(&emulator, 1001, "eingegangen").await;

    // Assert
    assert!(
        ack.text
            .starts_with("Vielen Dank! Ihr Anliegen ist unter der Nummer A-1001"),
        "{}",
        ack.text
    );
    let stored = app
        .office()
        .read(|state, _, _| {
            state
                .questions()
                .map(|q| (q.channel, q.entries[0].text.clone()))
                .collect::<Vec<_>>()
        })
        .await;
    assert_eq!(
        stored,
        vec![(
            sprechstunde_core::ChannelKind::Telegram,
            "Wann wird die Schillerstraße saniert?".to_owned()
        )]
    );
    assert!(
        !ack.buttons().is_empty(),
        "the acknowledgement offers buttons"
    );
    assert_eq!(emulator.count_429(), 0);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_english_telegram_client_is_answered_in_english() {
    // Arrange
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start_polling(dir.path(), &emulator).await;

    // Act
    emulator.user_says(1002, &TestUser::en("Ann"), "/help");
    let help = wait_text(&emulator, 1002, "How the digital").await;

    // Assert
    assert!(help.text.contains("/status"), "{}", help.text);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_restart_in_the_middle_of_a_conversation_loses_and_repeats_nothing() {
    // Arrange
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start_polling(dir.path(), &emulator).await;
    agree(&emulator, 3001, &TestUser::de("Cem")).await;
    emulator.user_says(
        3001,
        &TestUser::de("Cem"),
        "Ist der Wertstoffhof samstags geöffnet?",
    );
    let reference = reference_in(&wait_text(&emulator, 3001, "eingegangen").await.text);
    // Bot sends carry no idempotency key: a message whose delivery was not yet recorded
    // when the server stops is sent again (at least once). Stop after the record.
    let staff = app
        .staff("buergerreferat", &["citizens_office"])
        .await
        .unwrap();
    wait_for_delivery_state(&app, &staff, &reference, "delivered").await;
    app.stop().await.unwrap();

    // Act: the citizen writes while the server is down; then it comes back.
    emulator.user_says(3001, &TestUser::de("Cem"), "Und auch an Feiertagen?");
    let app = start_polling(dir.path(), &emulator).await;
    let added = wait_text(&emulator, 3001, "hinzugefügt").await;
    let staff = StaffClient::login(
        &app.base,
        "buergerreferat",
        sprechstunde_tests::staff::PASSWORD,
    )
    .await
    .unwrap();
    staff
        .answer(&reference, "Samstags ja, an Feiertagen nicht.")
        .await
        .unwrap();
    wait_text(&emulator, 3001, "Samstags ja").await;

    // Assert
    assert!(added.text.contains(&reference), "{}", added.text);
    let texts: Vec<String> = emulator.sent(3001).into_iter().map(|m| m.text).collect();
    assert_eq!(
        texts.len(),
        5,
        "privacy notice, thanks for agreeing, ack, addition, answer — once each: {texts:?}"
    );
    assert_eq!(question_count(&app).await, 1);
    let entries = staff
        .get(&format!("/api/v1/questions/{reference}"))
        .await
        .unwrap()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "citizen")
        .count();
    assert_eq!(entries, 2);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_duplicated_update_creates_one_question() {
    // Arrange
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start_polling(dir.path(), &emulator).await;
    agree(&emulator, 4001, &TestUser::de("Dora")).await;
    let update = emulator.user_says(4001, &TestUser::de("Dora"), "Wann ist Sperrmüll?");
    wait_text(&emulator, 4001, "eingegangen").await;

    // Act: Telegram delivers the same update again, then the citizen asks for the status.
    assert!(emulator.deliver_again(update));
    emulator.user_says(4001, &TestUser::de("Dora"), "/status");
    let status = wait_text(&emulator, 4001, "Ihre Anliegen").await;

    // Assert
    assert_eq!(question_count(&app).await, 1);
    assert_eq!(status.text.matches("A-").count(), 1, "{}", status.text);
    let acks = emulator
        .sent(4001)
        .iter()
        .filter(|m| m.text.contains("eingegangen"))
        .count();
    let additions = emulator
        .sent(4001)
        .iter()
        .filter(|m| m.text.contains("hinzugefügt"))
        .count();
    assert_eq!((acks, additions), (1, 0));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_group_chat_is_refused_politely_and_nothing_is_stored() {
    // Arrange
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start_polling(dir.path(), &emulator).await;

    // Act
    emulator.group_says(-100_800, 8001, &TestUser::de("Ida"), "/start");
    let refusal = wait_text(&emulator, -100_800, "privaten Chat").await;
    emulator.group_says(
        -100_800,
        8002,
        &TestUser::de("Jan"),
        "Hallo Bot, eine Frage an die Stadt",
    );
    emulator.user_says(8003, &TestUser::de("Kai"), "/hilfe");
    wait_text(&emulator, 8003, "So funktioniert").await;

    // Assert
    assert!(
        refusal.text.contains("private chats only"),
        "{}",
        refusal.text
    );
    assert_eq!(emulator.sent(-100_800).len(), 1, "refused once");
    let (questions, citizens, outbox) = app
        .office()
        .read(|state, _, _| {
            (
                state.questions().count(),
                state.counters().next_citizen - 1,
                state.outbox().count(),
            )
        })
        .await;
    assert_eq!(
        (questions, citizens, outbox),
        (0, 1, 1),
        "only the private chat's citizen and reply"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_command_list_is_registered_in_german_and_english() {
    // Arrange
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();

    // Act
    let app = start_polling(dir.path(), &emulator).await;

    // Assert
    let names = |code: &str| -> Vec<String> {
        emulator
            .commands(code)
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    };
    assert_eq!(
        names("de"),
        [
            "start",
            "hilfe",
            "status",
            "zurueckziehen",
            "abonnieren",
            "abbestellen",
            "meinedaten",
            "loeschen"
        ]
    );
    assert_eq!(
        names("en"),
        [
            "start",
            "help",
            "status",
            "withdraw",
            "subscribe",
            "unsubscribe",
            "mydata",
            "erase"
        ]
    );
    assert_eq!(names(""), names("de"), "German is the default list");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_inline_button_press_withdraws_the_question() {
    // Arrange
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start_polling(dir.path(), &emulator).await;
    agree(&emulator, 9001, &TestUser::de("Lea")).await;
    emulator.user_says(9001, &TestUser::de("Lea"), "Frage, die ich zurückziehe");
    let ack = wait_text(&emulator, 9001, "eingegangen").await;
    let (_, command) = ack
        .buttons()
        .into_iter()
        .find(|(_, data)| data.starts_with("/zurueckziehen"))
        .expect("a withdraw button");

    // Act
    emulator.user_presses(9001, &command);
    let reply = wait_text(&emulator, 9001, "wurde zurückgezogen").await;

    // Assert
    assert!(reply.text.contains("A-1001"), "{}", reply.text);
    assert_eq!(
        emulator.answered_callbacks().len(),
        1,
        "the button press was answered"
    );
    let status = app
        .office()
        .read(|state, _, _| state.questions().next().map(|q| q.status))
        .await;
    assert_eq!(status, Some(sprechstunde_core::QuestionStatus::Withdrawn));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_deep_link_start_greets_with_the_chosen_session() {
    // Arrange
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start_polling(dir.path(), &emulator).await;
    let press = app.staff("presse", &["press_office"]).await.unwrap();
    press
        .create_session("Bürgersprechstunde", "2030-03-05T17:00", "2030-03-05T18:00")
        .await
        .unwrap();
    let later = press
        .create_session(
            "Bauausschuss vor Ort",
            "2030-04-02T17:00",
            "2030-04-02T18:00",
        )
        .await
        .unwrap();

    // Act
    emulator.user_says(
        9101,
        &TestUser::de("Mia"),
        &format!("/start s{}", later["id"]),
    );
    let greeting = wait_text(&emulator, 9101, "Willkommen").await;

    // Assert
    assert!(
        greeting.text.contains("„Bauausschuss vor Ort“"),
        "{}",
        greeting.text
    );
    app.stop().await.unwrap();
}
