//! Engine data in the engine tree: a batch of changes becomes one `sled::Batch`, and a load
//! scans each prefix back in id order. Citizens, questions and outbox messages are sealed
//! under their [`Vault`] key; a record whose key was destroyed is skipped on load.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sprechstunde_core::{Change, Counters, Snapshot, StoreError};

use crate::errors;
use crate::keys::{self, CITIZEN, COUNTERS_KEY, DEPARTMENT, OUTBOX, QUESTION, SESSION, SUMMARY};
use crate::vault::{KeyId, Vault};

/// The key an outbox message is sealed under: its question's, or else its citizen's.
fn outbox_key(m: &sprechstunde_core::OutboxMessage) -> KeyId {
    match m.question {
        Some(q) => KeyId::Question(q.0),
        None => KeyId::Citizen(m.citizen.0),
    }
}

/// Encodes `changes` as one atomic batch. Later changes to the same entity win.
///
/// # Errors
/// A value that does not encode.
/// Keys to destroy once the batch is applied.
pub(crate) fn batch(
    changes: &[Change],
    vault: &Vault,
) -> Result<(sled::Batch, Vec<KeyId>), StoreError> {
    let mut batch = sled::Batch::default();
    let mut destroy = Vec::new();
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
            Change::Summary(s) => {
                batch.insert(&keys::entity(SUMMARY, s.session.0), encode("summary", s)?);
            }
        }
    }
    Ok((batch, destroy))
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
        summaries: scan(
            tree,
            SUMMARY,
            "summary",
            |s: &sprechstunde_core::Summary| s.session.0,
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
