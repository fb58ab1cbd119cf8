//! The kill -9 loop of `sprechstunde-crash-loop` at the test suite's size: the real server
//! under web chat load, SIGKILL at random moments, every acknowledged message afterwards in
//! its question exactly once (checked through the staff API).

use std::time::Duration;

use super::{BIN, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loop_of_twenty_kills_loses_no_acknowledged_message() {
    // Arrange
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_sprechstunde-crash-loop"));
    command
        .args(["--cycles", "20", "--citizens", "6", "--server", BIN])
        .kill_on_drop(true);

    // Act
    let out = tokio::time::timeout(Duration::from_secs(300), command.output())
        .await
        .expect("the crash loop finished in time")
        .unwrap();

    // Assert
    let stdout = text(&out.stdout);
    println!("{stdout}");
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("0 lost, 0 stored twice"), "{stdout}");
}
