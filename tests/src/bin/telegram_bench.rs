//! `telegram-bench`: citizens in 1,000 distinct Telegram chats agree, ask and get answers
//! through the real server and the Bot API emulator in its strict mode (a send counts when its
//! request arrives; 31 sends within any 1.000 s overall, or 2 to one chat, are answered with
//! 429). Prints the send rates against Telegram's 30 messages/s, the number of 429 answers,
//! the most sends the emulator saw in any one second, and the CPU time per 1,000 messages.
//!
//! Run in release: `cargo run --release -p sprechstunde-tests --bin telegram-bench [CHATS]`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use sprechstunde_botapi_emulator::{Emulator, GLOBAL_PER_SECOND, SentMessage, TestUser};
use sprechstunde_core::OfficeState;
use sprechstunde_runtime::SystemClock;
use sprechstunde_tests::app::TestApp;
use sprechstunde_tests::telegram::polling_settings;

const FIRST_CHAT: i64 = 1_000_000;
const DEADLINE: Duration = Duration::from_secs(900);

fn rate(messages: &[SentMessage]) -> Option<(f64, Duration)> {
    let first = messages.iter().map(|m| m.at).min()?;
    let last = messages.iter().map(|m| m.at).max()?;
    let span = last.duration_since(first);
    let n = messages.len().checked_sub(1)?;
    (span > Duration::ZERO).then(|| (n as f64 / span.as_secs_f64(), span))
}

/// CPU seconds this process used so far (server and emulator: both run here).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let fields: Vec<f64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .map(|f| f.parse().unwrap_or(0.0))
                .collect()
        })
        .unwrap_or_default();
    // utime and stime (fields 14 and 15), in USER_HZ ticks (100 per second on Linux).
    (fields.get(11).copied().unwrap_or(0.0) + fields.get(12).copied().unwrap_or(0.0)) / 100.0
}

/// Waits until `done` holds for the office's state and nothing is left to send.
async fn settle(
    app: &TestApp,
    what: &str,
    done: impl Fn(&OfficeState) -> bool,
) -> anyhow::Result<()> {
    let until = Instant::now() + DEADLINE;
    loop {
        let settled = app
            .office()
            .read(|s, _, _| done(s) && s.pending_outbox().next().is_none())
            .await;
        if settled {
            return Ok(());
        }
        if Instant::now() > until {
            bail!("timed out waiting for {what}");
        }
        // A bench, not a test: looking again 20 times a second costs nothing measured.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sent_since(emulator: &Emulator, since: Instant) -> Vec<SentMessage> {
    emulator
        .all_sent()
        .into_iter()
        .filter(|m| m.at >= since)
        .collect()
}

fn print_phase(what: &str, messages: &[SentMessage], wall: Duration, cpu: f64) {
    let ceiling = GLOBAL_PER_SECOND as f64;
    match rate(messages) {
        Some((rate, span)) => println!(
            "{what}: {} sent over {:.1} s = {rate:.2} msg/s = {:.1} % of the {ceiling:.0} msg/s \
             ceiling (target >= 95 %); {:.1} s from the first input; CPU {:.2} s = {:.2} s per \
             1,000 messages sent",
            messages.len(),
            span.as_secs_f64(),
            100.0 * rate / ceiling,
            wall.as_secs_f64(),
            cpu,
            1000.0 * cpu / messages.len().max(1) as f64
        ),
        None => println!("{what}: {} sent", messages.len()),
    }
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
    emulator.strict_limits();
    let dir = tempfile::tempdir()?;
    let mut settings = polling_settings(dir.path(), &emulator);
    settings.log.level = "warn".to_owned();
    let app = TestApp::start_with(settings, Arc::new(SystemClock)).await?;
    let staff = app.staff("bench", &["citizens_office"]).await?;
    let n = usize::try_from(chats)?;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!(
        "telegram-bench: {n} chats, {cores} cores, release build: {}, emulator: strict limits",
        !cfg!(debug_assertions)
    );

    // Phase 0: every citizen opens the bot (`/start`, as a Telegram client sends first),
    // is shown the privacy notice and agrees to it.
    let started = Instant::now();
    let cpu = cpu_seconds();
    for chat in FIRST_CHAT..FIRST_CHAT + chats {
        emulator.user_says(chat, &TestUser::de("Bürgerin"), "/start");
        emulator.user_says(chat, &TestUser::de("Bürgerin"), "/einverstanden");
    }
    settle(&app, "every citizen to agree", |s| {
        s.citizens().filter(|c| c.consent.is_some()).count() >= n
    })
    .await?;
    print_phase(
        "greeting, notice and thanks",
        &sent_since(&emulator, started),
        started.elapsed(),
        cpu_seconds() - cpu,
    );

    // Phase 1: every chat asks; the acknowledgements go out.
    let asking = Instant::now();
    let cpu = cpu_seconds();
    for chat in FIRST_CHAT..FIRST_CHAT + chats {
        emulator.user_says(
            chat,
            &TestUser::de("Bürgerin"),
            &format!("Frage aus Chat {chat}: Wann wird die Straße saniert?"),
        );
    }
    settle(&app, "all acknowledgements", |s| s.questions().count() >= n).await?;
    let acks = sent_since(&emulator, asking);
    print_phase(
        "acknowledgements (1 message in, 1 out per chat)",
        &acks,
        asking.elapsed(),
        cpu_seconds() - cpu,
    );
    // The references as the office holds them (the texts also quote an example reference).
    let references: Vec<String> = app
        .office()
        .read(|s, _, _| s.questions().map(|q| q.reference.to_string()).collect())
        .await;

    // Phase 2: staff answer every question through the console API; the answers go out.
    let answering = Instant::now();
    let cpu = cpu_seconds();
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
    settle(&app, "all answers", |s| s.questions().all(|q| !q.is_open())).await?;
    let answers = sent_since(&emulator, answering);
    let chats_answered = {
        let mut ids: Vec<i64> = answers.iter().map(|m| m.chat_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    };
    print_phase(
        &format!(
            "answers to {chats_answered} distinct chats (posted through the API in {:.1} s)",
            posting.as_secs_f64()
        ),
        &answers,
        answering.elapsed(),
        cpu_seconds() - cpu,
    );

    let (most, most_per_chat) = emulator.most_sent_in_one_second();
    println!(
        "all phases: {} messages to {n} chats; most in any one second at the emulator: {most} \
         overall (limit {GLOBAL_PER_SECOND}), {most_per_chat} to one chat (limit 1)",
        emulator.sent_total()
    );
    println!("429 responses: {} (target 0)", emulator.count_429());
    app.stop().await?;
    Ok(())
}
