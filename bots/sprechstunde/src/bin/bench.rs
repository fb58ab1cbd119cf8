//! `sprechstunde-bench`: durable questions per second through the full web chat path, the
//! acknowledgement latency, and the raw sled floor for comparison — all in one run on the same
//! machine. Run it in release mode:
//!
//! ```text
//! cargo run --release -p sprechstunde --bin sprechstunde-bench -- --citizens 256 --questions 20000
//! ```
//!
//! With `--store postgres` the web chat phases run on a PostgreSQL store
//! (`SPRECHSTUNDE_BENCH_PG_URL`, else a temporary cluster the bench starts, see [`postgres`]),
//! and the raw PostgreSQL floor (1,000-row transactions) is printed beside sled's.
//!
//! The web chat phases load a server in **another process**, so that the server's share of
//! the cores is measured alone (its CPU time is printed beside the figures): by default the
//! bench starts itself a second time as the server (`--serve`, on a temporary data
//! directory); `--connect http://HOST:PORT` loads a server that is already running instead
//! (`--token spst_…` for the staff answer phase). The staff queue phase (`--queue-questions`,
//! see [`queue`]) and the pending-outbox phase (`--pending-web`, see [`pending`]) run
//! afterwards in servers of their own, in this process, because they seed through the
//! office directly; a count of 0 skips any phase.

#[path = "bench/pending.rs"]
mod pending;
#[path = "bench/postgres.rs"]
mod postgres;
#[path = "bench/queue.rs"]
mod queue;
#[path = "bench/server.rs"]
mod server;
#[path = "bench/takeover.rs"]
mod takeover;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// Benchmark of the durable intake path.
#[derive(Debug, Parser)]
struct Args {
    /// Concurrent citizens (WebSocket connections).
    #[arg(long, default_value_t = 256)]
    citizens: usize,
    /// New questions in total (each from a fresh citizen connection).
    #[arg(long, default_value_t = 20_000)]
    questions: u64,
    /// Follow-up messages in total on kept-open connections.
    #[arg(long, default_value_t = 20_000)]
    messages: u64,
    /// Staff answers whose way to the citizen's open chat is timed.
    #[arg(long, default_value_t = 200)]
    answers: u64,
    /// Open-loop phase: citizen messages per second over all `--citizens` open connections,
    /// sent on a fixed schedule whether or not earlier ones were acknowledged (0 skips it).
    #[arg(long, default_value_t = 0)]
    open_rate: u64,
    /// Messages in the open-loop phase.
    #[arg(long, default_value_t = 20_000)]
    open_messages: u64,
    /// Values for the raw sled floor (and the raw PostgreSQL floor with `--store postgres`).
    #[arg(long, default_value_t = 200_000)]
    floor_values: u64,
    /// The store of the web chat phases: `sled` (a temporary data directory) or `postgres`
    /// (SPRECHSTUNDE_BENCH_PG_URL, else a temporary cluster). The staff queue and
    /// pending-outbox phases run on sled either way.
    #[arg(long, value_enum, default_value_t = StoreKind::Sled)]
    store: StoreKind,
    /// Questions seeded for the staff queue phase, in a server of its own (0 skips it).
    #[arg(long, default_value_t = 5_000)]
    queue_questions: u64,
    /// Timed requests per kind in the staff queue phase.
    #[arg(long, default_value_t = 40)]
    queue_requests: u64,
    /// Citizen messages timed in the queue phase, once with idle staff and once while staff
    /// clients hammer the queue (32 citizens on open connections).
    #[arg(long, default_value_t = 3_000)]
    queue_intake: u64,
    /// Web citizens who leave before their acknowledgement arrives, seeded for the
    /// pending-outbox phase in a server of its own (0 skips it).
    #[arg(long, default_value_t = 0)]
    pending_web: u64,
    /// Citizen messages timed in the pending-outbox phase, before and after seeding
    /// (32 citizens on open connections).
    #[arg(long, default_value_t = 3_000)]
    pending_intake: u64,
    /// Load a running server at this base URL (`http://127.0.0.1:8080`) instead of starting
    /// one.
    #[arg(long)]
    connect: Option<String>,
    /// With `--connect`: a staff API token (`spst_…`) for the answer phase (skipped without).
    #[arg(long)]
    token: Option<String>,
    /// Takeover time after kill -9 on PostgreSQL (SPRECHSTUNDE_BENCH_PG_URL, else a temporary
    /// cluster) with these numbers of stored questions, e.g. `1000,100000` (none: skipped).
    #[arg(long, value_delimiter = ',')]
    takeover: Vec<u64>,
    /// Internal: run as the bench's server process on this data directory.
    #[arg(long, hide = true)]
    serve: Option<std::path::PathBuf>,
}

/// The store under the web chat phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum StoreKind {
    /// sled in a temporary data directory.
    Sled,
    /// PostgreSQL.
    Postgres,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Quiet unless RUST_LOG asks for more (e.g. RUST_LOG=sprechstunde_store_sled=debug shows
    // every group-commit flush).
    sprechstunde::init_logging("warn");
    if let Some(data_dir) = &args.serve {
        return server::serve(data_dir).await;
    }
    println!(
        "sprechstunde-bench: {} cores, {} citizens",
        cores(),
        args.citizens
    );

    let database = match args.store {
        StoreKind::Postgres if args.connect.is_none() => {
            let database = postgres::database().await?;
            println!(
                "store: PostgreSQL {} ({})",
                postgres::version(&database.url).await?,
                database.origin
            );
            Some(database)
        }
        _ => None,
    };
    let sled_floor = sled_floor(args.floor_values)?;
    if args.floor_values > 0 {
        println!(
            "raw sled floor (1,000-item batch + flush, 300-byte values): {sled_floor:>9.0} values/s"
        );
    }
    let floor = match &database {
        Some(db) if args.floor_values > 0 => {
            let pg = postgres::floor(&db.url, args.floor_values).await?;
            println!(
                "raw PostgreSQL floor (1,000-row INSERT + COMMIT, 300-byte values): {pg:>9.0} values/s"
            );
            pg
        }
        Some(_) => 0.0,
        None => sled_floor,
    };

    if args.questions + args.messages + args.answers > 0 {
        let store = database.as_ref().map(|db| db.url.as_str());
        web_chat_phases(&args, floor, store).await?;
    }
    if args.queue_questions > 0 {
        queue::run(&queue::QueuePhase {
            questions: args.queue_questions,
            requests: args.queue_requests,
            citizens: 32,
            messages: args.queue_intake,
        })
        .await?;
    }
    if args.pending_web > 0 {
        pending::run(&pending::PendingPhase {
            pending: args.pending_web,
            citizens: 32,
            messages: args.pending_intake,
        })
        .await?;
    }
    if !args.takeover.is_empty() {
        takeover::run(&args.takeover).await?;
    }
    println!(
        "peak memory of the bench process (VmHWM: clients, and the in-process servers of the queue and pending phases): {}",
        peak_rss("self")
    );
    Ok(())
}

/// The web chat phases against a server in another process; on PostgreSQL at `postgres`
/// (else sled), compared with `floor`, the raw floor of that store.
async fn web_chat_phases(args: &Args, floor: f64, postgres: Option<&str>) -> anyhow::Result<()> {
    let target = match &args.connect {
        Some(base) => server::Target::connect(base, args.token.clone()),
        None => server::Target::spawn(postgres).await?,
    };
    println!("server: {}", target.describe());
    let url = target.ws_url();

    let cpu = target.cpu();
    let fresh = run(&url, args.citizens, args.questions, Mode::FreshCitizen).await?;
    fresh.print("new questions, fresh connection each (connect+hello+ask)");
    target.print_cpu_since(cpu, fresh.elapsed);
    let cpu = target.cpu();
    let kept = run(&url, args.citizens, args.messages, Mode::KeptOpen).await?;
    kept.print("citizen messages on open connections (durable + acknowledged)");
    target.print_cpu_since(cpu, kept.elapsed);
    if args.open_rate > 0 && args.open_messages > 0 {
        let cpu = target.cpu();
        let open = open_loop(&url, args.citizens, args.open_messages, args.open_rate).await?;
        open.print(args.open_rate);
        target.print_cpu_since(cpu, open.elapsed);
    }
    match target.token() {
        Some(bearer) if args.answers > 0 => {
            let answers = answer_latency(target.base(), &url, bearer, args.answers).await?;
            answers.print("staff answer (HTTP API) until it shows in the open web chat");
        }
        _ if args.answers > 0 => println!("staff answer phase skipped: no --token"),
        _ => {}
    }
    if floor > 0.0 {
        let which = if postgres.is_some() {
            " (PostgreSQL floor)"
        } else {
            ""
        };
        println!(
            "full path vs floor{which}: new questions {:.1} %, messages {:.1} %",
            100.0 * fresh.rate / floor,
            100.0 * kept.rate / floor
        );
    }
    target.stop().await?;

    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    FreshCitizen,
    KeptOpen,
}

struct Report {
    count: u64,
    elapsed: Duration,
    rate: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

impl Report {
    fn new(mut latencies: Vec<Duration>, elapsed: Duration) -> Report {
        latencies.sort();
        let pick = |q: f64| {
            latencies
                .get(((latencies.len() as f64 - 1.0) * q) as usize)
                .copied()
                .unwrap_or_default()
        };
        Report {
            count: latencies.len() as u64,
            elapsed,
            rate: latencies.len() as f64 / elapsed.as_secs_f64(),
            p50: pick(0.50),
            p99: pick(0.99),
            max: latencies.last().copied().unwrap_or_default(),
        }
    }

    fn print(&self, what: &str) {
        if self.count == 0 {
            return;
        }
        println!(
            "{what}: {:>6} in total, {:>8.0}/s, acknowledgement latency p50 {:>7.2} ms, p99 {:>7.2} ms",
            self.count,
            self.rate,
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3
        );
    }
}

async fn run(url: &str, citizens: usize, total: u64, mode: Mode) -> anyhow::Result<Report> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..citizens {
        let url = url.to_owned();
        let next = Arc::clone(&next);
        tasks.spawn(async move { citizen(&url, &next, total, mode).await });
    }
    let mut latencies = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done??);
    }
    Ok(Report::new(latencies, started.elapsed()))
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str) -> anyhow::Result<Ws> {
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true).await?;
    let hello = json!({"type": "hello", "token": null, "lang": "de"});
    ws.send(Message::Text(hello.to_string().into())).await?;
    let welcome = wait(&mut ws, "welcome").await?;
    // A new citizen agrees to the privacy notice first, as on the page.
    if welcome["privacy_notice"].is_string() {
        let agree = json!({"type": "message", "client_id": "agree", "text": "/einverstanden"});
        ws.send(Message::Text(agree.to_string().into())).await?;
        wait_both(&mut ws).await?;
    }
    Ok(ws)
}

async fn wait(ws: &mut Ws, kind: &str) -> anyhow::Result<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .context("server did not answer in 30 s")?
            .context("closed")??;
        if let Message::Text(text) = msg {
            let v: Value = serde_json::from_str(&text)?;
            if v["type"] == "error" {
                bail!("server refused: {v}");
            }
            if v["type"] == kind {
                return Ok(v);
            }
        }
    }
}

/// Waits for `accepted` and an office message, in either order; returns `accepted`.
async fn wait_both(ws: &mut Ws) -> anyhow::Result<Value> {
    let mut accepted = None;
    let mut acknowledged = false;
    while accepted.is_none() || !acknowledged {
        let frame = wait_any(ws).await?;
        match frame["type"].as_str() {
            Some("accepted") => accepted = Some(frame),
            Some("message") => acknowledged = true,
            _ => {}
        }
    }
    accepted.context("accepted")
}

async fn wait_any(ws: &mut Ws) -> anyhow::Result<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .context("server did not answer in 30 s")?
            .context("closed")??;
        if let Message::Text(text) = msg {
            let v: Value = serde_json::from_str(&text)?;
            if v["type"] == "error" {
                bail!("server refused: {v}");
            }
            return Ok(v);
        }
    }
}

/// One virtual citizen: takes numbers from `next` until `total` is reached; returns the
/// latency from sending each message to receiving its acknowledgement.
async fn citizen(
    url: &str,
    next: &AtomicU64,
    total: u64,
    mode: Mode,
) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::new();
    let mut ws = None;
    loop {
        let n = next.fetch_add(1, Ordering::Relaxed);
        if n >= total {
            break;
        }
        let mut socket = match (mode, ws.take()) {
            (Mode::KeptOpen, Some(s)) => s,
            _ => connect(url).await?,
        };
        let frame = json!({"type": "message", "client_id": format!("b-{n}"), "text": format!("Benchmark-Frage Nummer {n}: Wann wird die Straße saniert?")});
        let sent = Instant::now();
        socket.send(Message::Text(frame.to_string().into())).await?;
        // `accepted` and the acknowledgement come in either order; the latency is until both.
        wait_both(&mut socket).await?;
        latencies.push(sent.elapsed());
        match mode {
            Mode::KeptOpen => ws = Some(socket),
            Mode::FreshCitizen => {
                let _ = socket.close(None).await;
            }
        }
    }
    if let Some(mut s) = ws {
        let _ = s.close(None).await;
    }
    Ok(latencies)
}

/// The figures of the open-loop phase.
struct OpenLoop {
    elapsed: Duration,
    /// From the scheduled send time until both `accepted` and the acknowledgement arrived.
    latency: Report,
    /// How late the load generator sent each message against its schedule.
    lag: Report,
}

impl OpenLoop {
    fn print(&self, rate: u64) {
        println!(
            "open loop at {rate}/s: {} messages in {:.2} s ({:.0}/s), acknowledgement latency from the scheduled send p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.latency.count,
            self.elapsed.as_secs_f64(),
            self.latency.rate,
            self.latency.p50.as_secs_f64() * 1e3,
            self.latency.p99.as_secs_f64() * 1e3,
            self.latency.max.as_secs_f64() * 1e3,
        );
        println!(
            "  load generator's own send lag behind its schedule: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.lag.p50.as_secs_f64() * 1e3,
            self.lag.p99.as_secs_f64() * 1e3,
            self.lag.max.as_secs_f64() * 1e3,
        );
    }
}

/// Open loop: `citizens` open connections (agreed, one question each) send `total` messages
/// at `rate` per second in all, message `i` at `i / rate` seconds after the start on
/// connection `i % citizens`, without waiting for earlier acknowledgements. Each message of a
/// kept-open citizen extends its question and gets one acknowledgement, which the dispatcher
/// hands over in order per citizen, so the `k`-th office message on a connection answers its
/// `k`-th message.
async fn open_loop(url: &str, citizens: usize, total: u64, rate: u64) -> anyhow::Result<OpenLoop> {
    let citizens = citizens.max(1);
    let mut sockets = Vec::with_capacity(citizens);
    for c in 0..citizens {
        let mut ws = connect(url).await?;
        // The first message opens the citizen's question outside the timed part.
        let frame = json!({"type": "message", "client_id": format!("o-{c}-open"), "text": "Offene Frage zum Lasttest"});
        ws.send(Message::Text(frame.to_string().into())).await?;
        wait_both(&mut ws).await?;
        sockets.push(ws);
    }
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let per = Duration::from_secs_f64(1.0 / rate as f64);
    let mut tasks = tokio::task::JoinSet::new();
    for (c, ws) in sockets.into_iter().enumerate() {
        let mine: Vec<u64> = (c as u64..total).step_by(citizens).collect();
        tasks.spawn(open_citizen(ws, mine, start, per));
    }
    let mut latencies = Vec::new();
    let mut lags = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (l, g) = done??;
        latencies.extend(l);
        lags.extend(g);
    }
    let elapsed = start.elapsed();
    Ok(OpenLoop {
        elapsed,
        latency: Report::new(latencies, elapsed),
        lag: Report::new(lags, elapsed),
    })
}

/// One open-loop connection: sends message `n` of `numbers` at `start + n * per`, and reads
/// acknowledgements meanwhile; returns the latencies from the scheduled times and the send lags.
async fn open_citizen(
    ws: Ws,
    numbers: Vec<u64>,
    start: tokio::time::Instant,
    per: Duration,
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    let (mut sink, mut stream) = ws.split();
    let scheduled: Vec<tokio::time::Instant> = numbers
        .iter()
        .map(|&n| start + per * u32::try_from(n).unwrap_or(u32::MAX))
        .collect();
    let count = numbers.len();
    let sends = scheduled.clone();
    let ids: Vec<String> = numbers.iter().map(|n| format!("o-{n}")).collect();
    let writer = tokio::spawn(async move {
        let mut lags = Vec::with_capacity(count);
        for (n, at) in numbers.iter().zip(sends) {
            tokio::time::sleep_until(at).await;
            lags.push(at.elapsed());
            let frame = json!({"type": "message", "client_id": format!("o-{n}"), "text": format!("Benchmark-Nachricht Nummer {n}: Wann wird die Straße saniert?")});
            sink.send(Message::Text(frame.to_string().into())).await?;
        }
        anyhow::Ok((sink, lags))
    });
    // Arrival of `accepted` (by client id) and of the k-th office message.
    let mut accepted: std::collections::HashMap<String, tokio::time::Instant> =
        std::collections::HashMap::new();
    let mut messages: Vec<tokio::time::Instant> = Vec::with_capacity(count);
    while accepted.len() < count || messages.len() < count {
        let msg = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .context("server did not answer in 30 s")?
            .context("closed")??;
        let Message::Text(text) = msg else { continue };
        let v: Value = serde_json::from_str(&text)?;
        match v["type"].as_str() {
            Some("error") => bail!("server refused: {v}"),
            Some("accepted") => {
                let id = v["client_id"].as_str().unwrap_or_default().to_owned();
                accepted.insert(id, tokio::time::Instant::now());
            }
            Some("message") => messages.push(tokio::time::Instant::now()),
            _ => {}
        }
    }
    let (mut sink, lags) = writer.await??;
    let _ = sink.close().await;
    let mut latencies = Vec::with_capacity(count);
    for ((at, id), message) in scheduled.iter().zip(&ids).zip(&messages) {
        let both = accepted
            .get(id)
            .copied()
            .context("no `accepted` for a message")?
            .max(*message);
        latencies.push(both.duration_since(*at));
    }
    Ok((latencies, lags))
}

/// The storage floor: sled, 1,000 values per batch, flushed after each batch.
fn sled_floor(values: u64) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let db = sled::open(dir.path())?;
    let value = vec![7u8; 300];
    let started = Instant::now();
    let mut i = 0u64;
    while i < values {
        let mut batch = sled::Batch::default();
        for _ in 0..1000 {
            batch.insert(&i.to_be_bytes(), value.as_slice());
            i += 1;
        }
        db.apply_batch(batch)?;
        db.flush()?;
    }
    Ok(values as f64 / started.elapsed().as_secs_f64())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The peak resident memory (`VmHWM`) of a process (`self` or a pid).
fn peak_rss(pid: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn app_base(addr: std::net::SocketAddr) -> String {
    format!("http://{addr}")
}

/// Times staff answers over the HTTP API until they arrive in the citizen's open web chat.
async fn answer_latency(
    base: &str,
    ws_url: &str,
    bearer: &str,
    answers: u64,
) -> anyhow::Result<Report> {
    let http = reqwest::Client::new();
    let mut latencies = Vec::new();
    let started = Instant::now();
    for n in 0..answers {
        let mut ws = connect(ws_url).await?;
        let frame = json!({"type": "message", "client_id": format!("a-{n}"), "text": "Frage, die beantwortet wird"});
        ws.send(Message::Text(frame.to_string().into())).await?;
        let accepted = wait_both(&mut ws).await?;
        let reference = accepted["reference"]
            .as_str()
            .context("reference")?
            .to_owned();
        let sent = Instant::now();
        let response = http
            .post(format!("{base}/api/v1/questions/{reference}/answer"))
            .bearer_auth(bearer)
            .json(&json!({"text": "Die Antwort."}))
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("answer refused: {}", response.status());
        }
        wait(&mut ws, "message").await?;
        latencies.push(sent.elapsed());
        let _ = ws.close(None).await;
    }
    Ok(Report::new(latencies, started.elapsed()))
}

/// A citizens' office member (id 1) with an API token, stored directly; returns the member as
/// recorded in threads and the bearer token.
async fn bench_staff(
    office: &sprechstunde_runtime::Office,
) -> anyhow::Result<(sprechstunde_core::StaffRef, String)> {
    use sprechstunde_console::accounts::{format_token, hash_password, new_token, sha256_hex};
    let store = office.store();
    let staff = sprechstunde_core::StaffMember {
        id: sprechstunde_core::StaffId(1),
        login: "bench".into(),
        name: "Benchmark".into(),
        roles: [sprechstunde_core::Role::CitizensOffice]
            .into_iter()
            .collect(),
        department: None,
        password_hash: hash_password("benchmark-password")?,
        disabled: false,
        created_at: jiff::Timestamp::now(),
        email: None,
        notify: true,
        external: None,
    };
    store.put_staff(&staff).await?;
    let (id, secret) = new_token()?;
    store
        .put_token(&sprechstunde_core::ApiToken {
            id: id.clone(),
            name: "bench".into(),
            staff: staff.id,
            secret_hash: sha256_hex(&secret),
            created_at: jiff::Timestamp::now(),
            revoked_at: None,
        })
        .await?;
    let member = sprechstunde_core::StaffRef {
        id: staff.id,
        name: staff.name,
    };
    Ok((member, format_token(&id, &secret)))
}
