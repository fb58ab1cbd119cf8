//! Outbound over Telegram: answers from the console, 429 storms, blocked chats, long texts.

use super::*;

#[tokio::test]
async fn a_staff_answer_from_the_console_reaches_the_telegram_chat() {
    // Arrange
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start_polling(dir.path(), &emulator).await;
    let staff = app
        .staff("buergerreferat", &["citizens_office"])
        .await
        .unwrap();
    agree(&emulator, 2001, &TestUser::de("Bert")).await;
    emulator.user_says(
        2001,
        &TestUser::de("Bert"),
        "Wo beantrage ich einen Anwohnerparkausweis?",
    );
    let reference = reference_in(&wait_text(&emulator, 2001, "eingegangen").await.text);

    // Act
    staff
        .answer(
            &reference,
            "Im Bürgerbüro oder online unter stadt.example/parken.",
        )
        .await
        .unwrap();
    let answer = wait_text(&emulator, 2001, "Antwort zu Ihrem Anliegen").await;

    // Assert
    assert!(
        answer
            .text
            .contains("Im Bürgerbüro oder online unter stadt.example/parken."),
        "{}",
        answer.text
    );
    wait_for_delivery_state(&app, &staff, &reference, "delivered").await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_429_storm_loses_and_reorders_nothing() {
    // Arrange
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start_polling(dir.path(), &emulator).await;
    let staff = app
        .staff("buergerreferat", &["citizens_office"])
        .await
        .unwrap();
    let chats: Vec<i64> = (5101..=5110).collect();

    agree(&emulator, 5001, &TestUser::de("Emil")).await;
    for chat in &chats {
        agree(&emulator, *chat, &TestUser::de("Frieda")).await;
    }

    // Act 1: one chat gets five replies in a row during a storm.
    emulator.force_429_storm(4);
    for text in [
        "Frage zur Grundsteuer",
        "/status",
        "/hilfe",
        "Nachtrag: Flurstück 12",
        "/status",
    ] {
        emulator.user_says(5001, &TestUser::de("Emil"), text);
    }
    let one_chat = emulator.wait_for_count(5001, 7, WAIT).await.unwrap();

    // Act 2: ten chats ask, then all are answered during a storm.
    for chat in &chats {
        emulator.user_says(
            *chat,
            &TestUser::de("Frieda"),
            &format!("Frage aus Chat {chat}"),
        );
    }
    let mut references = Vec::new();
    for chat in &chats {
        references.push(reference_in(
            &wait_text(&emulator, *chat, "eingegangen").await.text,
        ));
    }
    emulator.force_429_storm(8);
    for (chat, reference) in chats.iter().zip(&references) {
        staff
            .answer(reference, &format!("Antwort für Chat {chat}"))
            .await
            .unwrap();
    }
    for chat in &chats {
        wait_text(&emulator, *chat, "Antwort für Chat").await;
    }

    // Assert
    let kinds: Vec<&str> = one_chat
        .iter()
        .map(|m| {
            if m.text.contains("Datenschutzhinweis") {
                "notice"
            } else if m.text.contains("Einverständnis") {
                "thanks"
            } else if m.text.contains("eingegangen") {
                "ack"
            } else if m.text.contains("Ihre Anliegen") {
                "status"
            } else if m.text.contains("So funktioniert") {
                "help"
            } else if m.text.contains("hinzugefügt") {
                "added"
            } else {
                "other"
            }
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "notice", "thanks", "ack", "status", "help", "added", "status"
        ]
    );
    for (chat, reference) in chats.iter().zip(&references) {
        let texts: Vec<String> = emulator.sent(*chat).into_iter().map(|m| m.text).collect();
        // Privacy notice, thanks, acknowledgement, answer.
        assert_eq!(texts.len(), 4, "chat {chat}: {texts:?}");
        assert!(
            texts[2].contains(reference.as_str()) && texts[2].contains("eingegangen"),
            "{texts:?}"
        );
        assert!(
            texts[3].contains(&format!("Antwort für Chat {chat}")),
            "{texts:?}"
        );
    }
    assert!(
        emulator.count_429() >= 12,
        "the storms happened: {}",
        emulator.count_429()
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_chat_that_blocked_the_bot_ends_as_failed_for_staff() {
    // Arrange
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start_polling(dir.path(), &emulator).await;
    let staff = app
        .staff("buergerreferat", &["citizens_office"])
        .await
        .unwrap();
    agree(&emulator, 7001, &TestUser::de("Hanna")).await;
    emulator.user_says(7001, &TestUser::de("Hanna"), "Frage vor dem Blockieren");
    let reference = reference_in(&wait_text(&emulator, 7001, "eingegangen").await.text);
    emulator.block(7001);

    // Act
    staff
        .answer(&reference, "Diese Antwort kommt nie an.")
        .await
        .unwrap();
    let detail = wait_for_delivery_state(&app, &staff, &reference, "failed").await;

    // Assert
    let answer = detail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "answer")
        .unwrap()
        .clone();
    assert_eq!(answer["delivery"]["state"], "failed", "{answer}");
    let failed = staff.get("/api/v1/outbox?state=failed").await.unwrap();
    let reason = failed["messages"][0]["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(reason.contains("blocked"), "{failed}");
    assert!(!reason.contains(&emulator.token()), "{reason}");
    assert_eq!(
        emulator.sent(7001).len(),
        3,
        "only the privacy notice, the thanks for agreeing and the acknowledgement arrived"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_long_answer_is_split_between_paragraphs_and_arrives_whole() {
    // Arrange
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start_polling(dir.path(), &emulator).await;
    let staff = app
        .staff("buergerreferat", &["citizens_office"])
        .await
        .unwrap();
    agree(&emulator, 9201, &TestUser::de("Nora")).await;
    emulator.user_says(9201, &TestUser::de("Nora"), "Was regelt die neue Satzung?");
    let reference = reference_in(&wait_text(&emulator, 9201, "eingegangen").await.text);
    let paragraphs: Vec<String> = (1..=3)
        .map(|i| {
            format!("Absatz {i}: {}", "Die Satzung regelt vieles. ".repeat(75))
                .trim()
                .to_owned()
        })
        .collect();

    // Act
    staff
        .answer(&reference, &paragraphs.join("\n\n"))
        .await
        .unwrap();
    wait_text(&emulator, 9201, "wenn Sie eine Rückfrage haben").await;
    let sent = emulator.sent(9201);

    // Assert
    // After the privacy notice, the thanks for agreeing and the acknowledgement.
    let parts: Vec<&str> = sent[3..].iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        parts.len(),
        3,
        "header and paragraph 1 | paragraphs 2 and 3 | footer"
    );
    assert!(
        parts.iter().all(|p| p.chars().count() <= 4096),
        "{:?}",
        parts.iter().map(|p| p.len()).collect::<Vec<_>>()
    );
    assert!(
        parts[0].starts_with("Antwort zu Ihrem Anliegen"),
        "{}",
        parts[0]
    );
    assert!(
        parts[0].ends_with("Die Satzung regelt vieles."),
        "a paragraph end: {}",
        &parts[0][parts[0].len() - 40..]
    );
    assert!(parts[1].starts_with("Absatz"), "{}", &parts[1][..40]);
    let whole = parts.join("\n\n");
    for p in &paragraphs {
        assert!(whole.contains(p.as_str()));
    }
    assert_eq!(emulator.count_429(), 0);
    app.stop().await.unwrap();
}
