//! `sprechstunde-crash-loop`: the real server binary under web chat load, killed with SIGKILL
//! at random moments, again and again; afterwards every message the server acknowledged
//! (`accepted`) must be in its question exactly once, checked through the staff API.
//!
//! ```text
//! cargo run --release -p sprechstunde --bin sprechstunde-crash-loop -- --cycles 200
//! ```
//!
//! Citizens behave like the web chat page: after a reconnect they resend, with the same
//! `client_id`, the message that was not acknowledged yet; now and then one sends a message
//! twice at once (a second tab). The test suite runs it with 20 cycles
//! (`crash_loop_of_twenty_kills_loses_no_acknowledged_message`). Exit code 0 means nothing
//! was lost or stored twice.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

/// Kill -9 loop under web chat load.
#[derive(Debug, Parser)]
struct Args {
    /// Kill cycles.
    #[arg(long, default_value_t = 200)]
    cycles: u32,
    /// Concurrent web chat citizens.
    #[arg(long, default_value_t = 8)]
    citizens: usize,
    /// Earliest kill after the server is up, in milliseconds.
    #[arg(long, default_value_t = 50)]
    min_kill_ms: u64,
    /// Latest kill after the server is up, in milliseconds.
    #[arg(long, default_value_t = 600)]
    max_kill_ms: u64,
    /// Seed of the kill moments (printed, so a run can be repeated).
    #[arg(long)]
    seed: Option<u64>,
    /// The server binary (default: `sprechstunde` beside this one).
    #[arg(long)]
    server: Option<PathBuf>,
}

/// How long any single step may take before the run counts as failed.
const STEP: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let server = match &args.server {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("no directory of the executable")?
            .join("sprechstunde"),
    };
    let seed = args.seed.unwrap_or_else(|| {
        let mut bytes = [0; 8];
        getrandom::fill(&mut bytes).map_or(1, |()| u64::from_le_bytes(bytes))
    });
    println!(
        "sprechstunde-crash-loop: {} cycles, {} citizens, kill after {}–{} ms, seed {seed}",
        args.cycles, args.citizens, args.min_kill_ms, args.max_kill_ms
    );
    let dir = tempfile::tempdir()?;
    let token = staff_token(&server, dir.path()).await?;
    let mut rng = SplitMix(seed);
    let mut citizens: Vec<CitizenLog> = (0..args.citizens).map(CitizenLog::new).collect();
    let started = Instant::now();
    for cycle in 0..args.cycles {
        let (mut child, base) = start(&server, dir.path())
            .await
            .with_context(|| format!("cycle {cycle}: the server did not start"))?;
        let span = args.max_kill_ms.saturating_sub(args.min_kill_ms) + 1;
        let kill_after = Duration::from_millis(args.min_kill_ms + rng.next() % span);
        let tasks: Vec<_> = citizens
            .drain(..)
            .map(|log| {
                let base = base.clone();
                let double = rng.next();
                tokio::spawn(async move { log.run(&base, cycle, double).await })
            })
            .collect();
        tokio::time::sleep(kill_after).await;
        child.start_kill()?;
        let status = child.wait().await?;
        anyhow::ensure!(
            !status.success(),
            "cycle {cycle}: the server ended by itself"
        );
        for task in tasks {
            citizens.push(task.await?);
        }
    }
    let (mut child, base) = start(&server, dir.path())
        .await
        .context("the server did not start after the last kill")?;
    let check = check(&base, &token, &citizens).await;
    child.start_kill()?;
    let _ = child.wait().await;
    let report = check?;
    println!(
        "{} kills in {:.1} s: {} messages acknowledged, {} lost, {} stored twice, \
         {} sent without acknowledgement ({} of them stored)",
        args.cycles,
        started.elapsed().as_secs_f64(),
        report.acknowledged,
        report.lost.len(),
        report.twice.len(),
        report.unacknowledged,
        report.unacknowledged_stored
    );
    if !report.lost.is_empty() || !report.twice.is_empty() {
        let first = |v: &[String]| v.iter().take(10).cloned().collect::<Vec<_>>();
        bail!(
            "acknowledged but lost (first 10): {:?}; stored twice (first 10): {:?}",
            first(&report.lost),
            first(&report.twice)
        );
    }
    anyhow::ensure!(
        report.acknowledged > 0,
        "no message was acknowledged at all"
    );
    Ok(())
}

/// What one citizen sent and what the server acknowledged, over all cycles.
#[derive(Debug)]
struct CitizenLog {
    n: usize,
    token: Option<String>,
    /// Sent, not acknowledged yet: resent with the same client id after a reconnect.
    pending: Option<(String, String)>,
    /// Acknowledged texts and their references.
    acknowledged: Vec<(String, String)>,
    /// Every text sent.
    sent: Vec<String>,
    next: u64,
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl CitizenLog {
    fn new(n: usize) -> Self {
        CitizenLog {
            n,
            token: None,
            pending: None,
            acknowledged: Vec::new(),
            sent: Vec::new(),
            next: 1,
        }
    }

    /// Chats until the server goes away; a closed socket is the expected end.
    async fn run(mut self, base: &str, cycle: u32, double: u64) -> Self {
        let _ = self.chat(base, cycle, double).await;
        self
    }

    async fn chat(&mut self, base: &str, cycle: u32, double: u64) -> anyhow::Result<()> {
        let url = format!("{}/ws", base.replace("http://", "ws://"));
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
        let hello = json!({"type": "hello", "token": self.token, "lang": "de"});
        ws.send(Message::Text(hello.to_string().into())).await?;
        let welcome = next_where(&mut ws, |f| f["type"] == "welcome").await?;
        self.token = welcome["token"].as_str().map(str::to_owned);
        if welcome["privacy_notice"].is_string() {
            let agree = json!({"type": "message", "client_id": format!("agree-{cycle}"), "text": "/einverstanden"});
            ws.send(Message::Text(agree.to_string().into())).await?;
            next_where(&mut ws, |f| {
                f["type"] == "message"
                    && f["text"]
                        .as_str()
                        .is_some_and(|t| t.contains("Einverständnis"))
            })
            .await?;
        }
        let mut round = 0_u64;
        loop {
            let (client_id, text) = match self.pending.clone() {
                Some(p) => p,
                None => {
                    let id = format!("c{}-m{}", self.n, self.next);
                    let text = format!("Crash-Test Bürger {} Nachricht {}", self.n, self.next);
                    self.next += 1;
                    self.sent.push(text.clone());
                    self.pending = Some((id.clone(), text.clone()));
                    (id, text)
                }
            };
            let frame = json!({"type": "message", "client_id": client_id, "text": text});
            ws.send(Message::Text(frame.to_string().into())).await?;
            // Now and then the same message twice at once, as from a second tab.
            if (double >> (round % 64)) & 1 == 1 && round.is_multiple_of(7) {
                ws.send(Message::Text(frame.to_string().into())).await?;
            }
            round += 1;
            let answer = next_where(&mut ws, |f| {
                (f["type"] == "accepted" || f["type"] == "error") && f["client_id"] == client_id
            })
            .await?;
            if answer["type"] == "accepted" {
                let reference = answer["reference"].as_str().unwrap_or_default().to_owned();
                self.acknowledged.push((text, reference));
            }
            self.pending = None;
        }
    }
}

/// The next frame that satisfies `want`; an error when the socket ends.
async fn next_where(ws: &mut Socket, want: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
    loop {
        let frame = tokio::time::timeout(STEP, ws.next())
            .await
            .context("no frame in time")?
            .context("socket closed")??;
        if let Message::Text(text) = frame {
            let value: Value = serde_json::from_str(&text)?;
            if want(&value) {
                return Ok(value);
            }
        }
    }
}

/// The outcome of the final check.
struct Report {
    acknowledged: usize,
    lost: Vec<String>,
    twice: Vec<String>,
    unacknowledged: usize,
    unacknowledged_stored: usize,
}

/// Counts, through the staff API, how often each sent text is in its citizen's questions.
async fn check(base: &str, token: &str, citizens: &[CitizenLog]) -> anyhow::Result<Report> {
    let http = reqwest::Client::new();
    let mut threads: HashMap<String, Vec<String>> = HashMap::new();
    let mut report = Report {
        acknowledged: 0,
        lost: Vec::new(),
        twice: Vec::new(),
        unacknowledged: 0,
        unacknowledged_stored: 0,
    };
    for citizen in citizens {
        let mut acknowledged: HashMap<&str, &str> = HashMap::new();
        for (text, reference) in &citizen.acknowledged {
            acknowledged.insert(text, reference);
        }
        for reference in acknowledged.values() {
            if !threads.contains_key(*reference) {
                let detail: Value = http
                    .get(format!("{base}/api/v1/questions/{reference}"))
                    .bearer_auth(token)
                    .send()
                    .await?
                    .error_for_status()
                    .with_context(|| format!("reading {reference}"))?
                    .json()
                    .await?;
                let texts = detail["entries"]
                    .as_array()
                    .map(|entries| {
                        entries
                            .iter()
                            .filter_map(|e| e["text"].as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                threads.insert((*reference).to_owned(), texts);
            }
        }
        let references: std::collections::BTreeSet<&str> = acknowledged.values().copied().collect();
        let mine: Vec<&String> = references
            .iter()
            .filter_map(|r| threads.get(*r))
            .flatten()
            .collect();
        for text in &citizen.sent {
            let times = mine.iter().filter(|t| **t == text).count();
            // A text can be in two references' threads only if it was stored twice.
            if acknowledged.contains_key(text.as_str()) {
                report.acknowledged += 1;
                let in_its_question = threads
                    .get(acknowledged[text.as_str()])
                    .map_or(0, |t| t.iter().filter(|x| *x == text).count());
                if in_its_question == 0 {
                    report.lost.push(text.clone());
                } else if times > 1 {
                    report.twice.push(text.clone());
                }
            } else {
                report.unacknowledged += 1;
                if times > 0 {
                    report.unacknowledged_stored += 1;
                }
                if times > 1 {
                    report.twice.push(text.clone());
                }
            }
        }
    }
    Ok(report)
}

/// A command for the server binary with a clean environment (no developer overrides).
fn server_command(server: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(server);
    cmd.current_dir(dir)
        .env_remove("SPRECHSTUNDE_CONFIG")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for (key, _) in std::env::vars() {
        if key.starts_with("SPRECHSTUNDE_") {
            cmd.env_remove(key);
        }
    }
    // The load sends far more than a person would.
    cmd.env("SPRECHSTUNDE_LIMITS__CITIZEN_MESSAGES", "0");
    cmd.env("SPRECHSTUNDE_LIMITS__CONNECTION_MESSAGES_PER_MINUTE", "0");
    cmd.env("SPRECHSTUNDE_LIMITS__ADDRESS_MESSAGES_PER_MINUTE", "0");
    cmd.env(
        "SPRECHSTUNDE_LIMITS__ADDRESS_NEW_CONVERSATIONS_PER_MINUTE",
        "0",
    );
    cmd.env("SPRECHSTUNDE_LIMITS__NEW_CONVERSATIONS_PER_MINUTE", "0");
    cmd
}

/// A staff member and an API token for the check, made with the CLI before the first start.
async fn staff_token(server: &Path, dir: &Path) -> anyhow::Result<String> {
    let mut add = server_command(server, dir)
        .args([
            "staff",
            "add",
            "--login",
            "pruefung",
            "--name",
            "Crash-Test",
            "--role",
            "citizens_office",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    let mut stdin = add.stdin.take().context("stdin")?;
    stdin.write_all(b"ein-sicheres-passwort\n").await?;
    drop(stdin);
    anyhow::ensure!(add.wait().await?.success(), "staff add failed");
    let out = server_command(server, dir)
        .args([
            "token",
            "create",
            "--staff",
            "pruefung",
            "--name",
            "crash-loop",
        ])
        .output()
        .await?;
    anyhow::ensure!(
        out.status.success(),
        "token create failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// Starts `serve` on port 0; returns the child and its base URL.
async fn start(server: &Path, dir: &Path) -> anyhow::Result<(Child, String)> {
    let mut child = server_command(server, dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(STEP, lines.next_line())
        .await
        .context("no address in time")??
        .context("the server ended before it listened")?;
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .context("no address in the first line")?
        .to_owned();
    // Keep reading stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, url))
}

/// SplitMix64: reproducible kill moments from the printed seed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
