//! Harness for the Telegram channel: the Bot API emulator on `127.0.0.1:0` and the server
//! configured to talk to it, in polling or webhook mode.

use std::path::Path;

use sprechstunde::Settings;
use sprechstunde_botapi_emulator::Emulator;
use sprechstunde_telegram::{TelegramConfig, TelegramMode};

use crate::app::test_settings;

/// The public webhook URL the tests configure; the emulator routes it to the test server.
pub const PUBLIC_WEBHOOK_URL: &str = "https://sprechstunde.example.org/telegram/webhook";
/// The webhook secret the tests configure.
pub const WEBHOOK_SECRET: &str = "test-webhook-secret_0123456789";

/// Settings for a server whose Telegram bot polls `emulator`.
pub fn polling_settings(data_dir: &Path, emulator: &Emulator) -> Settings {
    let mut settings = test_settings(data_dir);
    settings.telegram = TelegramConfig {
        enabled: true,
        api_url: emulator.api_url(),
        token: Some(emulator.token()),
        ..TelegramConfig::default()
    };
    settings
}

/// Settings for a server whose Telegram bot receives updates from `emulator` by webhook.
pub fn webhook_settings(data_dir: &Path, emulator: &Emulator) -> Settings {
    let mut settings = polling_settings(data_dir, emulator);
    settings.telegram.mode = TelegramMode::Webhook;
    settings.telegram.webhook_url = PUBLIC_WEBHOOK_URL.to_owned();
    settings.telegram.webhook_secret = Some(WEBHOOK_SECRET.to_owned());
    settings
}
