//! Raw web chat sockets for the limit tests: from a chosen loopback source address
//! (127.0.0.0/8 is all local, so every test can play many clients), with chosen headers,
//! frame by frame.

use std::net::{IpAddr, SocketAddr};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use sprechstunde_tests::DEADLINE;

/// A raw client socket.
pub(super) type Ws = WebSocketStream<TcpStream>;

/// A TCP connection to `server` from `from` (any port).
pub(super) async fn tcp_from(from: IpAddr, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    socket.connect(server).await.unwrap()
}

/// Opens `/ws` from `from`, with an `X-Forwarded-For` header when given.
pub(super) async fn open(server: SocketAddr, from: IpAddr, forwarded_for: Option<&str>) -> Ws {
    let mut request = format!("ws://{server}/ws").into_client_request().unwrap();
    if let Some(xff) = forwarded_for {
        request
            .headers_mut()
            .insert("x-forwarded-for", xff.parse().unwrap());
    }
    let tcp = tcp_from(from, server).await;
    let (ws, _) = tokio_tungstenite::client_async(request, tcp).await.unwrap();
    ws
}

/// Sends one JSON frame.
pub(super) async fn send(ws: &mut Ws, frame: Value) {
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
}

/// The next JSON frame matching `matches`, within the deadline; `None` if the socket closed.
pub(super) async fn next_matching(ws: &mut Ws, matches: impl Fn(&Value) -> bool) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let message = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("no frame before the deadline")?
            .ok()?;
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(&text).unwrap();
            if matches(&frame) {
                return Some(frame);
            }
        }
    }
}

/// Says hello with `token` (`None`: a new conversation); the answer (`welcome` or `error`).
pub(super) async fn hello(ws: &mut Ws, token: Option<&str>) -> Value {
    send(ws, json!({"type": "hello", "token": token, "lang": "de"})).await;
    next_matching(ws, |f| f["type"] == "welcome" || f["type"] == "error")
        .await
        .expect("answer to hello")
}

/// Sends a message and returns the frame about it (`accepted`, `held` or `error`).
pub(super) async fn message(ws: &mut Ws, client_id: &str, text: &str) -> Value {
    send(
        ws,
        json!({"type": "message", "client_id": client_id, "text": text}),
    )
    .await;
    next_matching(ws, |f| f["client_id"] == client_id)
        .await
        .expect("answer to the message")
}

/// Reads until the server closes; the close frame it sent (`None` for a bare close), or
/// `Err` if the deadline passed first.
pub(super) async fn close_of(ws: &mut Ws) -> Result<Option<CloseFrame>, &'static str> {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return Err("still open at the deadline"),
            Ok(None | Some(Err(_))) => return Ok(None),
            Ok(Some(Ok(Message::Close(frame)))) => return Ok(frame),
            Ok(Some(Ok(_))) => {}
        }
    }
}
