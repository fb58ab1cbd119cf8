//! The audit trail: entries by number in `audit`, the anchor of the last purge in
//! `audit_anchor`. The primary key keeps numbers unique, so a second writer cannot fork the
//! chain; a purge removes entries and stores the anchor in one transaction.

use sprechstunde_core::{AuditAnchor, AuditEntry, StoreError};

use crate::Inner;
use crate::errors::{pg, pool, to_db};
use crate::json::encode;

impl Inner {
    pub(crate) async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let value = encode("audit entry", entry)?;
        self.execute(
            "INSERT INTO audit (tenant, seq, value) VALUES ($1, $2, $3)",
            &[&self.tenant, &to_db(entry.seq)?, &value],
            "appending to the audit trail",
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict(format!("audit entry {}", entry.seq)),
            other => other,
        })
        .map(drop)
    }

    pub(crate) async fn audit_entries(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.values(
            "SELECT value FROM audit WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            &[&self.tenant, &to_db(after)?, &limit],
            "audit entry",
        )
        .await
    }

    pub(crate) async fn last_audit_entry(&self) -> Result<Option<AuditEntry>, StoreError> {
        self.value(
            "SELECT value FROM audit WHERE tenant = $1 ORDER BY seq DESC LIMIT 1",
            &[&self.tenant],
            "audit entry",
        )
        .await
    }

    pub(crate) async fn audit_anchor(&self) -> Result<Option<AuditAnchor>, StoreError> {
        self.value(
            "SELECT value FROM audit_anchor WHERE tenant = $1",
            &[&self.tenant],
            "audit anchor",
        )
        .await
    }

    pub(crate) async fn purge_audit(&self, anchor: &AuditAnchor) -> Result<u64, StoreError> {
        let value = encode("audit anchor", anchor)?;
        let mut client = self.pool.get().await.map_err(|e| pool(&e))?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| pg("starting a purge", &e))?;
        self.check_lease(&tx).await?;
        let removed = tx
            .execute(
                "DELETE FROM audit WHERE tenant = $1 AND seq <= $2",
                &[&self.tenant, &to_db(anchor.seq)?],
            )
            .await
            .map_err(|e| pg("purging the audit trail", &e))?;
        tx.execute(
            "INSERT INTO audit_anchor (tenant, value) VALUES ($1, $2)
             ON CONFLICT (tenant) DO UPDATE SET value = EXCLUDED.value",
            &[&self.tenant, &value],
        )
        .await
        .map_err(|e| pg("storing the audit anchor", &e))?;
        tx.commit()
            .await
            .map_err(|e| pg("committing a purge", &e))?;
        Ok(removed)
    }
}
