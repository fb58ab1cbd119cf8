//! Integration tests of the sled store: the shared store conformance suite, then what is
//! particular to sled (locking, group commit, the on-disk data).

// Test code: a failed unwrap is a failed test, with the location in the message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backup;
mod data;
mod erasure;
mod group_commit;
mod locking;
mod summaries;

use std::path::Path;
use std::sync::Arc;

use sprechstunde_core::Store;
use sprechstunde_store_sled::SledStore;

/// Opens the store under test; used by the conformance suite and the tests here.
async fn open(dir: &Path) -> Arc<dyn Store> {
    Arc::new(SledStore::open(dir).expect("open sled store"))
}

sprechstunde_core::store_conformance_tests!(open);
