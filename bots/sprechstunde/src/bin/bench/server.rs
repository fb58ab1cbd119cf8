//! The server the web chat phases of `sprechstunde-bench` load, in a process of its own: either
//! the bench itself started a second time with `--serve DIR` (a temporary data directory, no
//! flood limit, a staff token for the answer phase), or a server that already runs
//! (`--connect URL`). The child's CPU time and peak memory are read from `/proc`, so the figures
//! show what the server alone used of the machine.

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use sprechstunde::{Application, Settings};

/// Where the load goes.
pub(crate) struct Target {
    base: String,
    token: Option<String>,
    child: Option<Spawned>,
}

struct Spawned {
    child: Child,
    /// Closing it tells the server to stop.
    stdin: Option<ChildStdin>,
    /// `sled` or `postgres`.
    store: &'static str,
    _dir: tempfile::TempDir,
}

/// Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

impl Target {
    /// A server that already runs at `base` (`http://HOST:PORT`).
    pub(crate) fn connect(base: &str, token: Option<String>) -> Target {
        Target {
            base: base.trim_end_matches('/').to_owned(),
            token,
            child: None,
        }
    }

    /// Starts this binary again as the server (`--serve`) and waits until it listens; on the
    /// PostgreSQL database at `postgres`, else on sled in a temporary data directory.
    ///
    /// # Errors
    /// The process could not be started or did not report its address.
    pub(crate) async fn spawn(postgres: Option<&str>) -> anyhow::Result<Target> {
        let dir = tempfile::tempdir()?;
        let exe = std::env::current_exe()?;
        let mut command = Command::new(exe);
        command
            .env_remove("SPRECHSTUNDE_STORE__BACKEND")
            .env_remove("SPRECHSTUNDE_STORE__URL");
        if let Some(url) = postgres {
            // As an operator configures it (docs/operations.md).
            command
                .env("SPRECHSTUNDE_STORE__BACKEND", "postgres")
                .env("SPRECHSTUNDE_STORE__URL", url);
        }
        let mut child = command
            .arg("--serve")
            .arg(dir.path().join("data"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the bench server process")?;
        let stdout = child.stdout.take().context("server stdout")?;
        let line = tokio::task::spawn_blocking(move || {
            let mut lines = std::io::BufReader::new(stdout).lines();
            let first = lines.next();
            // Keep reading, so the server never blocks on a full pipe.
            std::thread::spawn(move || lines.for_each(drop));
            first
        })
        .await?
        .context("the bench server exited before it listened")??;
        let mut words = line.split_whitespace();
        let (Some("bench-server"), Some(base), Some(token)) =
            (words.next(), words.next(), words.next())
        else {
            bail!("unexpected first line from the bench server: {line}");
        };
        let stdin = child.stdin.take();
        Ok(Target {
            base: base.to_owned(),
            token: Some(token.to_owned()),
            child: Some(Spawned {
                child,
                stdin,
                store: if postgres.is_some() {
                    "postgres"
                } else {
                    "sled"
                },
                _dir: dir,
            }),
        })
    }

    /// The base URL.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// The web chat's WebSocket URL.
    pub(crate) fn ws_url(&self) -> String {
        let rest = self
            .base
            .strip_prefix("https://")
            .map(|r| format!("wss://{r}"))
            .or_else(|| {
                self.base
                    .strip_prefix("http://")
                    .map(|r| format!("ws://{r}"))
            })
            .unwrap_or_else(|| self.base.clone());
        format!("{rest}/ws")
    }

    /// A staff API token, if known.
    pub(crate) fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// How the server runs, for the report.
    pub(crate) fn describe(&self) -> String {
        match &self.child {
            Some(s) => format!(
                "{} (own process, pid {}, store {})",
                self.base,
                s.child.id(),
                s.store
            ),
            None => format!("{} (running server, not measured)", self.base),
        }
    }

    /// CPU seconds the spawned server used so far (user + system); `None` for `--connect`.
    pub(crate) fn cpu(&self) -> Option<f64> {
        let pid = self.child.as_ref()?.child.id();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name, which is in parentheses and may hold spaces.
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
        // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
        Some((ticks(11)? + ticks(12)?) / TICKS_PER_SECOND)
    }

    /// Prints the server's CPU use since `before`, over `elapsed` of wall time.
    pub(crate) fn print_cpu_since(&self, before: Option<f64>, elapsed: Duration) {
        if let (Some(before), Some(after)) = (before, self.cpu()) {
            let used = after - before;
            println!(
                "  server process: {used:.2} CPU s in {:.2} s = {:.0} % (of {} % on {} cores)",
                elapsed.as_secs_f64(),
                100.0 * used / elapsed.as_secs_f64().max(1e-9),
                100 * super::cores(),
                super::cores()
            );
        }
    }

    /// Stops a spawned server and prints its peak memory.
    ///
    /// # Errors
    /// The server process failed.
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        let Some(mut spawned) = self.child else {
            return Ok(());
        };
        let pid = spawned.child.id();
        println!(
            "  server process peak memory (VmHWM): {}",
            super::peak_rss(&pid.to_string())
        );
        drop(spawned.stdin.take());
        let status = tokio::task::spawn_blocking(move || spawned.child.wait()).await??;
        if !status.success() {
            bail!("the bench server exited with {status}");
        }
        Ok(())
    }
}

/// The server side (`--serve DIR`): a server on `127.0.0.1:0` without flood limit, a staff
/// member with an API token; prints `bench-server BASE TOKEN` and serves until stdin closes.
///
/// # Errors
/// The server could not start.
pub(crate) async fn serve(data_dir: &Path) -> anyhow::Result<()> {
    let mut settings = Settings::load(None)?;
    settings.server.listen = "127.0.0.1:0".parse()?;
    settings.server.data_dir = data_dir.to_owned();
    // Each bench citizen sends far more than a person would: no flood limit here.
    settings.limits.citizen_messages = 0;
    settings.limits.lift_web_chat_rate_limits();
    let app = Application::build(&settings).await?;
    let addr = app.local_addr()?;
    let (_, token) = super::bench_staff(app.office()).await?;
    let stop = app.shutdown_token();
    let server = tokio::spawn(app.run());
    println!("bench-server {} {token}", super::app_base(addr));
    // The parent closes stdin (or dies): stop.
    tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    })
    .await?;
    stop.cancel();
    server.await?
}
