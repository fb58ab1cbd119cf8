//! The lease of a tenant: which instance is active, and the fence that keeps a former holder
//! from writing.
//!
//! The table `leases` has one row per tenant: `holder`, `epoch` and `expires_at` (the
//! database server's clock, so the instances' clocks do not matter). An instance takes the
//! lease with [`PgStore::try_take_lease`] when there is no row or the row has expired; taking
//! it raises the epoch. The holder renews it ([`PgStore::renew_lease`]) well before it
//! expires, and releases it on a clean stop ([`PgStore::release_lease`]) so that a standby
//! need not wait.
//!
//! **Fencing.** Once a store holds a lease, every write transaction (the group commit, staff,
//! tokens, logins, audit) first reads its tenant's row `FOR SHARE` and goes on only if the
//! epoch is still its own, else it fails with [`StoreError::Fenced`]. The share lock makes a
//! takeover wait for a write that already passed the check, and a write that starts during or
//! after a takeover sees the new epoch: no write of a former holder commits after a takeover.
//! A holder paused in the middle of a write transaction cannot keep the lock for long: such a
//! transaction ends by itself after a few seconds idle (`idle_in_transaction_session_timeout`,
//! set for it alone).
//! [`PgStore::lease_lost`] tells the owner of the store when that happened (or a renewal found
//! the lease gone), so it can stop serving.
//!
//! A store that never took a lease (the command-line tools) writes staff, tokens, logins and
//! audit entries without the check, but no engine records while an instance holds the lease
//! ([`Inner::check_engine_writer`]): those live in the holder's memory too, so they change
//! through it (console, API).

use std::time::Duration;

use sprechstunde_core::StoreError;
use tokio_postgres::Transaction;

use crate::errors::{pg, pool};
use crate::{Inner, PgStore};

/// The lease a store holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Held {
    /// Who holds it.
    pub(crate) holder: String,
    /// The epoch it was taken with.
    pub(crate) epoch: i64,
}

/// A tenant's lease as stored (for operators and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    /// Who holds or last held it.
    pub holder: String,
    /// Raised at every takeover.
    pub epoch: u64,
    /// Whether it has expired (by the database server's clock).
    pub expired: bool,
}

/// How long a fenced write transaction may sit idle (its client paused or cut off) before the
/// server ends it: until then its share lock on the lease row keeps a takeover waiting.
const IDLE_WRITE_MS: &str = "3000";

/// `ttl` in seconds, as PostgreSQL's `make_interval` takes them.
fn seconds(ttl: Duration) -> f64 {
    ttl.as_secs_f64()
}

impl PgStore {
    /// Takes the lease of the store's tenant for `holder` if it is free (never taken, expired
    /// or released), raising its epoch; from then on every write of this store is fenced by
    /// that epoch. Returns the epoch, or `None` while another instance holds the lease.
    ///
    /// # Errors
    /// The database failed, or this store has taken a lease before (a store that lost its
    /// lease stays fenced; open a new one).
    pub async fn try_take_lease(
        &self,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<u64>, StoreError> {
        let inner = &self.inner;
        if inner.lease.get().is_some() {
            return Err(StoreError::Io(
                "this store has taken its lease already".into(),
            ));
        }
        let client = inner.pool.get().await.map_err(|e| pool(&e))?;
        let row = client
            .query_opt(
                "INSERT INTO leases (tenant, holder, epoch, expires_at)
                 VALUES ($1, $2, 1, now() + make_interval(secs => $3))
                 ON CONFLICT (tenant) DO UPDATE
                     SET holder = EXCLUDED.holder, epoch = leases.epoch + 1,
                         expires_at = EXCLUDED.expires_at
                     WHERE leases.expires_at < now()
                 RETURNING epoch",
                &[&inner.tenant, &holder, &seconds(ttl)],
            )
            .await
            .map_err(|e| pg("taking the lease", &e))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let epoch: i64 = row.get(0);
        let held = Held {
            holder: holder.to_owned(),
            epoch,
        };
        if inner.lease.set(held).is_err() {
            return Err(StoreError::Io(
                "this store has taken its lease already".into(),
            ));
        }
        tracing::info!(epoch, "lease taken");
        Ok(Some(u64::try_from(epoch).unwrap_or(0)))
    }

    /// Extends the held lease to `ttl` from now.
    ///
    /// # Errors
    /// [`StoreError::Fenced`] if another instance has taken the lease over (or none is held),
    /// [`StoreError::Io`] if the database could not be asked (the lease may still be ours;
    /// the caller decides how long to go on without a renewal).
    pub async fn renew_lease(&self, ttl: Duration) -> Result<(), StoreError> {
        let inner = &self.inner;
        let Some(held) = inner.lease.get() else {
            return Err(StoreError::Fenced("no lease was taken".into()));
        };
        let client = inner.pool.get().await.map_err(|e| pool(&e))?;
        let renewed = client
            .execute(
                "UPDATE leases SET expires_at = now() + make_interval(secs => $4)
                 WHERE tenant = $1 AND holder = $2 AND epoch = $3",
                &[&inner.tenant, &held.holder, &held.epoch, &seconds(ttl)],
            )
            .await
            .map_err(|e| pg("renewing the lease", &e))?;
        if renewed == 1 {
            Ok(())
        } else {
            inner.mark_lost();
            Err(StoreError::Fenced(format!(
                "epoch {} was taken over by another instance",
                held.epoch
            )))
        }
    }

    /// Gives the held lease up (a clean stop), so that a standby takes over at once. The
    /// epoch stays; this store's writes fail from now on.
    ///
    /// # Errors
    /// The database failed (the lease then expires by itself).
    pub async fn release_lease(&self) -> Result<(), StoreError> {
        let inner = &self.inner;
        let Some(held) = inner.lease.get() else {
            return Ok(());
        };
        inner.mark_lost();
        let client = inner.pool.get().await.map_err(|e| pool(&e))?;
        client
            .execute(
                "UPDATE leases SET expires_at = '-infinity'
                 WHERE tenant = $1 AND holder = $2 AND epoch = $3",
                &[&inner.tenant, &held.holder, &held.epoch],
            )
            .await
            .map_err(|e| pg("releasing the lease", &e))?;
        tracing::info!(epoch = held.epoch, "lease released");
        Ok(())
    }

    /// Resolves once this store knows it has lost its lease: a write was fenced, a renewal
    /// found the lease taken over, or it was released. Never resolves for a store that holds
    /// no lease.
    pub async fn lease_lost(&self) {
        let mut lost = self.inner.lost.subscribe();
        // The sender lives as long as the store; an error cannot happen while `self` lives.
        let _ = lost.wait_for(|lost| *lost).await;
    }

    /// The tenant's lease as stored, if it was ever taken.
    ///
    /// # Errors
    /// The database failed.
    pub async fn lease(&self) -> Result<Option<LeaseRow>, StoreError> {
        let inner = &self.inner;
        let client = inner.pool.get().await.map_err(|e| pool(&e))?;
        let row = client
            .query_opt(
                "SELECT holder, epoch, expires_at < now() FROM leases WHERE tenant = $1",
                &[&inner.tenant],
            )
            .await
            .map_err(|e| pg("reading the lease", &e))?;
        Ok(row.map(|row| LeaseRow {
            holder: row.get(0),
            epoch: u64::try_from(row.get::<_, i64>(1)).unwrap_or(0),
            expired: row.get(2),
        }))
    }
}

impl Inner {
    /// Checks in `tx`, before it writes, that this store still holds its tenant's lease (if it
    /// took one), and keeps a takeover waiting until `tx` ends.
    ///
    /// # Errors
    /// [`StoreError::Fenced`] if another instance has taken the lease over.
    pub(crate) async fn check_lease(&self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        let Some(held) = self.lease.get() else {
            return Ok(());
        };
        // A paused holder must not keep a takeover waiting for long: the server ends this
        // transaction once it has been idle for a few seconds.
        let current: Option<i64> = tx
            .query_opt(
                "SELECT epoch, set_config('idle_in_transaction_session_timeout', $2, true)
                 FROM leases WHERE tenant = $1 FOR SHARE",
                &[&self.tenant, &IDLE_WRITE_MS],
            )
            .await
            .map_err(|e| pg("checking the lease", &e))?
            .map(|row| row.get(0));
        if current == Some(held.epoch) && !*self.lost.borrow() {
            return Ok(());
        }
        self.mark_lost();
        Err(StoreError::Fenced(match current {
            Some(now) if now != held.epoch => {
                format!(
                    "epoch {} was taken over by another instance (epoch {now})",
                    held.epoch
                )
            }
            _ => format!("epoch {} was released", held.epoch),
        }))
    }

    /// Checks in `tx`, before the group commit writes engine records, that this store may:
    /// it holds the lease ([`Inner::check_lease`]), or it holds none and no instance does
    /// (the command-line tools while no server runs).
    ///
    /// # Errors
    /// [`StoreError::Fenced`] if another instance holds or took over the lease.
    pub(crate) async fn check_engine_writer(&self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        if self.lease.get().is_some() {
            return self.check_lease(tx).await;
        }
        let holder: Option<String> = tx
            .query_opt(
                "SELECT holder FROM leases WHERE tenant = $1 AND expires_at > now() FOR SHARE",
                &[&self.tenant],
            )
            .await
            .map_err(|e| pg("checking the lease", &e))?
            .map(|row| row.get(0));
        match holder {
            None => Ok(()),
            Some(holder) => Err(StoreError::Fenced(format!(
                "the running instance {holder} holds it; change the office through it (the \
                 console or the API)"
            ))),
        }
    }

    /// Records that the lease is lost, once.
    pub(crate) fn mark_lost(&self) {
        if !self.lost.send_replace(true) {
            tracing::error!("the lease is lost: this instance must stop writing");
        }
    }
}
