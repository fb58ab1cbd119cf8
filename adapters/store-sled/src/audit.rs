//! The audit trail in a tree of its own: entries under `e` + the number big-endian (so a
//! scan yields them in order), the purge anchor under `anchor`. Values are JSON.
//! The functions here only write; durability is the caller's (group commit).

use sprechstunde_core::{AuditAnchor, AuditEntry, StoreError};

use crate::errors;

/// Key prefix of audit entries.
const ENTRY: u8 = b'e';
/// Key of the purge anchor.
const ANCHOR_KEY: &[u8] = b"anchor";

/// The audit tree.
pub(crate) struct AuditTree {
    tree: sled::Tree,
}

fn key(seq: u64) -> [u8; 9] {
    crate::keys::entity(ENTRY, seq)
}

impl AuditTree {
    /// Opens (or creates) the tree in `db`.
    ///
    /// # Errors
    /// I/O failure.
    pub(crate) fn open(db: &sled::Db) -> Result<Self, StoreError> {
        let tree = db
            .open_tree(crate::keys::AUDIT_TREE)
            .map_err(|e| errors::storage("opening the audit tree", e))?;
        Ok(AuditTree { tree })
    }

    /// Inserts an entry unless its number is taken.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] for a taken number; I/O failure.
    pub(crate) fn append(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let value =
            serde_json::to_vec(entry).map_err(|e| errors::unencodable("audit entry", &e))?;
        self.tree
            .compare_and_swap(key(entry.seq), None as Option<&[u8]>, Some(value))
            .map_err(|e| errors::storage("appending an audit entry", e))?
            .map_err(|_| StoreError::Conflict(format!("audit entry {}", entry.seq)))
    }

    /// Up to `limit` entries after `after`.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    pub(crate) fn after(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let Some(start) = after.checked_add(1) else {
            return Ok(Vec::new());
        };
        self.tree
            .range(key(start)..=key(u64::MAX))
            .take(limit)
            .map(|kv| {
                let (k, v) = kv.map_err(|e| errors::storage("scanning the audit trail", e))?;
                decode(&k, &v)
            })
            .collect()
    }

    /// The newest entry.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    pub(crate) fn last(&self) -> Result<Option<AuditEntry>, StoreError> {
        self.tree
            .scan_prefix([ENTRY])
            .next_back()
            .map(|kv| {
                let (k, v) = kv.map_err(|e| errors::storage("reading the audit trail", e))?;
                decode(&k, &v)
            })
            .transpose()
    }

    /// The purge anchor.
    ///
    /// # Errors
    /// I/O failure or corrupt data.
    pub(crate) fn anchor(&self) -> Result<Option<AuditAnchor>, StoreError> {
        match self
            .tree
            .get(ANCHOR_KEY)
            .map_err(|e| errors::storage("reading the audit anchor", e))?
        {
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| errors::undecodable("audit anchor", &e)),
            None => Ok(None),
        }
    }

    /// Removes the entries up to `anchor.seq` and stores the anchor, in one batch.
    ///
    /// # Errors
    /// I/O failure.
    pub(crate) fn purge(&self, anchor: &AuditAnchor) -> Result<u64, StoreError> {
        let mut batch = sled::Batch::default();
        let mut removed = 0;
        for k in self.tree.range(key(0)..=key(anchor.seq)).keys() {
            let k = k.map_err(|e| errors::storage("scanning the audit trail", e))?;
            batch.remove(k);
            removed += 1;
        }
        let value =
            serde_json::to_vec(anchor).map_err(|e| errors::unencodable("audit anchor", &e))?;
        batch.insert(ANCHOR_KEY, value);
        self.tree
            .apply_batch(batch)
            .map_err(|e| errors::storage("purging the audit trail", e))?;
        Ok(removed)
    }
}

/// Decodes the entry stored under `key`; an error names the entry's number, so that the
/// damaged entry can be found (and the trail compared with a backup).
fn decode(key: &[u8], bytes: &[u8]) -> Result<AuditEntry, StoreError> {
    let seq = key
        .get(1..9)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes);
    let what = match seq {
        Some(seq) => format!("audit entry {seq}"),
        None => "an audit entry under a malformed key".to_owned(),
    };
    serde_json::from_slice(bytes).map_err(|e| errors::undecodable(what, &e))
}
