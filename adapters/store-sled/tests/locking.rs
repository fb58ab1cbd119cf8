//! The data directory is used by one store at a time, and free again once it is dropped.

use sprechstunde_core::conformance::session;
use sprechstunde_core::{Change, Store, StoreError};
use sprechstunde_store_sled::SledStore;

#[test]
fn a_second_open_of_the_same_directory_reports_locked() {
    // Arrange
    let dir = tempfile::tempdir().expect("temp dir");
    let _first = SledStore::open(dir.path()).expect("first open");

    // Act
    let second = SledStore::open(dir.path());

    // Assert
    assert!(matches!(second, Err(StoreError::Locked)), "{second:?}");
}

// Another process opening a directory in use is covered by the CLI tests of the
// `sprechstunde` binary (`the_cli_refuses_a_data_directory_in_use`).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_store_frees_the_directory_for_many_reopens() {
    // Arrange
    let dir = tempfile::tempdir().expect("temp dir");

    // Act
    for i in 1..=20 {
        let store = SledStore::open(dir.path()).expect("reopen");
        store
            .commit(&[Change::Session(session(i))])
            .await
            .expect("commit");
    }

    // Assert
    let store = SledStore::open(dir.path()).expect("last open");
    assert_eq!(store.load().await.expect("load").sessions.len(), 20);
    assert_eq!(store.path(), dir.path());
}

#[test]
fn open_creates_a_missing_directory() {
    let parent = tempfile::tempdir().expect("temp dir");
    let dir = parent.path().join("a").join("b");

    let store = SledStore::open(&dir).expect("open");

    assert!(dir.is_dir());
    assert_eq!(store.path(), dir);
}
