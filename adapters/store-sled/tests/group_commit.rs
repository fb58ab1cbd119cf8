//! Concurrent writers share flushes.

use std::sync::Arc;

use sprechstunde_core::conformance::{outbox, question};
use sprechstunde_core::{Change, CommitSeq, Store};
use sprechstunde_store_sled::SledStore;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

const WRITERS: u64 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_shares_flushes_between_concurrent_writers() {
    // Arrange
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SledStore::open(dir.path()).expect("open"));

    // Act
    let mut writers = JoinSet::new();
    for i in 1..=WRITERS {
        let store = Arc::clone(&store);
        writers.spawn(async move {
            store
                .commit(&[Change::Question(question(i)), Change::Outbox(outbox(i))])
                .await
        });
    }
    while let Some(done) = writers.join_next().await {
        done.expect("writer").expect("commit");
    }

    // Assert: every writer arriving during a flush waits for the next one, so the number
    // of flushes is bounded by the rounds of arrivals, not by the writers.
    let flushes = store.flush_count();
    assert!(flushes >= 1);
    assert!(
        flushes <= WRITERS / 4,
        "{WRITERS} concurrent commits took {flushes} flushes"
    );
    assert_eq!(
        store.load().await.expect("load").questions.len() as u64,
        WRITERS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_waiting_together_are_made_durable_by_one_flush() {
    // Arrange: all writers apply first, then all sync at once.
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SledStore::open(dir.path()).expect("open"));
    let applied = Arc::new(Barrier::new(usize::try_from(WRITERS).expect("count")));

    // Act
    let mut writers = JoinSet::new();
    for i in 1..=WRITERS {
        let store = Arc::clone(&store);
        let applied = Arc::clone(&applied);
        writers.spawn(async move {
            let seq = store.apply(&[Change::Question(question(i))]).await?;
            applied.wait().await;
            store.sync(seq).await
        });
    }
    while let Some(done) = writers.join_next().await {
        done.expect("writer").expect("commit");
    }

    // Assert
    assert_eq!(store.flush_count(), 1);
}

#[tokio::test]
async fn sync_of_an_already_durable_commit_needs_no_flush() {
    // Arrange
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SledStore::open(dir.path()).expect("open");
    let first = store
        .apply(&[Change::Question(question(1))])
        .await
        .expect("apply");
    let second = store
        .apply(&[Change::Question(question(2))])
        .await
        .expect("apply");
    store.sync(second).await.expect("sync");

    // Act
    store.sync(first).await.expect("sync");
    store.sync(second).await.expect("sync");
    store.sync(CommitSeq(0)).await.expect("sync");

    // Assert
    assert_eq!(store.flush_count(), 1);
}

#[tokio::test]
async fn sync_of_a_commit_never_handed_out_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SledStore::open(dir.path()).expect("open");
    let seq = store
        .apply(&[Change::Question(question(1))])
        .await
        .expect("apply");

    let result = store.sync(CommitSeq(seq.0 + 1)).await;

    assert!(result.is_err(), "{result:?}");
}
