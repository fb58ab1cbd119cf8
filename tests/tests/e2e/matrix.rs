//! The Matrix channel against a real Synapse: a second matrix-sdk client plays the citizen,
//! staff answer through the console API. Skipped (with a notice) when Synapse is not
//! installed, except under CI.

use std::sync::Arc;
use std::time::Duration;

use sprechstunde::Settings;
use sprechstunde_core::{ChannelKind, DeliveryState, EntryKind, QuestionStatus};
use sprechstunde_matrix::MatrixConfig;
use sprechstunde_runtime::SystemClock;
use sprechstunde_tests::app::{TestApp, test_settings};
use sprechstunde_tests::synapse::Synapse;
use sprechstunde_tests::synapse::citizen::{MATRIX_DEADLINE, MatrixCitizen};
use tempfile::TempDir;
use tokio::time::Instant;

mod consent;
mod subscriptions;

const BOT: &str = "buergerbot";
const BOT_PASSWORD: &str = "bot-passwort-fuer-tests";

/// A homeserver, the bot's account on it and the server with the Matrix channel enabled.
struct World {
    synapse: Synapse,
    settings: Settings,
    app: Option<TestApp>,
    bot: String,
    /// The device of the configured access token ([`Login::AccessToken`]).
    token_device: Option<String>,
    _dir: TempDir,
}

/// How the bot authenticates in a test.
enum Login {
    Password,
    /// An access token from a login made before the server starts.
    AccessToken,
}

impl World {
    async fn start() -> Option<World> {
        Self::start_with(Login::Password).await
    }

    async fn start_with(login: Login) -> Option<World> {
        let synapse = Synapse::start().await.unwrap()?;
        let bot = synapse.register(BOT, BOT_PASSWORD).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut settings = test_settings(dir.path());
        settings.matrix = MatrixConfig {
            enabled: true,
            homeserver: synapse.url(),
            user: bot.clone(),
            ..MatrixConfig::default()
        };
        let mut token_device = None;
        match login {
            Login::Password => settings.matrix.password = Some(BOT_PASSWORD.into()),
            Login::AccessToken => {
                let (token, device) = login_elsewhere(&synapse).await;
                settings.matrix.access_token = Some(token);
                token_device = Some(device);
            }
        }
        // Quick retries, so that an outage test does not wait long after the homeserver is
        // back.
        settings.outbox.retry_base_seconds = 1;
        settings.outbox.retry_max_seconds = 2;
        let app = TestApp::start_with(settings.clone(), Arc::new(SystemClock))
            .await
            .unwrap();
        Some(World {
            synapse,
            settings,
            app: Some(app),
            bot,
            token_device,
            _dir: dir,
        })
    }

    fn app(&self) -> &TestApp {
        self.app.as_ref().unwrap()
    }

    async fn stop_bot(&mut self) {
        self.app.take().unwrap().stop().await.unwrap();
    }

    async fn start_bot(&mut self) {
        let app = TestApp::start_with(self.settings.clone(), Arc::new(SystemClock))
            .await
            .unwrap();
        self.app = Some(app);
    }

    async fn citizen(&self, name: &str) -> MatrixCitizen {
        MatrixCitizen::register(&self.synapse, name).await.unwrap()
    }

    /// The questions in the office, oldest first: reference, channel and what the citizen
    /// wrote.
    async fn questions(&self) -> Vec<(String, ChannelKind, Vec<String>)> {
        self.app()
            .office()
            .read(|s, _, _| {
                s.questions()
                    .map(|q| {
                        (
                            q.reference.to_string(),
                            q.channel,
                            q.entries
                                .iter()
                                .filter(|e| e.kind == EntryKind::Citizen)
                                .map(|e| e.text.clone())
                                .collect(),
                        )
                    })
                    .collect()
            })
            .await
    }

    async fn stop(mut self) {
        if let Some(app) = self.app.take() {
            app.stop().await.unwrap();
        }
    }
}

#[tokio::test]
async fn a_question_in_a_plain_direct_chat_is_acknowledged_and_answered_from_the_console() {
    let Some(world) = World::start().await else {
        return;
    };
    let anna = world.citizen("anna").await;

    let room = anna.create_room(&[&world.bot], false).await.unwrap();
    let greeting = anna.nth_notice(&room, 1).await.unwrap();
    anna.agree(&room).await.unwrap();
    let question = anna
        .send(&room, "Wann wird die Brücke saniert?")
        .await
        .unwrap();
    let ack = anna.nth_notice(&room, 4).await.unwrap();
    let staff = world
        .app()
        .staff("buergerbuero", &["citizens_office"])
        .await
        .unwrap();
    staff
        .answer("A-1001", "Die Sanierung beginnt im März.")
        .await
        .unwrap();
    let answer = anna
        .notice_containing(&room, "Die Sanierung beginnt im März.")
        .await
        .unwrap();

    assert!(greeting.body.contains("Willkommen"), "{}", greeting.body);
    assert!(greeting.body.contains("nicht Ende-zu-Ende-verschlüsselt"));
    assert!(greeting.body.contains("not end-to-end encrypted"));
    assert!(!greeting.encrypted);
    assert!(ack.body.contains("A-1001"), "{}", ack.body);
    assert_eq!(ack.reply_to.as_ref(), Some(&question));
    assert_eq!(answer.reply_to.as_ref(), Some(&question));
    let questions = world.questions().await;
    assert_eq!(questions.len(), 1);
    assert_eq!(questions[0].1, ChannelKind::Matrix);
    assert_eq!(questions[0].2[0], "Wann wird die Brücke saniert?");
    // The citizen is stored under a pseudonym, reachable at the room.
    let (pseudonym, address) = world
        .app()
        .office()
        .read(|s, _, _| {
            let q = s.questions().next().unwrap();
            let c = s.citizen(q.citizen).unwrap();
            (c.pseudonym.clone(), c.address.clone())
        })
        .await;
    assert!(!pseudonym.contains("anna"));
    assert_eq!(address, room.as_str());
    world.stop().await;
}

#[tokio::test]
async fn an_encrypted_direct_chat_is_decrypted_and_answered_encrypted() {
    let Some(world) = World::start().await else {
        return;
    };
    let anna = world.citizen("anna").await;

    let room = anna.create_room(&[&world.bot], true).await.unwrap();
    let greeting = anna.nth_notice(&room, 1).await.unwrap();
    anna.agree(&room).await.unwrap();
    anna.send(&room, "Wer ist für Straßenlaternen zuständig?")
        .await
        .unwrap();
    let ack = anna.nth_notice(&room, 4).await.unwrap();
    let staff = world
        .app()
        .staff("buergerbuero", &["citizens_office"])
        .await
        .unwrap();
    staff
        .answer("A-1001", "Das Tiefbauamt, Telefon 123.")
        .await
        .unwrap();
    let answer = anna
        .notice_containing(&room, "Das Tiefbauamt")
        .await
        .unwrap();

    assert!(greeting.encrypted);
    assert!(
        greeting.body.contains("Ende-zu-Ende-verschlüsselt:"),
        "{}",
        greeting.body
    );
    assert!(ack.encrypted && ack.body.contains("A-1001"), "{}", ack.body);
    assert!(answer.encrypted);
    let questions = world.questions().await;
    assert_eq!(questions[0].2[0], "Wer ist für Straßenlaternen zuständig?");
    // Nothing the bot wrote is unreadable for the citizen.
    // Greeting, privacy notice, thanks for agreeing, acknowledgement, answer.
    let from_bot = anna.messages_from(&room, &world.bot).await.unwrap();
    assert_eq!(from_bot.len(), 5, "{from_bot:?}");
    assert!(from_bot.iter().all(|b| b != "<undecryptable>"));
    world.stop().await;
}

#[tokio::test]
async fn after_a_restart_the_bot_keeps_its_device_and_decrypts_what_arrived_meanwhile() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let anna = world.citizen("anna").await;
    let room = anna.create_room(&[&world.bot], true).await.unwrap();
    anna.nth_notice(&room, 1).await.unwrap();
    anna.agree(&room).await.unwrap();
    anna.send(&room, "Erste Frage vor dem Neustart")
        .await
        .unwrap();
    anna.nth_notice(&room, 4).await.unwrap();
    let devices_before = anna.devices_of(&world.bot).await.unwrap();

    world.stop_bot().await;
    anna.send(&room, "Zweite Frage, während der Bot weg ist")
        .await
        .unwrap();
    world.start_bot().await;
    let third = anna.nth_notice(&room, 5).await.unwrap();
    let staff = world
        .app()
        .staff("buergerbuero", &["citizens_office"])
        .await
        .unwrap();
    staff
        .answer("A-1001", "Antwort nach dem Neustart.")
        .await
        .unwrap();
    let answer = anna
        .notice_containing(&room, "Antwort nach dem Neustart.")
        .await
        .unwrap();

    assert_eq!(devices_before.len(), 1, "{devices_before:?}");
    assert_eq!(anna.devices_of(&world.bot).await.unwrap(), devices_before);
    assert!(third.encrypted && answer.encrypted);
    let texts: Vec<String> = world
        .questions()
        .await
        .into_iter()
        .flat_map(|(_, _, texts)| texts)
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t == "Zweite Frage, während der Bot weg ist"),
        "{texts:?}"
    );
    // The bot wrote greeting, privacy notice, thanks for agreeing, two acknowledgements and
    // the answer: once each.
    let from_bot = anna.messages_from(&room, &world.bot).await.unwrap();
    assert_eq!(from_bot.len(), 6, "{from_bot:?}");
    world.stop().await;
}

#[tokio::test]
async fn a_homeserver_outage_during_delivery_loses_and_duplicates_nothing() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let anna = world.citizen("anna").await;
    let room = anna.create_room(&[&world.bot], false).await.unwrap();
    anna.nth_notice(&room, 1).await.unwrap();
    anna.agree(&room).await.unwrap();
    anna.send(&room, "Wann ist der Wertstoffhof offen?")
        .await
        .unwrap();
    anna.nth_notice(&room, 4).await.unwrap();
    let staff = world
        .app()
        .staff("buergerbuero", &["citizens_office"])
        .await
        .unwrap();

    world.synapse.stop().await.unwrap();
    staff
        .answer("A-1001", "Montag bis Samstag, 8 bis 18 Uhr.")
        .await
        .unwrap();
    wait_for_failed_attempt(world.app()).await;
    world.synapse.restart().await.unwrap();
    anna.notice_containing(&room, "Montag bis Samstag")
        .await
        .unwrap();
    wait_until_outbox_empty(world.app()).await;

    // Greeting, privacy notice, thanks for agreeing, acknowledgement, answer.
    let from_bot = anna.messages_from(&room, &world.bot).await.unwrap();
    assert_eq!(from_bot.len(), 5, "{from_bot:?}");
    assert!(from_bot[4].contains("Montag bis Samstag"));
    let status = world
        .app()
        .office()
        .read(|s, _, _| s.questions().next().unwrap().status)
        .await;
    assert_eq!(status, QuestionStatus::Answered);
    world.stop().await;
}

#[tokio::test]
async fn a_room_with_three_members_is_refused_and_left() {
    let Some(world) = World::start().await else {
        return;
    };
    let anna = world.citizen("anna").await;
    let bert = world
        .synapse
        .register("bert", "bert-passwort-1234")
        .await
        .unwrap();

    let room = anna.create_room(&[&world.bot, &bert], false).await.unwrap();
    let refusal = anna.nth_notice(&room, 1).await.unwrap();
    anna.wait_until_gone(&room, &world.bot).await.unwrap();

    assert!(refusal.body.contains("Direktchat"), "{}", refusal.body);
    assert!(world.questions().await.is_empty());
    world.stop().await;
}

#[tokio::test]
async fn history_from_before_the_bot_joined_is_not_taken_as_a_question() {
    let Some(world) = World::start().await else {
        return;
    };
    let anna = world.citizen("anna").await;
    let room = anna.create_room(&[], false).await.unwrap();
    anna.send(&room, "Notiz an mich selbst, vor dem Bot")
        .await
        .unwrap();

    anna.invite(&room, &world.bot).await.unwrap();
    anna.nth_notice(&room, 1).await.unwrap();
    anna.agree(&room).await.unwrap();
    anna.send(&room, "Die eigentliche Frage").await.unwrap();
    let ack = anna.nth_notice(&room, 4).await.unwrap();

    assert!(ack.body.contains("A-1001"), "{}", ack.body);
    let questions = world.questions().await;
    assert_eq!(questions.len(), 1, "{questions:?}");
    assert_eq!(questions[0].2, vec!["Die eigentliche Frage".to_owned()]);
    world.stop().await;
}

#[tokio::test]
async fn a_configured_access_token_is_used_and_its_device_kept_across_restarts() {
    let Some(mut world) = World::start_with(Login::AccessToken).await else {
        return;
    };
    let anna = world.citizen("anna").await;
    let room = anna.create_room(&[&world.bot], true).await.unwrap();
    anna.nth_notice(&room, 1).await.unwrap();
    anna.agree(&room).await.unwrap();
    anna.send(&room, "Frage an den Bot mit Token")
        .await
        .unwrap();
    anna.nth_notice(&room, 4).await.unwrap();
    let devices = anna.devices_of(&world.bot).await.unwrap();

    world.stop_bot().await;
    world.start_bot().await;
    anna.send(&room, "Noch eine Frage nach dem Neustart")
        .await
        .unwrap();
    let third = anna.nth_notice(&room, 5).await.unwrap();

    assert_eq!(devices, vec![world.token_device.clone().unwrap()]);
    assert_eq!(anna.devices_of(&world.bot).await.unwrap(), devices);
    assert!(third.encrypted);
    let session =
        std::fs::read_to_string(world.settings.server.data_dir.join("matrix/session.json"))
            .unwrap();
    assert!(session.contains(&devices[0]), "{session}");
    world.stop().await;
}

/// Logs the bot in over the plain client-server API, as an operator would to make a token.
async fn login_elsewhere(synapse: &Synapse) -> (String, String) {
    let response: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/_matrix/client/v3/login", synapse.url()))
        .json(&serde_json::json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": BOT},
            "password": BOT_PASSWORD,
            "initial_device_display_name": "sprechstunde (token)",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        response["access_token"].as_str().unwrap().to_owned(),
        response["device_id"].as_str().unwrap().to_owned(),
    )
}

/// Waits until a delivery to Matrix has failed at least once.
async fn wait_for_failed_attempt(app: &TestApp) {
    let deadline = Instant::now() + MATRIX_DEADLINE;
    loop {
        let failed = app
            .office()
            .read(|s, _, _| {
                s.pending_outbox().any(
                    |m| matches!(m.state, DeliveryState::Pending { attempts, .. } if attempts > 0),
                )
            })
            .await;
        if failed {
            return;
        }
        assert!(Instant::now() < deadline, "no delivery attempt failed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until every outbox message is delivered.
async fn wait_until_outbox_empty(app: &TestApp) {
    let deadline = Instant::now() + MATRIX_DEADLINE;
    loop {
        let pending = app
            .office()
            .read(|s, _, _| s.pending_outbox().count())
            .await;
        if pending == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{pending} messages still pending"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_matrix_citizen_agrees_gets_their_data_and_erases_it_without_a_trace() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let anna = world.citizen("anna").await;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let text = format!("MATRIX-ERASE-QUESTION-{nanos:09}");
    let room = anna.create_room(&[&world.bot], true).await.unwrap();
    anna.nth_notice(&room, 1).await.unwrap();

    // Asking before agreeing: the notice says this chat is end-to-end encrypted.
    anna.send(&room, &text).await.unwrap();
    let notice = anna
        .notice_containing(&room, "Datenschutzhinweis")
        .await
        .unwrap();
    assert!(
        notice
            .body
            .contains("Dieser Matrix-Chat ist Ende-zu-Ende-verschlüsselt."),
        "{}",
        notice.body
    );
    assert!(world.questions().await.is_empty());
    anna.send(&room, "/einverstanden").await.unwrap();
    anna.notice_containing(&room, "eingegangen").await.unwrap();
    assert_eq!(world.questions().await[0].2, std::slice::from_ref(&text));

    anna.send(&room, "/meinedaten").await.unwrap();
    let export = anna
        .notice_containing(&room, "Ihre bei uns gespeicherten Daten")
        .await
        .unwrap();
    assert!(export.body.contains(&text), "{}", export.body);
    anna.send(&room, "/loeschen bestaetigen").await.unwrap();
    anna.notice_containing(&room, "Alle Ihre Daten wurden gelöscht")
        .await
        .unwrap();
    let deadline = Instant::now() + MATRIX_DEADLINE;
    loop {
        let citizens = world
            .app()
            .office()
            .read(|s, _, _| s.citizens().count())
            .await;
        if citizens == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the erased citizen is forgotten");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    world.stop_bot().await;

    // sprechstunde's own store keeps no trace; matrix-sdk's store is encrypted as a whole.
    let data_dir = world.settings.server.data_dir.clone();
    let (files, bytes) = sprechstunde_tests::disk::scan(&data_dir);
    let user_id = anna.user_id();
    let seeded = [text.as_str(), user_id.as_str(), room.as_str()];
    let left: Vec<&&str> = seeded
        .iter()
        .filter(|s| bytes.windows(s.len()).any(|w| w == s.as_bytes()))
        .collect();
    println!(
        "matrix erasure: scanned {files} files, {} bytes, for {} seeded strings; found {}",
        bytes.len(),
        seeded.len(),
        left.len()
    );
    assert!(left.is_empty(), "still on disk: {left:?}");
    world.stop().await;
}
