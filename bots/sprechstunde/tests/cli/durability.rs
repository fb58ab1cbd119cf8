//! The data directory as an operator meets it: loose permissions are tightened at start, and
//! a damaged store stops the start with the file and what to do.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};

use super::{DEADLINE, run, serve, sprechstunde, text};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test]
async fn a_loose_data_directory_and_key_files_are_tightened_to_the_owner_at_start() {
    // Arrange: a data directory from a backup, unpacked with a loose umask, and a key file
    // of its own elsewhere that everybody may read.
    let dir = tempfile::tempdir().unwrap();
    let (mut first, _) = serve(dir.path()).await;
    first.kill().await.unwrap();
    let _ = first.wait().await;
    let data = dir.path().join("data");
    let key = data.join("pseudonym.key");
    set_mode(&data, 0o755);
    set_mode(&key, 0o644);
    set_mode(&data.join("db"), 0o644);
    std::fs::write(data.join("notes.txt"), "Notiz").unwrap();
    set_mode(&data.join("notes.txt"), 0o666);
    let own_key = dir.path().join("eigener.key");
    std::fs::write(&own_key, "ab".repeat(32)).unwrap();
    set_mode(&own_key, 0o644);

    // Act
    let (mut default_key, _) = serve(dir.path()).await;
    default_key.kill().await.unwrap();
    let _ = default_key.wait().await;
    let mut configured_key = sprechstunde(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("SPRECHSTUNDE_PRIVACY__PSEUDONYM_KEY_FILE", &own_key)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(configured_key.stdout.take().unwrap()).lines();
    let started = tokio::time::timeout(DEADLINE, lines.next_line()).await;
    configured_key.kill().await.unwrap();

    // Assert
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&key), 0o600);
    assert_eq!(mode(&data.join("db")), 0o600);
    assert_eq!(mode(&data.join("notes.txt")), 0o600);
    assert!(matches!(started, Ok(Ok(Some(_)))), "{started:?}");
    assert_eq!(mode(&own_key), 0o600);
}

#[tokio::test]
async fn a_damaged_store_stops_the_start_naming_the_file_and_the_backup() {
    // Arrange: a store with a session, then one byte changed in sled's snapshot file, which
    // sled reads (and checks) at every start.
    let dir = tempfile::tempdir().unwrap();
    let created = run(
        dir.path(),
        &[
            "session",
            "create",
            "--title",
            "Bürgersprechstunde im Rathaus",
            "--host",
            "OB Muster",
            "--start",
            "2030-03-05T17:00",
            "--end",
            "2030-03-05T18:00",
        ],
    )
    .await;
    assert!(created.status.success(), "{}", text(&created.stderr));
    // sled writes its snapshot when it recovers at the next start.
    let listed = run(dir.path(), &["session", "list"]).await;
    assert!(text(&listed.stdout).contains("Rathaus"));
    let data = dir.path().join("data");
    let snapshot = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("snap.")
        })
        .expect("sled wrote a snapshot");
    let mut bytes = std::fs::read(&snapshot).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(&snapshot, &bytes).unwrap();

    // Act
    let listed = run(dir.path(), &["session", "list"]).await;
    let served = run(dir.path(), &["serve", "--listen", "127.0.0.1:0"]).await;

    // Assert
    let db = std::path::absolute(data.join("db")).unwrap();
    for (what, out) in [("session list", listed), ("serve", served)] {
        assert!(!out.status.success(), "{what}: the damaged store opened");
        let err = text(&out.stderr);
        assert!(err.contains(&db.display().to_string()), "{what}: {err}");
        assert!(err.contains("snap."), "{what}: {err}");
        assert!(
            err.contains("restore") && err.contains("backup"),
            "{what}: {err}"
        );
        assert!(!err.contains("backtrace"), "{what}: {err}");
    }
}
