//! The [PostgreSQL] backend of the [`Store`] port, with group commit and sealed records.
//!
//! Engine data (sessions, questions, citizens, outbox, departments, summaries) lives in one
//! table `records` keyed by kind and id, the id counters in `meta`, staff, tokens, logins
//! and the audit trail in tables of their own; values are JSON. The schema is embedded
//! (`migrations/`) and applied at [`PgStore::connect`] under an advisory lock, so two
//! instances starting together do not race.
//!
//! **Group commit.** [`Store::apply`] numbers a batch and queues it; [`Store::sync`] writes
//! every queued batch in one transaction (one commit for many writers) and returns once
//! PostgreSQL has committed it. Every connection runs with `synchronous_commit = on`
//! whatever the server's default, so "committed" means flushed to the server's WAL. A
//! transaction that fails loses its batches: syncing their numbers fails, as does a number
//! never handed out; [`Store::load`] then shows only what was committed.
//!
//! **Sealed records and erasure.** As with sled, every record linked to a citizen is sealed
//! (XChaCha20-Poly1305) under a key of the citizen, the question or the summary version, in
//! the table `record_keys`. A key is created in the transaction of the first record sealed
//! under it; erasure deletes the key in the transaction that deletes the record, and after
//! that commit the store rewrites the key table (`VACUUM FULL record_keys`), so the key's
//! bytes leave the table's files (a plain `VACUUM` only marks the space free and can leave
//! them in the page). A rewrite keeps a deleted row as long as a transaction that began
//! before the deletion still runs (in any database of the cluster: a long report, a
//! `pg_dump`, another application), so the rewrite runs in a background task that first
//! waits until every such transaction has ended (and retries after a failure); the commit
//! that erased does not wait for it. PostgreSQL keeps other copies that the store cannot reach: the WAL
//! (until its segments are recycled or, when archived, as long as the archive keeps them)
//! and base backups. `docs/privacy.md` says what the operator must set.
//!
//! **Tenants and leases.** Every table has a `tenant` column; today there is the single
//! tenant `default`. Several instances may share the database, and the one that holds the
//! tenant's lease in `leases` ([`PgStore::try_take_lease`]) is the only one that writes: a
//! new holder raises the lease's epoch, and every write transaction of a holder first checks
//! (`SELECT epoch ... FOR SHARE`) that the epoch is still its own, so a paused or cut-off
//! former holder cannot write after a takeover ([`StoreError::Fenced`]). See [`lease`]. The
//! key cache (module `keys`) relies on that: one writer per tenant.
//!
//! [PostgreSQL]: https://www.postgresql.org/docs/15/

mod audit;
mod engine;
mod errors;
mod group_commit;
mod json;
mod keys;
pub mod lease;
mod schema;
mod seal;
mod staff;
#[cfg(feature = "test-cluster")]
pub mod test_cluster;

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use sprechstunde_core::{
    ApiToken, AuditAnchor, AuditEntry, Change, CommitSeq, LoginSession, Snapshot, StaffId,
    StaffMember, Store, StoreError,
};
use tokio_postgres::IsolationLevel;

use crate::errors::{pg, pool};
use crate::group_commit::{FlushGuard, GroupCommit};
use crate::keys::KeyCache;
pub use crate::lease::LeaseRow;

/// The tenant of a single office.
pub const DEFAULT_TENANT: &str = "default";
/// Connections in the pool: the group commit uses one at a time, reads share the rest.
const POOL_SIZE: usize = 8;
/// How soon the key table rewrite looks again for transactions older than an erasure …
const VACUUM_POLL: Duration = Duration::from_millis(50);
/// … doubling up to this.
const VACUUM_POLL_MAX: Duration = Duration::from_secs(5);

/// A [`Store`] in a PostgreSQL database.
///
/// Needs a tokio runtime: the pool's connections and the group commit's transactions run
/// as tasks on it.
pub struct PgStore {
    inner: Arc<Inner>,
}

/// What the store's tasks share.
pub(crate) struct Inner {
    pub(crate) pool: Pool,
    pub(crate) tenant: String,
    commits: GroupCommit,
    /// The record keys; `None` when they must be read again (after a failed transaction).
    keys: tokio::sync::Mutex<Option<KeyCache>>,
    /// Keys were destroyed but the key table could not be rewritten yet.
    vacuum_due: AtomicBool,
    /// The newest transaction (a PostgreSQL `xid8`) that destroyed keys: the rewrite waits
    /// until every transaction older than it has ended.
    erased_by: AtomicU64,
    /// A rewrite task is running.
    vacuuming: AtomicBool,
    /// The lease this store took, if any: every write then checks it is still current.
    pub(crate) lease: OnceLock<lease::Held>,
    /// Set once the lease is known to be lost (fenced, taken over or released).
    pub(crate) lost: tokio::sync::watch::Sender<bool>,
}

impl PgStore {
    /// Connects to the database at `url` (a `postgres://` URL or `key=value` string, as
    /// `libpq` takes), applies missing migrations and checks that it answers.
    ///
    /// TLS is not built in: connect over a Unix socket or loopback (`sslmode=disable` or
    /// the default `prefer`); `sslmode=require` fails.
    ///
    /// # Errors
    /// A malformed URL, no connection, or a database of a newer schema.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Io(format!("the database URL is not valid: {e}")))?;
        // Durability does not depend on the server's default: a commit is on disk.
        let options = match config.get_options() {
            Some(own) => format!("{own} -c synchronous_commit=on"),
            None => "-c synchronous_commit=on".to_owned(),
        };
        config.options(&options);
        if config.get_application_name().is_none() {
            config.application_name("sprechstunde");
        }
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| StoreError::Io(format!("cannot set up the connection pool: {e}")))?;
        let mut client = pool.get().await.map_err(|e| pool_error(&e))?;
        let ran = schema::migrate(&mut client).await?;
        let fsync: String = client
            .query_one("SHOW fsync", &[])
            .await
            .map_err(|e| pg("reading the server settings", &e))?
            .get(0);
        if fsync != "on" {
            tracing::warn!(
                fsync,
                "PostgreSQL runs with fsync off: commits are not durable across a crash"
            );
        }
        drop(client);
        tracing::debug!(migrations = ran, "postgres store opened");
        Ok(PgStore {
            inner: Arc::new(Inner {
                pool,
                tenant: DEFAULT_TENANT.to_owned(),
                commits: GroupCommit::default(),
                keys: tokio::sync::Mutex::new(None),
                vacuum_due: AtomicBool::new(false),
                erased_by: AtomicU64::new(0),
                vacuuming: AtomicBool::new(false),
                lease: OnceLock::new(),
                lost: tokio::sync::watch::Sender::new(false),
            }),
        })
    }

    /// How many group-commit transactions have been attempted since the store was opened.
    pub fn flush_count(&self) -> u64 {
        self.inner.commits.flush_count()
    }
}

/// A pool failure; a refused or failed connection says so.
fn pool_error(e: &deadpool_postgres::PoolError) -> StoreError {
    pool(e)
}

impl Inner {
    /// Writes every queued batch in one transaction; the caller holds the flush lock (moved
    /// here, so the transaction runs to its end even if the caller goes away).
    async fn flush(self: Arc<Self>, guard: FlushGuard) -> Result<(), StoreError> {
        let batches = self.commits.pending();
        if batches.is_empty() {
            return Ok(());
        }
        let result = self.write_batches(&batches).await;
        self.commits.finish(&batches, result.is_ok());
        if let Err(e) = &result {
            tracing::warn!(error = %e, batches = batches.len(), "group commit failed");
        }
        drop(guard);
        self.start_vacuum();
        result.map(drop)
    }

    async fn write_batches(&self, batches: &group_commit::Batches) -> Result<(), StoreError> {
        let mut client = self.pool.get().await.map_err(|e| pool(&e))?;
        let mut slot = self.keys.lock().await;
        let tx = client
            .transaction()
            .await
            .map_err(|e| pg("starting a commit", &e))?;
        // First, so that a takeover waits for this transaction or fences it.
        self.check_engine_writer(&tx).await?;
        // Taken out: after any failure the slot stays empty and the keys are read again.
        let mut keys = match slot.take() {
            Some(keys) => keys,
            None => KeyCache::read(&tx, &self.tenant).await?,
        };
        let mut destroyed = 0;
        for (_, ops) in batches {
            destroyed += engine::write(&tx, &self.tenant, &mut keys, ops).await?;
        }
        let erased_by = if destroyed > 0 {
            let xid: String = tx
                .query_one("SELECT pg_current_xact_id()::text", &[])
                .await
                .map_err(|e| pg("numbering the erasure", &e))?
                .get(0);
            Some(xid.parse::<u64>().map_err(|e| {
                StoreError::Corrupt(format!("PostgreSQL gave the transaction id {xid:?}: {e}"))
            })?)
        } else {
            None
        };
        tx.commit().await.map_err(|e| pg("committing", &e))?;
        *slot = Some(keys);
        if let Some(xid) = erased_by {
            self.erased_by.fetch_max(xid, Ordering::AcqRel);
            self.vacuum_due.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// Starts the task that rewrites the key table, if keys were destroyed and it is not
    /// running yet.
    fn start_vacuum(self: &Arc<Self>) {
        if !self.vacuum_due.load(Ordering::Acquire) || self.vacuuming.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            self.vacuuming.store(false, Ordering::Release);
            return;
        };
        let inner = Arc::downgrade(self);
        handle.spawn(async move {
            let mut pause = VACUUM_POLL;
            loop {
                let Some(store) = inner.upgrade() else { return };
                match store.vacuum_if_due().await {
                    Ok(true) => pause = VACUUM_POLL,
                    Ok(false) => pause = (pause * 2).min(VACUUM_POLL_MAX),
                    Err(e) => {
                        tracing::warn!(error = %e, "destroyed keys may remain in the key table's files until the next try");
                        pause = VACUUM_POLL_MAX;
                    }
                }
                if !store.vacuum_due.load(Ordering::Acquire) {
                    store.vacuuming.store(false, Ordering::Release);
                    // A destruction between the check and the store above starts no task:
                    // look once more.
                    if store.vacuum_due.load(Ordering::Acquire)
                        && !store.vacuuming.swap(true, Ordering::AcqRel)
                    {
                        continue;
                    }
                    return;
                }
                drop(store);
                tokio::time::sleep(pause).await;
            }
        });
    }

    /// Rewrites the key table after keys were destroyed, so their bytes leave its files,
    /// once no transaction older than the destruction runs any more (the rewrite would keep
    /// the deleted rows for it). `Ok(false)`: such a transaction still runs, try again later.
    async fn vacuum_if_due(&self) -> Result<bool, StoreError> {
        if !self.vacuum_due.load(Ordering::Acquire) {
            return Ok(true);
        }
        let erased_by = self.erased_by.load(Ordering::Acquire).to_string();
        let client = self.pool.get().await.map_err(|e| pool(&e))?;
        // Older transactions with an id (in any database), and older snapshots in this one.
        let clear: bool = client
            .query_one(
                "SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::text::xid8
                   AND NOT EXISTS (
                     SELECT 1 FROM pg_stat_activity
                      WHERE datname = current_database() AND pid <> pg_backend_pid()
                        AND backend_xmin IS NOT NULL
                        AND age(backend_xmin) >= age(xid($1::text::xid8)))",
                &[&erased_by],
            )
            .await
            .map_err(|e| pg("looking for transactions older than the erasure", &e))?
            .get(0);
        if !clear {
            return Ok(false);
        }
        self.vacuum_due.store(false, Ordering::Release);
        if let Err(e) = client.batch_execute("VACUUM FULL record_keys").await {
            self.vacuum_due.store(true, Ordering::Release);
            return Err(pg("rewriting the key table", &e));
        }
        Ok(true)
    }

    async fn sync(self: &Arc<Self>, upto: CommitSeq) -> Result<(), StoreError> {
        if self.commits.check(upto)? {
            return Ok(());
        }
        let guard = self.commits.lock().await;
        if self.commits.check(upto)? {
            return Ok(());
        }
        tokio::spawn(Arc::clone(self).flush(guard))
            .await
            .map_err(|e| StoreError::Io(format!("the commit task failed: {e}")))?
    }

    async fn load(self: &Arc<Self>) -> Result<Snapshot, StoreError> {
        // What was applied is committed first; what fails to commit is lost and not loaded.
        if let Err(e) = self.sync(self.commits.written()).await {
            tracing::debug!(error = %e, "loading without the batches that failed to commit");
        }
        let _guard = self.commits.lock().await;
        let mut client = self.pool.get().await.map_err(|e| pool(&e))?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(|e| pg("starting a load", &e))?;
        let keys = KeyCache::read(&tx, &self.tenant).await?;
        let snapshot = engine::load(&tx, &self.tenant, &keys).await?;
        tx.commit().await.map_err(|e| pg("ending a load", &e))?;
        tracing::debug!(keys = keys.len(), "store loaded");
        *self.keys.lock().await = Some(keys);
        drop(client);
        self.start_vacuum();
        Ok(snapshot)
    }

    async fn health(&self) -> Result<(), StoreError> {
        let client = self.pool.get().await.map_err(|e| pool(&e))?;
        let version: Option<i64> = client
            .query_one("SELECT max(version) FROM schema_version", &[])
            .await
            .map_err(|e| pg("checking the database", &e))?
            .get(0);
        match version {
            Some(v) if v == schema::latest() => Ok(()),
            other => Err(StoreError::Corrupt(format!(
                "the database has schema version {other:?}, expected {}",
                schema::latest()
            ))),
        }
    }
}

impl Drop for PgStore {
    /// Batches applied but never synced are committed in the background if a runtime is
    /// still there (nobody was told they are stored; sled does the same on close).
    fn drop(&mut self) {
        if matches!(
            self.inner.commits.check(self.inner.commits.written()),
            Ok(false)
        ) && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            let inner = Arc::clone(&self.inner);
            handle.spawn(async move {
                let guard = inner.commits.lock().await;
                let _ = inner.flush(guard).await;
            });
        }
    }
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The connection settings may hold a password: not shown.
        f.debug_struct("PgStore")
            .field("tenant", &self.inner.tenant)
            .field("flushes", &self.flush_count())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Store for PgStore {
    async fn load(&self) -> Result<Snapshot, StoreError> {
        self.inner.load().await
    }

    async fn apply(&self, changes: &[Change]) -> Result<CommitSeq, StoreError> {
        let ops = engine::encode_batch(changes)?;
        Ok(self.inner.commits.write(ops))
    }

    async fn sync(&self, upto: CommitSeq) -> Result<(), StoreError> {
        self.inner.sync(upto).await
    }

    async fn health(&self) -> Result<(), StoreError> {
        self.inner.health().await
    }

    async fn put_staff(&self, member: &StaffMember) -> Result<(), StoreError> {
        self.inner.put_staff(member).await
    }

    async fn staff(&self) -> Result<Vec<StaffMember>, StoreError> {
        self.inner.staff().await
    }

    async fn staff_member(&self, id: StaffId) -> Result<Option<StaffMember>, StoreError> {
        self.inner.staff_member(id).await
    }

    async fn staff_by_login(&self, login: &str) -> Result<Option<StaffMember>, StoreError> {
        self.inner.staff_by_login(login).await
    }

    async fn put_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        self.inner.put_token(token).await
    }

    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.inner.tokens().await
    }

    async fn token(&self, id: &str) -> Result<Option<ApiToken>, StoreError> {
        self.inner.token(id).await
    }

    async fn put_login(&self, login: &LoginSession) -> Result<(), StoreError> {
        self.inner.put_login(login).await
    }

    async fn login(&self, secret_hash: &str) -> Result<Option<LoginSession>, StoreError> {
        self.inner.login(secret_hash).await
    }

    async fn delete_login(&self, secret_hash: &str) -> Result<(), StoreError> {
        self.inner.delete_login(secret_hash).await
    }

    async fn end_logins_of(&self, staff: StaffId, keep: Option<&str>) -> Result<usize, StoreError> {
        self.inner.end_logins_of(staff, keep).await
    }

    async fn put_token_use(&self, id: &str, at: jiff::Timestamp) -> Result<(), StoreError> {
        self.inner.put_token_use(id, at).await
    }

    async fn token_last_used(&self, id: &str) -> Result<Option<jiff::Timestamp>, StoreError> {
        self.inner.token_last_used(id).await
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.inner.append_audit(entry).await
    }

    async fn audit_entries(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.audit_entries(after, limit).await
    }

    async fn last_audit_entry(&self) -> Result<Option<AuditEntry>, StoreError> {
        self.inner.last_audit_entry().await
    }

    async fn audit_anchor(&self) -> Result<Option<AuditAnchor>, StoreError> {
        self.inner.audit_anchor().await
    }

    async fn purge_audit(&self, anchor: &AuditAnchor) -> Result<u64, StoreError> {
        self.inner.purge_audit(anchor).await
    }
}
