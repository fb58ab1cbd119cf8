//! Engine data in the engine tree: a batch of changes becomes one `sled::Batch`, and a load
//! scans each prefix back in id order.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sprechstunde_core::{Change, Counters, Snapshot, StoreError};

use crate::errors;
use crate::keys::{self, CITIZEN, COUNTERS_KEY, OUTBOX, QUESTION, SESSION, SUMMARY};

/// Encodes `changes` as one atomic batch. Later changes to the same entity win.
///
/// # Errors
/// A value that does not encode.
pub(crate) fn batch(changes: &[Change]) -> Result<sled::Batch, StoreError> {
    let mut batch = sled::Batch::default();
    for change in changes {
        match change {
            Change::Session(s) => {
                batch.insert(&keys::entity(SESSION, s.id.0), encode("session", s)?);
            }
            Change::Question(q) => {
                batch.insert(&keys::entity(QUESTION, q.id.0), encode("question", q)?);
            }
            Change::Citizen(c) => {
                batch.insert(&keys::entity(CITIZEN, c.id.0), encode("citizen", c)?);
            }
            Change::Outbox(m) => {
                batch.insert(&keys::entity(OUTBOX, m.id.0), encode("outbox message", m)?);
            }
            Change::Counters(c) => batch.insert(COUNTERS_KEY, encode("counters", c)?),
            Change::Summary(s) => {
                batch.insert(&keys::entity(SUMMARY, s.session.0), encode("summary", s)?);
            }
        }
    }
    Ok(batch)
}

/// Reads everything the engine needs.
///
/// # Errors
/// I/O failure, or a key or value that does not decode, or a value stored under another
/// entity's id.
pub(crate) fn load(tree: &sled::Tree) -> Result<Snapshot, StoreError> {
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
        )?,
        questions: scan(
            tree,
            QUESTION,
            "question",
            |q: &sprechstunde_core::Question| q.id.0,
        )?,
        citizens: scan(
            tree,
            CITIZEN,
            "citizen",
            |c: &sprechstunde_core::Citizen| c.id.0,
        )?,
        outbox: scan(
            tree,
            OUTBOX,
            "outbox message",
            |m: &sprechstunde_core::OutboxMessage| m.id.0,
        )?,
        counters,
        summaries: scan(
            tree,
            SUMMARY,
            "summary",
            |s: &sprechstunde_core::Summary| s.session.0,
        )?,
    })
}

fn encode<T: Serialize>(what: &str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| errors::unencodable(what, &e))
}

/// All entities under `prefix`, in id order, each checked to carry the id of its key.
fn scan<T: DeserializeOwned>(
    tree: &sled::Tree,
    prefix: u8,
    what: &str,
    id_of: impl Fn(&T) -> u64,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    for entry in tree.scan_prefix([prefix]) {
        let (key, value) =
            entry.map_err(|e| errors::storage(format_args!("scanning {what}s"), e))?;
        let id = keys::entity_id(prefix, &key)?;
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
