//! The embedded [sled] backend of the [`Store`] port, with group commit.
//!
//! One directory holds one sled database. Engine data (sessions, questions, citizens,
//! outbox, counters) lives in one tree, so that [`Store::apply`] writes a whole batch of
//! changes atomically; staff, tokens and logins have trees of their own. Values are JSON.
//! [`Store::sync`] shares one flush between all concurrent callers (group commit): the
//! callers that arrive while a flush runs are covered together by the next one.
//!
//! sled locks the directory: a second [`SledStore::open`] of it, from this or another
//! process, fails with [`StoreError::Locked`] while the first store is alive. Dropping the
//! store flushes and returns once the directory is free again, so it can be reopened at
//! once.
//!
//! [sled]: https://docs.rs/sled/0.34.7

mod audit;
mod engine;
mod errors;
mod group_commit;
mod keys;
mod release;
mod staff;
mod vault;

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use sprechstunde_core::{
    ApiToken, AuditAnchor, AuditEntry, Change, CommitSeq, LoginSession, Snapshot, StaffId,
    StaffMember, Store, StoreError,
};

use crate::audit::AuditTree;
use crate::group_commit::GroupCommit;
use crate::keys::{ENGINE_TREE, FORMAT_KEY, FORMAT_VERSION};
use crate::release::ReleaseOnDrop;
use crate::staff::StaffTrees;
use crate::vault::Vault;

/// A [`Store`] in a sled database directory.
///
/// Writes run on the caller's thread (sled writes to memory and its own I/O threads); flushes
/// run on tokio's blocking pool, so [`Store::sync`] needs a tokio runtime.
pub struct SledStore {
    path: PathBuf,
    engine: sled::Tree,
    vault: Arc<Vault>,
    staff: StaffTrees,
    audit: AuditTree,
    commits: GroupCommit,
    // Fields drop in declaration order: this one must come after every sled handle.
    _release: ReleaseOnDrop,
}

impl SledStore {
    /// Opens the store in `dir`, creating the directory and the database if needed.
    ///
    /// Recovery of a large database can take a while; this blocks meanwhile.
    ///
    /// # Errors
    /// [`StoreError::Locked`] if another live store (in any process) has `dir` open;
    /// [`StoreError::Corrupt`] if `dir` holds a database of an unknown layout or sled finds
    /// it damaged; [`StoreError::Io`] otherwise.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        create_data_dir(dir)
            .map_err(|e| StoreError::Io(format!("creating {}: {e}", dir.display())))?;
        // No background flusher: every flush goes through the group commit, one at a time
        // (concurrent flushes can deadlock sled 0.34.7, upstream #1308). Writes nobody is told
        // about (delivery bookkeeping) become durable with the next flush or on close.
        let db = sled::Config::new()
            .path(dir)
            .flush_every_ms(None)
            .open()
            .map_err(|e| errors::open(dir, e))?;
        // From here on the directory is ours; even a failed open must leave it free.
        let release = ReleaseOnDrop::new(dir.to_owned());
        let vault = Arc::new(Vault::open(dir)?);
        let (engine, staff, audit, commits) = handles(db, Arc::clone(&vault))?;
        engine::summary_keys(&engine, &vault)?;
        tracing::debug!(path = %dir.display(), "sled store opened");
        Ok(SledStore {
            path: dir.to_owned(),
            engine,
            vault,
            staff,
            audit,
            commits,
            _release: release,
        })
    }

    /// The directory the store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many flushes [`Store::sync`] has attempted since the store was opened.
    ///
    /// With group commit this grows much more slowly than the number of commits.
    pub fn flush_count(&self) -> u64 {
        self.commits.flush_count()
    }

    /// Runs a staff write in write order and waits until it is durable.
    async fn write_durably(
        &self,
        write: impl FnOnce() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let ((), seq) = self.commits.write(write)?;
        self.commits.sync(seq).await
    }
}

/// The trees and the group commit over `db`. Consumes `db`, so that on an error every sled
/// handle is gone before the caller's [`ReleaseOnDrop`] waits.
fn handles(
    db: sled::Db,
    vault: Arc<Vault>,
) -> Result<(sled::Tree, StaffTrees, AuditTree, GroupCommit), StoreError> {
    let engine = db
        .open_tree(ENGINE_TREE)
        .map_err(|e| errors::storage("opening the engine tree", e))?;
    check_format(&engine)?;
    let staff = StaffTrees::open(&db)?;
    let audit = AuditTree::open(&db)?;
    // Keys first (no durable record sealed under a key that is not), destroyed keys after
    // the records are gone. Syncing the keys beside the flush instead would be faster but
    // could leave half a batch readable after a power loss (the records under old keys).
    let commits = GroupCommit::new(move || {
        vault.before_flush()?;
        let bytes = db.flush().map_err(|e| errors::storage("flushing", e))?;
        vault.after_flush()?;
        Ok(bytes)
    });
    Ok((engine, staff, audit, commits))
}

/// Creates the data directory (and missing parents) if needed; the directory itself is
/// created readable by its owner only (mode 0700 on Unix). An existing one is left as it is.
fn create_data_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        other => other,
    }
}

/// Marks a new database with the layout version and refuses one of another layout.
fn check_format(engine: &sled::Tree) -> Result<(), StoreError> {
    let previous = engine
        .compare_and_swap(FORMAT_KEY, None as Option<&[u8]>, Some(FORMAT_VERSION))
        .map_err(|e| errors::storage("writing the format version", e))?;
    match previous {
        Ok(()) => Ok(()),
        Err(found) if found.current.as_deref() == Some(FORMAT_VERSION) => Ok(()),
        Err(found) => Err(StoreError::Corrupt(format!(
            "unknown store format {:?} (this version reads {:?})",
            found.current.as_deref().map(String::from_utf8_lossy),
            String::from_utf8_lossy(FORMAT_VERSION)
        ))),
    }
}

impl fmt::Debug for SledStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledStore")
            .field("path", &self.path)
            .field("flushes", &self.flush_count())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Store for SledStore {
    async fn load(&self) -> Result<Snapshot, StoreError> {
        let snapshot = engine::load(&self.engine, &self.vault)?;
        // Keys whose records are gone (an erasure interrupted by a crash) are destroyed now,
        // and so are keys of summary versions that are no longer the stored one.
        let citizens: HashSet<u64> = snapshot.citizens.iter().map(|c| c.id.0).collect();
        let questions: HashSet<u64> = snapshot.questions.iter().map(|q| q.id.0).collect();
        let summaries = engine::summary_keys(&self.engine, &self.vault)?;
        let removed = self.vault.retain(|id| match id {
            vault::KeyId::Citizen(c) => citizens.contains(c),
            vault::KeyId::Question(q) => questions.contains(q),
            vault::KeyId::Summary(_) => summaries.contains(id),
        })?;
        if removed > 0 {
            tracing::debug!(removed, "destroyed keys of erased records");
        }
        Ok(snapshot)
    }

    async fn apply(&self, changes: &[Change]) -> Result<CommitSeq, StoreError> {
        // Sealing (and creating keys) happens outside the write lock; which summary versions
        // are replaced is read inside it, so concurrent writers see each other's versions.
        let encoded = engine::batch(changes, &self.vault)?;
        let ((), seq) = self.commits.write(|| {
            let replaced = engine::replaced_keys(&self.engine, &encoded.replaced)?;
            self.engine
                .apply_batch(encoded.batch)
                .map_err(|e| errors::storage("applying a batch", e))?;
            // Gone from memory now, from the key file after the flush that writes the batch.
            // Marked inside the write lock, before this write gets its number: any flush that
            // covers the number (also one another writer started) then rewrites the key file,
            // so a caller told "erased" after `sync` never finds the key still on disk.
            for id in encoded.destroy.into_iter().chain(replaced) {
                self.vault.destroy(id);
            }
            Ok(())
        })?;
        Ok(seq)
    }

    async fn sync(&self, upto: CommitSeq) -> Result<(), StoreError> {
        self.commits.sync(upto).await
    }

    async fn health(&self) -> Result<(), StoreError> {
        match self.engine.get(FORMAT_KEY) {
            Ok(Some(_)) if self.commits.is_failing() => {
                Err(StoreError::Io("the last flush to disk failed".into()))
            }
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(StoreError::Corrupt("the format version is missing".into())),
            Err(e) => Err(errors::storage("reading the format version", e)),
        }
    }

    async fn put_staff(&self, member: &StaffMember) -> Result<(), StoreError> {
        self.write_durably(|| self.staff.put_member(member)).await
    }

    async fn staff(&self) -> Result<Vec<StaffMember>, StoreError> {
        self.staff.members()
    }

    async fn staff_member(&self, id: StaffId) -> Result<Option<StaffMember>, StoreError> {
        self.staff.member(id)
    }

    async fn staff_by_login(&self, login: &str) -> Result<Option<StaffMember>, StoreError> {
        self.staff.member_by_login(login)
    }

    async fn put_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        self.write_durably(|| self.staff.put_token(token)).await
    }

    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.staff.tokens()
    }

    async fn token(&self, id: &str) -> Result<Option<ApiToken>, StoreError> {
        self.staff.token(id)
    }

    async fn put_login(&self, login: &LoginSession) -> Result<(), StoreError> {
        self.write_durably(|| self.staff.put_login(login)).await
    }

    async fn login(&self, secret_hash: &str) -> Result<Option<LoginSession>, StoreError> {
        self.staff.login(secret_hash)
    }

    async fn delete_login(&self, secret_hash: &str) -> Result<(), StoreError> {
        self.write_durably(|| self.staff.delete_login(secret_hash))
            .await
    }

    async fn end_logins_of(&self, staff: StaffId, keep: Option<&str>) -> Result<usize, StoreError> {
        let mut ended = 0;
        self.write_durably(|| {
            ended = self.staff.end_logins_of(staff, keep)?;
            Ok(())
        })
        .await?;
        Ok(ended)
    }

    async fn put_token_use(&self, id: &str, at: jiff::Timestamp) -> Result<(), StoreError> {
        self.write_durably(|| self.staff.put_token_use(id, at))
            .await
    }

    async fn token_last_used(&self, id: &str) -> Result<Option<jiff::Timestamp>, StoreError> {
        self.staff.token_last_used(id)
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.write_durably(|| self.audit.append(entry)).await
    }

    async fn audit_entries(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit.after(after, limit)
    }

    async fn last_audit_entry(&self) -> Result<Option<AuditEntry>, StoreError> {
        self.audit.last()
    }

    async fn audit_anchor(&self) -> Result<Option<AuditAnchor>, StoreError> {
        self.audit.anchor()
    }

    async fn purge_audit(&self, anchor: &AuditAnchor) -> Result<u64, StoreError> {
        let (removed, seq) = self.commits.write(|| self.audit.purge(anchor))?;
        self.commits.sync(seq).await?;
        Ok(removed)
    }
}
