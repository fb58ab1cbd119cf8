//! The adapter's start-up against the Bot API emulator and against broken servers: the token
//! never shows in an error.

// Test code: a failed unwrap is a failed test, with the location in the message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use sprechstunde_botapi_emulator::{Emulator, TestUser};
use sprechstunde_core::{Engine, Policy, Texts};
use sprechstunde_runtime::{Office, Pseudonymizer, SystemClock};
use sprechstunde_store_sled::SledStore;
use sprechstunde_telegram::{Telegram, TelegramConfig, TelegramMode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "4242424242:AAFsecretSECRETsecret_token-part";

async fn office(dir: &std::path::Path) -> Office {
    let store = Arc::new(SledStore::open(dir).unwrap());
    let engine = Engine::new(Policy::default(), Texts::builtin().unwrap());
    Office::open(engine, store, Arc::new(SystemClock))
        .await
        .unwrap()
}

fn pseudonyms() -> Pseudonymizer {
    Pseudonymizer::new(vec![3; 32]).unwrap()
}

fn config(api_url: &str, token: &str) -> TelegramConfig {
    TelegramConfig {
        enabled: true,
        api_url: api_url.to_owned(),
        token: Some(token.to_owned()),
        ..TelegramConfig::default()
    }
}

/// A server that answers every request with its own request line, as some proxies do in
/// error pages: the body then contains `/bot<TOKEN>/getMe`.
async fn echo_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]);
                let line = head.lines().next().unwrap_or_default().to_owned();
                let body = format!("Bad gateway for {line}");
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_failing_request_never_shows_the_token_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let office = office(dir.path()).await;
    let echo = echo_server().await;

    let garbage = Telegram::start(
        office.clone(),
        &config(&echo, TOKEN),
        pseudonyms(),
        CancellationToken::new(),
    )
    .await
    .expect_err("not a Bot API")
    .to_string();

    assert!(garbage.contains("getMe"), "{garbage}");
    assert!(
        !garbage.contains("AAFsecretSECRETsecret_token-part"),
        "{garbage}"
    );
    // The answer's body (here the echoed request line) is not repeated at all.
    assert!(!garbage.contains("Bad gateway for"), "{garbage}");
    assert!(garbage.contains("not valid JSON"), "{garbage}");
}

#[tokio::test]
async fn a_wrong_token_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let office = office(dir.path()).await;
    let emulator = Emulator::start().await;

    let error = Telegram::start(
        office,
        &config(&emulator.api_url(), TOKEN),
        pseudonyms(),
        CancellationToken::new(),
    )
    .await
    .expect_err("wrong token")
    .to_string();

    assert!(error.contains("getMe"), "{error}");
    assert!(!error.contains("AAFsecret"), "{error}");
}

#[tokio::test]
async fn start_registers_the_commands_in_german_and_english() {
    let dir = tempfile::tempdir().unwrap();
    let office = office(dir.path()).await;
    let emulator = Emulator::start().await;
    let shutdown = CancellationToken::new();

    let telegram = Telegram::start(
        office,
        &config(&emulator.api_url(), &emulator.token()),
        pseudonyms(),
        shutdown.clone(),
    )
    .await
    .unwrap()
    .expect("enabled");

    let names = |code: &str| -> Vec<String> {
        emulator
            .commands(code)
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    };
    let de = [
        "start",
        "hilfe",
        "status",
        "zurueckziehen",
        "abonnieren",
        "abbestellen",
        "meinedaten",
        "loeschen",
    ];
    assert_eq!(names(""), de);
    assert_eq!(names("de"), de);
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
    shutdown.cancel();
    telegram.join().await;
}

#[tokio::test]
async fn a_disabled_channel_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let office = office(dir.path()).await;
    let config = TelegramConfig {
        mode: TelegramMode::Webhook,
        ..TelegramConfig::default()
    };

    let started = Telegram::start(office, &config, pseudonyms(), CancellationToken::new()).await;

    assert!(matches!(started, Ok(None)));
}

#[tokio::test]
async fn an_unreachable_bot_api_does_not_stop_start_up_and_is_set_up_once_it_answers() {
    let dir = tempfile::tempdir().unwrap();
    let office = office(dir.path()).await;
    // A port nothing listens on (yet).
    let addr = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let shutdown = CancellationToken::new();

    let telegram = Telegram::start(
        office,
        &config(&format!("http://{addr}"), TOKEN),
        pseudonyms(),
        shutdown.clone(),
    )
    .await
    .expect("an unreachable Bot API is retried, not fatal")
    .expect("enabled");
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let emulator = Emulator::start_on(listener, TOKEN.to_owned());
    let registered = emulator
        .wait_until(
            "commands registered",
            std::time::Duration::from_secs(20),
            |e| (!e.commands("en").is_empty()).then_some(()),
        )
        .await;

    assert!(
        registered.is_ok(),
        "the set-up was retried once the Bot API answered"
    );
    shutdown.cancel();
    telegram.join().await;
}

/// Log lines written while a test runs (the test's thread only: `#[tokio::test]` runs every
/// task on it).
#[derive(Clone, Default)]
struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || logs.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn an_update_teloxide_cannot_read_is_skipped_counted_and_logged_without_its_content() {
    // Arrange
    let logs = Logs::default();
    let _capture = logs.capture();
    let dir = tempfile::tempdir().unwrap();
    let office = office(dir.path()).await;
    let emulator = Emulator::start().await;
    let shutdown = CancellationToken::new();
    let telegram = Telegram::start(
        office.clone(),
        &config(&emulator.api_url(), &emulator.token()),
        pseudonyms(),
        shutdown.clone(),
    )
    .await
    .unwrap()
    .expect("enabled");
    // A button press without `chat_instance` (Telegram always sends it; teloxide cannot read
    // a query without it), carrying a citizen's name, chat id and text.
    let chat = 987_654_321;
    let from = serde_json::json!({"id": chat, "is_bot": false, "first_name": "Geheimname"});
    let broken = emulator.push_raw_update(serde_json::json!({
        "callback_query": {
            "id": "990001",
            "from": from,
            "message": {
                "message_id": 1, "date": 1_764_230_400,
                "from": {"id": 7_000_000_001_i64, "is_bot": true, "first_name": "Bot"},
                "chat": {"id": chat, "type": "private", "first_name": "Geheimname"},
                "text": "Geheime Frage zur Nachbarin",
            },
            "data": "Geheimer Knopftext",
        }
    }));
    emulator.user_says(4712, &TestUser::de("Anna"), "Wann wird die Straße saniert?");

    // Act
    emulator
        .wait_until("both updates confirmed", Duration::from_secs(30), |e| {
            (e.pending_updates() == 0).then_some(())
        })
        .await
        .unwrap();

    // Assert
    assert_eq!(telegram.unreadable_updates(), 1);
    let log = logs.text();
    assert!(
        log.contains("could not be read") && log.contains(&broken.to_string()),
        "{log}"
    );
    for secret in [
        "Geheimname",
        "987654321",
        "Geheime Frage",
        "Geheimer Knopftext",
    ] {
        assert!(!log.contains(secret), "{secret:?} logged: {log}");
    }
    let citizens = office.read(|s, _, _| s.citizens().count()).await;
    assert_eq!(citizens, 1, "the next update was taken as usual");
    shutdown.cancel();
    telegram.join().await;
}
