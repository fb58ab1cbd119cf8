//! What the store keeps: write order, staff login index, and refusal of bad data.

use std::fs::{File, TryLockError};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sprechstunde_core::conformance::{audit_chain, question, staff};
use sprechstunde_core::{Change, Store, StoreError};
use sprechstunde_store_sled::SledStore;
use tokio::task::JoinSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_batch_with_the_highest_sequence_number_is_the_one_kept() {
    // Arrange
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SledStore::open(dir.path()).expect("open"));

    // Act: many writers replace the same question concurrently.
    let mut writers = JoinSet::new();
    for version in 0..100 {
        let store = Arc::clone(&store);
        writers.spawn(async move {
            let mut q = question(1);
            q.entries.truncate(1);
            q.entries[0].text = format!("version {version}");
            let seq = store.apply(&[Change::Question(q.clone())]).await?;
            Ok::<_, StoreError>((seq, q))
        });
    }
    let mut applied = Vec::new();
    while let Some(done) = writers.join_next().await {
        applied.push(done.expect("writer").expect("apply"));
    }

    // Assert
    let (_, last) = applied
        .into_iter()
        .max_by_key(|(seq, _)| *seq)
        .expect("one");
    assert_eq!(store.load().await.expect("load").questions, vec![last]);
}

#[tokio::test]
async fn a_member_who_changes_login_frees_the_old_one() {
    // Arrange
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SledStore::open(dir.path()).expect("open");
    store.put_staff(&staff(1, "erika")).await.expect("put");

    // Act
    store
        .put_staff(&staff(1, "erika.muster"))
        .await
        .expect("rename");
    store
        .put_staff(&staff(2, "erika"))
        .await
        .expect("the old login is free");

    // Assert
    let by_new = store.staff_by_login("erika.muster").await.expect("get");
    let by_old = store.staff_by_login("erika").await.expect("get");
    assert_eq!(by_new.map(|m| m.id.0), Some(1));
    assert_eq!(by_old.map(|m| m.id.0), Some(2));
    let clash = store.put_staff(&staff(1, "erika")).await;
    assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
    assert_eq!(store.staff().await.expect("list").len(), 2);
}

#[tokio::test]
async fn a_corrupt_value_is_reported_as_corrupt() {
    // Arrange: write garbage where a question belongs, with sled directly.
    let dir = tempfile::tempdir().expect("temp dir");
    drop(SledStore::open(dir.path()).expect("create"));
    write_raw(dir.path(), &question_key(1), b"{not json");

    // Act
    let store = SledStore::open(dir.path()).expect("open");
    let loaded = store.load().await;

    // Assert
    assert!(matches!(loaded, Err(StoreError::Corrupt(_))), "{loaded:?}");
}

#[tokio::test]
async fn a_value_under_another_id_is_reported_as_corrupt() {
    // Arrange
    let dir = tempfile::tempdir().expect("temp dir");
    drop(SledStore::open(dir.path()).expect("create"));
    let value = serde_json::to_vec(&question(1)).expect("json");
    write_raw(dir.path(), &question_key(2), &value);

    // Act
    let store = SledStore::open(dir.path()).expect("open");
    let loaded = store.load().await;

    // Assert
    assert!(matches!(loaded, Err(StoreError::Corrupt(_))), "{loaded:?}");
}

#[tokio::test]
async fn a_damaged_audit_entry_is_named_by_its_number() {
    // Arrange: three entries, then garbage over the second with sled directly.
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let store = SledStore::open(dir.path()).expect("create");
        for entry in audit_chain(3) {
            store.append_audit(&entry).await.expect("append");
        }
    }
    let mut key = vec![b'e'];
    key.extend_from_slice(&2u64.to_be_bytes());
    write_raw_in(dir.path(), "audit", &key, b"{not json");

    // Act
    let store = SledStore::open(dir.path()).expect("open");
    let read = store.audit_entries(0, 10).await;

    // Assert: corrupt, and the message says which entry, so it can be compared with a backup.
    match read {
        Err(StoreError::Corrupt(message)) => {
            assert!(message.contains("audit entry 2:"), "{message}");
        }
        other => panic!("expected a corrupt entry, got {other:?}"),
    }
}

#[test]
fn a_database_of_an_unknown_format_is_refused() {
    // Arrange
    let dir = tempfile::tempdir().expect("temp dir");
    write_raw(dir.path(), b"m/format", b"99");

    // Act
    let opened = SledStore::open(dir.path());

    // Assert: refused, and the directory is free again at once.
    assert!(matches!(opened, Err(StoreError::Corrupt(_))), "{opened:?}");
    let again = SledStore::open(dir.path());
    assert!(matches!(again, Err(StoreError::Corrupt(_))), "{again:?}");
}

fn question_key(id: u64) -> Vec<u8> {
    let mut key = vec![b'q'];
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// Writes one entry into the engine tree with sled itself, bypassing the store, and waits
/// until sled has released the directory again (its threads hold it a moment after drop).
pub(crate) fn write_raw(dir: &Path, key: &[u8], value: &[u8]) {
    write_raw_in(dir, "engine", key, value);
}

/// Like [`write_raw`], into the tree `tree`.
fn write_raw_in(dir: &Path, tree: &str, key: &[u8], value: &[u8]) {
    {
        let db = sled::open(dir).expect("raw open");
        let engine = db.open_tree(tree).expect("tree");
        engine.insert(key, value).expect("insert");
        db.flush().expect("flush");
    }
    let lock = File::open(dir.join("db")).expect("sled's lock file");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match lock.try_lock() {
            Ok(()) => return,
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => panic!("sled did not release {}: {e}", dir.display()),
        }
    }
}
