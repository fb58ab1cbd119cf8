//! The lease: one holder per tenant, a takeover only after expiry or release, and a former
//! holder whose lease was taken over cannot write any more (fencing).

use std::time::Duration;

use sprechstunde_core::conformance::{question, staff};
use sprechstunde_core::{Change, Store, StoreError};
use sprechstunde_store_postgres::PgStore;
use sprechstunde_store_postgres::test_cluster::Cluster;

const DEADLINE: Duration = Duration::from_secs(20);

/// Polls `b` for the lease until it gets it; returns the epoch.
async fn take_when_free(store: &PgStore, holder: &str, ttl: Duration) -> u64 {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(epoch) = store.try_take_lease(holder, ttl).await.expect("ask") {
            return epoch;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the lease never became free"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_whose_lease_was_taken_over_cannot_commit() {
    // Arrange: `old` holds a short lease and writes; `new` waits until it has expired.
    let url = Cluster::shared().create_database().await;
    let ttl = Duration::from_millis(300);
    let old = PgStore::connect(&url).await.expect("connect");
    let new = PgStore::connect(&url).await.expect("connect");
    assert_eq!(old.try_take_lease("old", ttl).await.expect("take"), Some(1));
    assert_eq!(
        new.try_take_lease("new", ttl).await.expect("ask"),
        None,
        "held"
    );
    old.commit(&[Change::Question(question(1))])
        .await
        .expect("the holder writes");
    let epoch = take_when_free(&new, "new", Duration::from_secs(30)).await;

    // Act: the former holder goes on as if nothing happened (a paused process resuming).
    let applied = old.apply(&[Change::Question(question(2))]).await;
    let committed = match applied {
        Ok(seq) => old.sync(seq).await,
        Err(e) => Err(e),
    };
    let staff_write = old.put_staff(&staff(7, "spaet")).await;
    let renewed = old.renew_lease(ttl).await;

    // Assert: every write of the former holder is refused; it knows it lost the lease; the
    // new holder writes, and only its writes and those before the takeover are stored.
    assert_eq!(epoch, 2);
    assert!(
        matches!(committed, Err(StoreError::Fenced(_))),
        "{committed:?}"
    );
    assert!(
        matches!(staff_write, Err(StoreError::Fenced(_))),
        "{staff_write:?}"
    );
    assert!(matches!(renewed, Err(StoreError::Fenced(_))), "{renewed:?}");
    tokio::time::timeout(DEADLINE, old.lease_lost())
        .await
        .expect("the former holder was told");
    new.commit(&[Change::Question(question(3))])
        .await
        .expect("the new holder writes");
    let snapshot = new.load().await.expect("load");
    let ids: Vec<u64> = snapshot.questions.iter().map(|q| q.id.0).collect();
    assert_eq!(ids, vec![1, 3]);
    assert!(new.staff_by_login("spaet").await.expect("read").is_none());
    let row = new.lease().await.expect("lease").expect("a row");
    assert_eq!((row.holder.as_str(), row.epoch), ("new", 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_lease_is_not_taken_and_a_released_one_is_taken_at_once() {
    // Arrange
    let url = Cluster::shared().create_database().await;
    let ttl = Duration::from_millis(400);
    let holder = PgStore::connect(&url).await.expect("connect");
    let standby = PgStore::connect(&url).await.expect("connect");
    assert_eq!(
        holder.try_take_lease("holder", ttl).await.expect("take"),
        Some(1)
    );

    // Act + Assert: renewed well within its time for three times its length, the lease is
    // never free for the standby.
    let until = tokio::time::Instant::now() + ttl * 3;
    while tokio::time::Instant::now() < until {
        holder.renew_lease(ttl).await.expect("renew");
        assert_eq!(
            standby.try_take_lease("standby", ttl).await.expect("ask"),
            None
        );
        tokio::time::sleep(ttl / 8).await;
    }
    holder.release_lease().await.expect("release");
    let taken = standby
        .try_take_lease("standby", Duration::from_secs(30))
        .await
        .expect("ask");
    assert_eq!(taken, Some(2), "released: free without waiting for expiry");
    let write = holder.put_staff(&staff(8, "danach")).await;
    assert!(matches!(write, Err(StoreError::Fenced(_))), "{write:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_without_a_lease_writes_as_before() {
    // The command-line tools open the store without a lease (staff, tokens).
    let url = Cluster::shared().create_database().await;
    let cli = PgStore::connect(&url).await.expect("connect");
    cli.put_staff(&staff(1, "ada")).await.expect("write");
    assert!(cli.staff_by_login("ada").await.expect("read").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_without_a_lease_changes_no_engine_records_while_an_instance_holds_it() {
    // Arrange: a running instance holds the lease; a command-line tool opens the store.
    let url = Cluster::shared().create_database().await;
    let server = PgStore::connect(&url).await.expect("connect");
    let cli = PgStore::connect(&url).await.expect("connect");
    server
        .try_take_lease("server", Duration::from_secs(30))
        .await
        .expect("take");

    // Act
    let engine_write = cli.commit(&[Change::Question(question(1))]).await;
    let staff_write = cli.put_staff(&staff(2, "neu")).await;
    server.release_lease().await.expect("release");
    let after_release = cli.commit(&[Change::Question(question(3))]).await;

    // Assert: engine records change only through the holder, staff accounts anywhere.
    assert!(
        matches!(&engine_write, Err(StoreError::Fenced(m)) if m.contains("server")),
        "{engine_write:?}"
    );
    staff_write.expect("staff accounts are written by the command line");
    after_release.expect("no instance holds the lease any more");
    let ids: Vec<u64> = cli
        .load()
        .await
        .expect("load")
        .questions
        .iter()
        .map(|q| q.id.0)
        .collect();
    assert_eq!(ids, vec![3]);
}
