//! SIGTERM (how systemd, containers and Kubernetes stop a service) stops the server as
//! gracefully as Ctrl-C: the delivery in flight finishes and is recorded, the process exits
//! with 0, and a restart does not send that message again.

use std::process::Stdio;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use sprechstunde_botapi_emulator::{Emulator, TestUser};
use tokio::sync::watch;

use super::log_scan::{capture, plain};
use super::{DEADLINE, sprechstunde};

/// A Bot API proxy that can hold the answer to the next `sendMessage` (the message is sent,
/// the bot does not know yet) until released.
struct HoldingProxy {
    url: String,
    /// `true`: hold the next answer to `sendMessage` (the proxy takes it back to `false`).
    hold: watch::Sender<bool>,
    /// `true`: let a held answer through.
    release: watch::Sender<bool>,
    /// Whether an answer has been held (it stays held until `release`).
    holding: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
}

impl HoldingProxy {
    async fn start(upstream: String) -> HoldingProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hold = watch::channel(false).0;
        let release = watch::channel(false).0;
        let holding = watch::channel(false).0;
        let http = reqwest::Client::new();
        let (hold_tx, release_tx, holding_tx) = (hold.clone(), release.clone(), holding.clone());
        let handler = move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let (http, upstream, hold, release, holding) = (
                http.clone(),
                upstream.clone(),
                hold_tx.clone(),
                release_tx.clone(),
                holding_tx.clone(),
            );
            async move {
                let mut request = http.request(method, format!("{upstream}{uri}")).body(body);
                if let Some(kind) = headers.get("content-type") {
                    request = request.header("content-type", kind);
                }
                let Ok(answer) = request.send().await else {
                    return (StatusCode::BAD_GATEWAY, Bytes::new());
                };
                let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
                let bytes = answer.bytes().await.unwrap_or_default();
                if uri.path().to_ascii_lowercase().ends_with("/sendmessage")
                    && hold.send_replace(false)
                {
                    let mut released = release.subscribe();
                    holding.send_replace(true);
                    let _ = released.wait_for(|r| *r).await;
                }
                (status, bytes)
            }
        };
        let app = axum::Router::new().fallback(handler);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        HoldingProxy {
            url,
            hold,
            release,
            holding,
            server,
        }
    }
}

impl Drop for HoldingProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_gracefully_and_the_delivery_in_flight_is_not_sent_again() {
    // Arrange: a Telegram citizen has asked; the server runs behind a proxy that will hold
    // the answer to one `sendMessage`.
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::start().await;
    let proxy = HoldingProxy::start(emulator.api_url()).await;
    let chat_id: i64 = 412_778_301;
    let user = TestUser::de("Theodora");
    let serve = |api_url: &str| {
        let mut child = sprechstunde(dir.path())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "info")
            .env("SPRECHSTUNDE_TELEGRAM__ENABLED", "true")
            .env("SPRECHSTUNDE_TELEGRAM__API_URL", api_url)
            .env("SPRECHSTUNDE_TELEGRAM__TOKEN", emulator.token())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (first_tx, first_rx) = tokio::sync::oneshot::channel();
        let out = capture(child.stdout.take().unwrap(), log.clone(), Some(first_tx));
        let err = capture(child.stderr.take().unwrap(), log.clone(), None);
        (child, log, first_rx, out, err)
    };
    let (mut child, log, started, out, err) = serve(&proxy.url);
    tokio::time::timeout(DEADLINE, started)
        .await
        .unwrap()
        .unwrap();
    emulator.user_says(chat_id, &user, "Wann ist der Wertstoffhof geöffnet?");
    emulator
        .wait_for_sent(chat_id, DEADLINE, |m| m.text.contains("Datenschutz"))
        .await
        .unwrap();
    proxy.hold.send_replace(true);
    emulator.user_says(chat_id, &user, "/einverstanden");
    let mut holding = proxy.holding.subscribe();
    tokio::time::timeout(DEADLINE, holding.wait_for(|h| *h))
        .await
        .unwrap()
        .unwrap();
    let in_flight = emulator.sent(chat_id).last().unwrap().text.clone();

    // Act: SIGTERM while that delivery is in flight; the proxy lets the answer through once
    // the server has begun to stop.
    let pid = child.id().unwrap().to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let stopping = log
            .lock()
            .unwrap()
            .iter()
            .any(|l| plain(l).contains("stopping"));
        if stopping || child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no stop in sight");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    proxy.release.send_replace(true);
    let status = tokio::time::timeout(DEADLINE, child.wait())
        .await
        .unwrap()
        .unwrap();
    tokio::time::timeout(DEADLINE, out).await.unwrap().unwrap();
    tokio::time::timeout(DEADLINE, err).await.unwrap().unwrap();
    let first_run = log.lock().unwrap().join("\n");
    // Restart straight on the Bot API; a /status afterwards is answered after everything that
    // was still due, so its answer marks the end of the catch-up.
    let (mut child, _log, started, _out, _err) = serve(&emulator.api_url());
    tokio::time::timeout(DEADLINE, started)
        .await
        .unwrap()
        .unwrap();
    emulator.user_says(chat_id, &user, "/status");
    emulator
        .wait_for_sent(chat_id, DEADLINE, |m| m.text.contains("Ihre Anliegen"))
        .await
        .unwrap();
    child.kill().await.unwrap();

    // Assert
    assert!(signalled.success());
    assert!(status.success(), "exit {status}:\n{first_run}");
    let texts: Vec<String> = emulator.sent(chat_id).into_iter().map(|m| m.text).collect();
    let times = texts.iter().filter(|t| **t == in_flight).count();
    assert_eq!(times, 1, "{in_flight:?} sent {times} times: {texts:#?}");
    assert!(
        texts.iter().any(|t| t.contains("A-1001")),
        "the acknowledgement came: {texts:#?}"
    );
}

#[tokio::test]
async fn the_server_still_stops_on_sigterm_when_its_log_reader_has_gone() {
    // Arrange: the server's stdout and stderr go to pipes whose reader goes away after the
    // first line (a log collector that died, `… | head`).
    use tokio::io::AsyncBufReadExt;
    let dir = tempfile::tempdir().unwrap();
    let mut child = sprechstunde(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    tokio::time::timeout(DEADLINE, stdout.read_line(&mut first))
        .await
        .unwrap()
        .unwrap();
    assert!(first.contains("listening on"), "{first}");
    drop(stdout);
    drop(child.stderr.take());

    // Act: the stop is logged, into the broken pipe.
    let pid = child.id().unwrap().to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let status = tokio::time::timeout(DEADLINE, child.wait()).await;

    // Assert
    assert!(signalled.success());
    let status = status
        .expect("the server stops within the deadline")
        .unwrap();
    assert!(status.success(), "exit {status}");
}
