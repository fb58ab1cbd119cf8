//! `--takeover N,…`: the time from `kill -9` of the active instance to the standby serving,
//! on PostgreSQL with N stored questions. For each N: a fresh database, N questions seeded
//! through the office (the same mix as the staff queue phase: routed, answered, rejected,
//! some in a session), then two `sprechstunde serve` processes of this build on it, as
//! docs/operations.md sets them up (shared pseudonym key, default lease). The active one is
//! killed; the figure is the time until the standby's `/readyz` answers 200, and the
//! standby's start-up share of it (lease won → ready) from the same clock.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sprechstunde::settings::{Settings, StoreBackend};
use sprechstunde_core::ChannelKind;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The pseudonym key both instances share (a citizen must be recognised by either).
const PSEUDONYM_KEY: &str = "3c9a1f7e5b2d4086a1c3e5f7092b4d6f8a0c2e4f6b8d0a1c3e5f7a9b1d3f5e70";

/// How long an instance may take to report its address, or the standby to take over.
const DEADLINE: Duration = Duration::from_secs(120);

/// Runs the phase for every size in `sizes` and prints one line each.
///
/// # Errors
/// No PostgreSQL, or an instance did not start or take over in time.
pub(crate) async fn run(sizes: &[u64]) -> anyhow::Result<()> {
    let server = std::env::current_exe()?.with_file_name("sprechstunde");
    if !server.exists() {
        bail!(
            "{} is missing: build the server binary of the same profile first",
            server.display()
        );
    }
    for &questions in sizes {
        let database = super::postgres::database().await?;
        let seeded = seed(&database.url, questions).await?;
        let dir = tempfile::tempdir()?;
        let mut active = Instance::start(&server, &dir.path().join("a"), &database.url).await?;
        active.until_ready(true).await?;
        let standby = Instance::start(&server, &dir.path().join("b"), &database.url).await?;
        standby.until_ready(false).await?;
        let killed = Instant::now();
        active.child.start_kill()?;
        active.child.wait().await?;
        standby.until_ready(true).await?;
        let takeover = killed.elapsed();
        println!(
            "takeover after kill -9 with {questions} stored questions: {:.2} s (lease 5 s; seeded in {:.1} s; standby RSS {})",
            takeover.as_secs_f64(),
            seeded.as_secs_f64(),
            super::peak_rss(&standby.child.id().unwrap_or_default().to_string()),
        );
    }
    Ok(())
}

/// Seeds `questions` questions into the empty database at `url` through an in-process
/// server (no lease: nobody else runs yet), and stops it.
async fn seed(url: &str, questions: u64) -> anyhow::Result<Duration> {
    let dir = tempfile::tempdir()?;
    let mut settings = Settings::load(None)?;
    settings.server.listen = "127.0.0.1:0".parse()?;
    settings.server.data_dir = dir.path().join("data");
    settings.store.backend = StoreBackend::Postgres;
    settings.store.url = url.to_owned();
    settings.privacy.pseudonym_key = Some(PSEUDONYM_KEY.to_owned());
    settings.limits.citizen_messages = 0;
    settings.limits.lift_web_chat_rate_limits();
    settings.departments = super::queue::departments();
    let app = sprechstunde::Application::build(&settings).await?;
    let office = app.office().clone();
    for channel in [ChannelKind::Telegram, ChannelKind::Matrix] {
        office.register_channel(Arc::new(super::queue::Accepting(channel)));
    }
    let stop = app.shutdown_token();
    let server = tokio::spawn(app.run());
    let (staff, _) = super::bench_staff(&office).await?;
    let started = Instant::now();
    super::queue::seed(&office, &staff, questions).await?;
    let seeded = started.elapsed();
    drop(office);
    stop.cancel();
    server.await??;
    Ok(seeded)
}

/// One `sprechstunde serve` process on the database.
struct Instance {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl Instance {
    /// Starts the server binary with data directory `dir` on the database at `url` and
    /// waits for its address (the first line on stdout; a standby prints it too).
    async fn start(
        server: &std::path::Path,
        dir: &std::path::Path,
        url: &str,
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut child = Command::new(server)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env_remove("SPRECHSTUNDE_STORE__LEASE_SECONDS")
            .env("SPRECHSTUNDE_SERVER__DATA_DIR", dir)
            .env("SPRECHSTUNDE_STORE__BACKEND", "postgres")
            .env("SPRECHSTUNDE_STORE__URL", url)
            .env("SPRECHSTUNDE_PRIVACY__PSEUDONYM_KEY", PSEUDONYM_KEY)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", server.display()))?;
        let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
        let line = tokio::time::timeout(DEADLINE, lines.next_line())
            .await
            .context("no address in time")??
            .context("the server exited before it listened")?;
        // Keep reading, so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .with_context(|| format!("no address in {line:?}"))?
            .to_owned();
        Ok(Instance {
            child,
            base,
            http: reqwest::Client::new(),
        })
    }

    /// Polls `/readyz` (every 10 ms) until it says `ready` (200) or not (503).
    async fn until_ready(&self, ready: bool) -> anyhow::Result<()> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let status = self
                .http
                .get(format!("{}/readyz", self.base))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .map(|r| r.status().as_u16());
            match status {
                Ok(200) if ready => return Ok(()),
                Ok(503) if !ready => return Ok(()),
                _ if Instant::now() > deadline => {
                    bail!(
                        "{}: /readyz not {} in time ({status:?})",
                        self.base,
                        if ready { 200 } else { 503 }
                    )
                }
                _ => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }
}
