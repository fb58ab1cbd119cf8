//! Harness for the Threema channel: the Threema Gateway emulator on `127.0.0.1:0` and the
//! server configured to talk to it, with the emulator's callbacks pointed at the server.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sprechstunde::Settings;
use sprechstunde_runtime::Clock;
use sprechstunde_threema::{DEFAULT_CALLBACK_PATH, ThreemaConfig};
use sprechstunde_threema_emulator::{Citizen, Gateway, Received};

use crate::app::{TestApp, test_settings};

/// How long a citizen waits for one message from the bot.
pub const WAIT: Duration = Duration::from_secs(60);

/// Settings for a server whose Threema channel talks to `gateway`.
pub fn settings(data_dir: &Path, gateway: &Gateway) -> Settings {
    let mut settings = test_settings(data_dir);
    settings.threema = ThreemaConfig {
        enabled: true,
        api_url: gateway.url(),
        gateway_id: gateway.gateway_id(),
        secret: Some(gateway.secret()),
        private_key: Some(format!("private:{}", gateway.private_key_hex())),
        ..ThreemaConfig::default()
    };
    settings
}

/// Starts the server with `settings` and `clock` and points the Gateway's callback at it.
///
/// # Panics
/// If the server does not start.
pub async fn start(settings: Settings, clock: Arc<dyn Clock>, gateway: &Gateway) -> TestApp {
    let app = TestApp::start_with(settings, clock)
        .await
        .expect("the server starts");
    gateway.set_callback(&format!("{}{DEFAULT_CALLBACK_PATH}", app.base));
    app
}

/// Waits for the bot's next message to `citizen` that contains `needle`, skipping others.
///
/// # Panics
/// If none arrives within [`WAIT`].
pub async fn message_containing(citizen: &Citizen, needle: &str) -> Received {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(message) = citizen.next_message(left).await else {
            let seen: Vec<String> = citizen.inbox().into_iter().map(|m| m.text).collect();
            panic!("no message containing {needle:?} within {WAIT:?}; inbox: {seen:?}");
        };
        if message.text.contains(needle) {
            return message;
        }
    }
}

/// The citizen writes `text` and the callback is answered 200 (stored).
///
/// # Panics
/// If the server answers anything else.
pub async fn says(citizen: &Citizen, text: &str) {
    let status = citizen.send_text(text).await;
    assert_eq!(status, 200, "the callback for {text:?} is answered 200");
}

/// The citizen agrees before the first question: `/einverstanden` first brings the privacy
/// notice (nothing is held), a plain "ja" then agrees, and the thanks arrives. Returns the
/// notice.
///
/// # Panics
/// If the notice or the thanks does not arrive.
pub async fn agree(citizen: &Citizen) -> Received {
    says(citizen, "/einverstanden").await;
    let notice = message_containing(citizen, "Sind Sie einverstanden?").await;
    says(citizen, "ja").await;
    message_containing(citizen, "Vielen Dank für Ihr Einverständnis").await;
    notice
}
