//! Per-citizen, per-question and per-summary-version encryption keys, kept outside sled so
//! that destroying a key really removes it from the data directory.
//!
//! sled is log-structured: deleting or overwriting a record leaves its old bytes in the
//! segment files until they happen to be rewritten. So every record linked to a citizen is
//! sealed (XChaCha20-Poly1305) under a key of its own — the citizen's key for the citizen
//! record and its messages outside a question, the question's key for the question and its
//! messages — and erasing destroys the key, which turns whatever old bytes remain into noise.
//! Session summaries quote citizens' questions and are edited in place (an erasure redacts
//! them), so each version of a summary record gets a new key (`s` and a serial) and the
//! previous version's key is destroyed once the new version is flushed.
//!
//! The keys live in one file beside the database (`citizen-keys`). New keys are appended and
//! the file is fsynced in the same group commit as the sled flush, before it, so no durable
//! record is ever sealed under a key that is not durable. Destroying keys rewrites the file
//! without them (new file, fsync, rename, fsync of the directory) after the sled flush that
//! deleted the records, so the key bytes leave the disk.
//!
//! File format: the magic `SPRECHSTUNDE-KEYS-1\n`, then records of 41 bytes: kind (`c`, `q`
//! or `s`), id (big-endian `u64`), key (32 bytes). A torn last record (crash during an
//! append) is ignored. The file is readable by its owner only (mode 0600 on Unix).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sprechstunde_core::StoreError;

/// Name of the key file in the data directory.
pub(crate) const KEY_FILE: &str = "citizen-keys";
const MAGIC: &[u8] = b"SPRECHSTUNDE-KEYS-1\n";
const RECORD: usize = 1 + 8 + 32;
/// Marks a sealed value: `E1`, key id (kind and id, 9 bytes), nonce, ciphertext.
const SEALED: &[u8] = b"E1";
const NONCE: usize = 24;

/// Whose key: a citizen's, a question's or one version of a summary record's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum KeyId {
    /// A citizen (record, and messages outside a question).
    Citizen(u64),
    /// A question (thread, and its messages).
    Question(u64),
    /// One version of a summary record, by serial (never reused while its key exists).
    Summary(u64),
}

impl KeyId {
    fn encode(self) -> [u8; 9] {
        let (kind, id) = match self {
            KeyId::Citizen(id) => (b'c', id),
            KeyId::Question(id) => (b'q', id),
            KeyId::Summary(serial) => (b's', serial),
        };
        let mut out = [0; 9];
        out[0] = kind;
        out[1..].copy_from_slice(&id.to_be_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Option<KeyId> {
        let id = u64::from_be_bytes(bytes.get(1..9)?.try_into().ok()?);
        match bytes.first()? {
            b'c' => Some(KeyId::Citizen(id)),
            b'q' => Some(KeyId::Question(id)),
            b's' => Some(KeyId::Summary(id)),
            _ => None,
        }
    }
}

struct Keys {
    keys: HashMap<KeyId, [u8; 32]>,
    /// The append handle.
    file: File,
    /// A key was destroyed since the last rewrite.
    destroyed: bool,
}

/// The key file and the keys in memory.
pub(crate) struct Vault {
    dir: PathBuf,
    keys: Mutex<Keys>,
    /// A handle to fsync appends without holding the lock.
    sync_handle: Mutex<File>,
    /// Keys were appended since the last fsync.
    appended: AtomicBool,
    /// The serial of the next summary key: above every serial in the key file or in a
    /// stored record, so a serial is not handed out twice while its key exists.
    next_summary: AtomicU64,
}

fn io(what: &str, e: std::io::Error) -> StoreError {
    StoreError::Io(format!("{what}: {e}"))
}

impl Vault {
    /// Opens (or creates) the key file in `dir`.
    ///
    /// # Errors
    /// I/O failure, or a file that is not a key file.
    pub(crate) fn open(dir: &Path) -> Result<Vault, StoreError> {
        let path = dir.join(KEY_FILE);
        let mut keys = HashMap::new();
        match File::open(&path) {
            Ok(mut f) => {
                let mut bytes = Vec::new();
                f.read_to_end(&mut bytes)
                    .map_err(|e| io("reading the key file", e))?;
                keys = parse(&bytes)
                    .map_err(|what| StoreError::Corrupt(format!("{}: {what}", path.display())))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("opening the key file", e)),
        }
        let next_summary = keys
            .keys()
            .filter_map(|id| match id {
                KeyId::Summary(serial) => Some(serial.saturating_add(1)),
                _ => None,
            })
            .max()
            .unwrap_or(1);
        // Rewriting the file at every start also tightens the mode of an older one.
        let vault_file = write_file(dir, &keys)?;
        let sync_handle = vault_file
            .try_clone()
            .map_err(|e| io("opening the key file", e))?;
        Ok(Vault {
            dir: dir.to_owned(),
            keys: Mutex::new(Keys {
                keys,
                file: vault_file,
                destroyed: false,
            }),
            sync_handle: Mutex::new(sync_handle),
            appended: AtomicBool::new(false),
            next_summary: AtomicU64::new(next_summary),
        })
    }

    /// A key id for a new version of a summary record (the key itself is made when sealing).
    pub(crate) fn next_summary_key(&self) -> KeyId {
        KeyId::Summary(self.next_summary.fetch_add(1, Ordering::Relaxed))
    }

    /// Notes a key id found in a stored record, so that no new summary key takes its serial.
    pub(crate) fn note_stored(&self, id: KeyId) {
        if let KeyId::Summary(serial) = id {
            self.next_summary
                .fetch_max(serial.saturating_add(1), Ordering::Relaxed);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Keys> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Seals `plain` under the key of `id` (created if needed), bound to the record key `aad`.
    ///
    /// # Errors
    /// No randomness, or the key file cannot be appended to.
    pub(crate) fn seal(&self, id: KeyId, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, StoreError> {
        let key = self.key(id)?;
        let mut nonce = [0u8; NONCE];
        getrandom::fill(&mut nonce)
            .map_err(|e| StoreError::Io(format!("no randomness for a nonce: {e}")))?;
        let cipher = XChaCha20Poly1305::new((&key).into());
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
            .map_err(|_| StoreError::Io("sealing a record failed".into()))?;
        let mut out = Vec::with_capacity(SEALED.len() + 9 + NONCE + sealed.len());
        out.extend_from_slice(SEALED);
        out.extend_from_slice(&id.encode());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The key id in the header of a stored value; `None` for a value in clear (written
    /// before sealing came in) or one without a readable header.
    pub(crate) fn key_of(stored: &[u8]) -> Option<KeyId> {
        stored
            .strip_prefix(SEALED)?
            .get(..9)
            .and_then(KeyId::decode)
    }

    /// Opens a stored value: `Ok(None)` if its key was destroyed (the record is erased);
    /// values written before encryption came in are returned as they are.
    ///
    /// # Errors
    /// A sealed value that does not decrypt under its key.
    pub(crate) fn open_value(
        &self,
        aad: &[u8],
        stored: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(rest) = stored.strip_prefix(SEALED) else {
            return Ok(Some(stored.to_vec()));
        };
        let Some(id) = rest.get(..9).and_then(KeyId::decode) else {
            return Err(StoreError::Corrupt("a sealed record has no key id".into()));
        };
        let rest = &rest[9..];
        let Some(key) = self.lock().keys.get(&id).copied() else {
            return Ok(None);
        };
        if rest.len() < NONCE {
            return Err(StoreError::Corrupt("a sealed record is truncated".into()));
        }
        let (nonce, sealed) = rest.split_at(NONCE);
        let cipher = XChaCha20Poly1305::new((&key).into());
        cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad })
            .map(Some)
            .map_err(|_| StoreError::Corrupt("a sealed record does not decrypt".into()))
    }

    fn key(&self, id: KeyId) -> Result<[u8; 32], StoreError> {
        let mut keys = self.lock();
        if let Some(key) = keys.keys.get(&id) {
            return Ok(*key);
        }
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)
            .map_err(|e| StoreError::Io(format!("no randomness for a key: {e}")))?;
        let mut record = [0u8; RECORD];
        record[..9].copy_from_slice(&id.encode());
        record[9..].copy_from_slice(&key);
        keys.file
            .write_all(&record)
            .map_err(|e| io("appending to the key file", e))?;
        keys.keys.insert(id, key);
        self.appended.store(true, Ordering::Release);
        Ok(key)
    }

    /// Forgets a key; it leaves the disk with the next [`Vault::after_flush`].
    pub(crate) fn destroy(&self, id: KeyId) {
        let mut keys = self.lock();
        if keys.keys.remove(&id).is_some() {
            keys.destroyed = true;
        }
    }

    /// Keeps only the keys `keep` approves of (at start: keys of records that are gone).
    ///
    /// # Errors
    /// As [`Vault::after_flush`].
    pub(crate) fn retain(&self, keep: impl Fn(&KeyId) -> bool) -> Result<usize, StoreError> {
        let removed = {
            let mut keys = self.lock();
            let before = keys.keys.len();
            keys.keys.retain(|id, _| keep(id));
            let removed = before - keys.keys.len();
            if removed > 0 {
                keys.destroyed = true;
            }
            removed
        };
        self.after_flush()?;
        Ok(removed)
    }

    /// Before the sled flush: makes appended keys durable.
    ///
    /// # Errors
    /// The fsync failed.
    pub(crate) fn before_flush(&self) -> Result<(), StoreError> {
        if self.appended.swap(false, Ordering::AcqRel) {
            let handle = self
                .sync_handle
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Err(e) = handle.sync_data() {
                self.appended.store(true, Ordering::Release);
                return Err(io("syncing the key file", e));
            }
        }
        Ok(())
    }

    /// After the sled flush: rewrites the key file without destroyed keys.
    ///
    /// # Errors
    /// Writing, syncing or renaming failed; the old file (with the keys) is still in place.
    pub(crate) fn after_flush(&self) -> Result<(), StoreError> {
        let mut keys = self.lock();
        if !keys.destroyed {
            return Ok(());
        }
        let file = write_file(&self.dir, &keys.keys)?;
        let handle = file
            .try_clone()
            .map_err(|e| io("opening the key file", e))?;
        keys.file = file;
        keys.destroyed = false;
        *self
            .sync_handle
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = handle;
        // Everything appended before is in the new file, durably.
        self.appended.store(false, Ordering::Release);
        Ok(())
    }

    /// The key file as it would be written now, with every key in memory (for a backup,
    /// taken while no write runs).
    pub(crate) fn image(&self) -> (Vec<u8>, usize) {
        let keys = self.lock();
        (encode(&keys.keys), keys.keys.len())
    }

    /// How many keys exist.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().keys.len()
    }
}

/// Writes all `keys` to a new key file and puts it in place durably; returns it opened for
/// appending.
fn write_file(dir: &Path, keys: &HashMap<KeyId, [u8; 32]>) -> Result<File, StoreError> {
    let path = dir.join(KEY_FILE);
    let tmp = dir.join(format!("{KEY_FILE}.new"));
    let bytes = encode(keys);
    {
        let mut f = owner_only(&tmp).map_err(|e| io("creating the key file", e))?;
        f.write_all(&bytes)
            .map_err(|e| io("writing the key file", e))?;
        f.sync_all().map_err(|e| io("syncing the key file", e))?;
    }
    std::fs::rename(&tmp, &path).map_err(|e| io("replacing the key file", e))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io("syncing the data directory", e))?;
    OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(|e| io("opening the key file", e))
}

/// The bytes of a key file holding `keys`.
fn encode(keys: &HashMap<KeyId, [u8; 32]>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(MAGIC.len() + keys.len() * RECORD);
    bytes.extend_from_slice(MAGIC);
    for (id, key) in keys {
        bytes.extend_from_slice(&id.encode());
        bytes.extend_from_slice(key);
    }
    bytes
}

/// The keys in the bytes of a key file; a torn last record (a crash during an append) is
/// ignored.
///
/// # Errors
/// Not a key file, or an unknown key kind (what is wrong, in words).
fn parse(bytes: &[u8]) -> Result<HashMap<KeyId, [u8; 32]>, &'static str> {
    let records = bytes
        .strip_prefix(MAGIC)
        .ok_or("not a sprechstunde key file")?;
    let mut keys = HashMap::new();
    // `chunks_exact` drops a torn last record.
    for record in records.chunks_exact(RECORD) {
        let id = KeyId::decode(&record[..9]).ok_or("the key file holds an unknown key kind")?;
        let mut key = [0; 32];
        key.copy_from_slice(&record[9..]);
        keys.insert(id, key);
    }
    Ok(keys)
}

/// Puts the key file `bytes` (from a backup) into `dir` durably, readable by its owner only.
///
/// # Errors
/// The bytes are not a key file, or writing failed.
pub(crate) fn install(dir: &Path, bytes: &[u8]) -> Result<usize, StoreError> {
    let keys = parse(bytes)
        .map_err(|what| StoreError::Corrupt(format!("the backup's key file: {what}")))?;
    write_file(dir, &keys)?;
    Ok(keys.len())
}

/// Creates (or truncates) `path` readable and writable by its owner only.
fn owner_only(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        // A leftover file keeps its mode on open; this sets it whatever it was.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destroyed_key_leaves_the_file_and_its_records_read_as_erased() {
        let dir = tempfile::tempdir().expect("dir");
        let vault = Vault::open(dir.path()).expect("open");
        let sealed = vault
            .seal(KeyId::Citizen(1), b"c1", b"geheimer Text")
            .expect("seal");
        assert!(!sealed.windows(6).any(|w| w == b"geheim"));
        vault.before_flush().expect("sync");
        let key_bytes = vault.lock().keys[&KeyId::Citizen(1)];
        assert_eq!(
            vault.open_value(b"c1", &sealed).expect("open"),
            Some(b"geheimer Text".to_vec())
        );
        assert!(vault.open_value(b"c2", &sealed).is_err());

        vault.destroy(KeyId::Citizen(1));
        vault.after_flush().expect("rewrite");

        let file = std::fs::read(dir.path().join(KEY_FILE)).expect("read");
        assert!(!file.windows(32).any(|w| w == key_bytes));
        let reopened = Vault::open(dir.path()).expect("reopen");
        assert_eq!(reopened.len(), 0);
        assert_eq!(reopened.open_value(b"c1", &sealed).expect("open"), None);
    }

    #[test]
    fn summary_serials_are_not_handed_out_twice_and_a_sealed_value_names_its_key() {
        let dir = tempfile::tempdir().expect("dir");
        let vault = Vault::open(dir.path()).expect("open");
        let first = vault.next_summary_key();
        let sealed = vault.seal(first, b"y1", b"{}").expect("seal");
        assert_eq!(Vault::key_of(&sealed), Some(first));
        assert_eq!(Vault::key_of(b"{\"session\":1}"), None, "a value in clear");
        let second = vault.next_summary_key();
        assert_ne!(first, second);
        vault.before_flush().expect("sync");
        drop(vault);

        // After a reopen: above the keys in the file (the second serial made no key, so it
        // may come again) and above serials noted in stored records.
        let reopened = Vault::open(dir.path()).expect("reopen");
        assert_eq!(first, KeyId::Summary(1));
        assert_eq!(reopened.next_summary_key(), KeyId::Summary(2));
        reopened.note_stored(KeyId::Summary(41));
        assert_eq!(reopened.next_summary_key(), KeyId::Summary(42));
    }

    #[test]
    fn keys_survive_a_reopen_and_a_torn_record_is_ignored() {
        let dir = tempfile::tempdir().expect("dir");
        let vault = Vault::open(dir.path()).expect("open");
        let sealed = vault.seal(KeyId::Question(7), b"q7", b"x").expect("seal");
        vault.before_flush().expect("sync");
        drop(vault);
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join(KEY_FILE))
            .expect("open");
        f.write_all(b"q\0\0").expect("torn");
        let reopened = Vault::open(dir.path()).expect("reopen");
        assert_eq!(
            reopened.open_value(b"q7", &sealed).expect("open"),
            Some(b"x".to_vec())
        );
    }
}
