//! Webhook mode: the secret header decides.

use super::*;

#[tokio::test]
async fn webhook_requests_without_the_right_secret_are_refused_and_with_it_accepted() {
    // Arrange
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(
        webhook_settings(dir.path(), &emulator),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    emulator.route_webhooks_to(&app.base);
    let hook = format!("{}/telegram/webhook", app.base);
    let forged = json!({"update_id": 1, "message": {"message_id": 1, "date": 1764230400,
        "from": {"id": 6666, "is_bot": false, "first_name": "Mallory"},
        "chat": {"id": 6666, "type": "private", "first_name": "Mallory"},
        "text": "Untergeschobene Frage"}});
    let http = reqwest::Client::new();

    // Act
    let missing = http
        .post(&hook)
        .json(&forged)
        .send()
        .await
        .unwrap()
        .status();
    let wrong = http
        .post(&hook)
        .header("X-Telegram-Bot-Api-Secret-Token", "falsches-geheimnis")
        .json(&forged)
        .send()
        .await
        .unwrap()
        .status();
    agree(&emulator, 6001, &TestUser::de("Gisela")).await;
    let update = emulator.user_says(6001, &TestUser::de("Gisela"), "Per Webhook gefragt");
    let ack = wait_text(&emulator, 6001, "eingegangen").await;
    let again = http
        .post(&hook)
        .header("X-Telegram-Bot-Api-Secret-Token", WEBHOOK_SECRET)
        .json(&sprechstunde_botapi_emulator::update_value(&emulator, update).unwrap())
        .send()
        .await
        .unwrap()
        .status();

    // Assert
    assert_eq!(missing.as_u16(), 401);
    assert_eq!(wrong.as_u16(), 401);
    assert_eq!(again.as_u16(), 200, "the right secret is accepted");
    assert!(ack.text.contains("A-1001"), "{}", ack.text);
    assert_eq!(
        question_count(&app).await,
        1,
        "neither the forged nor the repeated update counts"
    );
    let webhook = emulator.webhook().expect("webhook set");
    assert_eq!(webhook.url, PUBLIC_WEBHOOK_URL);
    assert_eq!(webhook.secret_token.as_deref(), Some(WEBHOOK_SECRET));
    app.stop().await.unwrap();
}
