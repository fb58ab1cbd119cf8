//! The log holds no citizen data: the real binary runs a full scenario with `RUST_LOG=info`
//! (web chat and Telegram citizens, staff answers, notes and a rejection) while its stdout and
//! stderr are captured; then the capture is scanned for every seeded text, name and chat id.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sprechstunde_botapi_emulator::{Emulator, TestUser};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio_tungstenite::tungstenite::Message;

use super::{DEADLINE, run_with_stdin, sprechstunde, text};

/// Collects every line `reader` produces into `log`; the first stdout line also goes to `first`.
pub(super) fn capture(
    reader: impl AsyncRead + Unpin + Send + 'static,
    log: Arc<Mutex<Vec<String>>>,
    first: Option<tokio::sync::oneshot::Sender<String>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut first = first;
        let mut lines = BufReader::new(reader).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(tx) = first.take() {
                let _ = tx.send(line.clone());
            }
            log.lock().unwrap().push(line);
        }
    })
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn web_citizen(base: &str) -> Socket {
    let url = format!("{}/ws", base.replace("http://", "ws://"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let hello = json!({"type": "hello", "token": null, "lang": "de"});
    ws.send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    frame_where(&mut ws, |f| f["type"] == "welcome").await;
    // Consent first (issue 7): the privacy notice is answered through the real flow.
    let agree = json!({"type": "message", "client_id": "agree", "text": "/einverstanden"});
    ws.send(Message::Text(agree.to_string().into()))
        .await
        .unwrap();
    frame_where(&mut ws, |f| {
        f["type"] == "message"
            && f["text"]
                .as_str()
                .is_some_and(|t| t.contains("Vielen Dank für Ihr Einverständnis"))
    })
    .await;
    ws
}

async fn frame_where(ws: &mut Socket, want: impl Fn(&Value) -> bool) -> Value {
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        let msg = tokio::time::timeout_at(until, ws.next())
            .await
            .expect("frame before the deadline")
            .expect("socket open")
            .expect("frame");
        if let Message::Text(t) = msg {
            let frame: Value = serde_json::from_str(&t).unwrap();
            if want(&frame) {
                return frame;
            }
        }
    }
}

async fn ask(ws: &mut Socket, id: &str, text: &str) -> String {
    let frame = json!({"type": "message", "client_id": id, "text": text});
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    let ack = frame_where(ws, |f| {
        f["type"] == "message" && f["text"].as_str().is_some_and(|t| t.contains("A-"))
    })
    .await;
    reference_in(ack["text"].as_str().unwrap())
}

fn reference_in(text: &str) -> String {
    let start = text.find("A-").expect("a reference");
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// Removes terminal colour codes, so that a seed split by one would still be found.
pub(super) fn plain(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_info_level_log_of_a_full_scenario_holds_no_texts_names_or_chat_ids() {
    let lines = scan_scenario_log("info").await;
    // The capture works: known info events of both output streams are in it.
    let all = lines.join("\n");
    assert!(all.contains("Telegram channel started"), "{all}");
    assert!(all.contains("console login"), "{all}");
    assert!(all.contains("sprechstunde listening on"), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn even_a_debug_level_log_of_sprechstunde_and_http_holds_no_citizen_data() {
    let level = "info,sprechstunde=debug,sprechstunde_core=debug,sprechstunde_runtime=debug,\
                 sprechstunde_store_sled=debug,sprechstunde_webchat=debug,\
                 sprechstunde_console=debug,sprechstunde_telegram=debug,tower_http=debug";
    let lines = scan_scenario_log(level).await;
    let all = lines.join("\n");
    // Every request and every delivery is logged at this level.
    assert!(all.contains("finished processing request"), "{all}");
    assert!(all.contains("sent to Telegram"), "{all}");
    assert!(lines.len() >= 40, "{all}");
}

/// Runs the scenario with `RUST_LOG=level`, asserts that no seeded string is in the captured
/// output, and returns the lines (colour codes removed).
async fn scan_scenario_log(level: &str) -> Vec<String> {
    // Arrange: seeded strings that appear nowhere else.
    let seed = format!("{:x}", std::process::id() ^ 0x5eed_u32);
    let web_question = format!("Webfrage Laternenmast Q{seed}w");
    let web_question_2 = format!("Werbeangebot Fensterputz Q{seed}r");
    let telegram_question = format!("Telegramfrage Parkausweis Q{seed}t");
    let telegram_follow_up = format!("Nachtrag Kennzeichen Q{seed}f");
    let first_name = format!("Wilhelmina{seed}");
    let chat_id: i64 = 731_946_285_011;
    let answer_web = format!("Antwort Mast wird ersetzt Q{seed}a");
    let answer_telegram = format!("Antwort Ausweis beantragen Q{seed}b");
    let note = format!("Interne Notiz Ordnungsamt Q{seed}n");
    let reason = format!("Ablehnungsgrund Werbung Q{seed}x");
    let seeded: Vec<String> = vec![
        web_question.clone(),
        web_question_2.clone(),
        telegram_question.clone(),
        telegram_follow_up.clone(),
        first_name.clone(),
        chat_id.to_string(),
        answer_web.clone(),
        answer_telegram.clone(),
        note.clone(),
        reason.clone(),
    ];

    let dir = tempfile::tempdir().unwrap();
    let password = "ein-sicheres-passwort";
    let added = run_with_stdin(
        dir.path(),
        &[
            "staff",
            "add",
            "--login",
            "br",
            "--name",
            "Bürgerreferat",
            "--role",
            "citizens_office",
        ],
        &format!("{password}\n"),
    )
    .await;
    assert!(added.status.success(), "{}", text(&added.stderr));
    let emulator = Emulator::start().await;
    let mut child = sprechstunde(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", level)
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
    let first = tokio::time::timeout(DEADLINE, first_rx)
        .await
        .unwrap()
        .unwrap();
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();

    // Act: two web chat citizens and one Telegram citizen ask.
    let mut web = web_citizen(&base).await;
    let web_ref = ask(&mut web, "c-1", &web_question).await;
    let mut web_2 = web_citizen(&base).await;
    let web_ref_2 = ask(&mut web_2, "c-2", &web_question_2).await;
    let user = TestUser::de(&first_name);
    emulator.user_says(chat_id, &user, &telegram_question);
    // The question is held until the citizen agrees to the privacy notice.
    emulator.user_says(chat_id, &user, "/einverstanden");
    let ack = emulator
        .wait_for_sent(chat_id, DEADLINE, |m| m.text.contains("A-"))
        .await
        .unwrap();
    let telegram_ref = reference_in(&ack.text);
    emulator.user_says(chat_id, &user, &telegram_follow_up);

    // Staff log in, read, note, answer and reject.
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login: Value = http
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"login": "br", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = login["csrf"].as_str().unwrap().to_owned();
    let post = |path: String, body: Value| {
        http.post(format!("{base}/api/v1{path}"))
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send()
    };
    let queue = http
        .get(format!("{base}/api/v1/questions?status=all"))
        .send()
        .await
        .unwrap();
    assert_eq!(queue.status(), 200);
    // Wait until the follow-up is part of the Telegram question before answering it.
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        let detail: Value = http
            .get(format!("{base}/api/v1/questions/{telegram_ref}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if detail.to_string().contains(&telegram_follow_up) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "follow-up not stored: {detail}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for (path, body) in [
        (
            format!("/questions/{telegram_ref}/notes"),
            json!({"text": note}),
        ),
        (
            format!("/questions/{telegram_ref}/answer"),
            json!({"text": answer_telegram}),
        ),
        (
            format!("/questions/{web_ref}/answer"),
            json!({"text": answer_web}),
        ),
        (
            format!("/questions/{web_ref_2}/reject"),
            json!({"reason": reason}),
        ),
    ] {
        let status = post(path.clone(), body).await.unwrap().status();
        assert!(status.is_success(), "{path}: {status}");
    }
    // The citizens get them on their channels.
    frame_where(&mut web, |f| {
        f["text"].as_str().is_some_and(|t| t.contains(&answer_web))
    })
    .await;
    frame_where(&mut web_2, |f| {
        f["text"].as_str().is_some_and(|t| t.contains(&reason))
    })
    .await;
    emulator
        .wait_for_sent(chat_id, DEADLINE, |m| m.text.contains(&answer_telegram))
        .await
        .unwrap();
    drop(web);
    drop(web_2);

    // Stop the server the way an operator does (Ctrl-C), so shutdown logs are included.
    let pid = child.id().unwrap().to_string();
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = tokio::time::timeout(DEADLINE, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "server exited with {status}");
    tokio::time::timeout(DEADLINE, out).await.unwrap().unwrap();
    tokio::time::timeout(DEADLINE, err).await.unwrap().unwrap();

    // Assert.
    let lines: Vec<String> = log.lock().unwrap().iter().map(|l| plain(l)).collect();
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    println!(
        "log scan: {} lines, {bytes} bytes scanned at RUST_LOG={level}, {} seeded strings",
        lines.len(),
        seeded.len()
    );
    let all = lines.join("\n");
    let leaks: Vec<&String> = seeded.iter().filter(|s| all.contains(s.as_str())).collect();
    assert!(leaks.is_empty(), "the log holds {leaks:?}:\n{all}");
    // Parts of the seeds are not there either (a truncated preview would be a leak too).
    assert!(!all.contains(&format!("Q{seed}")), "{all}");
    lines
}
