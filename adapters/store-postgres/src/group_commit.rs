//! Group commit: [`Store::apply`](sprechstunde_core::Store::apply) numbers a batch and
//! queues it; [`Store::sync`](sprechstunde_core::Store::sync) writes every queued batch in
//! one PostgreSQL transaction and returns once it is committed. Writers that arrive while a
//! transaction runs are covered together by the next one.
//!
//! The queue is ordered by number, and batches are written in that order, so a later change
//! to an entity wins as with sled. A batch leaves the queue when its transaction committed
//! (it is durable then: the store insists on `synchronous_commit = on`) or failed (it is
//! lost then: syncing its number fails, and the caller reloads, as after a failed sled
//! flush). The transaction runs in a task of its own, so a cancelled `sync` cannot leave
//! it half done.

use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use sprechstunde_core::{CommitSeq, StoreError};

use crate::engine::Op;

/// Batches by number.
pub(crate) type Batches = Vec<(u64, Arc<Vec<Op>>)>;

/// The queue of applied, not yet committed batches.
#[derive(Default)]
pub(crate) struct Queue {
    /// The number of the last batch applied.
    last: u64,
    /// Applied batches not yet committed, in order.
    pending: Batches,
    /// Numbers whose transaction failed: never durable.
    lost: Vec<RangeInclusive<u64>>,
}

/// Orders batches and shares transactions between their writers.
#[derive(Default)]
pub(crate) struct GroupCommit {
    queue: Mutex<Queue>,
    /// Every batch up to this number is committed.
    durable: AtomicU64,
    /// Held for the whole of a transaction.
    flush_lock: Arc<tokio::sync::Mutex<()>>,
    /// Transactions attempted.
    flushes: AtomicU64,
}

/// The guard of the flush lock, moved into the task that commits.
pub(crate) type FlushGuard = tokio::sync::OwnedMutexGuard<()>;

impl GroupCommit {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `ops` and numbers them.
    pub(crate) fn write(&self, ops: Vec<Op>) -> CommitSeq {
        let mut queue = self.queue();
        queue.last += 1;
        let seq = queue.last;
        queue.pending.push((seq, Arc::new(ops)));
        CommitSeq(seq)
    }

    /// The number of the last batch applied.
    pub(crate) fn written(&self) -> CommitSeq {
        CommitSeq(self.queue().last)
    }

    /// Whether `upto` is committed already (`Ok(true)`), needs a transaction (`Ok(false)`),
    /// or can never be (an error).
    ///
    /// # Errors
    /// `upto` was lost or never handed out.
    pub(crate) fn check(&self, upto: CommitSeq) -> Result<bool, StoreError> {
        let upto = upto.0;
        let queue = self.queue();
        if queue.lost.iter().any(|range| range.contains(&upto)) {
            return Err(StoreError::Io(format!(
                "commit {upto} was lost: its transaction failed"
            )));
        }
        if upto > queue.last {
            return Err(StoreError::Io(format!(
                "cannot sync up to commit {upto}: the last applied commit is {}",
                queue.last
            )));
        }
        Ok(self.durable.load(Ordering::Acquire) >= upto)
    }

    /// Takes the flush lock.
    pub(crate) async fn lock(&self) -> FlushGuard {
        Arc::clone(&self.flush_lock).lock_owned().await
    }

    /// The batches to write now (all pending ones); the caller holds the flush lock.
    pub(crate) fn pending(&self) -> Batches {
        self.flushes.fetch_add(1, Ordering::Relaxed);
        self.queue().pending.clone()
    }

    /// Records the outcome of writing `batches`: committed, or lost.
    pub(crate) fn finish(&self, batches: &Batches, committed: bool) {
        let Some(&(first, _)) = batches.first() else {
            return;
        };
        let last = batches.last().map_or(first, |(seq, _)| *seq);
        let mut queue = self.queue();
        queue.pending.retain(|(seq, _)| *seq > last);
        if committed {
            self.durable.fetch_max(last, Ordering::Release);
        } else {
            queue.lost.push(first..=last);
        }
    }

    /// How many transactions were attempted.
    pub(crate) fn flush_count(&self) -> u64 {
        self.flushes.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_increase_and_an_unknown_number_is_an_error() {
        let commits = GroupCommit::default();
        assert!(commits.check(CommitSeq(1)).is_err(), "never handed out");
        let a = commits.write(Vec::new());
        let b = commits.write(Vec::new());
        assert!(b > a);
        assert_eq!(commits.check(CommitSeq(0)).ok(), Some(true));
        assert_eq!(commits.check(b).ok(), Some(false));
    }

    #[test]
    fn a_failed_transaction_loses_its_batches_and_only_those() {
        let commits = GroupCommit::default();
        let a = commits.write(Vec::new());
        let batches = commits.pending();
        let b = commits.write(Vec::new());
        commits.finish(&batches, false);
        assert!(commits.check(a).is_err());
        assert_eq!(commits.check(b).ok(), Some(false));
        let rest = commits.pending();
        assert_eq!(rest.len(), 1);
        commits.finish(&rest, true);
        assert_eq!(commits.check(b).ok(), Some(true));
    }
}
