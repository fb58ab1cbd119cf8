//! A real SMTP server for the mail tests: `aiosmtpd` from PyPI on 127.0.0.1, with the handler
//! in `tests/fixtures/smtp_sink.py` that stores every accepted message as a JSON file
//! (envelope, decoded subject and body, raw message).
//!
//! `scripts/test.sh` installs aiosmtpd into a cached venv and exports its path as
//! `SPRECHSTUNDE_AIOSMTPD_VENV` (default `~/.cache/sprechstunde/aiosmtpd-venv`). A missing
//! aiosmtpd is an error: the mail tests fail, never skip.
//!
//! The server can be stopped and started again on the same port and directory, to test a mail
//! server that is down and comes back.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;
use tempfile::TempDir;
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// Where `scripts/test.sh` puts the venv, relative to `$HOME`.
const DEFAULT_VENV: &str = ".cache/sprechstunde/aiosmtpd-venv";

/// One message the server accepted.
#[derive(Debug, Clone, Deserialize)]
pub struct ReceivedMail {
    /// Envelope sender.
    pub mail_from: String,
    /// Envelope recipients.
    pub rcpt_tos: Vec<String>,
    /// `From` header, decoded.
    pub from: String,
    /// `To` header, decoded.
    pub to: String,
    /// Subject, decoded.
    pub subject: String,
    /// Plain-text body, decoded.
    pub body: String,
    /// The message as it came over the wire.
    pub raw: String,
}

impl ReceivedMail {
    /// Whether `needle` occurs anywhere in the message: raw or decoded.
    pub fn mentions(&self, needle: &str) -> bool {
        self.raw.contains(needle) || self.subject.contains(needle) || self.body.contains(needle)
    }
}

/// A running (or stopped) aiosmtpd.
pub struct SmtpServer {
    port: u16,
    dir: TempDir,
    child: Option<Child>,
}

fn venv_path() -> PathBuf {
    match std::env::var_os("SPRECHSTUNDE_AIOSMTPD_VENV") {
        Some(path) => PathBuf::from(path),
        None => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join(DEFAULT_VENV),
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A port nobody listens on right now.
///
/// # Errors
/// No port could be bound.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

impl SmtpServer {
    /// Starts a server on a free port with an empty mailbox.
    ///
    /// # Errors
    /// aiosmtpd is not installed, or does not listen within the deadline.
    pub async fn start() -> anyhow::Result<SmtpServer> {
        let mut server = SmtpServer::stopped(free_port()?)?;
        server.resume().await?;
        Ok(server)
    }

    /// A server that is not running yet (nothing listens on `port`), with an empty mailbox;
    /// [`SmtpServer::resume`] starts it.
    ///
    /// # Errors
    /// aiosmtpd is not installed, or no temp dir.
    pub fn stopped(port: u16) -> anyhow::Result<SmtpServer> {
        let python = venv_path().join("bin/python");
        if !python.is_file() {
            bail!(
                "MAIL TESTS CANNOT RUN: no aiosmtpd venv at {}. scripts/test.sh installs \
                 aiosmtpd (PyPI) into it; or set SPRECHSTUNDE_AIOSMTPD_VENV.",
                venv_path().display()
            );
        }
        Ok(SmtpServer {
            port,
            dir: tempfile::tempdir()?,
            child: None,
        })
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts the server (again) on its port and mailbox; returns once it accepts
    /// connections.
    ///
    /// # Errors
    /// It does not listen within the deadline.
    pub async fn resume(&mut self) -> anyhow::Result<()> {
        let python = venv_path().join("bin/python");
        let mut child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "smtp_sink.JsonSink"])
            .arg(self.dir.path())
            .env("PYTHONPATH", fixtures())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot run {}", python.display()))?;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait()? {
                bail!("aiosmtpd exited at start: {status}");
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                break;
            }
            if Instant::now() > deadline {
                bail!("aiosmtpd did not listen on port {} in time", self.port);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.child = Some(child);
        Ok(())
    }

    /// Stops the server (the mailbox stays); connections are refused until it resumes.
    ///
    /// # Errors
    /// It could not be stopped.
    pub async fn pause(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().await?;
        }
        Ok(())
    }

    /// Every message received so far, oldest first.
    ///
    /// # Errors
    /// A file could not be read or decoded.
    pub fn mails(&self) -> anyhow::Result<Vec<ReceivedMail>> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p)?;
                serde_json::from_str(&text).with_context(|| format!("mail {}", p.display()))
            })
            .collect()
    }

    /// Waits until at least `n` messages arrived, up to `within`; returns them all.
    ///
    /// # Errors
    /// Fewer arrived in time.
    pub async fn wait_for(&self, n: usize, within: Duration) -> anyhow::Result<Vec<ReceivedMail>> {
        let deadline = Instant::now() + within;
        loop {
            let mails = self.mails()?;
            if mails.len() >= n {
                return Ok(mails);
            }
            if Instant::now() > deadline {
                bail!("{} of {n} mails arrived within {within:?}", mails.len());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
