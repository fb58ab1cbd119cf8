//! The Telegram channel against the Bot API emulator: the real server polls (or receives
//! webhooks from) an emulator on `127.0.0.1`, citizens write through the emulator's test API,
//! staff work through the console API.

mod consent;
mod intake;
mod outbound;
mod webhook;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sprechstunde_botapi_emulator::{Emulator, SentMessage, TestUser};
use sprechstunde_runtime::SystemClock;
use sprechstunde_tests::app::TestApp;
use sprechstunde_tests::staff::StaffClient;
use sprechstunde_tests::telegram::{
    PUBLIC_WEBHOOK_URL, WEBHOOK_SECRET, agree, polling_settings, webhook_settings,
};

/// Long enough for a few rounds of 429 pauses.
pub(super) const WAIT: Duration = Duration::from_secs(60);

pub(super) async fn start_polling(dir: &std::path::Path, emulator: &Emulator) -> TestApp {
    TestApp::start_with(polling_settings(dir, emulator), Arc::new(SystemClock))
        .await
        .unwrap()
}

pub(super) fn reference_in(text: &str) -> String {
    let at = text.find("A-").expect("a reference in the text");
    text[at..]
        .chars()
        .take_while(|c| *c == 'A' || *c == '-' || c.is_ascii_digit())
        .collect()
}

pub(super) async fn wait_text(emulator: &Emulator, chat: i64, needle: &str) -> SentMessage {
    emulator
        .wait_for_sent(chat, WAIT, |m| m.text.contains(needle))
        .await
        .unwrap()
}

pub(super) async fn question_count(app: &TestApp) -> usize {
    app.office()
        .read(|state, _, _| state.questions().count())
        .await
}

/// Waits until the staff API shows the question's latest delivery in `state`.
pub(super) async fn wait_for_delivery_state(
    app: &TestApp,
    staff: &StaffClient,
    reference: &str,
    state: &str,
) -> Value {
    let mut events = app.office().subscribe();
    let until = tokio::time::Instant::now() + WAIT;
    loop {
        let detail = staff
            .get(&format!("/api/v1/questions/{reference}"))
            .await
            .unwrap();
        if detail["delivery"] == state {
            return detail;
        }
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        assert!(!left.is_zero(), "delivery never became {state}: {detail}");
        let _ = tokio::time::timeout(left, events.recv()).await;
    }
}
