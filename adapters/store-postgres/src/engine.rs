//! Engine data in the table `records`: a batch of changes becomes a list of [`Op`]s at
//! [`Store::apply`](sprechstunde_core::Store::apply), and the group commit writes many
//! batches in one transaction ([`write`]); a load reads everything in one snapshot
//! ([`load`]).
//!
//! Citizens, questions and outbox messages are sealed under their key in `record_keys`
//! (created in the same transaction as the first record sealed under it); erasing a citizen
//! or question deletes its key in the transaction that deletes the record. Summaries get a
//! new key for every version, and the transaction that writes a version deletes the key of
//! the one it replaces.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sprechstunde_core::{Change, Counters, OutboxMessage, Snapshot, StoreError};
use tokio_postgres::Transaction;

use crate::errors::{self, from_db, pg, to_db};
use crate::keys::KeyCache;
use crate::seal::{self, KeyId};

/// `records.kind` of sessions.
const SESSION: &str = "s";
/// `records.kind` of questions.
const QUESTION: &str = "q";
/// `records.kind` of citizens.
const CITIZEN: &str = "c";
/// `records.kind` of outbox messages.
const OUTBOX: &str = "o";
/// `records.kind` of departments.
const DEPARTMENT: &str = "d";
/// `records.kind` of summaries (by session id).
const SUMMARY: &str = "y";
/// `records.kind` of staff e-mails (no citizen data: a reference and a kind of notice).
const MAIL: &str = "e";
/// `meta.name` of the id counters.
const COUNTERS: &str = "counters";

/// One write of a batch, encoded but not yet sealed (sealing needs the keys, which the
/// group commit holds).
#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// Insert or replace a record; sealed under `seal` if given.
    Put {
        kind: &'static str,
        id: u64,
        value: Vec<u8>,
        seal: Option<KeyId>,
    },
    /// A new version of a summary record, sealed under a new key; the old version's key goes.
    PutSummary { id: u64, value: Vec<u8> },
    /// Remove a record, and destroy `key` with it.
    Delete {
        kind: &'static str,
        id: u64,
        key: Option<KeyId>,
    },
    /// Replace the id counters.
    Counters(Vec<u8>),
}

/// The key an outbox message is sealed under: its question's, or else its citizen's.
fn outbox_key(m: &OutboxMessage) -> KeyId {
    match m.question {
        Some(q) => KeyId::Question(q.0),
        None => KeyId::Citizen(m.citizen.0),
    }
}

/// Encodes `changes`; later changes to the same entity win when written in order.
///
/// # Errors
/// A value that does not encode.
pub(crate) fn encode_batch(changes: &[Change]) -> Result<Vec<Op>, StoreError> {
    let put = |kind, id, value, seal| Op::Put {
        kind,
        id,
        value,
        seal,
    };
    changes
        .iter()
        .map(|change| {
            Ok(match change {
                Change::Session(s) => put(SESSION, s.id.0, encode("session", s)?, None),
                Change::Question(q) => put(
                    QUESTION,
                    q.id.0,
                    encode("question", q)?,
                    Some(KeyId::Question(q.id.0)),
                ),
                Change::Citizen(c) => put(
                    CITIZEN,
                    c.id.0,
                    encode("citizen", c)?,
                    Some(KeyId::Citizen(c.id.0)),
                ),
                Change::Outbox(m) => put(
                    OUTBOX,
                    m.id.0,
                    encode("outbox message", m)?,
                    Some(outbox_key(m)),
                ),
                Change::Department(d) => put(DEPARTMENT, d.id.0, encode("department", d)?, None),
                Change::Summary(s) => Op::PutSummary {
                    id: s.session.0,
                    value: encode("summary", s)?,
                },
                Change::Counters(c) => Op::Counters(encode("counters", c)?),
                Change::ForgetCitizen(id) => Op::Delete {
                    kind: CITIZEN,
                    id: id.0,
                    key: Some(KeyId::Citizen(id.0)),
                },
                Change::ForgetQuestion(id) => Op::Delete {
                    kind: QUESTION,
                    id: id.0,
                    key: Some(KeyId::Question(id.0)),
                },
                Change::ForgetOutbox(id) => Op::Delete {
                    kind: OUTBOX,
                    id: id.0,
                    key: None,
                },
                Change::Mail(m) => put(MAIL, m.id.0, encode("staff mail", m)?, None),
                Change::ForgetMail(id) => Op::Delete {
                    kind: MAIL,
                    id: id.0,
                    key: None,
                },
            })
        })
        .collect()
}

/// The associated data of a sealed record: tenant, kind and id.
fn aad(tenant: &str, kind: &str, id: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(tenant.len() + 10);
    out.extend_from_slice(tenant.as_bytes());
    out.push(0);
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(&id.to_be_bytes());
    out
}

/// Writes `ops` in order in `tx`; returns how many keys were destroyed.
///
/// # Errors
/// A failed statement; the caller rolls back (and must then reload `keys`).
pub(crate) async fn write(
    tx: &Transaction<'_>,
    tenant: &str,
    keys: &mut KeyCache,
    ops: &[Op],
) -> Result<usize, StoreError> {
    let upsert = tx
        .prepare(
            "INSERT INTO records (tenant, kind, id, value) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant, kind, id) DO UPDATE SET value = EXCLUDED.value",
        )
        .await
        .map_err(|e| pg("preparing", &e))?;
    let delete = tx
        .prepare("DELETE FROM records WHERE tenant = $1 AND kind = $2 AND id = $3")
        .await
        .map_err(|e| pg("preparing", &e))?;
    let mut destroyed = 0;
    for op in ops {
        match op {
            Op::Put {
                kind,
                id,
                value,
                seal,
            } => {
                let stored = match seal {
                    Some(key) => {
                        let secret = keys.get_or_create(tx, tenant, *key).await?;
                        seal::seal(*key, &secret, &aad(tenant, kind, *id), value)?
                    }
                    None => value.clone(),
                };
                tx.execute(&upsert, &[&tenant, kind, &to_db(*id)?, &stored])
                    .await
                    .map_err(|e| pg(format_args!("writing a record of kind {kind}"), &e))?;
            }
            Op::PutSummary { id, value } => {
                let old = tx
                    .query_opt(
                        "SELECT value FROM records WHERE tenant = $1 AND kind = $2 AND id = $3",
                        &[&tenant, &SUMMARY, &to_db(*id)?],
                    )
                    .await
                    .map_err(|e| pg("reading a summary", &e))?;
                // Only a summary key: a damaged header must never destroy another record's key.
                if let Some(old @ KeyId::Summary(_)) =
                    old.and_then(|row| seal::key_of(row.get::<_, &[u8]>(0)))
                {
                    destroyed += keys.destroy(tx, tenant, old).await?;
                }
                let serial: i64 = tx
                    .query_one("SELECT nextval('summary_key_serial')", &[])
                    .await
                    .map_err(|e| pg("numbering a summary key", &e))?
                    .get(0);
                let key = KeyId::Summary(from_db(serial)?);
                let secret = keys.get_or_create(tx, tenant, key).await?;
                let stored = seal::seal(key, &secret, &aad(tenant, SUMMARY, *id), value)?;
                tx.execute(&upsert, &[&tenant, &SUMMARY, &to_db(*id)?, &stored])
                    .await
                    .map_err(|e| pg("writing a summary", &e))?;
            }
            Op::Delete { kind, id, key } => {
                tx.execute(&delete, &[&tenant, kind, &to_db(*id)?])
                    .await
                    .map_err(|e| pg(format_args!("deleting a record of kind {kind}"), &e))?;
                if let Some(key) = key {
                    destroyed += keys.destroy(tx, tenant, *key).await?;
                }
            }
            Op::Counters(value) => {
                tx.execute(
                    "INSERT INTO meta (tenant, name, value) VALUES ($1, $2, $3)
                     ON CONFLICT (tenant, name) DO UPDATE SET value = EXCLUDED.value",
                    &[&tenant, &COUNTERS, value],
                )
                .await
                .map_err(|e| pg("writing the counters", &e))?;
            }
        }
    }
    Ok(destroyed)
}

/// Reads everything the engine needs in `tx` (one snapshot), opening sealed records with
/// `keys` (read in the same snapshot); records whose key is gone are skipped.
///
/// # Errors
/// I/O failure, or a value that does not decode or is stored under another id.
pub(crate) async fn load(
    tx: &Transaction<'_>,
    tenant: &str,
    keys: &KeyCache,
) -> Result<Snapshot, StoreError> {
    let counters = tx
        .query_opt(
            "SELECT value FROM meta WHERE tenant = $1 AND name = $2",
            &[&tenant, &COUNTERS],
        )
        .await
        .map_err(|e| pg("reading the counters", &e))?
        .map(|row| {
            serde_json::from_slice::<Counters>(row.get::<_, &[u8]>(0))
                .map_err(|e| errors::undecodable("counters", &e))
        })
        .transpose()?;
    let rows = tx
        .query(
            "SELECT kind, id, value FROM records WHERE tenant = $1 ORDER BY kind, id",
            &[&tenant],
        )
        .await
        .map_err(|e| pg("reading the records", &e))?;
    let mut snapshot = Snapshot {
        counters,
        ..Snapshot::default()
    };
    for row in &rows {
        let kind: &str = row.get(0);
        let id = from_db(row.get(1))?;
        let stored: &[u8] = row.get(2);
        let sealed = matches!(kind, QUESTION | CITIZEN | OUTBOX | SUMMARY);
        let plain = if sealed {
            match seal::open(|k| keys.get(k), &aad(tenant, kind, id), stored)? {
                Some(plain) => plain,
                None => continue,
            }
        } else {
            stored.to_vec()
        };
        match kind {
            SESSION => snapshot.sessions.push(decode(
                kind,
                id,
                &plain,
                |s: &sprechstunde_core::Session| s.id.0,
            )?),
            QUESTION => snapshot.questions.push(decode(
                kind,
                id,
                &plain,
                |q: &sprechstunde_core::Question| q.id.0,
            )?),
            CITIZEN => snapshot.citizens.push(decode(
                kind,
                id,
                &plain,
                |c: &sprechstunde_core::Citizen| c.id.0,
            )?),
            OUTBOX => snapshot
                .outbox
                .push(decode(kind, id, &plain, |m: &OutboxMessage| m.id.0)?),
            DEPARTMENT => snapshot.departments.push(decode(
                kind,
                id,
                &plain,
                |d: &sprechstunde_core::Department| d.id.0,
            )?),
            SUMMARY => snapshot.summaries.push(decode(
                kind,
                id,
                &plain,
                |s: &sprechstunde_core::Summary| s.session.0,
            )?),
            MAIL => snapshot.mails.push(decode(
                kind,
                id,
                &plain,
                |m: &sprechstunde_core::StaffMail| m.id.0,
            )?),
            other => {
                return Err(StoreError::Corrupt(format!(
                    "unknown record kind {other:?}"
                )));
            }
        }
    }
    Ok(snapshot)
}

fn encode<T: Serialize>(what: &str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| errors::unencodable(what, &e))
}

/// Decodes a record and checks it carries the id it is stored under.
fn decode<T: DeserializeOwned>(
    kind: &str,
    id: u64,
    plain: &[u8],
    id_of: impl Fn(&T) -> u64,
) -> Result<T, StoreError> {
    let entity: T = serde_json::from_slice(plain)
        .map_err(|e| errors::undecodable(format_args!("record {kind} {id}"), &e))?;
    if id_of(&entity) != id {
        return Err(StoreError::Corrupt(format!(
            "record {kind} stored under id {id} has id {}",
            id_of(&entity)
        )));
    }
    Ok(entity)
}
