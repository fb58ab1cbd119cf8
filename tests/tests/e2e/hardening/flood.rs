//! Per-citizen flood limits in the web chat and on Telegram: the excess is refused politely,
//! nothing of it is stored, and a chat gets one notice per flood.

use std::sync::Arc;

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use sprechstunde_botapi_emulator::{Emulator, TestUser};
use sprechstunde_runtime::{ManualClock, SystemClock};
use sprechstunde_tests::app::{TestApp, test_settings};
use sprechstunde_tests::telegram::polling_settings;

/// Long enough for the Telegram round trips.
const WAIT: Duration = Duration::from_secs(60);

/// The citizens' texts in the questions (not the office's).
async fn stored_texts(app: &TestApp) -> Vec<String> {
    app.office()
        .read(|state, _, _| {
            state
                .questions()
                .flat_map(|q| q.entries.iter())
                .filter(|e| e.kind == sprechstunde_core::EntryKind::Citizen)
                .map(|e| e.text.clone())
                .collect()
        })
        .await
}

#[tokio::test]
async fn a_flooding_web_citizen_is_refused_politely_and_nothing_of_the_excess_is_stored() {
    // Arrange: four messages a minute; agreeing to the privacy notice is the first of them.
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.limits.citizen_messages = 4;
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let app = TestApp::start_with(settings, clock.clone()).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    for i in 0..3 {
        citizen
            .ask(&format!("Teil {i} meiner Frage"))
            .await
            .unwrap();
    }

    // Act
    let mut refusals = Vec::new();
    for i in 0..4 {
        let id = citizen.send(&format!("Überzählig {i}")).await.unwrap();
        refusals.push(
            citizen
                .wait_for(|f| f["client_id"] == id.as_str())
                .await
                .unwrap(),
        );
    }

    // Assert
    for frame in &refusals {
        assert_eq!(frame["type"], "error", "{frame}");
        assert_eq!(frame["code"], "flooded", "{frame}");
        assert!(
            frame["message"]
                .as_str()
                .unwrap()
                .starts_with("Sie haben in kurzer Zeit sehr viele Nachrichten geschickt."),
            "{frame}"
        );
    }
    let texts = stored_texts(&app).await;
    assert!(!texts.iter().any(|t| t.contains("Überzählig")), "{texts:?}");
    assert_eq!(texts.len(), 3);

    // A minute later the citizen is heard again.
    clock.advance(SignedDuration::from_secs(61));
    citizen.ask("Und noch ein Nachtrag").await.unwrap();
    assert_eq!(stored_texts(&app).await.len(), 4);
    println!(
        "flood limit (web chat): 3 admitted, {} refused, 0 of them stored",
        refusals.len()
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_flooding_telegram_chat_gets_exactly_one_notice_and_nothing_of_the_excess_is_stored() {
    // Arrange
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = polling_settings(dir.path(), &emulator);
    // Five messages a minute; agreeing to the privacy notice takes the first two of them
    // (consent counts only once the notice is shown: the first `/einverstanden` brings it).
    settings.limits.citizen_messages = 5;
    let app = TestApp::start_with(settings, Arc::new(SystemClock))
        .await
        .unwrap();
    let user = TestUser::de("Flora");
    sprechstunde_tests::telegram::agree(&emulator, 4001, &user).await;

    // Act: ten messages at once.
    for i in 0..10 {
        emulator.user_says(4001, &user, &format!("Nachricht Nummer {i}"));
    }
    emulator
        .wait_for_sent(4001, WAIT, |m| m.text.contains("sehr viele Nachrichten"))
        .await
        .unwrap();
    // Every update is taken and the bot is back waiting for more: all ten are handled.
    emulator
        .wait_until("all updates handled", WAIT, |e| {
            (e.pending_updates() == 0 && e.polls_waiting() > 0).then_some(())
        })
        .await
        .unwrap();

    // Assert
    let texts = stored_texts(&app).await;
    assert_eq!(
        texts,
        [
            "Nachricht Nummer 0",
            "Nachricht Nummer 1",
            "Nachricht Nummer 2"
        ],
        "only the admitted messages are stored"
    );
    let sent = emulator.sent(4001);
    let notices = sent
        .iter()
        .filter(|m| m.text.contains("sehr viele Nachrichten"))
        .count();
    assert_eq!(notices, 1, "one notice for the whole flood");
    println!(
        "flood limit (Telegram): 10 sent, 3 stored, {} replies of which {notices} flood notice",
        sent.len()
    );
    app.stop().await.unwrap();
}
