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
mod backup;
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
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use async_trait::async_trait;
use sprechstunde_core::{
    ApiToken, AuditAnchor, AuditEntry, Change, CommitSeq, LoginSession, Snapshot, StaffId,
    StaffMember, Store, StoreError,
};

pub use crate::backup::{BackupCounts, SledBackup, restore};

use crate::audit::AuditTree;
use crate::engine::Threads;
use crate::group_commit::GroupCommit;
use crate::keys::{ENGINE_TREE, FORMAT_KEY, FORMAT_READABLE, FORMAT_VERSION};
use crate::release::ReleaseOnDrop;
use crate::staff::StaffTrees;
use crate::vault::Vault;

/// A [`Store`] in a sled database directory.
///
/// Writes run on the caller's thread (sled writes to memory and its own I/O threads); flushes
/// run on tokio's blocking pool, so [`Store::sync`] needs a tokio runtime.
///
/// After a failed write or flush (a full disk) sled 0.34 fails every later operation, and
/// what it holds in memory may never reach the disk. The store then reopens the database at
/// the next [`Store::load`], so that the load returns only what is durable; a commit that was
/// not durable before the reopen can never be synced after it. Until the reopen succeeds
/// (space is free again), every operation fails.
pub struct SledStore {
    path: PathBuf,
    /// The open database; `None` after a reopen that failed.
    current: Arc<Slot>,
    commits: GroupCommit,
}

/// Where the open database lives, shared with the flush function.
type Slot = RwLock<Option<Arc<Open>>>;

/// One opening of the database directory.
struct Open {
    db: sled::Db,
    engine: sled::Tree,
    vault: Vault,
    staff: StaffTrees,
    audit: AuditTree,
    /// What is stored of each question's thread; held while a batch that writes threads is
    /// planned and applied.
    threads: Mutex<Threads>,
    // Fields drop in declaration order: this one must come after every sled handle.
    _release: ReleaseOnDrop,
}

impl Open {
    /// Opens the database in `dir` (which exists).
    fn new(dir: &Path) -> Result<Open, StoreError> {
        remove_unfinished_snapshots(dir)?;
        // No background flusher: every flush goes through the group commit, one at a time
        // (concurrent flushes can deadlock sled 0.34.7, upstream #1308). Writes nobody is told
        // about (delivery bookkeeping) become durable with the next flush or on close.
        let db = sled::Config::new()
            .path(dir)
            .flush_every_ms(None)
            .open()
            .map_err(errors::open)?;
        // From here on the directory is ours; even a failed open must leave it free, so on
        // an error every sled handle is gone before `release` waits.
        let release = ReleaseOnDrop::new(dir.to_owned());
        let rest = (|| {
            let vault = Vault::open(dir)?;
            let (engine, staff, audit) = trees(&db)?;
            engine::summary_keys(&engine, &vault)?;
            Ok((vault, engine, staff, audit))
        })();
        match rest {
            Ok((vault, engine, staff, audit)) => Ok(Open {
                db,
                engine,
                vault,
                staff,
                audit,
                threads: Mutex::new(Threads::default()),
                _release: release,
            }),
            Err(e) => {
                drop(db);
                drop(release);
                Err(e)
            }
        }
    }

    /// Makes everything written durable: keys first (no durable record sealed under a key
    /// that is not), destroyed keys after the records are gone. Syncing the keys beside the
    /// flush instead would be faster but could leave half a batch readable after a power
    /// loss (the records under old keys).
    fn flush(&self) -> Result<usize, StoreError> {
        self.vault.before_flush()?;
        let bytes = self
            .db
            .flush()
            .map_err(|e| errors::storage("flushing", e))?;
        self.vault.after_flush()?;
        Ok(bytes)
    }
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
        let open = Open::new(dir).map_err(|e| errors::with_advice(dir, e))?;
        // sled creates its files with the umask's mode; the directory is private anyway.
        #[cfg(unix)]
        tighten(dir).map_err(|e| StoreError::Io(format!("tightening {}: {e}", dir.display())))?;
        let current: Arc<Slot> = Arc::new(RwLock::new(Some(Arc::new(open))));
        let slot = Arc::clone(&current);
        let commits = GroupCommit::new(move || current_of(&slot)?.flush());
        tracing::debug!(path = %dir.display(), "sled store opened");
        Ok(SledStore {
            path: dir.to_owned(),
            current,
            commits,
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

    /// The open database.
    fn db(&self) -> Result<Arc<Open>, StoreError> {
        current_of(&self.current)
    }

    /// Runs a staff write in write order and waits until it is durable.
    async fn write_durably(
        &self,
        write: impl FnOnce(&Open) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let ((), seq) = self.commits.write(|| write(&*self.db()?))?;
        self.commits.sync(seq).await
    }

    /// Closes the database and opens it again, so that what sled held only in memory when a
    /// write or flush failed is gone. No flush runs meanwhile; commits not durable before
    /// count as lost (syncing them fails).
    async fn reopen(&self) -> Result<(), StoreError> {
        let (closing, opening) = (Arc::clone(&self.current), Arc::clone(&self.current));
        let dir = self.path.clone();
        self.commits
            .restart(
                move || {
                    // Dropping the last handle waits until sled has let go of the directory.
                    let old = closing.write().unwrap_or_else(PoisonError::into_inner).take();
                    drop(old);
                },
                move || {
                    let open = Open::new(&dir)?;
                    *opening.write().unwrap_or_else(PoisonError::into_inner) =
                        Some(Arc::new(open));
                    tracing::info!(path = %dir.display(), "sled store reopened after a failed write");
                    Ok(())
                },
            )
            .await
    }
}

/// Removes `snap.*.generating` files: snapshots sled began to write but never finished (a
/// full disk). sled 0.34.7 takes the newest `snap.*` file it finds, an unfinished one too, and
/// then refuses to open with a checksum error; a finished snapshot is renamed without the
/// suffix, so an unfinished one holds nothing that is not also in the log.
fn remove_unfinished_snapshots(dir: &Path) -> Result<(), StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::Io(format!("reading {}: {e}", dir.display()))),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            std::fs::remove_file(entry.path())
                .map_err(|e| StoreError::Io(format!("removing {}: {e}", entry.path().display())))?;
            tracing::warn!(file = %name, "removed an unfinished sled snapshot");
        }
    }
    Ok(())
}

/// The opening in `slot`, or an error while there is none.
fn current_of(slot: &Slot) -> Result<Arc<Open>, StoreError> {
    slot.read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
        .ok_or_else(|| {
            StoreError::Io("the database is closed after a failed write; reopening".into())
        })
}

/// The trees of `db`.
fn trees(db: &sled::Db) -> Result<(sled::Tree, StaffTrees, AuditTree), StoreError> {
    let engine = db
        .open_tree(ENGINE_TREE)
        .map_err(|e| errors::storage("opening the engine tree", e))?;
    check_format(&engine)?;
    let staff = StaffTrees::open(db)?;
    let audit = AuditTree::open(db)?;
    Ok((engine, staff, audit))
}

/// Creates the data directory (and missing parents) if needed; the directory itself is
/// created readable by its owner only (mode 0700 on Unix). An existing one is tightened to
/// that, with everything in it readable by the owner only (files 0600, directories 0700):
/// a directory copied from a backup or made by hand with a loose umask would otherwise
/// leave citizens' data and keys readable by other users of the machine.
fn create_data_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        #[cfg(unix)]
        {
            let loose = tighten(dir)?;
            if loose > 0 {
                tracing::warn!(
                    path = %dir.display(),
                    entries = loose,
                    "the data directory was readable by others; tightened to owner only"
                );
            }
        }
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

/// Takes every permission of group and others from `dir` and what is below it (symbolic
/// links are left alone: they may point outside the data directory); returns how many
/// entries were loose.
#[cfg(unix)]
fn tighten(dir: &Path) -> std::io::Result<usize> {
    use std::os::unix::fs::PermissionsExt;
    let mut loose = 0_usize;
    let mut pending = vec![dir.to_owned()];
    while let Some(path) = pending.pop() {
        let meta = std::fs::symlink_metadata(&path)?;
        let kind = meta.file_type();
        if kind.is_symlink() {
            continue;
        }
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            let tight = if kind.is_dir() { 0o700 } else { 0o600 };
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(tight))?;
            loose += 1;
        }
        if kind.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                pending.push(entry?.path());
            }
        }
    }
    Ok(loose)
}

/// Marks a new database with the layout version and refuses one of another layout.
fn check_format(engine: &sled::Tree) -> Result<(), StoreError> {
    let previous = engine
        .compare_and_swap(FORMAT_KEY, None as Option<&[u8]>, Some(FORMAT_VERSION))
        .map_err(|e| errors::storage("writing the format version", e))?;
    match previous {
        Ok(()) => Ok(()),
        Err(found) if found.current.as_deref() == Some(FORMAT_VERSION) => Ok(()),
        // An older layout is read as it is and upgraded record by record as they are written;
        // from now on older versions of this crate refuse the directory.
        Err(found)
            if found
                .current
                .as_deref()
                .is_some_and(|v| FORMAT_READABLE.contains(&v)) =>
        {
            engine
                .insert(FORMAT_KEY, FORMAT_VERSION)
                .map_err(|e| errors::storage("upgrading the format version", e))?;
            Ok(())
        }
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
        if self.commits.is_failing() || self.db().is_err() {
            self.reopen().await?;
        }
        let db = self.db()?;
        let (snapshot, threads) =
            engine::load(&db.engine, &db.vault).map_err(|e| errors::with_advice(&self.path, e))?;
        *db.threads.lock().unwrap_or_else(PoisonError::into_inner) = threads;
        // Keys whose records are gone (an erasure interrupted by a crash) are destroyed now,
        // and so are keys of summary versions that are no longer the stored one.
        let citizens: HashSet<u64> = snapshot.citizens.iter().map(|c| c.id.0).collect();
        let questions: HashSet<u64> = snapshot.questions.iter().map(|q| q.id.0).collect();
        let summaries = engine::summary_keys(&db.engine, &db.vault)?;
        let removed = db.vault.retain(|id| match id {
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
        let db = self.db()?;
        // Which entries of a thread are new depends on what earlier batches stored: batches
        // that write threads are planned and applied one at a time.
        let mut threads = engine::writes_threads(changes)
            .then(|| db.threads.lock().unwrap_or_else(PoisonError::into_inner));
        let none = Threads::default();
        let encoded = engine::batch(
            changes,
            &db.vault,
            &db.engine,
            threads.as_deref().unwrap_or(&none),
        )?;
        let stored = encoded.threads;
        let ((), seq) = self.commits.write(|| {
            // Sealed under this opening's keys: a reopen meanwhile makes the batch fail.
            if !Arc::ptr_eq(&db, &self.db()?) {
                return Err(StoreError::Io("the database was reopened; retry".into()));
            }
            let replaced = engine::replaced_keys(&db.engine, &encoded.replaced)?;
            db.engine
                .apply_batch(encoded.batch)
                .map_err(|e| errors::storage("applying a batch", e))?;
            // Gone from memory now, from the key file after the flush that writes the batch.
            // Marked inside the write lock, before this write gets its number: any flush that
            // covers the number (also one another writer started) then rewrites the key file,
            // so a caller told "erased" after `sync` never finds the key still on disk.
            for id in encoded.destroy.into_iter().chain(replaced) {
                db.vault.destroy(id);
            }
            Ok(())
        })?;
        if let Some(threads) = threads.as_deref_mut() {
            threads.update(stored);
        }
        Ok(seq)
    }

    async fn sync(&self, upto: CommitSeq) -> Result<(), StoreError> {
        self.commits.sync(upto).await
    }

    async fn health(&self) -> Result<(), StoreError> {
        let db = self.db()?;
        match db.engine.get(FORMAT_KEY) {
            Ok(Some(_)) if self.commits.is_failing() => Err(StoreError::Io(
                "the last write or flush to disk failed".into(),
            )),
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(StoreError::Corrupt("the format version is missing".into())),
            Err(e) => Err(errors::storage("reading the format version", e)),
        }
    }

    async fn put_staff(&self, member: &StaffMember) -> Result<(), StoreError> {
        self.write_durably(|db| db.staff.put_member(member)).await
    }

    async fn staff(&self) -> Result<Vec<StaffMember>, StoreError> {
        self.db()?.staff.members()
    }

    async fn staff_member(&self, id: StaffId) -> Result<Option<StaffMember>, StoreError> {
        self.db()?.staff.member(id)
    }

    async fn staff_by_login(&self, login: &str) -> Result<Option<StaffMember>, StoreError> {
        self.db()?.staff.member_by_login(login)
    }

    async fn put_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        self.write_durably(|db| db.staff.put_token(token)).await
    }

    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.db()?.staff.tokens()
    }

    async fn token(&self, id: &str) -> Result<Option<ApiToken>, StoreError> {
        self.db()?.staff.token(id)
    }

    async fn put_login(&self, login: &LoginSession) -> Result<(), StoreError> {
        self.write_durably(|db| db.staff.put_login(login)).await
    }

    async fn login(&self, secret_hash: &str) -> Result<Option<LoginSession>, StoreError> {
        self.db()?.staff.login(secret_hash)
    }

    async fn delete_login(&self, secret_hash: &str) -> Result<(), StoreError> {
        self.write_durably(|db| db.staff.delete_login(secret_hash))
            .await
    }

    async fn end_logins_of(&self, staff: StaffId, keep: Option<&str>) -> Result<usize, StoreError> {
        let mut ended = 0;
        self.write_durably(|db| {
            ended = db.staff.end_logins_of(staff, keep)?;
            Ok(())
        })
        .await?;
        Ok(ended)
    }

    async fn put_token_use(&self, id: &str, at: jiff::Timestamp) -> Result<(), StoreError> {
        self.write_durably(|db| db.staff.put_token_use(id, at))
            .await
    }

    async fn token_last_used(&self, id: &str) -> Result<Option<jiff::Timestamp>, StoreError> {
        self.db()?.staff.token_last_used(id)
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.write_durably(|db| db.audit.append(entry)).await
    }

    async fn audit_entries(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.db()?.audit.after(after, limit)
    }

    async fn last_audit_entry(&self) -> Result<Option<AuditEntry>, StoreError> {
        self.db()?.audit.last()
    }

    async fn audit_anchor(&self) -> Result<Option<AuditAnchor>, StoreError> {
        self.db()?.audit.anchor()
    }

    async fn purge_audit(&self, anchor: &AuditAnchor) -> Result<u64, StoreError> {
        let (removed, seq) = self.commits.write(|| self.db()?.audit.purge(anchor))?;
        self.commits.sync(seq).await?;
        Ok(removed)
    }
}
