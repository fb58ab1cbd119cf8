//! The WebSocket upgrade checks `Origin` against the allow-list, with real WebSocket clients:
//! tokio-tungstenite with chosen `Origin` headers, and Chromium on a foreign page.

use std::sync::Arc;

use serde_json::json;
use sprechstunde_botapi_emulator::Emulator;
use sprechstunde_runtime::SystemClock;
use sprechstunde_tests::app::{TestApp, test_settings};
use sprechstunde_tests::browser::Browser;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Opens `/ws` with this `Origin` (none for `None`); the HTTP status of the handshake.
async fn handshake(app: &TestApp, origin: Option<&str>) -> u16 {
    let mut request = format!("ws://{}/ws", app.addr)
        .into_client_request()
        .unwrap();
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((mut ws, response)) => {
            let _ = ws.close(None).await;
            response.status().as_u16()
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("handshake failed: {other}"),
    }
}

#[tokio::test]
async fn websocket_upgrades_from_origins_outside_the_allow_list_are_refused_with_403() {
    // Arrange: the default allow-list (own origins), and a configured one.
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(other_dir.path());
    settings.webchat.allowed_origins = vec!["https://buergerservice.musterstadt.example".into()];
    let configured = TestApp::start_with(settings, Arc::new(SystemClock))
        .await
        .unwrap();
    let own = app.base.clone();
    let own_localhost = format!("http://localhost:{}", app.addr.port());

    // Act / Assert
    let cases: [(&TestApp, Option<&str>, u16); 9] = [
        (&app, Some(&own), 101),
        (&app, Some(&own_localhost), 101),
        (&app, None, 101),
        (&app, Some("https://evil.example"), 403),
        (&app, Some("null"), 403),
        (&app, Some("http://127.0.0.1:1"), 403),
        (
            &configured,
            Some("https://buergerservice.musterstadt.example"),
            101,
        ),
        (&configured, Some(&configured.base), 403),
        (&configured, Some("https://evil.example"), 403),
    ];
    for (server, origin, expected) in cases {
        assert_eq!(
            handshake(server, origin).await,
            expected,
            "Origin {origin:?} at {}",
            server.base
        );
    }
    println!(
        "websocket origin check: {} handshakes with real clients",
        cases.len()
    );
    configured.stop().await.unwrap();
    app.stop().await.unwrap();
}

/// Opens a WebSocket from the current page; `open` or `refused`.
const TRY_SOCKET: &str = r#"
const [url, done] = arguments;
const ws = new WebSocket(url);
ws.onopen = () => { ws.close(); done('open'); };
ws.onerror = () => done('refused');
"#;

#[tokio::test]
async fn a_foreign_page_in_chromium_cannot_open_the_web_chat_socket() {
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    // Arrange: the Bot API emulator is just some other web server on another origin.
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let foreign = Emulator::start().await;
    let client = browser.client();
    let socket = json!(format!("ws://{}/ws", app.addr));

    // Act
    client
        .goto(&format!("{}/", foreign.api_url()))
        .await
        .unwrap();
    let from_foreign = client
        .execute_async(TRY_SOCKET, vec![socket.clone()])
        .await
        .unwrap();
    client.goto(&format!("{}/", app.base)).await.unwrap();
    let from_own = client
        .execute_async(TRY_SOCKET, vec![socket])
        .await
        .unwrap();

    // Assert
    assert_eq!(from_foreign, json!("refused"));
    assert_eq!(from_own, json!("open"));
    browser.close().await.unwrap();
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_frame_over_the_limit_closes_with_1009_and_invalid_utf8_with_1007() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let from = std::net::IpAddr::from([127, 0, 0, 1]);
    let mut big = super::sockets::open(app.addr, from, None).await;
    super::sockets::hello(&mut big, None).await;
    let mut garbled = super::sockets::open(app.addr, from, None).await;
    super::sockets::hello(&mut garbled, None).await;

    // Act: 65 KiB of text (the limit is 64 KiB), and a text frame that is not UTF-8.
    let text = "x".repeat(sprechstunde_webchat::MAX_FRAME_BYTES + 1024);
    big.send(Message::Text(text.into())).await.unwrap();
    let not_utf8 = Frame::message(
        vec![0x48u8, 0xC3, 0x28, 0xFF],
        OpCode::Data(Data::Text),
        true,
    );
    garbled.send(Message::Frame(not_utf8)).await.unwrap();

    // Assert
    let too_big = super::sockets::close_of(&mut big)
        .await
        .unwrap()
        .expect("close frame");
    assert_eq!(u16::from(too_big.code), 1009, "{too_big:?}");
    let invalid = super::sockets::close_of(&mut garbled)
        .await
        .unwrap()
        .expect("close frame");
    assert_eq!(u16::from(invalid.code), 1007, "{invalid:?}");
    app.stop().await.unwrap();
}
