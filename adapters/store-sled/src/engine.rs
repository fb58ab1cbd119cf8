//! Engine data in the engine tree: a batch of changes becomes one `sled::Batch`, and a load
//! scans each prefix back in id order. Citizens, questions and outbox messages are sealed
//! under their [`Vault`] key; a record whose key was destroyed is skipped on load. Summaries
//! are sealed under a new key for every version, and the previous version's key is
//! destroyed once the new one is written, so old versions left in sled's log are noise.

use std::collections::HashSet;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sprechstunde_core::{Change, Counters, Snapshot, StoreError};

use crate::errors;
use crate::keys::{
    self, CITIZEN, COUNTERS_KEY, DEPARTMENT, MAIL, OUTBOX, QUESTION, SESSION, SUMMARY,
};
use crate::vault::{KeyId, Vault};

/// The key an outbox message is sealed under: its question's, or else its citizen's.
fn outbox_key(m: &sprechstunde_core::OutboxMessage) -> KeyId {
    match m.question {
        Some(q) => KeyId::Question(q.0),
        None => KeyId::Citizen(m.citizen.0),
    }
}

/// A batch of changes ready to apply.
pub(crate) struct Encoded {
    /// The writes, applied atomically.
    pub(crate) batch: sled::Batch,
    /// Keys to destroy once the batch is applied.
    pub(crate) destroy: Vec<KeyId>,
    /// Summary records the batch overwrites: the keys of their current versions are to be
    /// destroyed too, read just before the batch is applied ([`replaced_keys`]).
    pub(crate) replaced: Vec<[u8; 9]>,
}

/// Encodes `changes` as one atomic batch. Later changes to the same entity win.
///
/// # Errors
/// A value that does not encode, or a key that cannot be made.
pub(crate) fn batch(changes: &[Change], vault: &Vault) -> Result<Encoded, StoreError> {
    let mut batch = sled::Batch::default();
    let mut destroy = Vec::new();
    // Summary record → the key its version in this batch is sealed under.
    let mut summaries: Vec<([u8; 9], KeyId)> = Vec::new();
    let sealed = |key: &[u8], id: KeyId, plain: Vec<u8>| -> Result<Vec<u8>, StoreError> {
        vault.seal(id, key, &plain)
    };
    for change in changes {
        match change {
            Change::Session(s) => {
                batch.insert(&keys::entity(SESSION, s.id.0), encode("session", s)?);
            }
            Change::Question(q) => {
                let key = keys::entity(QUESTION, q.id.0);
                let value = sealed(&key, KeyId::Question(q.id.0), encode("question", q)?)?;
                batch.insert(&key, value);
            }
            Change::Citizen(c) => {
                let key = keys::entity(CITIZEN, c.id.0);
                let value = sealed(&key, KeyId::Citizen(c.id.0), encode("citizen", c)?)?;
                batch.insert(&key, value);
            }
            Change::Outbox(m) => {
                let key = keys::entity(OUTBOX, m.id.0);
                let value = sealed(&key, outbox_key(m), encode("outbox message", m)?)?;
                batch.insert(&key, value);
            }
            Change::Counters(c) => batch.insert(COUNTERS_KEY, encode("counters", c)?),
            Change::ForgetCitizen(id) => {
                batch.remove(&keys::entity(CITIZEN, id.0));
                destroy.push(KeyId::Citizen(id.0));
            }
            Change::ForgetQuestion(id) => {
                batch.remove(&keys::entity(QUESTION, id.0));
                destroy.push(KeyId::Question(id.0));
            }
            Change::ForgetOutbox(id) => batch.remove(&keys::entity(OUTBOX, id.0)),
            Change::Department(d) => {
                batch.insert(&keys::entity(DEPARTMENT, d.id.0), encode("department", d)?);
            }
            Change::Mail(m) => {
                batch.insert(&keys::entity(MAIL, m.id.0), encode("staff mail", m)?);
            }
            Change::ForgetMail(id) => batch.remove(&keys::entity(MAIL, id.0)),
            Change::Summary(s) => {
                let key = keys::entity(SUMMARY, s.session.0);
                let id = vault.next_summary_key();
                let value = sealed(&key, id, encode("summary", s)?)?;
                batch.insert(&key, value);
                // A version replaced within this batch never reaches sled: its key goes.
                match summaries.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, earlier)) => destroy.push(std::mem::replace(earlier, id)),
                    None => summaries.push((key, id)),
                }
            }
        }
    }
    Ok(Encoded {
        batch,
        destroy,
        replaced: summaries.into_iter().map(|(key, _)| key).collect(),
    })
}

/// The keys of the stored versions of the summary records `replaced`, read under the write
/// lock just before they are overwritten.
///
/// # Errors
/// I/O failure.
pub(crate) fn replaced_keys(
    tree: &sled::Tree,
    replaced: &[[u8; 9]],
) -> Result<Vec<KeyId>, StoreError> {
    let mut out = Vec::new();
    for key in replaced {
        let stored = tree
            .get(key)
            .map_err(|e| errors::storage("reading a summary", e))?;
        // Only a summary key: a damaged header must never destroy another record's key.
        if let Some(id @ KeyId::Summary(_)) = stored.as_deref().and_then(Vault::key_of) {
            out.push(id);
        }
    }
    Ok(out)
}

/// The keys the stored summary records are sealed under; each is noted with the vault so
/// that new summary keys take serials above them.
///
/// # Errors
/// I/O failure.
pub(crate) fn summary_keys(tree: &sled::Tree, vault: &Vault) -> Result<HashSet<KeyId>, StoreError> {
    let mut out = HashSet::new();
    for entry in tree.scan_prefix([SUMMARY]) {
        let (_, value) = entry.map_err(|e| errors::storage("scanning summaries", e))?;
        if let Some(id) = Vault::key_of(&value) {
            vault.note_stored(id);
            out.insert(id);
        }
    }
    Ok(out)
}

/// Reads everything the engine needs.
///
/// # Errors
/// I/O failure, or a key or value that does not decode, or a value stored under another
/// entity's id.
pub(crate) fn load(tree: &sled::Tree, vault: &Vault) -> Result<Snapshot, StoreError> {
    let counters = match tree
        .get(COUNTERS_KEY)
        .map_err(|e| errors::storage("reading the counters", e))?
    {
        Some(bytes) => Some(
            serde_json::from_slice::<Counters>(&bytes)
                .map_err(|e| errors::undecodable("counters", &e))?,
        ),
        None => None,
    };
    Ok(Snapshot {
        sessions: scan(
            tree,
            SESSION,
            "session",
            |s: &sprechstunde_core::Session| s.id.0,
            None,
        )?,
        questions: scan(
            tree,
            QUESTION,
            "question",
            |q: &sprechstunde_core::Question| q.id.0,
            Some(vault),
        )?,
        citizens: scan(
            tree,
            CITIZEN,
            "citizen",
            |c: &sprechstunde_core::Citizen| c.id.0,
            Some(vault),
        )?,
        outbox: scan(
            tree,
            OUTBOX,
            "outbox message",
            |m: &sprechstunde_core::OutboxMessage| m.id.0,
            Some(vault),
        )?,
        counters,
        departments: scan(
            tree,
            DEPARTMENT,
            "department",
            |d: &sprechstunde_core::Department| d.id.0,
            None,
        )?,
        // Sealed, or in clear as written before summaries were sealed.
        summaries: scan(
            tree,
            SUMMARY,
            "summary",
            |s: &sprechstunde_core::Summary| s.session.0,
            Some(vault),
        )?,
        mails: scan(
            tree,
            MAIL,
            "staff mail",
            |m: &sprechstunde_core::StaffMail| m.id.0,
            None,
        )?,
    })
}

fn encode<T: Serialize>(what: &str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| errors::unencodable(what, &e))
}

/// All entities under `prefix`, in id order, each checked to carry the id of its key.
/// With a vault, sealed values are opened; erased ones (key destroyed) are skipped.
fn scan<T: DeserializeOwned>(
    tree: &sled::Tree,
    prefix: u8,
    what: &str,
    id_of: impl Fn(&T) -> u64,
    vault: Option<&Vault>,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    for entry in tree.scan_prefix([prefix]) {
        let (key, value) =
            entry.map_err(|e| errors::storage(format_args!("scanning {what}s"), e))?;
        let id = keys::entity_id(prefix, &key)?;
        let value = match vault {
            Some(vault) => match vault.open_value(&key, &value)? {
                Some(plain) => plain,
                None => continue,
            },
            None => value.to_vec(),
        };
        let entity: T = serde_json::from_slice(&value)
            .map_err(|e| errors::undecodable(format_args!("{what} {id}"), &e))?;
        if id_of(&entity) != id {
            return Err(StoreError::Corrupt(format!(
                "{what} stored under id {id} has id {}",
                id_of(&entity)
            )));
        }
        out.push(entity);
    }
    Ok(out)
}
