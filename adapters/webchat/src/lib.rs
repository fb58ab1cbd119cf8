//! The citizen web chat: the page at `/`, its style sheet and ES modules at `/assets/{name}`
//! ([`ASSETS`]), the WebSocket at `/ws` (protocol in `docs/webchat-protocol.md`) and the
//! [`WebChannel`] that delivers outbox messages to open connections.

mod channel;
mod history;
pub mod protocol;
mod socket;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State, WebSocketUpgrade};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
pub use sprechstunde_runtime::Asset;
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

    /// Routes: `/`, `/assets/{name}` (the files in [`ASSETS`]), `/ws`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(page))
            .route("/assets/{name}", get(asset))
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
