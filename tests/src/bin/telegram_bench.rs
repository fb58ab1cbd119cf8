//! `telegram-bench`: answers to 1,000 distinct Telegram chats through the real server and the
//! Bot API emulator; prints the achieved send rate against Telegram's 30 messages/s ceiling
//! and the number of 429 answers.
//!
//! Run in release: `cargo run --release -p sprechstunde-tests --bin telegram-bench [CHATS]`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use sprechstunde_botapi_emulator::{Emulator, GLOBAL_PER_SECOND, SentMessage, TestUser};
use sprechstunde_runtime::SystemClock;
use sprechstunde_tests::app::TestApp;
use sprechstunde_tests::telegram::polling_settings;

const FIRST_CHAT: i64 = 1_000_000;

fn rate(messages: &[SentMessage]) -> Option<(f64, Duration)> {
    let first = messages.iter().map(|m| m.at).min()?;
    let last = messages.iter().map(|m| m.at).max()?;
    let span = last.duration_since(first);
    let n = messages.len().checked_sub(1)?;
    (span > Duration::ZERO).then(|| (n as f64 / span.as_secs_f64(), span))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let chats: i64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()
        .context("CHATS must be a number")?
        .unwrap_or(1000);
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir()?;
    let mut settings = polling_settings(dir.path(), &emulator);
    settings.log.level = "warn".to_owned();
    let app = TestApp::start_with(settings, Arc::new(SystemClock)).await?;
    let staff = app.staff("bench", &["citizens_office"]).await?;
    let deadline = Duration::from_secs(600);
    let n = usize::try_from(chats)?;

    // Phase 0 (not timed): every citizen is shown the privacy notice (`/start`, as a
    // Telegram client sends first) and agrees to it.
    for chat in FIRST_CHAT..FIRST_CHAT + chats {
        emulator.user_says(chat, &TestUser::de("Bürgerin"), "/start");
        emulator.user_says(chat, &TestUser::de("Bürgerin"), "/einverstanden");
    }
    // Greeting, notice and thanks per chat.
    emulator
        .wait_until("all thanks for agreeing", deadline, |e| {
            (e.sent_total() >= 3 * n as u64).then_some(())
        })
        .await?;
    let agreed = emulator.sent_total();

    // Phase 1: every chat asks; the acknowledgements go out.
    let started = Instant::now();
    for chat in FIRST_CHAT..FIRST_CHAT + chats {
        emulator.user_says(
            chat,
            &TestUser::de("Bürgerin"),
            &format!("Frage aus Chat {chat}"),
        );
    }
    emulator
        .wait_until("all acknowledgements", deadline, |e| {
            (e.sent_total() >= agreed + n as u64).then_some(())
        })
        .await?;
    let acks: Vec<SentMessage> = emulator
        .all_sent()
        .into_iter()
        .filter(|m| m.text.contains("eingegangen"))
        .collect();
    let ack_wall = started.elapsed();
    let mut references = Vec::with_capacity(n);
    for chat in FIRST_CHAT..FIRST_CHAT + chats {
        let text = emulator
            .sent(chat)
            .iter()
            .find(|m| m.text.contains("A-"))
            .map(|m| m.text.clone())
            .unwrap_or_default();
        let at = text
            .find("A-")
            .context("no reference in an acknowledgement")?;
        let reference: String = text[at..]
            .chars()
            .take_while(|c| *c == 'A' || *c == '-' || c.is_ascii_digit())
            .collect();
        references.push(reference);
    }

    // Phase 2: staff answer every question; the answers go out.
    let answering = Instant::now();
    let staff = &staff;
    let posted: Vec<anyhow::Result<serde_json::Value>> =
        futures_util::stream::iter(references.iter())
            .map(|r| async move {
                staff
                    .answer(
                        r,
                        "Vielen Dank für Ihre Frage. Hier ist die Antwort der Stadt.",
                    )
                    .await
            })
            .buffer_unordered(16)
            .collect()
            .await;
    for p in posted {
        p?;
    }
    let posting = answering.elapsed();
    emulator
        .wait_until("all answers", deadline, |e| {
            (e.sent_total() >= agreed + 2 * n as u64).then_some(())
        })
        .await?;
    let answer_wall = answering.elapsed();
    let answers: Vec<SentMessage> = emulator
        .all_sent()
        .into_iter()
        .filter(|m| m.text.starts_with("Antwort zu Ihrem Anliegen"))
        .collect();
    let chats_answered = {
        let mut ids: Vec<i64> = answers.iter().map(|m| m.chat_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    };
    let ceiling = GLOBAL_PER_SECOND as f64;
    let (answer_rate, answer_span) = rate(&answers).context("no answers")?;
    let (ack_rate, _) = rate(&acks).context("no acknowledgements")?;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);

    println!(
        "telegram-bench: {n} chats, {cores} cores, release build: {}",
        !cfg!(debug_assertions)
    );
    println!(
        "acknowledgements: {} sent in {:.1} s (wall), {ack_rate:.2} msg/s between first and last",
        acks.len(),
        ack_wall.as_secs_f64()
    );
    println!(
        "answers: {} sent to {chats_answered} distinct chats; posted through the API in {:.1} s; \
         delivered over {:.1} s: {answer_rate:.2} msg/s = {:.1} % of the {ceiling:.0} msg/s ceiling \
         (target >= 95 %); {:.2} msg/s counted from the first API call ({:.1} s)",
        answers.len(),
        posting.as_secs_f64(),
        answer_span.as_secs_f64(),
        100.0 * answer_rate / ceiling,
        answers.len() as f64 / answer_wall.as_secs_f64(),
        answer_wall.as_secs_f64(),
    );
    println!("429 responses: {} (target 0)", emulator.count_429());
    app.stop().await?;
    Ok(())
}
