//! A backup of a running store and its restore: the copy loads as the store did, takes no
//! erased citizen along, and is refused by a directory that is not empty.

use std::sync::Arc;

use sprechstunde_core::conformance::{citizen, question};
use sprechstunde_core::{Change, CitizenId, QuestionId, Store};
use sprechstunde_store_sled::{SledStore, restore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_writers_commit_restores_to_a_store_that_loads_the_same() {
    // Arrange: a store with citizens and questions, and writers that keep committing.
    let dir = tempfile::tempdir().expect("dir");
    let store = Arc::new(SledStore::open(&dir.path().join("data")).expect("open"));
    for i in 1..=20 {
        let mut q = question(i);
        q.citizen = CitizenId(i);
        store
            .commit(&[Change::Citizen(citizen(i)), Change::Question(q)])
            .await
            .expect("commit");
    }
    let writer = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            for i in 21..=200 {
                let mut q = question(i);
                q.citizen = CitizenId(i);
                store
                    .commit(&[Change::Citizen(citizen(i)), Change::Question(q)])
                    .await
                    .expect("commit");
            }
        })
    };

    // Act: a backup in the middle of the writes, restored into a new directory.
    let backup = store.backup().expect("backup");
    writer.await.expect("writer");
    let target = dir.path().join("restored");
    let counts = restore(&target, &backup).expect("restore");
    let restored = SledStore::open(&target).expect("open restored");
    let snapshot = restored.load().await.expect("load restored");

    // Assert: every question has its citizen (one write each, never half), every one of the
    // first twenty is there, and the counts agree with what loads.
    assert_eq!(counts, backup.counts);
    assert_eq!(snapshot.questions.len() as u64, counts.questions);
    assert_eq!(snapshot.citizens.len(), snapshot.questions.len());
    assert!(
        snapshot.questions.len() >= 20,
        "{}",
        snapshot.questions.len()
    );
    for q in &snapshot.questions {
        assert!(snapshot.citizens.iter().any(|c| c.id == q.citizen), "{q:?}");
        assert_eq!(q.entries, question(q.id.0).entries, "sealed text opened");
    }
    let original = store.load().await.expect("load original");
    for q in &snapshot.questions {
        let same = original
            .questions
            .iter()
            .find(|o| o.id == q.id)
            .expect("in the original");
        assert_eq!(same, q);
    }
}

#[tokio::test]
async fn an_erased_citizen_is_not_in_a_later_backup_and_a_full_directory_is_refused() {
    // Arrange
    let dir = tempfile::tempdir().expect("dir");
    let store = SledStore::open(&dir.path().join("data")).expect("open");
    let mut q = question(1);
    q.entries[0].text = "Frage-ERASED-5d21".into();
    store
        .commit(&[Change::Citizen(citizen(1)), Change::Question(q)])
        .await
        .expect("commit");
    store
        .commit(&[Change::Citizen(citizen(2))])
        .await
        .expect("commit");
    store
        .commit(&[
            Change::ForgetQuestion(QuestionId(1)),
            Change::ForgetCitizen(CitizenId(1)),
        ])
        .await
        .expect("erase");

    // Act
    let backup = store.backup().expect("backup");
    let full = dir.path().join("full");
    std::fs::create_dir(&full).expect("dir");
    std::fs::write(full.join("db"), b"something").expect("file");
    let refused = restore(&full, &backup);
    let target = dir.path().join("restored");
    restore(&target, &backup).expect("restore");
    let snapshot = SledStore::open(&target)
        .expect("open")
        .load()
        .await
        .expect("load");

    // Assert
    assert_eq!(backup.counts.citizens, 1);
    assert_eq!(backup.counts.questions, 0);
    assert_eq!(
        snapshot.citizens.iter().map(|c| c.id).collect::<Vec<_>>(),
        [CitizenId(2)]
    );
    let (_, bytes) = super::erasure::read_all(&target);
    assert!(!super::erasure::contains(&bytes, "Frage-ERASED-5d21"));
    let err = refused
        .expect_err("a full directory is refused")
        .to_string();
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(
        std::fs::read(full.join("db")).expect("left alone"),
        b"something"
    );
}
