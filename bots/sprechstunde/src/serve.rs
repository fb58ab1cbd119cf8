//! The HTTP listener: accepts TCP connections up to a maximum, serves each with hyper
//! (HTTP/1.1 with upgrades for the WebSocket) under a header-read timeout, and stays
//! reachable for `/healthz` when the maximum is hit (`docs/security.md`, "Connections").
//!
//! `axum::serve` has neither a connection limit nor a timer (so no header-read timeout):
//! idle or slowly talking sockets were kept forever and, at the open-file limit, the accept
//! loop failed and `/healthz` with it.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::connect_info::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Connections accepted beyond the maximum to answer `/healthz` and `/readyz` (everything else on them gets
/// 503 and the connection closes). Beyond these, a connection is closed at once.
const SPARE_CONNECTIONS: usize = 32;

/// Open files the server keeps for itself (store, logs, outgoing connections to Telegram and
/// Matrix) when the connection maximum is derived from the open-file limit: a quarter of the
/// limit, at most this many.
const RESERVED_FILES: u64 = 1024;

/// How the listener limits connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// Most open connections (WebSockets included).
    pub max_connections: usize,
    /// Time for a complete request head.
    pub header_read_timeout: Duration,
}

/// Raises the soft open-file limit to the hard limit and returns the limit now in force
/// (`None` where it cannot be read).
pub fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(error) => {
            tracing::warn!(%error, "could not raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

/// The connection maximum for `max_connections = 0`: the open-file limit less what the
/// server needs besides connections, less the spare connections for `/healthz`.
pub fn default_max_connections(open_files: Option<u64>) -> usize {
    let limit = open_files.unwrap_or(1024);
    let reserved = (limit / 4).min(RESERVED_FILES) + SPARE_CONNECTIONS as u64;
    usize::try_from(limit.saturating_sub(reserved).max(16)).unwrap_or(usize::MAX)
}

/// Idle keep-alive connections are closed after this long without a new request (hyper's
/// header-read timeout from the second request on). Shorter than a browser's own idle timeout
/// only by so much that a closing connection rarely meets a request on its way; nginx uses 75 s.
const KEEP_ALIVE_IDLE: Duration = Duration::from_secs(75);

/// A TCP connection that holds its place among the open connections until it is dropped —
/// also after a WebSocket upgrade, which takes the stream over from hyper.
struct Counted {
    tcp: TcpStream,
    _place: OwnedSemaphorePermit,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }
}

/// The answer on a spare connection to anything but `/healthz`.
fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "5"), (header::CONNECTION, "close")],
        "Der Server ist ausgelastet. Bitte versuchen Sie es gleich noch einmal. \
         / The server is busy. Please try again shortly.\n",
    )
        .into_response()
}

/// Serves `router` on `listener` until `shutdown` is cancelled, then lets open requests
/// finish. Every request carries `ConnectInfo<SocketAddr>` of its peer.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    shutdown: CancellationToken,
) {
    let places = Arc::new(Semaphore::new(limits.max_connections));
    let spare = Arc::new(Semaphore::new(SPARE_CONNECTIONS));
    let (open_tx, open_rx) = watch::channel(());
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Usually out of file descriptors; the connections that hold them end by
                    // their timeouts, so wait a little instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let (place, is_spare) = match places.clone().try_acquire_owned() {
            Ok(place) => (place, false),
            Err(_) => match spare.clone().try_acquire_owned() {
                Ok(place) => (place, true),
                Err(_) => {
                    tracing::debug!("connection limit reached, spare connections taken too");
                    continue;
                }
            },
        };
        // Chat frames are small: send them at once instead of waiting for Nagle's algorithm.
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        let io = TokioIo::new(Counted { tcp, _place: place });
        // Set once hyper has parsed a request head (it calls the service only then).
        let head_read = Arc::new(AtomicBool::new(false));
        let router = router.clone();
        let seen = head_read.clone();
        let service = tower::service_fn(move |mut request: Request<Incoming>| {
            seen.store(true, Ordering::Relaxed);
            let router = router.clone();
            async move {
                if is_spare && !matches!(request.uri().path(), "/healthz" | "/readyz") {
                    return Ok::<_, Infallible>(busy());
                }
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                router.oneshot(request).await
            }
        });
        let open = open_rx.clone();
        let shutdown = shutdown.clone();
        let timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            // hyper's header-read timeout restarts after every response, so it is the idle
            // timeout of keep-alive connections; the first request head has `timeout`, below.
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(KEEP_ALIVE_IDLE.max(timeout))
                .keep_alive(!is_spare);
            let connection = builder
                .serve_connection(io, TowerToHyperService::new(service))
                .with_upgrades();
            tokio::pin!(connection);
            let first_head = tokio::time::sleep(timeout);
            tokio::pin!(first_head);
            let mut waiting_for_head = true;
            let mut stopping = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(error) = result {
                            tracing::debug!(%error, "connection ended with an error");
                        }
                        break;
                    }
                    // No complete request head came in time (slowloris, or a connection that
                    // says nothing). Dropping the connection closes the socket.
                    () = &mut first_head, if waiting_for_head => {
                        waiting_for_head = false;
                        if !head_read.load(Ordering::Relaxed) {
                            tracing::debug!("no request head in time, closing");
                            break;
                        }
                    }
                    () = shutdown.cancelled(), if !stopping => {
                        stopping = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(open);
        });
    }
    drop(open_rx);
    drop(listener);
    open_tx.closed().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_maximum_leaves_room_below_the_open_file_limit() {
        assert_eq!(default_max_connections(Some(1024)), 1024 - 256 - 32);
        assert_eq!(default_max_connections(Some(20_000)), 20_000 - 1024 - 32);
        assert_eq!(default_max_connections(Some(10)), 16);
    }
}
