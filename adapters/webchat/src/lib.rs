//! The citizen web chat: the page at `/`, the WebSocket at `/ws` (protocol in
//! `docs/webchat-protocol.md`) and the [`WebChannel`] that delivers outbox messages to open
//! connections.

mod channel;
mod history;
pub mod protocol;
mod socket;

use std::sync::Arc;

use axum::Router;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sprechstunde_runtime::Office;
use tokio_util::sync::CancellationToken;

pub use channel::WebChannel;

/// Largest WebSocket frame accepted from a browser.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// The web chat: office handle and open connections.
#[derive(Clone, Debug)]
pub struct WebChat {
    office: Office,
    channel: WebChannel,
    shutdown: CancellationToken,
}

impl WebChat {
    /// Creates the web chat and registers its channel with the office. Open connections are
    /// closed when `shutdown` is cancelled.
    pub fn new(office: Office, shutdown: CancellationToken) -> Self {
        let channel = WebChannel::default();
        office.register_channel(Arc::new(channel.clone()));
        WebChat {
            office,
            channel,
            shutdown,
        }
    }

    pub(crate) fn office(&self) -> &Office {
        &self.office
    }

    /// The channel (open connections).
    pub fn channel(&self) -> &WebChannel {
        &self.channel
    }

    /// Routes: `/`, `/assets/chat.js`, `/assets/chat.css`, `/ws`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(page))
            .route("/assets/chat.js", get(script))
            .route("/assets/chat.css", get(style))
            .route("/ws", get(upgrade))
            .with_state(self.clone())
    }
}

async fn upgrade(State(chat): State<WebChat>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| socket::serve(chat, socket))
}

async fn page() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("../assets/index.html"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../assets/chat.js"),
    )
}

async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../assets/chat.css"),
    )
}
