//! Two instances of the real binary on one PostgreSQL database: exactly one is ready (it holds
//! the lease), the other answers 503 with `Retry-After`; when the active one is killed the
//! standby serves within 10 seconds and nothing acknowledged is lost or taken twice; an
//! active instance that was paused until another took over stops without writing.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sprechstunde_botapi_emulator::{Emulator, TestUser};
use sprechstunde_core::Store;
use sprechstunde_store_postgres::PgStore;
use sprechstunde_store_postgres::test_cluster::Cluster;
use tokio::process::{Child, Command};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::DEADLINE;
use super::log_scan::{capture, plain};
use super::postgres::{Socket, frame_where, on_postgres, readyz, say, until_ready, with_stdin};

/// The pseudonym key all instances share (a citizen must be recognised by whichever serves).
const PSEUDONYM_KEY: &str = "5f1d0c3a9b7e42d18c6a0f3e2b9d4c7a1e8f6b2d0a9c3e7f5b1d8a4c6e2f0b93";

/// A running instance: the process, its base URL and everything it logged.
struct Instance {
    child: Child,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
    /// The tasks reading stdout and stderr; they end when the process has ended.
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl Instance {
    /// Starts `serve` with `command` (the binary on PostgreSQL) and Telegram on `emulator`.
    async fn start(mut command: Command, emulator: &Emulator) -> Instance {
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "info")
            .env("SPRECHSTUNDE_PRIVACY__PSEUDONYM_KEY", PSEUDONYM_KEY)
            .env("SPRECHSTUNDE_TELEGRAM__ENABLED", "true")
            .env("SPRECHSTUNDE_TELEGRAM__API_URL", emulator.api_url())
            .env("SPRECHSTUNDE_TELEGRAM__TOKEN", emulator.token())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (first_tx, first_rx) = tokio::sync::oneshot::channel();
        let readers = vec![
            capture(child.stdout.take().unwrap(), log.clone(), Some(first_tx)),
            capture(child.stderr.take().unwrap(), log.clone(), None),
        ];
        let line = tokio::time::timeout(DEADLINE, first_rx)
            .await
            .expect("the address in time")
            .unwrap();
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .expect("address in the first line")
            .to_owned();
        Instance {
            child,
            base,
            log,
            readers,
        }
    }

    /// Everything the process logged, once it has ended (all output read).
    async fn final_log(&mut self) -> String {
        for reader in self.readers.drain(..) {
            tokio::time::timeout(DEADLINE, reader)
                .await
                .expect("output read to its end")
                .unwrap();
        }
        self.log()
    }

    fn log(&self) -> String {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|l| plain(l))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn signal(&self, name: &str) {
        let pid = self.child.id().expect("running").to_string();
        let sent = std::process::Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{name}");
    }
}

/// The binary on PostgreSQL at `url` with data directory `dir` and the default lease.
fn with_default_lease(dir: &std::path::Path, url: &str) -> Command {
    let mut command = on_postgres(dir, url);
    command.env_remove("SPRECHSTUNDE_STORE__LEASE_SECONDS");
    command
}

/// A web-chat citizen on `base`: a new conversation (`token` `None`) that agrees to the
/// privacy notice, or a resumed one. Returns the socket and the welcome frame.
async fn web_citizen(base: &str, token: Option<&str>) -> (Socket, Value) {
    let url = format!("{}/ws", base.replace("http://", "ws://"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let hello = json!({"type": "hello", "token": token, "lang": "de"});
    ws.send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    let welcome = frame_where(&mut ws, |f| f["type"] == "welcome").await;
    if token.is_none() {
        let agreed = say(&mut ws, "agree", "/einverstanden").await;
        assert_eq!(agreed["type"], "accepted", "{agreed}");
    }
    (ws, welcome)
}

/// A Telegram citizen in `chat` asks `question` and agrees to the notice; returns the text
/// of the acknowledgement (which carries the reference).
async fn telegram_asks(emulator: &Emulator, chat: i64, user: &TestUser, question: &str) -> String {
    emulator.user_says(chat, user, question);
    emulator
        .wait_for_sent(chat, DEADLINE, |m| m.text.contains("Datenschutz"))
        .await
        .unwrap();
    emulator.user_says(chat, user, "/einverstanden");
    emulator
        .wait_for_sent(chat, DEADLINE, |m| m.text.contains("A-"))
        .await
        .unwrap()
        .text
}

/// The reference (`A-1001`) in a text.
fn reference_in(text: &str) -> String {
    let start = text.find("A-").expect("a reference");
    text[start..]
        .chars()
        .take_while(|c| *c == '-' || c.is_ascii_alphanumeric())
        .collect()
}

/// A staff member logged in on `base`: the client (with the login cookie) and its CSRF token.
async fn staff_login(base: &str) -> (reqwest::Client, String) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let answer = client
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"login": "admin", "password": "ein-sicheres-passwort"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.unwrap();
    (client, body["csrf"].as_str().unwrap().to_owned())
}

/// Creates the staff account `admin` in the database at `url` with the command line.
async fn add_admin(dir: &std::path::Path, url: &str) {
    let mut command = on_postgres(dir, url);
    command.args([
        "staff",
        "add",
        "--login",
        "admin",
        "--name",
        "Ada Admin",
        "--role",
        "admin",
    ]);
    let added = with_stdin(command, "ein-sicheres-passwort\n").await;
    assert!(added.status.success(), "{}", super::text(&added.stderr));
}

/// How many entries of stored questions contain `text`.
async fn stored(store: &PgStore, text: &str) -> usize {
    let snapshot = store.load().await.unwrap();
    snapshot
        .questions
        .iter()
        .flat_map(|q| &q.entries)
        .filter(|e| e.text.contains(text))
        .count()
}

/// Waits until `text` is stored (in one entry).
async fn until_stored(store: &PgStore, text: &str) {
    let deadline = Instant::now() + DEADLINE;
    while stored(store, text).await == 0 {
        assert!(Instant::now() < deadline, "{text:?} never stored");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether the conversation in `welcome` or a later frame on `ws` shows an office message
/// containing `text` (within the deadline).
async fn sees_office_message(ws: &mut Socket, welcome: &Value, text: &str) -> bool {
    let in_history = welcome["history"].as_array().is_some_and(|h| {
        h.iter()
            .any(|i| i["text"].as_str().is_some_and(|t| t.contains(text)))
    });
    if in_history {
        return true;
    }
    let frame = tokio::time::timeout(
        DEADLINE,
        frame_where(ws, |f| {
            f["type"] == "message" && f["text"].as_str().is_some_and(|t| t.contains(text))
        }),
    )
    .await;
    frame.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_kill_9_of_the_active_instance_the_standby_serves_within_ten_seconds_and_nothing_is_lost_or_doubled()
 {
    // Arrange: a staff account; instance A takes the lease, B starts beside it.
    let seed = format!("{:x}", std::process::id() ^ 0x0fa1_10fe);
    let url = Cluster::shared().create_database().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    add_admin(dir_a.path(), &url).await;
    let emulator = Emulator::start().await;
    let mut a = Instance::start(with_default_lease(dir_a.path(), &url), &emulator).await;
    until_ready(&a.base, DEADLINE).await;
    let b = Instance::start(with_default_lease(dir_b.path(), &url), &emulator).await;
    let b_health = reqwest::get(format!("{}/healthz", b.base)).await.unwrap();
    let b_page = reqwest::get(format!("{}/staff", b.base)).await.unwrap();
    let (b_ready, a_ready) = (readyz(&b.base).await, readyz(&a.base).await);

    // Citizens ask on A (web chat and Telegram), staff answers one of each.
    let mut web = Vec::new();
    for i in 0..2 {
        let (mut ws, welcome) = web_citizen(&a.base, None).await;
        let text = format!("Web-Frage {i} zur Ortsumgehung FO-{seed}-w{i}");
        let asked = say(&mut ws, &format!("q-{i}"), &text).await;
        assert_eq!(asked["type"], "accepted", "{asked}");
        let token = welcome["token"].as_str().unwrap().to_owned();
        let reference = asked["reference"].as_str().unwrap().to_owned();
        web.push((ws, token, reference, text));
    }
    let chats: [i64; 2] = [611_204_993, 611_204_994];
    let users = [TestUser::de("Walburga"), TestUser::de("Ottokar")];
    let mut telegram = Vec::new();
    for (i, (chat, user)) in chats.iter().zip(&users).enumerate() {
        let text = format!("Telegram-Frage {i} zum Hallenbad FO-{seed}-t{i}");
        let ack = telegram_asks(&emulator, *chat, user, &text).await;
        telegram.push((reference_in(&ack), ack, text));
    }
    let (staff, csrf) = staff_login(&a.base).await;
    let web_answer = format!("Antwort an das Web FO-{seed}-aw");
    let telegram_answer = format!("Antwort an Telegram FO-{seed}-at");
    for (reference, answer) in [(&web[0].2, &web_answer), (&telegram[0].0, &telegram_answer)] {
        let answered = staff
            .post(format!("{}/api/v1/questions/{reference}/answer", a.base))
            .header("x-csrf-token", &csrf)
            .json(&json!({"text": answer}))
            .send()
            .await
            .unwrap();
        assert!(answered.status().is_success(), "{}", answered.status());
    }

    // Act: kill -9 the active instance right after the answers were stored.
    let killed_at = Instant::now();
    a.child.start_kill().unwrap();
    let _ = a.child.wait().await;
    until_ready(&b.base, Duration::from_secs(10)).await;
    let takeover = killed_at.elapsed();

    // The citizens go on with B: the web chat reconnects with its token (and asks again),
    // a Telegram citizen asks for the status.
    let (mut resumed, welcome) = web_citizen(&b.base, Some(&web[0].1)).await;
    let web_answer_seen = sees_office_message(&mut resumed, &welcome, &web_answer).await;
    let (mut second, _) = web_citizen(&b.base, Some(&web[1].1)).await;
    let after = format!("Web-Frage nach der Übernahme FO-{seed}-w9");
    let asked_after = say(&mut second, "q-after", &after).await;
    let telegram_answer_sent = emulator
        .wait_for_sent(chats[0], DEADLINE, |m| m.text.contains(&telegram_answer))
        .await;
    emulator.user_says(chats[1], &users[1], "/status");
    let status = emulator
        .wait_for_sent(chats[1], DEADLINE, |m| m.text.contains("Ihre Anliegen"))
        .await;

    // Assert
    assert_eq!(b_health.status(), 200, "a standby is alive");
    assert_eq!(b_page.status(), 503, "a standby turns requests away");
    assert_eq!(
        b_page.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    assert_eq!(
        (a_ready, b_ready),
        (Some(200), Some(503)),
        "exactly one ready"
    );
    assert!(
        takeover < Duration::from_secs(10),
        "takeover took {takeover:?}"
    );
    println!("takeover after kill -9: {takeover:?}");
    assert!(web_answer_seen, "the web answer reached the citizen");
    assert!(telegram_answer_sent.is_ok(), "{telegram_answer_sent:?}");
    assert!(status.is_ok(), "B polls Telegram: {status:?}");
    assert_eq!(asked_after["type"], "accepted", "{asked_after}");
    let store = PgStore::connect(&url).await.unwrap();
    for text in web
        .iter()
        .map(|w| &w.3)
        .chain(telegram.iter().map(|t| &t.2))
        .chain([&after])
    {
        assert_eq!(stored(&store, text).await, 1, "{text:?} stored once");
    }
    for ((_, ack, _), chat) in telegram.iter().zip(chats) {
        let sent = emulator.sent(chat);
        let acks = sent.iter().filter(|m| m.text == *ack).count();
        let notices = sent
            .iter()
            .filter(|m| m.text.contains("Datenschutz"))
            .count();
        assert_eq!(
            (acks, notices),
            (1, 1),
            "no update taken twice in chat {chat}"
        );
    }
    let log = b.log();
    assert!(log.contains("lease taken"), "{log}");
    drop(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_active_instance_paused_until_another_took_over_stops_without_writing() {
    // Arrange: A active (a short lease), B standby; a web citizen and a Telegram citizen
    // have asked on A.
    let seed = format!("{:x}", std::process::id() ^ 0x5_7095);
    let url = Cluster::shared().create_database().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let emulator = Emulator::start().await;
    let mut a = Instance::start(on_postgres(dir_a.path(), &url), &emulator).await;
    until_ready(&a.base, DEADLINE).await;
    let b = Instance::start(on_postgres(dir_b.path(), &url), &emulator).await;
    let (mut ws, welcome) = web_citizen(&a.base, None).await;
    let token = welcome["token"].as_str().unwrap().to_owned();
    let first = format!("Erste Frage zum Radweg FO-{seed}-w1");
    assert_eq!(say(&mut ws, "q-1", &first).await["type"], "accepted");
    let chat: i64 = 733_019_482;
    let user = TestUser::de("Hiltrud");
    let telegram_first = format!("Frage zur Müllabfuhr FO-{seed}-t1");
    telegram_asks(&emulator, chat, &user, &telegram_first).await;

    // Act: A is paused; meanwhile the web citizen sends (into A's socket) and the Telegram
    // citizen writes; B takes over and serves; then A resumes.
    a.signal("STOP");
    let paused = format!("Frage während der Pause FO-{seed}-w2");
    let frame = json!({"type": "message", "client_id": "q-2", "text": paused});
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    let telegram_paused = format!("Nachtrag während der Pause FO-{seed}-t2");
    emulator.user_says(chat, &user, &telegram_paused);
    until_ready(&b.base, DEADLINE).await;
    let store = PgStore::connect(&url).await.unwrap();
    until_stored(&store, &telegram_paused).await;
    a.signal("CONT");
    let exit = tokio::time::timeout(DEADLINE, a.child.wait())
        .await
        .expect("A stopped in time")
        .unwrap();
    // What A answered on the socket before it went away.
    let mut answered_q2 = false;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(DEADLINE, ws.next()).await {
        if let Message::Text(t) = frame {
            let v: Value = serde_json::from_str(&t).unwrap();
            answered_q2 |= v["client_id"] == "q-2" && v["type"] == "accepted";
        }
    }
    let paused_stored_by_a = stored(&store, &paused).await;
    // The page reconnects (to B now) and resends what was not acknowledged.
    let (mut again, _) = web_citizen(&b.base, Some(&token)).await;
    let resent = say(&mut again, "q-2", &paused).await;

    // Assert: A stopped with an error status, saying why, and acknowledged and wrote
    // nothing after the takeover; every message is stored exactly once.
    let log = a.final_log().await;
    assert_eq!(exit.code(), Some(1), "{exit}\n{log}");
    assert!(log.contains("lost the lease"), "{log}");
    assert!(
        !answered_q2,
        "the paused instance acknowledged a message after the takeover"
    );
    assert_eq!(
        paused_stored_by_a, 0,
        "the paused instance wrote after the takeover"
    );
    assert_eq!(resent["type"], "accepted", "{resent}");
    for text in [&first, &paused, &telegram_first, &telegram_paused] {
        assert_eq!(stored(&store, text).await, 1, "{text:?} stored once");
    }
    let lease = store.lease().await.unwrap().expect("a lease");
    assert_eq!(lease.epoch, 2, "one takeover");
    drop(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_active_instance_whose_lease_was_taken_over_refuses_the_next_write_and_exits() {
    // Arrange: A active; a web citizen has agreed to the notice.
    let seed = format!("{:x}", std::process::id() ^ 0xfe_11ce);
    let cluster = Cluster::shared();
    let url = cluster.create_database().await;
    let database = url.rsplit('/').next().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::start().await;
    let mut a = Instance::start(on_postgres(dir.path(), &url), &emulator).await;
    until_ready(&a.base, DEADLINE).await;
    let (mut ws, _) = web_citizen(&a.base, None).await;

    // Act: another holder takes the lease over behind A's back (as a standby would after a
    // network partition), and the citizen asks at once.
    cluster
        .sql(
            &database,
            "UPDATE leases SET epoch = epoch + 1, holder = 'elsewhere', \
             expires_at = now() + interval '1 hour'",
        )
        .await;
    let text = format!("Frage nach der Übernahme FO-{seed}-x");
    let frame = json!({"type": "message", "client_id": "q-x", "text": text});
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    let mut acknowledged = false;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(DEADLINE, ws.next()).await {
        if let Message::Text(t) = frame {
            let v: Value = serde_json::from_str(&t).unwrap();
            acknowledged |= v["client_id"] == "q-x" && v["type"] == "accepted";
        }
    }
    let exit = tokio::time::timeout(DEADLINE, a.child.wait())
        .await
        .expect("A stopped in time")
        .unwrap();

    // Assert: nothing acknowledged or written; A stopped with an error status, saying why.
    let log = a.final_log().await;
    assert!(!acknowledged, "a fenced instance acknowledged a message");
    let store = PgStore::connect(&url).await.unwrap();
    assert_eq!(stored(&store, &text).await, 0, "a fenced instance wrote");
    assert_eq!(exit.code(), Some(1), "{exit}\n{log}");
    assert!(log.contains("lost the lease"), "{log}");
    let reason = log
        .lines()
        .find(|l| l.contains("lost the lease"))
        .unwrap_or_default()
        .to_owned();
    println!("fenced instance: {reason}");
}
