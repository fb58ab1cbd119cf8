//! `session update` as the press office runs it: a session is rescheduled from the command
//! line, the list shows the new time, a web chat subscriber is told through the outbox, and
//! mistakes are clear errors.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::{DEADLINE, run, serve, text};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the web chat with `token` (`None`: a new conversation) and returns the socket and
/// the `welcome` frame.
async fn web_chat(base: &str, token: Option<&str>) -> (Socket, Value) {
    let url = format!("{}/ws", base.replace("http://", "ws://"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let hello = json!({"type": "hello", "token": token, "lang": "de"});
    ws.send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    let welcome = frame_where(&mut ws, |f| f["type"] == "welcome").await;
    (ws, welcome)
}

async fn frame_where(ws: &mut Socket, want: impl Fn(&Value) -> bool) -> Value {
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        let msg = tokio::time::timeout_at(until, ws.next())
            .await
            .expect("frame before the deadline")
            .expect("socket open")
            .expect("frame");
        if let Message::Text(t) = msg {
            let frame: Value = serde_json::from_str(&t).unwrap();
            if want(&frame) {
                return frame;
            }
        }
    }
}

async fn say(ws: &mut Socket, id: &str, said: &str, reply_contains: &str) {
    let frame = json!({"type": "message", "client_id": id, "text": said});
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    frame_where(ws, |f| {
        f["type"] == "message"
            && f["text"]
                .as_str()
                .is_some_and(|t| t.contains(reply_contains))
    })
    .await;
}

#[tokio::test]
async fn a_session_is_rescheduled_from_the_cli_and_its_subscribers_are_told() {
    // Arrange: a session, and a web chat citizen who subscribed to announcements.
    let dir = tempfile::tempdir().unwrap();
    let created = run(
        dir.path(),
        &[
            "session",
            "create",
            "--title",
            "Bürgersprechstunde",
            "--host",
            "OB Muster",
            "--start",
            "2030-03-05T17:00",
            "--end",
            "2030-03-05T18:00",
        ],
    )
    .await;
    assert!(created.status.success(), "{}", text(&created.stderr));
    let (mut server, url) = serve(dir.path()).await;
    let (mut ws, welcome) = web_chat(&url, None).await;
    let token = welcome["token"].as_str().unwrap().to_owned();
    say(
        &mut ws,
        "a",
        "/einverstanden",
        "Vielen Dank für Ihr Einverständnis",
    )
    .await;
    say(
        &mut ws,
        "s",
        "/abonnieren",
        "Sie erhalten jetzt Ankündigungen",
    )
    .await;
    drop(ws);
    server.kill().await.unwrap();
    server.wait().await.unwrap();

    // Act: move it a week later (no --end: it keeps its hour), then make mistakes.
    let moved = run(
        dir.path(),
        &["session", "update", "1", "--start", "2030-03-12T17:00"],
    )
    .await;
    let unknown = run(dir.path(), &["session", "update", "99", "--title", "x"]).await;
    let bad_time = run(dir.path(), &["session", "update", "1", "--start", "bald"]).await;
    let end_first = run(
        dir.path(),
        &["session", "update", "1", "--end", "2030-03-12T16:00"],
    )
    .await;
    let nothing = run(dir.path(), &["session", "update", "1"]).await;
    let listed = run(dir.path(), &["session", "list"]).await;
    let (mut server, url) = serve(dir.path()).await;
    let (_ws, returning) = web_chat(&url, Some(&token)).await;
    server.kill().await.unwrap();

    // Assert.
    assert!(moved.status.success(), "{}", text(&moved.stderr));
    assert!(
        text(&moved.stdout).contains("12. März 2030, 17:00 Uhr – 18:00"),
        "{}",
        text(&moved.stdout)
    );
    let listed = text(&listed.stdout);
    assert!(listed.contains("12. März 2030, 17:00 Uhr"), "{listed}");
    assert!(!listed.contains("5. März 2030"), "{listed}");
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("no session with id 99"),
        "{}",
        text(&unknown.stderr)
    );
    assert!(!bad_time.status.success());
    assert!(
        text(&bad_time.stderr).contains("not a date"),
        "{}",
        text(&bad_time.stderr)
    );
    assert!(!end_first.status.success());
    assert!(
        text(&end_first.stderr).contains("must end after it starts"),
        "{}",
        text(&end_first.stderr)
    );
    assert!(!nothing.status.success());
    assert!(text(&nothing.stderr).contains("nothing to change"));
    // The subscriber finds the rescheduling in the conversation when coming back.
    let history = returning["history"].to_string();
    assert!(
        history.contains("wurde verlegt") && history.contains("12. März 2030"),
        "{history}"
    );
}
