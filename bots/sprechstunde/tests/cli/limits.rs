//! The real binary raises its open-file limit to the hard limit at start, so that the
//! connection maximum derived from it is not the common 1024.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};

use super::{BIN, DEADLINE};

/// The soft and hard "Max open files" of a process.
fn open_file_limits(pid: u32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let numbers: Vec<&str> = line.split_whitespace().skip(3).take(2).collect();
    (numbers[0].to_owned(), numbers[1].to_owned())
}

#[tokio::test]
async fn serve_raises_its_open_file_limit_to_the_hard_limit() {
    // Arrange: a shell lowers the soft limit, then becomes the server (exec keeps the pid).
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -Sn 256 && exec \"$0\" serve --listen 127.0.0.1:0")
        .arg(BIN)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    for (key, _) in std::env::vars() {
        if key.starts_with("SPRECHSTUNDE_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }

    // Act
    let mut child = cmd.spawn().unwrap();
    let pid = child.id().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    tokio::time::timeout(DEADLINE, lines.next_line())
        .await
        .expect("serve printed its address in time")
        .unwrap()
        .expect("a line");

    // Assert
    let (soft, hard) = open_file_limits(pid);
    assert_ne!(soft, "256", "the soft limit was not raised");
    assert_eq!(soft, hard);
    child.kill().await.unwrap();
}
