//! The schema, as migrations embedded in the binary and applied at start.
//!
//! `schema_version` records which migrations ran. Applying takes a transaction-scoped
//! advisory lock first, so two instances starting together run each migration once: the
//! second waits, then finds the version already recorded. DDL in PostgreSQL is
//! transactional, so a migration is applied entirely or not at all.

use deadpool_postgres::Client;
use sprechstunde_core::StoreError;

use crate::errors::pg;

/// The migrations, in order; the version of each is its position, from 1.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_leases.sql"),
];

/// The advisory lock key of the migrations (any constant unlikely to collide; "sprechst").
const LOCK: i64 = 0x7370_7265_6368_7374;

/// The newest schema version this build knows.
pub(crate) fn latest() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// Applies the migrations the database lacks; returns how many ran.
///
/// # Errors
/// A database newer than this build, or a failed statement (nothing of it is applied).
pub(crate) async fn migrate(client: &mut Client) -> Result<usize, StoreError> {
    let tx = client
        .transaction()
        .await
        .map_err(|e| pg("starting the migration", &e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
        .await
        .map_err(|e| pg("locking the schema", &e))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
            version bigint PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )
    .await
    .map_err(|e| pg("creating schema_version", &e))?;
    let current: i64 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
        .await
        .map_err(|e| pg("reading the schema version", &e))?
        .get(0);
    if current > latest() {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {current}; this version knows up to {}: \
             update sprechstunde",
            latest()
        )));
    }
    let mut ran = 0;
    for (version, sql) in (1_i64..)
        .zip(MIGRATIONS)
        .skip(usize::try_from(current).unwrap_or(0))
    {
        tx.batch_execute(sql)
            .await
            .map_err(|e| pg(format_args!("migration {version}"), &e))?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&version],
        )
        .await
        .map_err(|e| pg("recording the schema version", &e))?;
        ran += 1;
    }
    tx.commit()
        .await
        .map_err(|e| pg("committing the migration", &e))?;
    Ok(ran)
}
