//! Integration tests of the PostgreSQL store against a real PostgreSQL (a cluster in a temp
//! directory, one database per test): the shared store conformance suite, then what is
//! particular to PostgreSQL (migrations, group commit, leases and fencing, erasure in the database files).

// Test code: a failed unwrap is a failed test, with the location in the message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod erasure;
mod group_commit;
mod lease;
mod migrations;

use std::path::Path;
use std::sync::Arc;

use sprechstunde_core::Store;
use sprechstunde_store_postgres::PgStore;
use sprechstunde_store_postgres::test_cluster::Cluster;

/// The URL of the database that belongs to `dir`: created on the shared cluster the first
/// time, remembered in `dir`, so that opening `dir` again is a restart of the same store.
async fn database_of(dir: &Path) -> String {
    let marker = dir.join("database-url");
    if let Ok(url) = std::fs::read_to_string(&marker) {
        return url;
    }
    let url = Cluster::shared().create_database().await;
    std::fs::write(&marker, &url).expect("remember the database");
    url
}

/// Opens the store under test; used by the conformance suite and the tests here.
async fn open(dir: &Path) -> Arc<dyn Store> {
    let url = database_of(dir).await;
    Arc::new(PgStore::connect(&url).await.expect("open postgres store"))
}

sprechstunde_core::store_conformance_tests!(open);
