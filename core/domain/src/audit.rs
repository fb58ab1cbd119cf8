//! The audit trail: who did what to which object, and when — never the content.
//!
//! Entries form a hash chain: each [`AuditEntry`] carries the SHA-256 of the previous entry's
//! hash followed by its own canonical encoding ([`AuditEntry::canonical`]). Changing, inserting
//! or removing a stored entry breaks the chain at that entry, which [`ChainVerifier`] reports.
//! Retention removes the oldest entries; the hash of the last removed one is kept as the
//! [`AuditAnchor`], so the rest still verifies.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::StaffId;
use crate::store::{Store, StoreError};

/// The `prev` of the very first entry: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditActor {
    /// The staff member, if a staff member acted (not for the system or the CLI operator).
    pub staff: Option<StaffId>,
    /// Login name of the staff member, or a name such as `cli:root` or `system`.
    pub login: String,
    /// How: `console`, `token:<id>`, `cli`, `system`.
    pub via: String,
}

impl AuditActor {
    /// The server itself (retention purges).
    pub fn system() -> AuditActor {
        AuditActor {
            staff: None,
            login: "system".into(),
            via: "system".into(),
        }
    }
}

/// What happened, before it is sealed into the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Who.
    pub actor: AuditActor,
    /// What, e.g. `GET /api/v1/questions/{reference}` or `staff.add`.
    pub action: String,
    /// Which object, e.g. `reference=A-1042`, `session=3`, `login=anna`; empty for none.
    #[serde(default)]
    pub object: String,
    /// The result, e.g. `200` or `ok`.
    pub outcome: String,
}

/// A sealed entry of the trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the trail, from 1, without gaps.
    pub seq: u64,
    /// When.
    pub at: Timestamp,
    /// What.
    #[serde(flatten)]
    pub record: AuditRecord,
    /// Hash of the previous entry (hex), [`GENESIS`] for the first.
    pub prev: String,
    /// SHA-256 (hex) of `prev` followed by [`AuditEntry::canonical`].
    pub hash: String,
}

/// What is kept of the entries that retention removed: the last removed one's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditAnchor {
    /// Sequence number of the last removed entry.
    pub seq: u64,
    /// Its hash: the `prev` of the first remaining entry.
    pub hash: String,
    /// When the entries were removed.
    pub purged_at: Timestamp,
}

impl AuditEntry {
    /// Seals `record` as entry `seq`, following the entry whose hash is `prev`.
    pub fn seal(seq: u64, at: Timestamp, record: AuditRecord, prev: &str) -> AuditEntry {
        let mut entry = AuditEntry {
            seq,
            at,
            record,
            prev: prev.to_owned(),
            hash: String::new(),
        };
        entry.hash = entry.computed_hash();
        entry
    }

    /// The canonical encoding of everything but the hashes: each field as its length
    /// (8 bytes, big-endian) followed by its UTF-8 bytes, in a fixed order. Unambiguous and
    /// independent of any serialisation format.
    pub fn canonical(&self) -> Vec<u8> {
        let staff = self
            .record
            .actor
            .staff
            .map(|s| s.0.to_string())
            .unwrap_or_default();
        let fields = [
            self.seq.to_string(),
            self.at.to_string(),
            staff,
            self.record.actor.login.clone(),
            self.record.actor.via.clone(),
            self.record.action.clone(),
            self.record.object.clone(),
            self.record.outcome.clone(),
        ];
        let mut out = Vec::new();
        for field in &fields {
            out.extend_from_slice(&(field.len() as u64).to_be_bytes());
            out.extend_from_slice(field.as_bytes());
        }
        out
    }

    /// SHA-256 (hex) of `prev` followed by the canonical encoding, as it should be stored.
    pub fn computed_hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.prev.as_bytes());
        hasher.update(self.canonical());
        hex(&hasher.finalize())
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The first place where the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainBreak {
    /// The entry's content does not match its hash: it was changed.
    #[error("entry {seq} was altered: its content does not match its hash")]
    Altered {
        /// The entry.
        seq: u64,
    },
    /// The entry does not follow the one before it: an entry before it was changed, removed
    /// or inserted.
    #[error("entry {seq} does not follow the entry before it (removed, inserted or altered)")]
    Unlinked {
        /// The entry.
        seq: u64,
    },
    /// A number is missing or repeated.
    #[error("entry {found} follows where entry {expected} was expected")]
    Gap {
        /// The number that should have come.
        expected: u64,
        /// The number found.
        found: u64,
    },
}

/// Walks a trail entry by entry, in order.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    prev: String,
    next_seq: u64,
    checked: u64,
}

impl ChainVerifier {
    /// Starts after `anchor` (entries purged) or at the beginning.
    pub fn new(anchor: Option<&AuditAnchor>) -> ChainVerifier {
        match anchor {
            Some(a) => ChainVerifier {
                prev: a.hash.clone(),
                next_seq: a.seq + 1,
                checked: 0,
            },
            None => ChainVerifier {
                prev: GENESIS.to_owned(),
                next_seq: 1,
                checked: 0,
            },
        }
    }

    /// Checks the next entry.
    ///
    /// # Errors
    /// The first break found.
    pub fn check(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        if entry.seq != self.next_seq {
            return Err(ChainBreak::Gap {
                expected: self.next_seq,
                found: entry.seq,
            });
        }
        if entry.computed_hash() != entry.hash {
            return Err(ChainBreak::Altered { seq: entry.seq });
        }
        if entry.prev != self.prev {
            return Err(ChainBreak::Unlinked { seq: entry.seq });
        }
        self.prev.clone_from(&entry.hash);
        self.next_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// How many entries passed.
    pub fn checked(&self) -> u64 {
        self.checked
    }
}

/// The result of verifying a whole stored trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Entries that passed before the first break (all of them when intact).
    pub checked: u64,
    /// The anchor verification started from, if entries were purged.
    pub anchor: Option<AuditAnchor>,
    /// The first break, if any.
    pub broken: Option<ChainBreak>,
}

impl Verification {
    /// Whether the trail is intact.
    pub fn is_intact(&self) -> bool {
        self.broken.is_none()
    }
}

/// How many entries a verification reads at a time.
const PAGE: usize = 1000;

/// Verifies the trail stored in `store` from its anchor to its last entry.
///
/// # Errors
/// The store could not be read (a stored entry that cannot be decoded is such an error too).
pub async fn verify(store: &dyn Store) -> Result<Verification, StoreError> {
    let anchor = store.audit_anchor().await?;
    let mut verifier = ChainVerifier::new(anchor.as_ref());
    let mut after = anchor.as_ref().map_or(0, |a| a.seq);
    loop {
        let page = store.audit_entries(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for entry in &page {
            if let Err(broken) = verifier.check(entry) {
                return Ok(Verification {
                    checked: verifier.checked(),
                    anchor,
                    broken: Some(broken),
                });
            }
        }
    }
    Ok(Verification {
        checked: verifier.checked(),
        anchor,
        broken: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(action: &str) -> AuditRecord {
        AuditRecord {
            actor: AuditActor {
                staff: Some(StaffId(1)),
                login: "anna".into(),
                via: "console".into(),
            },
            action: action.into(),
            object: "reference=A-1".into(),
            outcome: "200".into(),
        }
    }

    fn chain(n: u64) -> Vec<AuditEntry> {
        let at: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap_or_default();
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let e = AuditEntry::seal(seq, at, record("GET /x"), &prev);
                prev.clone_from(&e.hash);
                e
            })
            .collect()
    }

    fn first_break(entries: &[AuditEntry], anchor: Option<&AuditAnchor>) -> Option<ChainBreak> {
        let mut v = ChainVerifier::new(anchor);
        entries.iter().find_map(|e| v.check(e).err())
    }

    #[test]
    fn an_untouched_chain_verifies() {
        assert_eq!(first_break(&chain(5), None), None);
    }

    #[test]
    fn a_changed_field_is_found_at_its_entry() {
        let mut entries = chain(5);
        entries[2].record.object = "reference=A-2".into();
        assert_eq!(
            first_break(&entries, None),
            Some(ChainBreak::Altered { seq: 3 })
        );
    }

    #[test]
    fn a_recomputed_hash_breaks_the_link_to_the_next_entry() {
        let mut entries = chain(5);
        entries[2].record.actor.login = "mallory".into();
        entries[2].hash = entries[2].computed_hash();
        assert_eq!(
            first_break(&entries, None),
            Some(ChainBreak::Unlinked { seq: 4 })
        );
    }

    #[test]
    fn a_removed_entry_is_a_gap() {
        let mut entries = chain(5);
        entries.remove(1);
        assert_eq!(
            first_break(&entries, None),
            Some(ChainBreak::Gap {
                expected: 2,
                found: 3
            })
        );
    }

    #[test]
    fn a_chain_verifies_from_its_anchor() {
        let entries = chain(5);
        let anchor = AuditAnchor {
            seq: 2,
            hash: entries[1].hash.clone(),
            purged_at: entries[1].at,
        };
        assert_eq!(first_break(&entries[2..], Some(&anchor)), None);
        let wrong = AuditAnchor {
            hash: GENESIS.into(),
            ..anchor
        };
        assert_eq!(
            first_break(&entries[2..], Some(&wrong)),
            Some(ChainBreak::Unlinked { seq: 3 })
        );
    }

    #[test]
    fn field_boundaries_are_part_of_the_encoding() {
        let at: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap_or_default();
        let mut a = record("GET /x");
        a.object = "ab".into();
        a.outcome = "c".into();
        let mut b = record("GET /x");
        b.object = "a".into();
        b.outcome = "bc".into();
        let a = AuditEntry::seal(1, at, a, GENESIS);
        let b = AuditEntry::seal(1, at, b, GENESIS);
        assert_ne!(a.hash, b.hash);
    }
}
