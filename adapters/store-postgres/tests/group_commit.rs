//! Group commit on PostgreSQL: one transaction for many writers, committed before `sync`
//! returns, and a failed transaction loses exactly its batches.

use std::sync::Arc;

use sprechstunde_core::conformance::{outbox, question, session};
use sprechstunde_core::{Change, CommitSeq, Store, StoreError};
use sprechstunde_store_postgres::PgStore;
use sprechstunde_store_postgres::test_cluster::Cluster;

async fn count(url: &str, sql: &str) -> i64 {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client.query_one(sql, &[]).await.expect("count").get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_writers_share_transactions_and_each_commit_is_in_postgres_when_it_returns() {
    // Arrange
    let url = Cluster::shared().create_database().await;
    let store = Arc::new(PgStore::connect(&url).await.expect("connect"));

    // Act
    let mut tasks = tokio::task::JoinSet::new();
    for i in 1..=64 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            store
                .commit(&[Change::Question(question(i)), Change::Outbox(outbox(i))])
                .await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task").expect("commit");
    }

    // Assert: visible to another connection at once (committed), in fewer transactions.
    let stored = count(
        &url,
        "SELECT count(*) FROM records WHERE kind IN ('q', 'o')",
    )
    .await;
    assert_eq!(stored, 128);
    let flushes = store.flush_count();
    assert!(flushes < 64, "{flushes} transactions for 64 commits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncing_a_number_never_handed_out_is_an_error() {
    let url = Cluster::shared().create_database().await;
    let store = PgStore::connect(&url).await.expect("connect");
    let result = store.sync(CommitSeq(1)).await;
    assert!(matches!(result, Err(StoreError::Io(_))), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_transaction_loses_its_batch_and_the_store_goes_on_afterwards() {
    // Arrange: a batch applied, then the table it goes to is away when it is synced.
    let cluster = Cluster::shared();
    let url = cluster.create_database().await;
    let name = url.rsplit('/').next().expect("database name").to_owned();
    let store = PgStore::connect(&url).await.expect("connect");
    store
        .commit(&[Change::Question(question(1))])
        .await
        .expect("first commit");
    let lost = store
        .apply(&[Change::Question(question(2)), Change::Session(session(1))])
        .await
        .expect("apply");
    cluster
        .sql(&name, "ALTER TABLE records RENAME TO records_away")
        .await;

    // Act
    let failed = store.sync(lost).await;
    cluster
        .sql(&name, "ALTER TABLE records_away RENAME TO records")
        .await;

    // Assert: the batch is lost (also for a retry), nothing of it is stored, and later
    // commits (with new keys, after the key cache was reloaded) work and load back.
    assert!(matches!(failed, Err(StoreError::Io(_))), "{failed:?}");
    assert!(store.sync(lost).await.is_err(), "a lost batch stays lost");
    let s = store.load().await.expect("load");
    assert_eq!(s.questions, vec![question(1)]);
    assert!(s.sessions.is_empty());
    store
        .commit(&[Change::Question(question(3))])
        .await
        .expect("a later commit");
    drop(store);
    let reopened = PgStore::connect(&url).await.expect("reopen");
    let s = reopened.load().await.expect("load");
    assert_eq!(s.questions, vec![question(1), question(3)]);
}
