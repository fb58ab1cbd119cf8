//! Summaries quote citizens' questions and are rewritten when one is erased: every version
//! is sealed under a key of its own, and the previous version's key is destroyed, so what an
//! older version said is unreadable in the data directory.

use std::path::Path;

use sprechstunde_core::conformance::summary;
use sprechstunde_core::{Change, Store};
use sprechstunde_store_sled::SledStore;

use crate::data::write_raw;
use crate::erasure::{contains, read_all};

const MAGIC: &[u8] = b"SPRECHSTUNDE-KEYS-1\n";

/// The summary keys in the key file: (serial, key bytes).
fn summary_keys(dir: &Path) -> Vec<(u64, Vec<u8>)> {
    let file = std::fs::read(dir.join("citizen-keys")).expect("key file");
    let records = file.strip_prefix(MAGIC).expect("magic");
    records
        .chunks_exact(41)
        .filter(|r| r[0] == b's')
        .map(|r| {
            let serial = u64::from_be_bytes(r[1..9].try_into().expect("8 bytes"));
            (serial, r[9..].to_vec())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overwritten_summary_leaves_no_readable_trace_and_a_restart_loads_the_current_one() {
    // Arrange: a draft quoting a citizen's question with a unique string.
    let dir = tempfile::tempdir().expect("dir");
    let store = SledStore::open(dir.path()).expect("open");
    let secret = "Frage-SUMMARY-UNIQUE-5e1d";
    let mut first = summary(1);
    first.items[0].question = format!("Wann kommt {secret}?");
    store
        .commit(&[Change::Summary(first)])
        .await
        .expect("commit");
    let before = summary_keys(dir.path());
    assert_eq!(before.len(), 1, "one key for the one version");
    let (_, bytes) = read_all(dir.path());
    assert!(!contains(&bytes, secret), "the summary is sealed");

    // Act: the redacted version replaces it (as after an erasure).
    let redacted = summary(1);
    store
        .commit(&[Change::Summary(redacted.clone())])
        .await
        .expect("commit");

    // Assert: one summary key, a new one; the old version's key left the file.
    let after = summary_keys(dir.path());
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(after[0].0 > before[0].0, "a new serial");
    let keys = std::fs::read(dir.path().join("citizen-keys")).expect("key file");
    assert!(!keys.windows(32).any(|w| w == before[0].1.as_slice()));
    let (files, bytes) = read_all(dir.path());
    assert!(!contains(&bytes, secret), "{secret} is on disk in clear");
    println!(
        "sled summary scan: {files} files, {} bytes, 1 string sought",
        bytes.len()
    );

    // A restart loads the current version, and the next version takes a new serial.
    drop(store);
    let store = SledStore::open(dir.path()).expect("reopen");
    assert_eq!(
        store.load().await.expect("load").summaries,
        vec![redacted.clone()]
    );
    let mut published = redacted;
    published.published_at = Some(published.updated_at);
    store
        .commit(&[Change::Summary(published.clone())])
        .await
        .expect("commit");
    let last = summary_keys(dir.path());
    assert_eq!(last.len(), 1, "{last:?}");
    assert!(last[0].0 > after[0].0, "serials grow across restarts");
    assert_eq!(store.load().await.expect("load").summaries, vec![published]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_summary_stored_in_clear_by_an_older_version_loads_and_is_sealed_when_rewritten() {
    // Arrange: a summary record in clear JSON, as written before summaries were sealed.
    let dir = tempfile::tempdir().expect("dir");
    drop(SledStore::open(dir.path()).expect("create"));
    let old = summary(7);
    let mut key = vec![b'y'];
    key.extend_from_slice(&7u64.to_be_bytes());
    write_raw(dir.path(), &key, &serde_json::to_vec(&old).expect("json"));

    // Act
    let store = SledStore::open(dir.path()).expect("open");
    let loaded = store.load().await.expect("load").summaries;
    let mut edited = old.clone();
    edited.items[0].answer = "Im Sommer.".into();
    store
        .commit(&[Change::Summary(edited.clone())])
        .await
        .expect("commit");

    // Assert
    assert_eq!(loaded, vec![old]);
    assert_eq!(summary_keys(dir.path()).len(), 1);
    drop(store);
    let store = SledStore::open(dir.path()).expect("reopen");
    assert_eq!(store.load().await.expect("load").summaries, vec![edited]);
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_and_the_key_file_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;

    // Arrange
    let root = tempfile::tempdir().expect("dir");
    let dir = root.path().join("city").join("data");

    // Act: the store creates the directory.
    let store = SledStore::open(&dir).expect("open");

    // Assert
    assert_eq!(mode(&dir), 0o700);
    let keys = dir.join("citizen-keys");
    assert_eq!(mode(&keys), 0o600);

    // A key file left readable by others (an older version) is tightened at the next start.
    drop(store);
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let _store = SledStore::open(&dir).expect("reopen");
    assert_eq!(mode(&keys), 0o600);
}
