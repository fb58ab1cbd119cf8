//! The citizen web chat: the page at `/`, its style sheet and ES modules at `/assets/{name}`
//! ([`ASSETS`]), the WebSocket at `/ws` (protocol in `docs/webchat-protocol.md`) and the
//! [`WebChannel`] that delivers outbox messages to open connections, with the limits of
//! [`WebLimits`] per connection, per client address ([`ClientAddresses`]) and in total.

mod channel;
mod client;
mod conversation;
mod history;
mod limits;
pub mod protocol;
mod socket;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::connect_info::ConnectInfo;
use axum::extract::{Path, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
pub use sprechstunde_runtime::Asset;
use sprechstunde_runtime::Office;
use tokio_util::sync::CancellationToken;

pub use channel::WebChannel;
pub use client::{BadProxy, ClientAddresses};
pub use limits::{WebLimits, address_key};

/// Largest WebSocket frame accepted from a browser.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// Read buffer of a WebSocket (tungstenite's default is 128 KiB, allocated per connection and
/// kept while it is open). Frames from the page are small; a larger one is read in several
/// chunks into a buffer that grows only for it.
pub const READ_BUFFER_BYTES: usize = 4 * 1024;

/// The web chat: office handle, open connections and their limits.
#[derive(Clone, Debug)]
pub struct WebChat {
    office: Office,
    channel: WebChannel,
    shutdown: CancellationToken,
    limiter: limits::Limiter,
    addresses: ClientAddresses,
}

impl WebChat {
    /// Creates the web chat with the default [`WebLimits`] and registers its channel with the
    /// office. Open connections are closed when `shutdown` is cancelled.
    pub fn new(office: Office, shutdown: CancellationToken) -> Self {
        Self::with_limits(
            office,
            shutdown,
            WebLimits::default(),
            ClientAddresses::default(),
        )
    }

    /// As [`WebChat::new`], with these limits, and client addresses taken as `addresses`
    /// says (the peer, or a trusted proxy's header).
    pub fn with_limits(
        office: Office,
        shutdown: CancellationToken,
        limits: WebLimits,
        addresses: ClientAddresses,
    ) -> Self {
        let channel = WebChannel::default();
        office.register_channel(Arc::new(channel.clone()));
        WebChat {
            office,
            channel,
            shutdown,
            limiter: limits::Limiter::new(limits),
            addresses,
        }
    }

    pub(crate) fn office(&self) -> &Office {
        &self.office
    }

    /// The channel (open connections).
    pub fn channel(&self) -> &WebChannel {
        &self.channel
    }

    /// Routes: `/`, `/assets/{name}` (the files in [`ASSETS`]), `/ws`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(page))
            .route("/assets/{name}", get(asset))
            .route("/ws", get(upgrade))
            .with_state(self.clone())
    }
}

async fn upgrade(
    State(chat): State<WebChat>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // Without connection info (a router served without it) all clients share one address.
    let peer = peer.map_or(std::net::IpAddr::from([0, 0, 0, 0]), |Extension(c)| {
        c.0.ip()
    });
    let client = chat.addresses.client(peer, &headers);
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        // Frames go out as they are sent (the writer flushes each one anyway).
        .write_buffer_size(0)
        .on_upgrade(move |socket| socket::serve(chat, socket, client))
}

async fn page() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("../assets/index.html"),
    )
}

/// Every file under `/assets/`: the style sheet and the ES modules of the web chat
/// (`index.html` loads `main.js`, which imports the others). Any other name is a 404.
pub const ASSETS: &[Asset] = &[
    Asset::css("chat.css", include_str!("../assets/chat.css")),
    Asset::js("main.js", include_str!("../assets/main.js")),
    Asset::js("composer.js", include_str!("../assets/composer.js")),
    Asset::js("consent.js", include_str!("../assets/consent.js")),
    Asset::js("dom.js", include_str!("../assets/dom.js")),
    Asset::js("export.js", include_str!("../assets/export.js")),
    Asset::js("format.js", include_str!("../assets/format.js")),
    Asset::js("frames.js", include_str!("../assets/frames.js")),
    Asset::js("language.js", include_str!("../assets/language.js")),
    Asset::js("log.js", include_str!("../assets/log.js")),
    Asset::js("outbox.js", include_str!("../assets/outbox.js")),
    Asset::js("session.js", include_str!("../assets/session.js")),
    Asset::js("socket.js", include_str!("../assets/socket.js")),
    Asset::js("state.js", include_str!("../assets/state.js")),
    Asset::js("storage.js", include_str!("../assets/storage.js")),
    Asset::js("strings.js", include_str!("../assets/strings.js")),
];

async fn asset(Path(name): Path<String>) -> Response {
    match Asset::find(ASSETS, &name) {
        Some(a) => ([(header::CONTENT_TYPE, a.content_type)], a.body).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
