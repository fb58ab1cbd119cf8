//! A Bot API answer that arrives broken (cut off mid-body) is logged without its content:
//! teloxide's parse error carries the raw answer, which holds update texts, names and chat
//! ids (`getUpdates`) or the message sent (`sendMessage`). The bot carries on afterwards.

use std::process::Stdio;
use std::sync::{Arc, Mutex};

use sprechstunde_botapi_emulator::{Emulator, TestUser};

use super::log_scan::{capture, plain};
use super::{DEADLINE, sprechstunde};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_off_bot_api_answers_leave_no_citizen_data_in_the_log_and_the_bot_recovers() {
    // Arrange: seeded strings that appear nowhere else, and a Bot API that cuts off the next
    // non-empty getUpdates answer and the next sendMessage answer.
    let seed = format!("{:x}", std::process::id() ^ 0x0fa0_17ed_u32);
    let question = format!("Frage Baumfällung Lindenallee Q{seed}c");
    let first_name = format!("Hildegard{seed}");
    let chat_id: i64 = 845_120_397_264;
    let seeded = [
        question.clone(),
        first_name.clone(),
        chat_id.to_string(),
        format!("Q{seed}"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::start().await;
    emulator.cut_off_answers("getUpdates", 1);
    emulator.cut_off_answers("sendMessage", 1);
    let mut child = sprechstunde(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .env("SPRECHSTUNDE_TELEGRAM__ENABLED", "true")
        .env("SPRECHSTUNDE_TELEGRAM__API_URL", emulator.api_url())
        .env("SPRECHSTUNDE_TELEGRAM__TOKEN", emulator.token())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (first_tx, first_rx) = tokio::sync::oneshot::channel();
    let out = capture(child.stdout.take().unwrap(), log.clone(), Some(first_tx));
    let err = capture(child.stderr.take().unwrap(), log.clone(), None);
    tokio::time::timeout(DEADLINE, first_rx)
        .await
        .unwrap()
        .unwrap();

    // Act: the citizen asks (the getUpdates answer carrying it is cut off, and so is the
    // answer to the first message the bot sends), then agrees to the privacy notice.
    let user = TestUser::de(&first_name);
    emulator.user_says(chat_id, &user, &question);
    emulator
        .wait_until("both faults served", DEADLINE, |e| {
            (e.cut_off_served() == 2).then_some(())
        })
        .await
        .unwrap();
    emulator.user_says(chat_id, &user, "/einverstanden");
    let acknowledged = emulator
        .wait_for_sent(chat_id, DEADLINE, |m| m.text.contains("A-"))
        .await;
    let pid = child.id().unwrap().to_string();
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    let status = tokio::time::timeout(DEADLINE, child.wait())
        .await
        .unwrap()
        .unwrap();
    tokio::time::timeout(DEADLINE, out).await.unwrap().unwrap();
    tokio::time::timeout(DEADLINE, err).await.unwrap().unwrap();

    // Assert: the bot recovered (the held question was stored and acknowledged) ...
    let lines: Vec<String> = log.lock().unwrap().iter().map(|l| plain(l)).collect();
    let all = lines.join("\n");
    assert!(acknowledged.is_ok(), "{acknowledged:?}\n{all}");
    assert!(interrupted.success() && status.success(), "{status}");
    // ... both failures were logged (so the scan below looks at the right lines) ...
    assert!(all.contains("getUpdates failed"), "{all}");
    assert!(all.contains("delivery failed"), "{all}");
    // ... and without anything of the broken answers, saying only what went wrong.
    let leaks: Vec<&String> = seeded.iter().filter(|s| all.contains(s.as_str())).collect();
    assert!(leaks.is_empty(), "the log holds {leaks:?}:\n{all}");
    assert!(!all.contains("raw:"), "{all}");
    assert!(all.contains("the Bot API answer was cut off"), "{all}");
    println!(
        "Bot API fault log scan: {} lines, {} broken answers",
        lines.len(),
        emulator.cut_off_served()
    );
}
