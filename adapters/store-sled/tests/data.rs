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
    wait_released(dir);
}

/// Waits until sled has released the directory (its threads hold it a moment after drop).
fn wait_released(dir: &Path) {
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

#[tokio::test]
async fn a_thread_is_stored_entry_by_entry_beside_its_question_record() {
    // Arrange: a question with a long thread, stored.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut q = question(1);
    let long = "Noch eine Nachricht zum selben Anliegen. ".repeat(20);
    for _ in 0..50 {
        let mut entry = q.entries[0].clone();
        entry.text.clone_from(&long);
        q.entries.push(entry);
    }
    {
        let store = SledStore::open(dir.path()).expect("open");
        store
            .commit(&[Change::Question(q.clone())])
            .await
            .expect("commit");

        // Act: one more message in the thread.
        let mut entry = q.entries[0].clone();
        entry.text = "Die letzte Nachricht.".into();
        q.entries.push(entry);
        store
            .commit(&[Change::Question(q.clone())])
            .await
            .expect("commit");
        assert_eq!(store.load().await.expect("load").questions, vec![q.clone()]);
    }

    // Assert: the record no longer carries the thread, each entry has a key of its own, and
    // everything reads back after a reopen.
    let (record, entries) = read_raw(dir.path(), |db| {
        let engine = db.open_tree("engine").expect("tree");
        let record = engine.get(question_key(1)).expect("get").expect("record");
        let entries = engine.scan_prefix(b"t").count();
        (record.len(), entries)
    });
    assert!(record < long.len(), "the record holds {record} bytes");
    assert_eq!(entries, q.entries.len());
    let store = SledStore::open(dir.path()).expect("reopen");
    assert_eq!(store.load().await.expect("load").questions, vec![q]);
}

#[tokio::test]
async fn a_store_of_layout_one_is_read_and_its_threads_move_when_written() {
    // Arrange: layout 1, a question record that carries its thread (in clear, as before
    // sealing came in; sealed records are opened the same way).
    let dir = tempfile::tempdir().expect("temp dir");
    let mut q = question(1);
    write_raw(dir.path(), b"m/format", b"1");
    write_raw(
        dir.path(),
        &question_key(1),
        &serde_json::to_vec(&q).expect("encode"),
    );

    // Act
    let loaded = {
        let store = SledStore::open(dir.path()).expect("open layout 1");
        let loaded = store.load().await.expect("load").questions;
        let mut entry = q.entries[0].clone();
        entry.text = "Nachtrag".into();
        q.entries.push(entry);
        store
            .commit(&[Change::Question(q.clone())])
            .await
            .expect("commit");
        loaded
    };

    // Assert
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].entries.len(), q.entries.len() - 1);
    let store = SledStore::open(dir.path()).expect("reopen");
    assert_eq!(store.load().await.expect("load").questions, vec![q]);
    drop(store);
    let format = read_raw(dir.path(), |db| {
        let engine = db.open_tree("engine").expect("tree");
        engine
            .get(b"m/format")
            .expect("get")
            .expect("format")
            .to_vec()
    });
    assert_eq!(format, b"2");
}

#[tokio::test]
async fn forgetting_a_question_removes_its_thread_entries() {
    // Arrange
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let store = SledStore::open(dir.path()).expect("open");
        store
            .commit(&[Change::Question(question(1)), Change::Question(question(2))])
            .await
            .expect("commit");

        // Act
        store
            .commit(&[Change::ForgetQuestion(sprechstunde_core::QuestionId(1))])
            .await
            .expect("forget");
    }

    // Assert: only the other question's entries are left.
    let left = read_raw(dir.path(), |db| {
        let engine = db.open_tree("engine").expect("tree");
        engine.scan_prefix(b"t").count()
    });
    assert_eq!(left, question(2).entries.len());
}

/// Reads the database with sled itself, bypassing the store, and waits until sled has
/// released the directory again.
fn read_raw<T>(dir: &Path, read: impl FnOnce(&sled::Db) -> T) -> T {
    let out = {
        let db = sled::open(dir).expect("raw open");
        read(&db)
    };
    wait_released(dir);
    out
}
