//! `sprechstunde-socket-bench`: memory per idle web chat socket, measured on the real server
//! binary in a process of its own, and how much of it the server gives back when the sockets
//! close. This process is only the load generator. Run it in release mode:
//!
//! ```text
//! cargo build --release -p sprechstunde --bins
//! target/release/sprechstunde-socket-bench --sockets 10000 --waves 3
//! ```
//!
//! Each wave opens `--sockets` WebSockets, says `hello` on each (a new conversation: nothing is
//! stored until a message) and waits for the `welcome`, reads the server's resident memory
//! (`VmRSS` of `/proc/PID/status`), closes them all, waits until the server has closed its
//! side (its open file count is back) and reads the memory again.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::tungstenite::Message;

/// Memory per idle web chat socket.
#[derive(Debug, Parser)]
struct Args {
    /// Idle sockets per wave.
    #[arg(long, default_value_t = 10_000)]
    sockets: usize,
    /// Waves of sockets opened and closed one after another.
    #[arg(long, default_value_t = 3)]
    waves: usize,
    /// Sockets being opened at the same time.
    #[arg(long, default_value_t = 128)]
    parallel: usize,
    /// The server binary (default: `sprechstunde` beside this one).
    #[arg(long)]
    server: Option<PathBuf>,
}

/// Resident memory of a process in KiB.
fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .context("no VmRSS")
}

/// Open files of a process.
fn open_files(pid: u32) -> anyhow::Result<usize> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))?.count())
}

/// Polls until `f` holds or `within` passes; whether it held.
async fn wait_until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}

/// The memory once it has stopped falling for a second (the allocator returns freed pages
/// with a delay), at most `within`.
async fn settled_rss(pid: u32, within: Duration) -> anyhow::Result<u64> {
    let deadline = Instant::now() + within;
    let mut last = rss_kib(pid)?;
    let mut steady_since = Instant::now();
    while Instant::now() < deadline && steady_since.elapsed() < Duration::from_secs(1) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = rss_kib(pid)?;
        if now < last {
            steady_since = Instant::now();
        }
        last = now;
    }
    Ok(last)
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a socket and says hello; returns it once the welcome is there.
async fn idle_socket(url: String) -> anyhow::Result<Ws> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    let hello = r#"{"type":"hello","token":null,"lang":"de"}"#;
    ws.send(Message::Text(hello.into())).await?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) if text.contains(r#""type":"welcome""#) => return Ok(ws),
            Some(Ok(_)) => {}
            other => bail!("no welcome: {other:?}"),
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The load generator holds every socket too.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let server = match args.server {
        Some(path) => path,
        None => std::env::current_exe()?
            .parent()
            .context("no directory")?
            .join("sprechstunde"),
    };
    let dir = tempfile::tempdir()?;
    let mut child = tokio::process::Command::new(&server)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        // All sockets come from 127.0.0.1 and each is a new conversation: no rate limits.
        .env("SPRECHSTUNDE_LIMITS__CONNECTION_MESSAGES_PER_MINUTE", "0")
        .env("SPRECHSTUNDE_LIMITS__ADDRESS_MESSAGES_PER_MINUTE", "0")
        .env(
            "SPRECHSTUNDE_LIMITS__ADDRESS_NEW_CONVERSATIONS_PER_MINUTE",
            "0",
        )
        .env("SPRECHSTUNDE_LIMITS__NEW_CONVERSATIONS_PER_MINUTE", "0")
        .env("SPRECHSTUNDE_LIMITS__WEBSOCKET_HELLO_SECONDS", "600")
        .env("SPRECHSTUNDE_LIMITS__WEBSOCKET_IDLE_SECONDS", "3600")
        .env("SPRECHSTUNDE_LOG__LEVEL", "warn")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", server.display()))?;
    let pid = child.id().context("server has no pid")?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .context("the server did not print its address")??
        .context("the server ended")?;
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .context("no address in the server's first line")?
        .trim_end_matches('/')
        .to_owned();
    let url = format!("{}/ws", base.replacen("http://", "ws://", 1));
    reqwest::get(format!("{base}/healthz"))
        .await?
        .error_for_status()?;

    let files_before = open_files(pid)?;
    let start_rss = settled_rss(pid, Duration::from_secs(5)).await?;
    println!(
        "socket bench: server pid {pid}, {} sockets per wave, {} waves; RSS at start {:.1} MiB",
        args.sockets,
        args.waves,
        start_rss as f64 / 1024.0
    );
    let mut per_socket = Vec::new();
    for wave in 1..=args.waves {
        let before = rss_kib(pid)?;
        let started = Instant::now();
        let sockets: Vec<Ws> = futures_util::stream::iter(0..args.sockets)
            .map(|_| idle_socket(url.clone()))
            .buffer_unordered(args.parallel.max(1))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<anyhow::Result<_>>()?;
        let opened = started.elapsed();
        let with = settled_rss(pid, Duration::from_secs(2)).await?;
        let per = (with.saturating_sub(before)) as f64 / args.sockets.max(1) as f64;
        per_socket.push(per);
        drop(sockets);
        let closed = wait_until(Duration::from_secs(60), || {
            open_files(pid).is_ok_and(|n| n <= files_before + 2)
        })
        .await;
        if !closed {
            bail!("the server still holds sockets a minute after they closed");
        }
        let after = settled_rss(pid, Duration::from_secs(10)).await?;
        let grown = with.saturating_sub(before).max(1);
        let given_back = with.saturating_sub(after) as f64 / grown as f64 * 100.0;
        println!(
            "wave {wave}: {} idle sockets opened in {:.1} s; RSS {:.1} -> {:.1} MiB, {per:.1} KiB \
             per idle socket; after closing {:.1} MiB ({given_back:.0} % of the growth given back)",
            args.sockets,
            opened.as_secs_f64(),
            before as f64 / 1024.0,
            with as f64 / 1024.0,
            after as f64 / 1024.0
        );
    }
    let end_rss = rss_kib(pid)?;
    let mean = per_socket.iter().sum::<f64>() / per_socket.len().max(1) as f64;
    println!(
        "memory per idle web chat socket: {mean:.1} KiB (mean of {} waves); RSS at the end \
         {:.1} MiB (start {:.1} MiB)",
        per_socket.len(),
        end_rss as f64 / 1024.0,
        start_rss as f64 / 1024.0
    );
    child.kill().await?;
    Ok(())
}
