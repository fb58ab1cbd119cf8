//! Connection limits and timeouts with real sockets: slowloris and silent TCP connections are
//! closed after the header-read timeout, WebSockets without hello after the hello timeout and
//! silent ones after the idle timeout, and connections beyond the maximum are refused while
//! `/healthz` still answers.

use std::sync::Arc;

use futures_util::StreamExt;
use sprechstunde_runtime::SystemClock;
use sprechstunde_tests::DEADLINE;
use sprechstunde_tests::app::{TestApp, test_settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use super::sockets;

fn loopback() -> std::net::IpAddr {
    std::net::IpAddr::from([127, 0, 0, 1])
}

/// Whether the server closes this connection before the deadline (reads until EOF).
async fn closed_by_server(tcp: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(DEADLINE, tcp.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// `GET path` on a fresh connection; the status.
async fn get_fresh(app: &TestApp, path: &str) -> u16 {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(DEADLINE)
        .build()
        .unwrap();
    match client.get(format!("{}{path}", app.base)).send().await {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    }
}

#[tokio::test]
async fn slowloris_and_silent_connections_are_closed_after_the_header_read_timeout() {
    // Arrange: one second for a request head.
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.limits.header_read_seconds = 1;
    let app = TestApp::start_with(settings, Arc::new(SystemClock))
        .await
        .unwrap();

    // Act: three clients that send their request head a few bytes and then stall, two that
    // send nothing at all.
    let started = tokio::time::Instant::now();
    let mut sockets = Vec::new();
    for i in 0..5 {
        let mut tcp = sockets::tcp_from(loopback(), app.addr).await;
        if i < 3 {
            tcp.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                .await
                .unwrap();
        }
        sockets.push(tcp);
    }

    // Assert
    for (i, tcp) in sockets.iter_mut().enumerate() {
        assert!(closed_by_server(tcp).await, "socket {i} is still open");
    }
    let took = started.elapsed();
    assert!(took >= std::time::Duration::from_millis(900), "{took:?}");
    assert_eq!(get_fresh(&app, "/healthz").await, 200);
    println!("header-read timeout: 3 slowloris and 2 silent sockets closed after {took:?}");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_websocket_that_never_says_hello_is_closed_after_the_hello_timeout() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.limits.websocket_hello_seconds = 1;
    let app = TestApp::start_with(settings, Arc::new(SystemClock))
        .await
        .unwrap();

    // Act
    let mut silent = sockets::open(app.addr, loopback(), None).await;
    let close = sockets::close_of(&mut silent).await;

    // Assert
    let frame = close.expect("closed").expect("with a close frame");
    assert_eq!(u16::from(frame.code), 1008, "{frame:?}");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_silent_websocket_is_closed_after_the_idle_timeout_while_one_answering_pings_stays() {
    // Arrange: three seconds of silence; pings every second.
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.limits.websocket_idle_seconds = 3;
    let app = TestApp::start_with(settings, Arc::new(SystemClock))
        .await
        .unwrap();
    let mut silent = sockets::open(app.addr, loopback(), None).await;
    assert_eq!(sockets::hello(&mut silent, None).await["type"], "welcome");
    let mut lively = sockets::open(app.addr, loopback(), None).await;
    assert_eq!(sockets::hello(&mut lively, None).await["type"], "welcome");

    // Act: the lively client reads (and so answers every ping) until it has seen five pings,
    // longer than the idle timeout; the silent one reads nothing meanwhile.
    let lively = tokio::spawn(async move {
        let mut pings = 0;
        while pings < 5 {
            match tokio::time::timeout(DEADLINE, lively.next()).await {
                Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
                Ok(Some(Ok(Message::Close(frame)))) => return Err(format!("closed: {frame:?}")),
                Ok(Some(Ok(_))) => {}
                other => return Err(format!("{other:?}")),
            }
        }
        Ok(lively)
    });
    let lively = lively.await.unwrap();

    // Assert
    assert!(
        lively.is_ok(),
        "a client answering pings stays: {:?}",
        lively.err()
    );
    // The silent client answers the pings it reads only now, after the server has closed:
    // the kernel may then reset the connection and drop the close frame still unread.
    let close = sockets::close_of(&mut silent).await.expect("closed");
    if let Some(frame) = close {
        assert_eq!(u16::from(frame.code), 1008, "{frame:?}");
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn connections_beyond_the_maximum_are_refused_while_healthz_and_readyz_answer() {
    // Arrange: three connections at most, all taken by a web chat socket and two idle TCP
    // connections.
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.limits.max_connections = 3;
    let app = TestApp::start_with(settings, Arc::new(SystemClock))
        .await
        .unwrap();
    let mut chat = sockets::open(app.addr, loopback(), None).await;
    assert_eq!(sockets::hello(&mut chat, None).await["type"], "welcome");
    let idle = [
        sockets::tcp_from(loopback(), app.addr).await,
        sockets::tcp_from(loopback(), app.addr).await,
    ];

    // Act
    let health = get_fresh(&app, "/healthz").await;
    let ready = get_fresh(&app, "/readyz").await;
    let page = get_fresh(&app, "/").await;
    drop(idle);
    let _ = chat.close(None).await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut after = get_fresh(&app, "/").await;
    while after != 200 && tokio::time::Instant::now() < deadline {
        tokio::task::yield_now().await;
        after = get_fresh(&app, "/").await;
    }

    // Assert
    assert_eq!(health, 200, "/healthz at the limit");
    assert_eq!(
        ready, 200,
        "/readyz at the limit: a busy instance stays in rotation"
    );
    assert_eq!(page, 503, "the page at the limit");
    assert_eq!(after, 200, "places are freed when connections close");
    println!(
        "connection limit: 3 taken (1 WebSocket, 2 idle), /healthz and /readyz 200, / 503, then 200"
    );
    app.stop().await.unwrap();
}
