//! The storage port. Backends (sled now, PostgreSQL later) implement [`Store`] and pass the
//! conformance suite in [`crate::conformance`].

use async_trait::async_trait;

use crate::audit::{AuditAnchor, AuditEntry};
use crate::ids::StaffId;
use crate::staff::{ApiToken, LoginSession, StaffMember};
use crate::state::{Change, Snapshot};
use jiff::Timestamp;

/// A position in the store's write order: [`Store::apply`] hands one out,
/// [`Store::sync`] waits until everything up to it is on disk. Numbers are only meaningful
/// for the store instance that handed them out (they may restart after a reopen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct CommitSeq(pub u64);

/// A storage failure. Callers must not tell anybody that something was stored after one.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory is in use (by another process, or another open store).
    #[error("the data directory is in use (is the server running?)")]
    Locked,
    /// Reading or writing failed.
    #[error("storage I/O failed: {0}")]
    Io(String),
    /// Stored data could not be decoded.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A unique value (such as a login name) is taken.
    #[error("{0} already exists")]
    Conflict(String),
    /// Another instance holds the office's lease (PostgreSQL with several instances): this
    /// one must not write. A former holder's writes are refused after a takeover, so a paused
    /// or cut-off instance cannot overwrite the new one.
    #[error("this instance does not hold the office's lease: {0}")]
    Fenced(String),
}

/// Durable storage of the office.
///
/// Writes are split in two so that many writers share one flush (group commit): `apply` makes
/// a batch visible and ordered, `sync` makes it durable. [`Store::commit`] does both.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Loads everything the engine needs.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    async fn load(&self) -> Result<Snapshot, StoreError>;

    /// Applies a batch atomically (all or nothing), in call order. Not yet durable.
    ///
    /// # Errors
    /// I/O failure; nothing of the batch is applied then.
    async fn apply(&self, changes: &[Change]) -> Result<CommitSeq, StoreError>;

    /// Returns once every batch up to `upto` is durable. Concurrent callers share flushes.
    ///
    /// # Errors
    /// The flush failed; the batches may or may not be durable. A number this store never
    /// handed out is an error too (claiming durability for it would be a lie).
    async fn sync(&self, upto: CommitSeq) -> Result<(), StoreError>;

    /// Applies and syncs a batch.
    ///
    /// # Errors
    /// As [`Store::apply`] and [`Store::sync`].
    async fn commit(&self, changes: &[Change]) -> Result<(), StoreError> {
        let seq = self.apply(changes).await?;
        self.sync(seq).await
    }

    /// Checks that the store is open and answering.
    ///
    /// # Errors
    /// The store cannot be used.
    async fn health(&self) -> Result<(), StoreError>;

    /// Creates or replaces a staff member (durably). Login names are unique.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if another member has the login; I/O failure.
    async fn put_staff(&self, member: &StaffMember) -> Result<(), StoreError>;

    /// All staff members, by id.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    async fn staff(&self) -> Result<Vec<StaffMember>, StoreError>;

    /// One staff member by id.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    async fn staff_member(&self, id: StaffId) -> Result<Option<StaffMember>, StoreError>;

    /// One staff member by login name.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    async fn staff_by_login(&self, login: &str) -> Result<Option<StaffMember>, StoreError>;

    /// Creates or replaces an API token (durably).
    ///
    /// # Errors
    /// I/O failure.
    async fn put_token(&self, token: &ApiToken) -> Result<(), StoreError>;

    /// All API tokens, revoked ones included.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError>;

    /// One API token by id.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    async fn token(&self, id: &str) -> Result<Option<ApiToken>, StoreError>;

    /// Stores a console login (durably).
    ///
    /// # Errors
    /// I/O failure.
    async fn put_login(&self, login: &LoginSession) -> Result<(), StoreError>;

    /// A console login by the hash of its secret.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    async fn login(&self, secret_hash: &str) -> Result<Option<LoginSession>, StoreError>;

    /// Ends a console login (durably: a logout survives a crash).
    ///
    /// # Errors
    /// I/O failure.
    async fn delete_login(&self, secret_hash: &str) -> Result<(), StoreError>;

    /// Ends every console login of `staff` (durably) but the one whose secret hash is `keep`,
    /// e.g. after a password change or "log out everywhere". Returns how many ended.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    async fn end_logins_of(&self, staff: StaffId, keep: Option<&str>) -> Result<usize, StoreError>;

    /// Records that API token `id` was used at `at` (durably), replacing the earlier use.
    ///
    /// # Errors
    /// I/O failure.
    async fn put_token_use(&self, id: &str, at: Timestamp) -> Result<(), StoreError>;

    /// When API token `id` was last used, if ever since uses were recorded.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    async fn token_last_used(&self, id: &str) -> Result<Option<Timestamp>, StoreError>;

    /// Appends an entry to the audit trail (durably). The caller seals it
    /// ([`AuditEntry::seal`]) and numbers entries without gaps.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if an entry with this number exists; I/O failure.
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// Up to `limit` audit entries with numbers above `after`, in order.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    async fn audit_entries(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;

    /// The newest audit entry.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    async fn last_audit_entry(&self) -> Result<Option<AuditEntry>, StoreError>;

    /// The anchor left by the last purge, if any.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    async fn audit_anchor(&self) -> Result<Option<AuditAnchor>, StoreError>;

    /// Removes the audit entries up to and including `anchor.seq` and stores `anchor`, in one
    /// atomic, durable step. Returns how many entries were removed.
    ///
    /// # Errors
    /// I/O failure; nothing is removed then.
    async fn purge_audit(&self, anchor: &AuditAnchor) -> Result<u64, StoreError>;
}
