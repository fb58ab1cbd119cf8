//! `--store postgres`: the web chat phases on a PostgreSQL store, and the raw PostgreSQL floor
//! beside sled's. The database is `SPRECHSTUNDE_BENCH_PG_URL` (an empty database the bench
//! may write into), or else a throw-away cluster that the bench starts itself (`initdb` in a
//! temp directory, as the tests do: `sprechstunde_store_postgres::test_cluster`) and removes
//! at the end.

use std::time::Instant;

use anyhow::Context;
use sprechstunde_store_postgres::test_cluster::Cluster;

/// The table of the raw floor; created and dropped by [`floor`].
const FLOOR_TABLE: &str = "sprechstunde_bench_floor";
/// Rows per transaction of the raw floor, as sled's floor has 1,000 values per batch.
const FLOOR_BATCH: i64 = 1_000;

/// The database the bench uses.
pub(crate) struct Database {
    /// Its URL.
    pub(crate) url: String,
    /// Where it comes from, for the report.
    pub(crate) origin: &'static str,
    /// The temporary cluster, if the bench started one (stopped and removed on drop).
    _cluster: Option<Cluster>,
}

/// The database from `SPRECHSTUNDE_BENCH_PG_URL`, or a new one in a temporary cluster.
///
/// # Errors
/// The cluster cannot be started (PostgreSQL not installed, say).
pub(crate) async fn database() -> anyhow::Result<Database> {
    if let Ok(url) = std::env::var("SPRECHSTUNDE_BENCH_PG_URL")
        && !url.trim().is_empty()
    {
        return Ok(Database {
            url: url.trim().to_owned(),
            origin: "SPRECHSTUNDE_BENCH_PG_URL",
            _cluster: None,
        });
    }
    let cluster = tokio::task::spawn_blocking(Cluster::start)
        .await?
        .map_err(anyhow::Error::msg)
        .context(
            "cannot start a temporary PostgreSQL cluster (or set SPRECHSTUNDE_BENCH_PG_URL)",
        )?;
    let url = cluster.create_database().await;
    Ok(Database {
        url,
        origin: "temporary cluster on 127.0.0.1, fsync on",
        _cluster: Some(cluster),
    })
}

/// The server's version, for the report.
///
/// # Errors
/// The database cannot be reached.
pub(crate) async fn version(url: &str) -> anyhow::Result<String> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let driver = tokio::spawn(connection);
    let row = client.query_one("SHOW server_version", &[]).await?;
    let version: String = row.get(0);
    drop(client);
    let _ = driver.await;
    Ok(version)
}

/// The raw PostgreSQL floor: `values` rows of 300 bytes, 1,000 per transaction (one
/// `INSERT … SELECT FROM unnest(…)` and a `COMMIT`, with `synchronous_commit = on` as the
/// store runs), on one connection; returns rows per second.
///
/// # Errors
/// The database cannot be reached or refuses the table.
pub(crate) async fn floor(url: &str, values: u64) -> anyhow::Result<f64> {
    let (mut client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let driver = tokio::spawn(connection);
    client
        .batch_execute(&format!(
            "SET synchronous_commit = on; DROP TABLE IF EXISTS {FLOOR_TABLE}; \
             CREATE TABLE {FLOOR_TABLE} (id bigint PRIMARY KEY, value bytea NOT NULL)"
        ))
        .await?;
    let insert = client
        .prepare(&format!(
            "INSERT INTO {FLOOR_TABLE} (id, value) SELECT * FROM unnest($1::bigint[], $2::bytea[])"
        ))
        .await?;
    let value = vec![7u8; 300];
    let total = i64::try_from(values).unwrap_or(i64::MAX);
    let started = Instant::now();
    let mut next = 0_i64;
    while next < total {
        let ids: Vec<i64> = (next..next + FLOOR_BATCH).collect();
        let values: Vec<&[u8]> = vec![value.as_slice(); ids.len()];
        let transaction = client.transaction().await?;
        transaction.execute(&insert, &[&ids, &values]).await?;
        transaction.commit().await?;
        next += FLOOR_BATCH;
    }
    let rate = next as f64 / started.elapsed().as_secs_f64();
    client
        .batch_execute(&format!("DROP TABLE {FLOOR_TABLE}"))
        .await?;
    drop(client);
    let _ = driver.await;
    Ok(rate)
}
