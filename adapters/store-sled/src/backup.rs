//! A consistent copy of a running store, and bringing one back into an empty directory.
//!
//! sled 0.34 has no snapshots, and its files cannot be copied while it runs (its I/O threads
//! write segments and snapshots on their own). So [`SledStore::backup`] reads every tree
//! inside the process while no write runs (it holds the group commit's write lock for the
//! copy), together with the key file's contents as they are in memory at that moment: the
//! trees and the keys belong to the same point between two writes. Writers wait meanwhile;
//! readers do not. What the copy holds is what had been written then, which includes every
//! write anybody was told is durable (a caller is told only after its write, and its flush).
//!
//! The copy of the trees (`store.sled-trees`) is: the magic `SPRECHSTUNDE-SLED-TREES-1\n`,
//! then per tree `T`, the name (length as big-endian `u32`, bytes) and the number of entries
//! (big-endian `u64`), then per entry the key and the value (each a big-endian `u32` length
//! and the bytes), and at the end `E`. Values are as stored: records linked to citizens stay
//! sealed; the key file (`citizen-keys`, the format of `vault.rs`) opens them.
//!
//! [`restore`] writes both into a new database in an empty directory (keys first, then the
//! trees, then one flush); opening it with [`SledStore::open`] and loading it once afterwards
//! shows that the copy is whole before anybody serves from it.

use std::collections::BTreeMap;
use std::path::Path;

use sprechstunde_core::StoreError;

use crate::keys::{CITIZEN, ENGINE_TREE, OUTBOX, QUESTION, SESSION};
use crate::{SledStore, create_data_dir, errors, vault};

const MAGIC: &[u8] = b"SPRECHSTUNDE-SLED-TREES-1\n";

/// A consistent copy of a sled store: its trees and its keys, taken at one moment.
#[derive(Clone, PartialEq, Eq)]
pub struct SledBackup {
    /// Every tree with every entry, in the format described in the module documentation.
    pub trees: Vec<u8>,
    /// The key file (`citizen-keys`) as it was at the same moment.
    pub keys: Vec<u8>,
    /// What the copy holds, for the manifest.
    pub counts: BackupCounts,
}

impl std::fmt::Debug for SledBackup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the bytes: they are keys and sealed citizens' data.
        f.debug_struct("SledBackup")
            .field("trees_bytes", &self.trees.len())
            .field("keys_bytes", &self.keys.len())
            .field("counts", &self.counts)
            .finish()
    }
}

/// How much a backup holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupCounts {
    /// Entries per tree, by tree name.
    pub trees: BTreeMap<String, u64>,
    /// Keys in the key file.
    pub keys: u64,
    /// Questions (sealed records in the engine tree).
    pub questions: u64,
    /// Citizens.
    pub citizens: u64,
    /// Sessions.
    pub sessions: u64,
    /// Messages in the outbox.
    pub outbox: u64,
}

impl SledStore {
    /// Copies every tree and the keys while no write runs; see the module documentation.
    ///
    /// Holds the copy in memory; writers wait while the trees are read.
    ///
    /// # Errors
    /// The database is closed after a failed write, or reading it failed.
    pub fn backup(&self) -> Result<SledBackup, StoreError> {
        let db = self.db()?;
        let started = std::time::Instant::now();
        let backup = self.commits.exclusive(|| {
            let mut out = MAGIC.to_vec();
            let mut counts = BackupCounts::default();
            for name in db.db.tree_names() {
                let tree = db
                    .db
                    .open_tree(&name)
                    .map_err(|e| errors::storage("opening a tree for the backup", e))?;
                let name_text = String::from_utf8_lossy(&name).into_owned();
                out.push(b'T');
                put(&mut out, &name);
                let count_at = out.len();
                out.extend_from_slice(&0_u64.to_be_bytes());
                let mut entries = 0_u64;
                for entry in &tree {
                    let (key, value) =
                        entry.map_err(|e| errors::storage("reading a tree for the backup", e))?;
                    if name_text == ENGINE_TREE {
                        count_entity(&mut counts, &key);
                    }
                    put(&mut out, &key);
                    put(&mut out, &value);
                    entries += 1;
                }
                out[count_at..count_at + 8].copy_from_slice(&entries.to_be_bytes());
                counts.trees.insert(name_text, entries);
            }
            out.push(b'E');
            let (keys, key_count) = db.vault.image();
            counts.keys = key_count as u64;
            Ok(SledBackup {
                trees: out,
                keys,
                counts,
            })
        })?;
        tracing::info!(
            micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            bytes = backup.trees.len(),
            "store copied for a backup"
        );
        Ok(backup)
    }
}

/// Counts an engine-tree entry by its prefix.
fn count_entity(counts: &mut BackupCounts, key: &[u8]) {
    if key.len() != 9 {
        return;
    }
    match key[0] {
        QUESTION => counts.questions += 1,
        CITIZEN => counts.citizens += 1,
        SESSION => counts.sessions += 1,
        OUTBOX => counts.outbox += 1,
        _ => {}
    }
}

/// Appends a length-prefixed byte string.
fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Reads the copy of the trees.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        if self.rest.len() < n {
            return Err(StoreError::Corrupt(
                "the backup's copy of the store is truncated".into(),
            ));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn bytes(&mut self) -> Result<&'a [u8], StoreError> {
        let len = u32::from_be_bytes(self.take(4)?.try_into().unwrap_or_default());
        self.take(len as usize)
    }

    fn count(&mut self) -> Result<u64, StoreError> {
        Ok(u64::from_be_bytes(
            self.take(8)?.try_into().unwrap_or_default(),
        ))
    }
}

/// Writes `backup` into `dir`, which must be empty or not exist. Returns the counts found.
///
/// # Errors
/// `dir` is not empty ([`StoreError::Io`] saying so), the copy is damaged
/// ([`StoreError::Corrupt`]), or writing failed.
pub fn restore(dir: &Path, backup: &SledBackup) -> Result<BackupCounts, StoreError> {
    if let Ok(mut entries) = std::fs::read_dir(dir)
        && entries.next().is_some()
    {
        return Err(StoreError::Io(format!(
            "{} is not empty: a backup is restored only into an empty data directory",
            dir.display()
        )));
    }
    create_data_dir(dir).map_err(|e| StoreError::Io(format!("creating {}: {e}", dir.display())))?;
    let mut counts = BackupCounts::default();
    {
        let db = sled::Config::new()
            .path(dir)
            .flush_every_ms(None)
            .open()
            .map_err(errors::open)?;
        let release = crate::release::ReleaseOnDrop::new(dir.to_owned());
        let mut reader = Reader {
            rest: backup.trees.strip_prefix(MAGIC).ok_or_else(|| {
                StoreError::Corrupt("the backup's copy of the store has no known format".into())
            })?,
        };
        loop {
            match reader.take(1)? {
                b"E" => break,
                b"T" => {}
                _ => {
                    return Err(StoreError::Corrupt(
                        "the backup's copy of the store is damaged".into(),
                    ));
                }
            }
            let name = reader.bytes()?;
            let entries = reader.count()?;
            let tree = db
                .open_tree(name)
                .map_err(|e| errors::storage("creating a tree", e))?;
            let mut batch = sled::Batch::default();
            let name_text = String::from_utf8_lossy(name).into_owned();
            for _ in 0..entries {
                let key = reader.bytes()?;
                let value = reader.bytes()?;
                if name_text == ENGINE_TREE {
                    count_entity(&mut counts, key);
                }
                batch.insert(key, value);
            }
            tree.apply_batch(batch)
                .map_err(|e| errors::storage("restoring a tree", e))?;
            counts.trees.insert(name_text, entries);
        }
        if !reader.rest.is_empty() {
            return Err(StoreError::Corrupt(
                "the backup's copy of the store has bytes after its end".into(),
            ));
        }
        counts.keys = vault::install(dir, &backup.keys)? as u64;
        db.flush()
            .map_err(|e| errors::storage("flushing the restored store", e))?;
        drop(db);
        drop(release);
    }
    Ok(counts)
}
