//! A real Synapse homeserver on loopback for the Matrix tests, and ([`citizen`]) a second
//! Matrix client that plays the citizen.
//!
//! [`Synapse::start`] writes a configuration into a fresh temp dir (SQLite, one client
//! listener on `127.0.0.1` and a free port, no federation, registration only by shared
//! secret, rate limits raised), generates the signing key, starts
//! `python -m synapse.app.homeserver` from the venv and waits for
//! `/_matrix/client/versions`. [`Synapse::stop`] and [`Synapse::restart`] take it down and
//! bring it back on the same directory and port (for outage tests); dropping it kills it.
//!
//! `scripts/test.sh` installs Synapse into a cached venv and exports its path as
//! `SPRECHSTUNDE_SYNAPSE_VENV` (default `~/.cache/sprechstunde/synapse-venv`). Without it,
//! `start` returns `Ok(None)` so that a developer can run the other tests; under CI
//! (`CI=true`) a missing Synapse is an error, so Matrix tests fail, never skip.

pub mod citizen;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tempfile::TempDir;
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// The server name of every test homeserver (user ids are `@name:localhost`).
pub const SERVER_NAME: &str = "localhost";
/// Where `scripts/test.sh` installs the venv, relative to `$HOME`.
const DEFAULT_VENV: &str = ".cache/sprechstunde/synapse-venv";
/// How long Synapse may take to answer `/_matrix/client/versions` (first start creates the
/// database).
const STARTUP_DEADLINE: Duration = Duration::from_secs(60);
/// Shared secret for registering users.
const SHARED_SECRET: &str = "sprechstunde-test-registration-secret";

/// A running (or stopped) Synapse.
pub struct Synapse {
    venv: PathBuf,
    dir: TempDir,
    port: u16,
    child: Option<Child>,
}

impl std::fmt::Debug for Synapse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Synapse").field("port", &self.port).finish()
    }
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

fn venv_path() -> PathBuf {
    match std::env::var_os("SPRECHSTUNDE_SYNAPSE_VENV") {
        Some(path) => PathBuf::from(path),
        None => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join(DEFAULT_VENV),
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

fn config(dir: &Path, port: u16) -> String {
    let d = dir.display();
    // Rate limits high enough that tests never meet them.
    let lots = "{per_second: 1000, burst_count: 1000}";
    format!(
        r#"server_name: "{SERVER_NAME}"
public_baseurl: "http://127.0.0.1:{port}/"
listeners:
  - port: {port}
    bind_addresses: ["127.0.0.1"]
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "{d}/homeserver.db"
log_config: "{d}/log.yaml"
media_store_path: "{d}/media"
signing_key_path: "{d}/signing.key"
registration_shared_secret: "{SHARED_SECRET}"
enable_registration: false
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
macaroon_secret_key: "sprechstunde-test-macaroon-secret"
form_secret: "sprechstunde-test-form-secret"
presence:
  enabled: false
url_preview_enabled: false
rc_message: {lots}
rc_registration: {lots}
rc_joins:
  local: {lots}
  remote: {lots}
rc_joins_per_room: {lots}
rc_invites:
  per_room: {lots}
  per_user: {lots}
  per_issuer: {lots}
rc_login:
  address: {lots}
  account: {lots}
  failed_attempts: {lots}
rc_admin_redaction: {lots}
rc_room_creation: {lots}
rc_key_requests: {lots}
rc_3pid_validation: {lots}
rc_delayed_event_mgmt: {lots}
rc_reports: {lots}
"#
    )
}

fn log_config(dir: &Path) -> String {
    format!(
        r#"version: 1
formatters:
  plain:
    format: "%(asctime)s %(name)s %(levelname)s %(message)s"
handlers:
  file:
    class: logging.FileHandler
    filename: "{}/homeserver.log"
    formatter: plain
root:
  level: WARNING
  handlers: [file]
disable_existing_loggers: false
"#,
        dir.display()
    )
}

/// The last lines of a file, for error messages.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(30);
    lines[start..].join("\n")
}

impl Synapse {
    /// Starts a fresh homeserver; `None` (with a notice) when Synapse is not installed and
    /// this is not CI.
    ///
    /// # Errors
    /// Missing Synapse under CI; a homeserver that does not start within the deadline.
    pub async fn start() -> anyhow::Result<Option<Synapse>> {
        let venv = venv_path();
        if !venv.join("bin/python").is_file() || !venv.join("bin/synapse_homeserver").is_file() {
            if under_ci() {
                bail!(
                    "MATRIX TESTS CANNOT RUN: no Synapse venv at {}. Under CI the Matrix tests \
                     must run; scripts/test.sh installs matrix-synapse into that venv.",
                    venv.display()
                );
            }
            eprintln!(
                "notice: no Synapse venv at {}, skipping this Matrix test \
                 (run scripts/test.sh, or set SPRECHSTUNDE_SYNAPSE_VENV)",
                venv.display()
            );
            return Ok(None);
        }
        let dir = tempfile::Builder::new()
            .prefix("sprechstunde-synapse-")
            .tempdir()
            .context("creating a temporary directory for Synapse")?;
        let port = free_port()?;
        std::fs::write(dir.path().join("homeserver.yaml"), config(dir.path(), port))?;
        std::fs::write(dir.path().join("log.yaml"), log_config(dir.path()))?;
        let status = Command::new(venv.join("bin/python"))
            .args(["-m", "synapse.app.homeserver", "--generate-keys", "-c"])
            .arg(dir.path().join("homeserver.yaml"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .context("running synapse --generate-keys")?;
        if !status.success() {
            bail!("synapse --generate-keys failed: {status}");
        }
        let mut synapse = Synapse {
            venv,
            dir,
            port,
            child: None,
        };
        synapse.restart().await?;
        Ok(Some(synapse))
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A user id on this server.
    pub fn user_id(&self, localpart: &str) -> String {
        format!("@{localpart}:{SERVER_NAME}")
    }

    /// Starts the homeserver (again) on the same directory and port and waits until it
    /// answers.
    ///
    /// # Errors
    /// It does not answer within the deadline.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        if self.child.is_some() {
            self.stop().await?;
        }
        let output = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("stdout.log"))?;
        let child = Command::new(self.venv.join("bin/python"))
            .args(["-m", "synapse.app.homeserver", "-c"])
            .arg(self.dir.path().join("homeserver.yaml"))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output)
            .kill_on_drop(true)
            .spawn()
            .context("starting Synapse")?;
        self.child = Some(child);
        let http = reqwest::Client::new();
        let url = format!("{}/_matrix/client/versions", self.url());
        let deadline = Instant::now() + STARTUP_DEADLINE;
        loop {
            if let Ok(response) = http.get(&url).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "Synapse exited with {status}:\n{}\n{}",
                    tail(&self.dir.path().join("stdout.log")),
                    tail(&self.dir.path().join("homeserver.log"))
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "Synapse did not answer within {STARTUP_DEADLINE:?}:\n{}",
                    tail(&self.dir.path().join("homeserver.log"))
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Kills the homeserver (the database stays; [`Synapse::restart`] brings it back).
    ///
    /// # Errors
    /// The process could not be killed.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().await.context("killing Synapse")?;
        }
        Ok(())
    }

    /// Registers a user by shared secret (`register_new_matrix_user -k`); returns the user id.
    ///
    /// # Errors
    /// The registration failed.
    pub async fn register(&self, localpart: &str, password: &str) -> anyhow::Result<String> {
        let output = Command::new(self.venv.join("bin/register_new_matrix_user"))
            .args([
                "-u",
                localpart,
                "-p",
                password,
                "--no-admin",
                "-k",
                SHARED_SECRET,
            ])
            .arg(self.url())
            .stdin(Stdio::null())
            .output()
            .await
            .context("running register_new_matrix_user")?;
        if !output.status.success() {
            bail!(
                "registering {localpart} failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(self.user_id(localpart))
    }
}
