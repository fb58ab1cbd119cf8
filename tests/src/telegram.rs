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

/// How long [`agree`] waits for the thanks.
const AGREE_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// The citizen `user` in the private chat `chat` agrees to the privacy notice
/// (`/einverstanden`, `/agree` for an English client) and the thanks arrives; a citizen does
/// this before the first question is kept. Consent counts only while the notice is pending:
/// a citizen who was never shown it gets the notice first and agrees to it then.
///
/// # Panics
/// If the thanks does not arrive within a minute.
pub async fn agree(
    emulator: &Emulator,
    chat: i64,
    user: &sprechstunde_botapi_emulator::TestUser,
) -> sprechstunde_botapi_emulator::SentMessage {
    let english = user
        .language_code
        .as_deref()
        .is_some_and(|l| l.starts_with("en"));
    let command = if english { "/agree" } else { "/einverstanden" };
    let thanks = |m: &sprechstunde_botapi_emulator::SentMessage| {
        m.text.contains("Vielen Dank für Ihr Einverständnis")
            || m.text.contains("Thank you for your consent")
    };
    let notice = |m: &sprechstunde_botapi_emulator::SentMessage| {
        m.text
            .contains("Antworten Sie mit /einverstanden oder /ablehnen")
            || m.text.contains("Reply /agree or /decline")
    };
    let seen = emulator.sent(chat).len();
    emulator.user_says(chat, user, command);
    let reply = emulator
        .wait_until("the thanks or the privacy notice", AGREE_WAIT, |e| {
            e.sent(chat)
                .into_iter()
                .skip(seen)
                .find(|m| thanks(m) || notice(m))
        })
        .await
        .expect("the thanks or the privacy notice arrives");
    if thanks(&reply) {
        return reply;
    }
    emulator.user_says(chat, user, command);
    emulator
        .wait_for_sent(chat, AGREE_WAIT, thanks)
        .await
        .expect("the thanks for agreeing arrives")
}
