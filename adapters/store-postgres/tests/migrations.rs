//! The embedded migrations: applied once however many instances start together, and a
//! database of a newer schema is refused.

use sprechstunde_core::StoreError;
use sprechstunde_store_postgres::PgStore;
use sprechstunde_store_postgres::test_cluster::Cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_apply_the_migrations_once() {
    // Arrange
    let url = Cluster::shared().create_database().await;

    // Act: four stores connect to the new database at the same time.
    let opened = futures_util::future::join_all((0..4).map(|_| PgStore::connect(&url))).await;

    // Assert
    for store in &opened {
        assert!(store.is_ok(), "{store:?}");
    }
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let versions: i64 = client
        .query_one("SELECT count(*) FROM schema_version", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(versions, 2, "both migrations, each once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_a_newer_schema_is_refused() {
    // Arrange
    let cluster = Cluster::shared();
    let url = cluster.create_database().await;
    drop(PgStore::connect(&url).await.expect("first start"));
    let name = url.rsplit('/').next().expect("database name");
    cluster
        .sql(name, "INSERT INTO schema_version (version) VALUES (99)")
        .await;

    // Act
    let opened = PgStore::connect(&url).await;

    // Assert
    assert!(
        matches!(&opened, Err(StoreError::Corrupt(m)) if m.contains("99")),
        "{opened:?}"
    );
}
