//! JSON values of the tables, and the small query helpers the per-concern modules share.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sprechstunde_core::StoreError;
use tokio_postgres::types::ToSql;

use crate::Inner;
use crate::errors::{self, pg, pool};

/// Encodes a value as JSON.
///
/// # Errors
/// A value that does not encode.
pub(crate) fn encode<T: Serialize>(what: &str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| errors::unencodable(what, &e))
}

/// Decodes a JSON value.
///
/// # Errors
/// [`StoreError::Corrupt`] if it does not decode.
pub(crate) fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| errors::undecodable(what, &e))
}

impl Inner {
    /// Runs one statement in a transaction of its own, after checking the lease (see
    /// [`crate::lease`]); returns the rows it changed.
    pub(crate) async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        what: &str,
    ) -> Result<u64, StoreError> {
        let mut client = self.pool.get().await.map_err(|e| pool(&e))?;
        let tx = client.transaction().await.map_err(|e| pg(what, &e))?;
        self.check_lease(&tx).await?;
        let statement = tx.prepare_cached(sql).await.map_err(|e| pg(what, &e))?;
        let changed = tx
            .execute(&statement, params)
            .await
            .map_err(|e| pg(what, &e))?;
        tx.commit().await.map_err(|e| pg(what, &e))?;
        Ok(changed)
    }

    /// The JSON values in the first column of the rows of `sql`.
    pub(crate) async fn values<T: DeserializeOwned>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        what: &str,
    ) -> Result<Vec<T>, StoreError> {
        let client = self.pool.get().await.map_err(|e| pool(&e))?;
        let statement = client.prepare_cached(sql).await.map_err(|e| pg(what, &e))?;
        let rows = client
            .query(&statement, params)
            .await
            .map_err(|e| pg(what, &e))?;
        rows.iter()
            .map(|row| decode(what, row.get::<_, &[u8]>(0)))
            .collect()
    }

    /// The JSON value in the first column of the row of `sql`, if any.
    pub(crate) async fn value<T: DeserializeOwned>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        what: &str,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.values(sql, params, what).await?.into_iter().next())
    }
}
