//! The `sprechstunde` binary as an operator uses it: help, configuration errors, serve on the
//! embedded default, staff accounts, tokens and sessions from the command line.

// Test code: a failed unwrap is a failed test, with the location in the message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

#[path = "cli/backup.rs"]
mod backup;
#[path = "cli/crash_loop.rs"]
mod crash_loop;
#[path = "cli/disk_full.rs"]
mod disk_full;
#[path = "cli/durability.rs"]
mod durability;
#[path = "cli/failover.rs"]
mod failover;
#[path = "cli/limits.rs"]
mod limits;
#[path = "cli/log_scan.rs"]
mod log_scan;
#[path = "cli/packaging.rs"]
mod packaging;
#[path = "cli/postgres.rs"]
mod postgres;
#[path = "cli/privacy.rs"]
mod privacy;
#[path = "cli/sessions.rs"]
mod sessions;
#[path = "cli/signals.rs"]
mod signals;
#[path = "cli/staff.rs"]
mod staff;
#[path = "cli/telegram_faults.rs"]
mod telegram_faults;

const BIN: &str = env!("CARGO_BIN_EXE_sprechstunde");
const DEADLINE: Duration = Duration::from_secs(20);

/// A command with a clean environment for the settings (no developer overrides).
fn sprechstunde(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
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
    cmd
}

async fn run(dir: &Path, args: &[&str]) -> Output {
    tokio::time::timeout(DEADLINE, sprechstunde(dir).args(args).output())
        .await
        .expect("command finished in time")
        .expect("command ran")
}

async fn run_with_stdin(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = sprechstunde(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.as_bytes())
        .await
        .expect("write stdin");
    drop(input);
    tokio::time::timeout(DEADLINE, child.wait_with_output())
        .await
        .expect("finished in time")
        .expect("ran")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Starts `serve` on port 0 in `dir` and returns the child and its base URL.
async fn serve(dir: &Path) -> (Child, String) {
    serve_command(sprechstunde(dir)).await
}

/// Starts `serve` on port 0 with `command` (the binary with its global options) and returns
/// the child and its base URL.
async fn serve_command(mut command: Command) -> (Child, String) {
    let mut child = command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let url = first_url(&mut child).await;
    (child, url)
}

/// The base URL a starting server prints in its first line.
async fn first_url(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(DEADLINE, lines.next_line())
        .await
        .expect("serve printed its address in time")
        .expect("read")
        .expect("a line");
    line.split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("address in the first line")
        .to_owned()
}

#[tokio::test]
async fn help_is_available_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let commands: &[&[&str]] = &[
        &[],
        &["serve"],
        &["staff"],
        &["staff", "add"],
        &["staff", "list"],
        &["staff", "passwd"],
        &["staff", "update"],
        &["staff", "logout"],
        &["staff", "unlock"],
        &["token"],
        &["token", "create"],
        &["token", "list"],
        &["token", "revoke"],
        &["session"],
        &["session", "create"],
        &["session", "list"],
        &["session", "cancel"],
        &["session", "update"],
        &["audit"],
        &["audit", "verify"],
        &["audit", "list"],
        &["audit", "purge"],
        &["backup"],
        &["restore"],
        &["privacy"],
        &["privacy", "record"],
        &["completions"],
        &["man"],
        &["healthcheck"],
    ];
    for args in commands {
        let mut all = args.to_vec();
        all.push("--help");
        let out = run(dir.path(), &all).await;
        assert!(out.status.success(), "{all:?}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("Usage:"), "{all:?}");
    }
}

#[tokio::test]
async fn an_invalid_environment_value_stops_start_up_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();

    let out = tokio::time::timeout(
        DEADLINE,
        sprechstunde(dir.path())
            .arg("serve")
            .env("SPRECHSTUNDE_SERVER__LISTEN", "not-an-address")
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    let bad_zone = tokio::time::timeout(
        DEADLINE,
        sprechstunde(dir.path())
            .args(["session", "list"])
            .env("SPRECHSTUNDE_OFFICE__TIMEZONE", "Mars/Olympus")
            .output(),
    )
    .await
    .unwrap()
    .unwrap();

    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("listen") && err.contains("SPRECHSTUNDE_SERVER__LISTEN"),
        "{err}"
    );
    assert!(!bad_zone.status.success());
    assert!(
        text(&bad_zone.stderr).contains("office.timezone"),
        "{}",
        text(&bad_zone.stderr)
    );
}

#[tokio::test]
async fn serve_runs_on_the_embedded_default_with_a_local_data_directory() {
    let dir = tempfile::tempdir().unwrap();

    let (mut child, url) = serve(dir.path()).await;
    let health = reqwest::get(format!("{url}/healthz"))
        .await
        .unwrap()
        .status();
    let page = reqwest::get(format!("{url}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let console = reqwest::get(format!("{url}/staff")).await.unwrap().status();
    child.kill().await.unwrap();

    assert_eq!(health, 200);
    assert!(page.contains("<html lang=\"de\""), "{page}");
    assert_eq!(console, 200);
    assert!(
        dir.path().join("data").is_dir(),
        "sled lives in ./data by default"
    );
}

#[tokio::test]
async fn staff_add_creates_an_account_that_logs_in_to_the_console() {
    let dir = tempfile::tempdir().unwrap();

    let added = run_with_stdin(
        dir.path(),
        &[
            "staff",
            "add",
            "--login",
            "admin",
            "--name",
            "Ada Admin",
            "--role",
            "admin",
        ],
        "ein-sicheres-passwort\n",
    )
    .await;
    let duplicate = run_with_stdin(
        dir.path(),
        &[
            "staff", "add", "--login", "admin", "--name", "Nochmal", "--role", "admin",
        ],
        "ein-sicheres-passwort\n",
    )
    .await;
    let weak = run_with_stdin(
        dir.path(),
        &[
            "staff", "add", "--login", "kurz", "--name", "K", "--role", "host",
        ],
        "kurz\n",
    )
    .await;
    let listed = run(dir.path(), &["staff", "list"]).await;
    let (mut child, url) = serve(dir.path()).await;
    let login = reqwest::Client::new()
        .post(format!("{url}/api/v1/login"))
        .json(&serde_json::json!({"login": "admin", "password": "ein-sicheres-passwort"}))
        .send()
        .await
        .unwrap();
    let status = login.status();
    let cookie = login.headers().get("set-cookie").cloned();
    child.kill().await.unwrap();

    assert!(added.status.success(), "{}", text(&added.stderr));
    assert!(!duplicate.status.success());
    assert!(text(&duplicate.stderr).contains("already exists"));
    assert!(!weak.status.success());
    assert!(
        text(&weak.stderr).contains("at least 12"),
        "{}",
        text(&weak.stderr)
    );
    assert!(text(&listed.stdout).contains("admin"));
    assert!(text(&listed.stdout).contains("Ada Admin"));
    assert_eq!(status, 200);
    let cookie = cookie.unwrap().to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
}

#[tokio::test]
async fn tokens_from_the_cli_open_the_api_until_revoked() {
    let dir = tempfile::tempdir().unwrap();
    run_with_stdin(
        dir.path(),
        &[
            "staff",
            "add",
            "--login",
            "system",
            "--name",
            "RIS",
            "--role",
            "citizens_office",
        ],
        "ein-sicheres-passwort\n",
    )
    .await;

    let created = run(
        dir.path(),
        &["token", "create", "--staff", "system", "--name", "RIS"],
    )
    .await;
    let token = text(&created.stdout).trim().to_owned();
    let (mut child, url) = serve(dir.path()).await;
    let client = reqwest::Client::new();
    let with_token = client
        .get(format!("{url}/api/v1/questions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .status();
    child.kill().await.unwrap();
    let _ = child.wait().await;
    let id = token.split('_').nth(1).unwrap().to_owned();
    let revoked = run(dir.path(), &["token", "revoke", &id]).await;
    let listed = run(dir.path(), &["token", "list"]).await;
    let (mut child, url) = serve(dir.path()).await;
    let after_revoke = client
        .get(format!("{url}/api/v1/questions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .status();
    child.kill().await.unwrap();

    assert!(created.status.success(), "{}", text(&created.stderr));
    assert!(token.starts_with("spst_"), "{token}");
    assert_eq!(with_token, 200);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    assert!(text(&listed.stdout).contains("revoked"));
    assert_eq!(after_revoke, 401);
}

#[tokio::test]
async fn sessions_are_scheduled_listed_and_cancelled_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();

    let created = run(
        dir.path(),
        &[
            "session",
            "create",
            "--title",
            "Bürgersprechstunde",
            "--host",
            "OB Muster",
            "--start",
            "2030-03-05T17:00",
            "--end",
            "2030-03-05T18:00",
            "--cap",
            "15",
        ],
    )
    .await;
    let invalid = run(
        dir.path(),
        &[
            "session", "create", "--title", "x", "--host", "y", "--start", "morgen", "--end",
            "später",
        ],
    )
    .await;
    let huge_window = run(
        dir.path(),
        &[
            "session",
            "create",
            "--title",
            "x",
            "--host",
            "y",
            "--start",
            "2030-03-05T17:00",
            "--end",
            "2030-03-05T18:00",
            "--presubmit-minutes",
            &i64::MAX.to_string(),
        ],
    )
    .await;
    let cancelled = run(dir.path(), &["session", "cancel", "1"]).await;
    let listed = run(dir.path(), &["session", "list"]).await;

    assert!(created.status.success(), "{}", text(&created.stderr));
    assert!(!invalid.status.success());
    assert!(
        text(&invalid.stderr).contains("not a date"),
        "{}",
        text(&invalid.stderr)
    );
    // An error, not a panic, and nothing saved.
    assert_eq!(
        huge_window.status.code(),
        Some(1),
        "{}",
        text(&huge_window.stderr)
    );
    assert!(
        text(&huge_window.stderr).contains("365"),
        "{}",
        text(&huge_window.stderr)
    );
    assert!(cancelled.status.success(), "{}", text(&cancelled.stderr));
    let listed = text(&listed.stdout);
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains("Bürgersprechstunde"), "{listed}");
    assert!(listed.contains("cancelled"), "{listed}");
    assert!(listed.contains("5. März 2030, 17:00 Uhr"), "{listed}");
}

#[tokio::test]
async fn a_monthly_series_is_scheduled_from_the_cli_at_local_time() {
    let dir = tempfile::tempdir().unwrap();
    // Every first Tuesday 17:00, from March 2030 (winter time) into April (summer time).
    let created = run(
        dir.path(),
        &[
            "session",
            "create",
            "--title",
            "Sprechstunde",
            "--host",
            "OB",
            "--start",
            "2030-03-05T17:00",
            "--end",
            "2030-03-05T18:00",
            "--repeat",
            "monthly",
            "--count",
            "2",
        ],
    )
    .await;
    let unbounded = run(
        dir.path(),
        &[
            "session",
            "create",
            "--title",
            "x",
            "--host",
            "y",
            "--start",
            "2030-03-05T17:00",
            "--end",
            "2030-03-05T18:00",
            "--repeat",
            "weekly",
        ],
    )
    .await;
    let listed = run(dir.path(), &["session", "list"]).await;

    assert!(created.status.success(), "{}", text(&created.stderr));
    assert!(
        text(&created.stdout).contains("sessions 1, 2"),
        "{}",
        text(&created.stdout)
    );
    assert!(!unbounded.status.success());
    assert!(
        text(&unbounded.stderr).contains("count or an end date"),
        "{}",
        text(&unbounded.stderr)
    );
    let listed = text(&listed.stdout);
    assert!(listed.contains("5. März 2030, 17:00 Uhr"), "{listed}");
    assert!(listed.contains("2. April 2030, 17:00 Uhr"), "{listed}");
}

#[tokio::test]
async fn the_cli_refuses_a_data_directory_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _url) = serve(dir.path()).await;

    let out = run(dir.path(), &["session", "list"]).await;
    child.kill().await.unwrap();

    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("in use"),
        "{}",
        text(&out.stderr)
    );
}
