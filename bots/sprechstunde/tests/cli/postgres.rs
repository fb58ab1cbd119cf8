//! The real binary on PostgreSQL (`SPRECHSTUNDE_STORE__BACKEND=postgres`): the CLI creates
//! a staff account there, `serve` takes a web-chat question, and after the server is killed
//! the question is in the database and the server starts again on it.

use std::process::Stdio;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sprechstunde_core::Store;
use sprechstunde_store_postgres::PgStore;
use sprechstunde_store_postgres::test_cluster::Cluster;
use tokio::process::Command;
use tokio_tungstenite::tungstenite::Message;

use tokio::io::AsyncWriteExt;

use super::{DEADLINE, serve_command, sprechstunde, text};

pub(super) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(super) async fn frame_where(ws: &mut Socket, want: impl Fn(&Value) -> bool) -> Value {
    loop {
        let frame = tokio::time::timeout(DEADLINE, ws.next())
            .await
            .expect("a frame in time")
            .expect("socket open")
            .unwrap();
        if let Message::Text(t) = frame {
            let v: Value = serde_json::from_str(&t).unwrap();
            if want(&v) {
                return v;
            }
        }
    }
}

/// Sends a message and returns the `accepted` or `error` frame about it.
pub(super) async fn say(ws: &mut Socket, client_id: &str, text: &str) -> Value {
    let frame = json!({"type": "message", "client_id": client_id, "text": text});
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    frame_where(ws, |f| {
        (f["type"] == "accepted" || f["type"] == "error") && f["client_id"] == client_id
    })
    .await
}

/// The binary in `dir` with the PostgreSQL store at `url` (and a short lease, so that a
/// restart after a kill need not wait long).
pub(super) fn on_postgres(dir: &std::path::Path, url: &str) -> Command {
    let mut command = sprechstunde(dir);
    command
        .env("SPRECHSTUNDE_STORE__BACKEND", "postgres")
        .env("SPRECHSTUNDE_STORE__URL", url)
        .env("SPRECHSTUNDE_STORE__LEASE_SECONDS", "2");
    command
}

/// The status of `GET {base}/readyz` (`None`: no answer).
pub(super) async fn readyz(base: &str) -> Option<u16> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(2))
        .build()
        .ok()?;
    let answer = client.get(format!("{base}/readyz")).send().await.ok()?;
    Some(answer.status().as_u16())
}

/// Waits until the instance at `base` is ready (holds the lease and serves).
pub(super) async fn until_ready(base: &str, within: std::time::Duration) {
    let deadline = tokio::time::Instant::now() + within;
    while readyz(base).await != Some(200) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{base} not ready within {within:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Runs `command` with `stdin` as its input.
pub(super) async fn with_stdin(mut command: Command, stdin: &str) -> std::process::Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    tokio::time::timeout(DEADLINE, child.wait_with_output())
        .await
        .expect("finished in time")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_the_cli_and_serve_store_in_the_database_and_a_question_survives_a_kill() {
    // Arrange: a new database; a staff account created by the CLI.
    let url = Cluster::shared().create_database().await;
    let dir = tempfile::tempdir().unwrap();
    let mut add = on_postgres(dir.path(), &url);
    add.args([
        "staff",
        "add",
        "--login",
        "admin",
        "--name",
        "Ada Admin",
        "--role",
        "admin",
    ]);
    let added = with_stdin(add, "ein-sicheres-passwort\n").await;
    assert!(added.status.success(), "{}", text(&added.stderr));

    // Act: a citizen asks through the web chat; the server is killed (no clean shutdown).
    let (mut server, base) = serve_command(on_postgres(dir.path(), &url)).await;
    until_ready(&base, DEADLINE).await;
    let ws_url = format!("{}/ws", base.replace("http://", "ws://"));
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
    let hello = json!({"type": "hello", "token": null, "lang": "de"});
    ws.send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    frame_where(&mut ws, |f| f["type"] == "welcome").await;
    let agreed = say(&mut ws, "agree", "/einverstanden").await;
    assert_eq!(agreed["type"], "accepted", "{agreed}");
    let asked = say(
        &mut ws,
        "q-1",
        "Wann wird die Brücke am Markt saniert? PG-7e1d",
    )
    .await;
    assert_eq!(asked["type"], "accepted", "{asked}");
    server.start_kill().unwrap();
    let _ = server.wait().await;
    drop(ws);

    // Assert: the question is in PostgreSQL, the account too, and the server starts again.
    let store = PgStore::connect(&url).await.unwrap();
    let snapshot = store.load().await.unwrap();
    let found = snapshot
        .questions
        .iter()
        .any(|q| q.entries.iter().any(|e| e.text.contains("PG-7e1d")));
    assert!(found, "the acknowledged question is in the database");
    assert!(store.staff_by_login("admin").await.unwrap().is_some());
    let (mut restarted, base) = serve_command(on_postgres(dir.path(), &url)).await;
    until_ready(&base, DEADLINE).await;
    let health = reqwest::get(format!("{base}/healthz"))
        .await
        .unwrap()
        .status();
    restarted.start_kill().unwrap();
    assert_eq!(health, 200);
    assert!(
        !dir.path().join("data").join("db").exists(),
        "no sled database was made beside PostgreSQL"
    );
}
