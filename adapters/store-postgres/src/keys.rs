//! The keys of sealed records in memory, mirroring the table `record_keys`.
//!
//! The cache is filled from the table in the snapshot of every [`Store::load`] and changed
//! only by the group commit, inside its transaction. It is right as long as one instance
//! writes a tenant (the lease holder, once leases exist); after a failed transaction it may
//! hold keys that never reached the table, so the group commit then reloads it.
//!
//! [`Store::load`]: sprechstunde_core::Store::load

use std::collections::HashMap;

use sprechstunde_core::StoreError;
use tokio_postgres::Transaction;

use crate::errors::{from_db, pg, to_db};
use crate::seal::{self, KeyId, Secret};

/// Record keys by id.
#[derive(Default)]
pub(crate) struct KeyCache {
    keys: HashMap<KeyId, Secret>,
}

impl KeyCache {
    /// Reads every key of `tenant` (in the caller's snapshot).
    ///
    /// # Errors
    /// I/O failure, or a malformed row.
    pub(crate) async fn read(
        client: &Transaction<'_>,
        tenant: &str,
    ) -> Result<KeyCache, StoreError> {
        let rows = client
            .query(
                "SELECT kind, id, key FROM record_keys WHERE tenant = $1",
                &[&tenant],
            )
            .await
            .map_err(|e| pg("reading the record keys", &e))?;
        let mut keys = HashMap::with_capacity(rows.len());
        for row in rows {
            let kind: &str = row.get(0);
            let id = KeyId::from_row(kind, from_db(row.get(1))?)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown key kind {kind:?}")))?;
            let secret: Secret = row
                .get::<_, &[u8]>(2)
                .try_into()
                .map_err(|_| StoreError::Corrupt("a record key is not 32 bytes".into()))?;
            keys.insert(id, secret);
        }
        Ok(KeyCache { keys })
    }

    /// The key of `id`, if it exists.
    pub(crate) fn get(&self, id: KeyId) -> Option<Secret> {
        self.keys.get(&id).copied()
    }

    /// How many keys there are.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The key of `id`, created (in `tx`) if there is none.
    ///
    /// # Errors
    /// No randomness, or the insert failed.
    pub(crate) async fn get_or_create(
        &mut self,
        tx: &Transaction<'_>,
        tenant: &str,
        id: KeyId,
    ) -> Result<Secret, StoreError> {
        if let Some(secret) = self.keys.get(&id) {
            return Ok(*secret);
        }
        let secret = seal::new_secret()?;
        tx.execute(
            "INSERT INTO record_keys (tenant, kind, id, key) VALUES ($1, $2, $3, $4)",
            &[&tenant, &id.kind(), &to_db(id.id())?, &secret.as_slice()],
        )
        .await
        .map_err(|e| pg("storing a record key", &e))?;
        self.keys.insert(id, secret);
        Ok(secret)
    }

    /// Destroys the key of `id` (in `tx`); returns 1 if there was one, else 0.
    ///
    /// # Errors
    /// The delete failed.
    pub(crate) async fn destroy(
        &mut self,
        tx: &Transaction<'_>,
        tenant: &str,
        id: KeyId,
    ) -> Result<usize, StoreError> {
        let deleted = tx
            .execute(
                "DELETE FROM record_keys WHERE tenant = $1 AND kind = $2 AND id = $3",
                &[&tenant, &id.kind(), &to_db(id.id())?],
            )
            .await
            .map_err(|e| pg("destroying a record key", &e))?;
        self.keys.remove(&id);
        Ok(usize::from(deleted > 0))
    }
}
