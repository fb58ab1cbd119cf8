//! The audit trail's writer: seals records into the hash chain one at a time, verifies the
//! stored chain, and purges entries older than the retention period.
//!
//! One [`AuditTrail`] per store (the [`Office`](crate::Office) owns it): it holds the head
//! of the chain under a lock, so concurrent records never fork it.

use std::sync::Arc;

use jiff::SignedDuration;
use sprechstunde_core::audit::{self, GENESIS};
use sprechstunde_core::{
    AuditActor, AuditAnchor, AuditEntry, AuditRecord, Store, StoreError, Verification,
};
use tokio::sync::Mutex;

use crate::clock::Clock;

/// The last sealed entry: the next one's number and `prev`.
#[derive(Debug, Clone)]
struct Head {
    seq: u64,
    hash: String,
}

/// Records, verifies and purges the audit trail of one store.
pub struct AuditTrail {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    head: Mutex<Option<Head>>,
}

impl std::fmt::Debug for AuditTrail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditTrail")
    }
}

/// What a purge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purged {
    /// Entries removed.
    pub removed: u64,
    /// The anchor now kept, if any entry was ever removed.
    pub anchor: Option<AuditAnchor>,
}

/// A selection of audit entries (all conditions must hold; `None` means any).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Login of the actor.
    pub login: Option<String>,
    /// Text contained in the object, e.g. a reference `A-1042`.
    pub object: Option<String>,
    /// Text contained in the action, e.g. `questions` or `staff.add`.
    pub action: Option<String>,
    /// At or after.
    pub from: Option<jiff::Timestamp>,
    /// Before.
    pub until: Option<jiff::Timestamp>,
}

impl AuditFilter {
    fn matches(&self, e: &AuditEntry) -> bool {
        self.login
            .as_ref()
            .is_none_or(|l| &e.record.actor.login == l)
            && self
                .object
                .as_ref()
                .is_none_or(|o| e.record.object.contains(o.as_str()))
            && self
                .action
                .as_ref()
                .is_none_or(|a| e.record.action.contains(a.as_str()))
            && self.from.is_none_or(|t| e.at >= t)
            && self.until.is_none_or(|t| e.at < t)
    }
}

/// Entries read per store call.
const PAGE: usize = 1000;

impl AuditTrail {
    /// The trail of `store`, timed by `clock`. Create one per store.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> AuditTrail {
        AuditTrail {
            store,
            clock,
            head: Mutex::new(None),
        }
    }

    /// Seals `record` with the current time and stores it durably.
    ///
    /// # Errors
    /// The store failed; nothing is recorded then.
    pub async fn record(&self, record: AuditRecord) -> Result<AuditEntry, StoreError> {
        let mut head = self.head.lock().await;
        self.append_locked(&mut head, record).await
    }

    async fn append_locked(
        &self,
        head: &mut Option<Head>,
        record: AuditRecord,
    ) -> Result<AuditEntry, StoreError> {
        let current = match head.take() {
            Some(h) => h,
            None => self.load_head().await?,
        };
        let entry = AuditEntry::seal(current.seq + 1, self.clock.now(), record, &current.hash);
        match self.store.append_audit(&entry).await {
            Ok(()) => {
                *head = Some(Head {
                    seq: entry.seq,
                    hash: entry.hash.clone(),
                });
                Ok(entry)
            }
            // The head is reloaded from the store next time.
            Err(e) => Err(e),
        }
    }

    async fn load_head(&self) -> Result<Head, StoreError> {
        if let Some(last) = self.store.last_audit_entry().await? {
            return Ok(Head {
                seq: last.seq,
                hash: last.hash,
            });
        }
        Ok(match self.store.audit_anchor().await? {
            Some(a) => Head {
                seq: a.seq,
                hash: a.hash,
            },
            None => Head {
                seq: 0,
                hash: GENESIS.to_owned(),
            },
        })
    }

    /// Walks the stored chain from its anchor and reports the first broken link.
    ///
    /// # Errors
    /// The store could not be read.
    pub async fn verify(&self) -> Result<Verification, StoreError> {
        audit::verify(self.store.as_ref()).await
    }

    /// Up to `limit` of the newest entries matching `filter`, oldest first.
    ///
    /// # Errors
    /// The store could not be read.
    pub async fn entries(
        &self,
        filter: &AuditFilter,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut found = std::collections::VecDeque::new();
        let mut after = 0;
        loop {
            let page = self.store.audit_entries(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in page {
                if filter.matches(&e) {
                    if found.len() == limit {
                        found.pop_front();
                    }
                    found.push_back(e);
                }
            }
        }
        Ok(found.into())
    }

    /// Removes the entries older than `retention`, keeping the hash of the last removed one as
    /// the anchor, and records the purge itself in the trail. Entries are removed from the
    /// oldest on, up to the first entry that is young enough.
    ///
    /// # Errors
    /// The store failed.
    pub async fn purge(&self, retention: SignedDuration) -> Result<Purged, StoreError> {
        let mut head = self.head.lock().await;
        let now = self.clock.now();
        let cutoff = now.checked_sub(retention).unwrap_or(now);
        let mut last_old: Option<AuditEntry> = None;
        let mut after = self.store.audit_anchor().await?.map_or(0, |a| a.seq);
        'scan: loop {
            let page = self.store.audit_entries(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in page {
                if e.at >= cutoff {
                    break 'scan;
                }
                last_old = Some(e);
            }
        }
        let Some(last_old) = last_old else {
            return Ok(Purged {
                removed: 0,
                anchor: self.store.audit_anchor().await?,
            });
        };
        let anchor = AuditAnchor {
            seq: last_old.seq,
            hash: last_old.hash.clone(),
            purged_at: now,
        };
        let removed = self.store.purge_audit(&anchor).await?;
        self.append_locked(
            &mut head,
            AuditRecord {
                actor: AuditActor::system(),
                action: "audit.purge".into(),
                object: format!("up_to={} anchor={}", anchor.seq, anchor.hash),
                outcome: format!("removed={removed}"),
            },
        )
        .await?;
        tracing::info!(removed, up_to = anchor.seq, "audit trail purged");
        Ok(Purged {
            removed,
            anchor: Some(anchor),
        })
    }
}
