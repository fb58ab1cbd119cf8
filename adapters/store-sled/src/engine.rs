//! Engine data in the engine tree: a batch of changes becomes one `sled::Batch`, and a load
//! scans each prefix back in id order. Citizens, questions and outbox messages are sealed
//! under their [`Vault`] key; a record whose key was destroyed is skipped on load. Summaries
//! are sealed under a new key for every version, and the previous version's key is
//! destroyed once the new one is written, so old versions left in sled's log are noise.
//!
//! A question's thread entries live under keys of their own (`t`, question id, position),
//! sealed under the question's key like the question. A commit of a question whose thread
//! grew writes the question's record without its thread and only the new entries, so the
//! cost of a message does not grow with the thread. [`Threads`] remembers how much of each
//! thread is stored; a thread that changed other than by growing is written whole.
//! Questions written before (layout 1) carry their thread inside the record; they are read
//! as they are and move to the new layout when they are next written.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sprechstunde_core::{Change, Counters, Entry, Question, Snapshot, StoreError};

use crate::errors;
use crate::keys::{
    self, CITIZEN, COUNTERS_KEY, DEPARTMENT, ENTRY, MAIL, OUTBOX, QUESTION, SESSION, SUMMARY,
};
use crate::vault::{KeyId, Vault};

/// The key an outbox message is sealed under: its question's, or else its citizen's.
fn outbox_key(m: &sprechstunde_core::OutboxMessage) -> KeyId {
    match m.question {
        Some(q) => KeyId::Question(q.0),
        None => KeyId::Citizen(m.citizen.0),
    }
}

/// How much of a question's thread is stored as entries of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stored {
    /// Entries stored, at positions `0..count`.
    count: u32,
    /// A fingerprint of the last stored entry's encoding; `None` if not known (then the next
    /// write of the thread writes it whole).
    last: Option<u64>,
}

/// What is stored of each thread, as far as this opening of the database knows; a question
/// it does not know is looked up in the tree. Changed only with the batches it planned, after
/// they were applied (under the store's lock for question writes).
#[derive(Debug, Default)]
pub(crate) struct Threads {
    known: HashMap<u64, Stored>,
}

impl Threads {
    /// Takes what a batch stored.
    pub(crate) fn update(&mut self, stored: Vec<(u64, Option<Stored>)>) {
        for (question, now) in stored {
            match now {
                Some(s) => {
                    self.known.insert(question, s);
                }
                None => {
                    self.known.remove(&question);
                }
            }
        }
    }

    /// What is stored of `question`'s thread: as known, else as found in `tree` (positions
    /// only; the fingerprint is then unknown).
    fn stored(&self, tree: &sled::Tree, question: u64) -> Result<Stored, StoreError> {
        if let Some(s) = self.known.get(&question) {
            return Ok(*s);
        }
        let mut count = 0_u32;
        for key in tree.scan_prefix(keys::entity(ENTRY, question)).keys() {
            let key = key.map_err(|e| errors::storage("scanning a thread", e))?;
            let (_, index) = keys::entry_of(&key)?;
            count = count.max(index.saturating_add(1));
        }
        Ok(Stored { count, last: None })
    }
}

/// A fingerprint of an entry's encoding (to notice a thread that did not simply grow).
fn fingerprint(encoded: &[u8]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    encoded.hash(&mut hasher);
    hasher.finish()
}

/// A question's record without its thread (the entries are stored beside it).
#[derive(Serialize)]
struct Head<'a> {
    id: &'a sprechstunde_core::QuestionId,
    reference: &'a sprechstunde_core::Reference,
    citizen: &'a sprechstunde_core::CitizenId,
    channel: &'a sprechstunde_core::ChannelKind,
    session: &'a Option<sprechstunde_core::SessionId>,
    queue: &'a sprechstunde_core::Queue,
    status: &'a sprechstunde_core::QuestionStatus,
    department: &'a Option<sprechstunde_core::DepartmentId>,
    created_at: &'a jiff::Timestamp,
    updated_at: &'a jiff::Timestamp,
    due: &'a Option<jiff::civil::Date>,
    rejection: &'a Option<String>,
    entries: [(); 0],
    suggestion: &'a Option<sprechstunde_core::triage::RouteSuggestion>,
    assignee: &'a Option<sprechstunde_core::StaffRef>,
    draft: &'a Option<sprechstunde_core::triage::Draft>,
    merged_into: &'a Option<sprechstunde_core::QuestionId>,
}

impl<'a> Head<'a> {
    fn of(q: &'a Question) -> Head<'a> {
        // Every field by name: a new field of `Question` does not compile until it is here.
        let Question {
            id,
            reference,
            citizen,
            channel,
            session,
            queue,
            status,
            department,
            created_at,
            updated_at,
            due,
            rejection,
            entries: _,
            suggestion,
            assignee,
            draft,
            merged_into,
        } = q;
        Head {
            id,
            reference,
            citizen,
            channel,
            session,
            queue,
            status,
            department,
            created_at,
            updated_at,
            due,
            rejection,
            entries: [],
            suggestion,
            assignee,
            draft,
            merged_into,
        }
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
    /// What is stored of each thread the batch writes or forgets, once it is applied.
    pub(crate) threads: Vec<(u64, Option<Stored>)>,
}

/// Whether a batch of `changes` writes threads (then it is planned under the store's
/// thread lock).
pub(crate) fn writes_threads(changes: &[Change]) -> bool {
    changes
        .iter()
        .any(|c| matches!(c, Change::Question(_) | Change::ForgetQuestion(_)))
}

/// Encodes `changes` as one atomic batch. Later changes to the same entity win.
///
/// # Errors
/// A value that does not encode, or a key that cannot be made.
pub(crate) fn batch(
    changes: &[Change],
    vault: &Vault,
    tree: &sled::Tree,
    threads: &Threads,
) -> Result<Encoded, StoreError> {
    let mut batch = sled::Batch::default();
    // What this batch leaves stored of each thread it touches, in the order of its changes.
    let mut planned: HashMap<u64, Option<Stored>> = HashMap::new();
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
                let before = match planned.get(&q.id.0) {
                    Some(Some(s)) => *s,
                    Some(None) => Stored {
                        count: 0,
                        last: None,
                    },
                    None => threads.stored(tree, q.id.0)?,
                };
                let after = write_thread(&mut batch, vault, q, before)?;
                planned.insert(q.id.0, Some(after));
                let key = keys::entity(QUESTION, q.id.0);
                let value = sealed(
                    &key,
                    KeyId::Question(q.id.0),
                    encode("question", &Head::of(q))?,
                )?;
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
                let stored = match planned.get(&id.0) {
                    Some(Some(s)) => s.count,
                    Some(None) => 0,
                    None => threads.stored(tree, id.0)?.count,
                };
                for index in 0..stored {
                    batch.remove(&keys::entry(id.0, index));
                }
                planned.insert(id.0, None);
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
        threads: planned.into_iter().collect(),
    })
}

/// Writes the entries of `q`'s thread that are not stored yet (`before` says what is): only
/// the new ones if the thread grew, else all of them, removing stored positions beyond its
/// end. Returns what is stored then.
fn write_thread(
    batch: &mut sled::Batch,
    vault: &Vault,
    q: &Question,
    before: Stored,
) -> Result<Stored, StoreError> {
    let len = u32::try_from(q.entries.len())
        .map_err(|_| StoreError::Io(format!("question {} has too many entries", q.id.0)))?;
    let grew = match (before.count, before.last) {
        (0, _) => true,
        (count, Some(last)) if count <= len => {
            let previous = &q.entries[count as usize - 1];
            fingerprint(&encode("thread entry", previous)?) == last
        }
        _ => false,
    };
    let from = if grew { before.count } else { 0 };
    let mut last = before.last.filter(|_| grew);
    for index in from..len {
        let entry: &Entry = &q.entries[index as usize];
        let plain = encode("thread entry", entry)?;
        last = Some(fingerprint(&plain));
        let key = keys::entry(q.id.0, index);
        let value = vault.seal(KeyId::Question(q.id.0), &key, &plain)?;
        batch.insert(&key, value);
    }
    for index in len..before.count {
        batch.remove(&keys::entry(q.id.0, index));
    }
    Ok(Stored { count: len, last })
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
pub(crate) fn load(tree: &sled::Tree, vault: &Vault) -> Result<(Snapshot, Threads), StoreError> {
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
    let mut questions: Vec<Question> = scan(
        tree,
        QUESTION,
        "question",
        |q: &Question| q.id.0,
        Some(vault),
    )?;
    let threads = attach_threads(tree, vault, &mut questions)?;
    let snapshot = Snapshot {
        sessions: scan(
            tree,
            SESSION,
            "session",
            |s: &sprechstunde_core::Session| s.id.0,
            None,
        )?,
        questions,
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
    };
    Ok((snapshot, threads))
}

/// Reads the thread entries stored under keys of their own into their questions (in id
/// order), and what is stored of each thread. A question that has them takes its thread from
/// them; one without keeps the thread its record carries (layout 1). Entries whose key was
/// destroyed (an erased question) are skipped, and so are entries of a question that is gone.
///
/// # Errors
/// I/O failure, a key or value that does not decode, or a thread with a gap.
fn attach_threads(
    tree: &sled::Tree,
    vault: &Vault,
    questions: &mut [Question],
) -> Result<Threads, StoreError> {
    let position: HashMap<u64, usize> = questions
        .iter()
        .enumerate()
        .map(|(i, q)| (q.id.0, i))
        .collect();
    let mut threads = Threads::default();
    for entry in tree.scan_prefix([ENTRY]) {
        let (key, value) = entry.map_err(|e| errors::storage("scanning thread entries", e))?;
        let (question, index) = keys::entry_of(&key)?;
        let Some(&at) = position.get(&question) else {
            continue;
        };
        let Some(plain) = vault.open_value(&key, &value)? else {
            continue;
        };
        let stored = threads.known.entry(question).or_insert(Stored {
            count: 0,
            last: None,
        });
        if index != stored.count {
            return Err(StoreError::Corrupt(format!(
                "the thread of question {question} has no entry {}",
                stored.count
            )));
        }
        let decoded: Entry = serde_json::from_slice(&plain).map_err(|e| {
            errors::undecodable(
                format_args!("thread entry {index} of question {question}"),
                &e,
            )
        })?;
        let q = &mut questions[at];
        if index == 0 {
            // Stored beside the record: whatever the record carries is an older version.
            q.entries.clear();
        }
        q.entries.push(decoded);
        stored.count += 1;
        stored.last = Some(fingerprint(&plain));
    }
    // Questions of layout 1 (thread inside the record) have nothing stored beside them.
    for q in questions.iter() {
        threads.known.entry(q.id.0).or_insert(Stored {
            count: 0,
            last: None,
        });
    }
    Ok(threads)
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
