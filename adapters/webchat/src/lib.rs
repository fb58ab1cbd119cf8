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

/// A static file of the web chat page, compiled into the binary.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// The file name under `/assets/`.
    pub name: &'static str,
    /// The `Content-Type` it is served with; module scripts need a JavaScript type (browsers
    /// check it strictly, and `nosniff` forbids guessing).
    pub content_type: &'static str,
    /// The file's content.
    pub body: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file under `/assets/`: the style sheet and the ES modules of the web chat
/// (`index.html` loads `main.js`, which imports the others). Any other name is a 404.
pub const ASSETS: &[Asset] = &[
    Asset {
        name: "chat.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../assets/chat.css"),
    },
    js("main.js", include_str!("../assets/main.js")),
    js("composer.js", include_str!("../assets/composer.js")),
    js("consent.js", include_str!("../assets/consent.js")),
    js("dom.js", include_str!("../assets/dom.js")),
    js("export.js", include_str!("../assets/export.js")),
    js("format.js", include_str!("../assets/format.js")),
    js("frames.js", include_str!("../assets/frames.js")),
    js("language.js", include_str!("../assets/language.js")),
    js("log.js", include_str!("../assets/log.js")),
    js("outbox.js", include_str!("../assets/outbox.js")),
    js("session.js", include_str!("../assets/session.js")),
    js("socket.js", include_str!("../assets/socket.js")),
    js("state.js", include_str!("../assets/state.js")),
    js("storage.js", include_str!("../assets/storage.js")),
    js("strings.js", include_str!("../assets/strings.js")),
];

const fn js(name: &'static str, body: &'static str) -> Asset {
    Asset {
        name,
        content_type: JS,
        body,
    }
}

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => ([(header::CONTENT_TYPE, a.content_type)], a.body).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
