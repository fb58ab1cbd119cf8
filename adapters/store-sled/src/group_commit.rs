//! Group commit: writes are ordered and numbered at once, and made durable by flushes that
//! many waiting writers share.
//!
//! Every write runs under one mutex that also hands out its [`CommitSeq`], so the order of
//! writes is the order of their numbers and `written` is the number of the last one. A
//! caller of [`GroupCommit::sync`] takes the flush lock; if a flush finished meanwhile that
//! covers its number it returns, otherwise it reads `written`, flushes, and records that
//! number as `durable`. Writers that arrive during a flush queue on the lock and are usually
//! covered by the next single flush.
//!
//! Flushes are blocking `Db::flush` calls on tokio's blocking pool, one at a time: sled
//! 0.34.7 can deadlock on concurrent `flush_async` (upstream #1308). The flush lock guard
//! moves into the blocking task, so a cancelled `sync` cannot let a second flush start
//! beside a running one.

use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use sprechstunde_core::{CommitSeq, StoreError};

/// Makes everything written so far durable; returns the number of bytes flushed.
pub(crate) type FlushFn = dyn Fn() -> Result<usize, StoreError> + Send + Sync;

/// Orders writes and shares flushes between them.
pub(crate) struct GroupCommit {
    shared: Arc<Shared>,
}

struct Shared {
    /// The number of the last write; held while a write is applied.
    last: Mutex<u64>,
    /// The number of the last applied write, readable without the write lock.
    written: AtomicU64,
    /// Every write up to this number is durable.
    durable: AtomicU64,
    /// Held for the whole of a flush.
    flush_lock: Arc<tokio::sync::Mutex<()>>,
    /// Flushes attempted.
    flushes: AtomicU64,
    /// Whether the latest write or flush failed with an I/O error.
    failing: AtomicBool,
    /// Numbers of writes lost by a [`GroupCommit::restart`]: never durable.
    lost: Mutex<Vec<RangeInclusive<u64>>>,
    flush: Box<FlushFn>,
}

impl GroupCommit {
    /// Group commit over `flush`, starting from sequence number 0 (nothing written).
    pub(crate) fn new(
        flush: impl Fn() -> Result<usize, StoreError> + Send + Sync + 'static,
    ) -> Self {
        GroupCommit {
            shared: Arc::new(Shared {
                last: Mutex::new(0),
                written: AtomicU64::new(0),
                durable: AtomicU64::new(0),
                flush_lock: Arc::new(tokio::sync::Mutex::new(())),
                flushes: AtomicU64::new(0),
                failing: AtomicBool::new(false),
                lost: Mutex::new(Vec::new()),
                flush: Box::new(flush),
            }),
        }
    }

    /// Runs the write `apply` in write order and numbers it.
    ///
    /// `apply` must be atomic and quick: it runs under the write lock, on the caller's thread.
    ///
    /// # Errors
    /// Whatever `apply` returns; no number is used up then.
    pub(crate) fn write<T>(
        &self,
        apply: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<(T, CommitSeq), StoreError> {
        // The guarded value stays consistent even if `apply` panicked, so poison is ignored.
        let mut last = self
            .shared
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let out = apply().inspect_err(|e| {
            // sled fails every later operation after an I/O error: only a reopen helps.
            if matches!(e, StoreError::Io(_)) {
                self.shared.failing.store(true, Ordering::Relaxed);
            }
        })?;
        *last += 1;
        self.shared.written.store(*last, Ordering::Release);
        Ok((out, CommitSeq(*last)))
    }

    /// Runs `read` while no write runs, without numbering it: what it sees is the state
    /// after one write and before the next (a consistent copy for a backup).
    ///
    /// # Errors
    /// Whatever `read` returns.
    pub(crate) fn exclusive<T>(
        &self,
        read: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _last = self
            .shared
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        read()
    }

    /// Returns once every write up to `upto` is durable, flushing if no other caller does.
    ///
    /// # Errors
    /// [`StoreError::Io`] if the flush failed (nothing is then recorded as durable), or if
    /// `upto` was never handed out.
    pub(crate) async fn sync(&self, upto: CommitSeq) -> Result<(), StoreError> {
        let upto = upto.0;
        self.shared.check_not_lost(upto)?;
        if self.shared.durable.load(Ordering::Acquire) >= upto {
            return Ok(());
        }
        let written = self.shared.written.load(Ordering::Acquire);
        if upto > written {
            return Err(StoreError::Io(format!(
                "cannot sync up to commit {upto}: the last applied commit is {written}"
            )));
        }
        let guard = Arc::clone(&self.shared.flush_lock).lock_owned().await;
        self.shared.check_not_lost(upto)?;
        if self.shared.durable.load(Ordering::Acquire) >= upto {
            return Ok(());
        }
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || {
            let _guard = guard;
            shared.flush_written()
        })
        .await
        .map_err(|e| StoreError::Io(format!("the flush task failed: {e}")))?
    }

    /// Replaces what the flush function writes to, while no flush runs (on the blocking
    /// pool): `close` drops the old database, after which every write fails; then every
    /// write that was not durable counts as lost (a later `sync` of its number fails: the
    /// data never reaches the disk); then `open` opens the new one, and on success the store
    /// is no longer failing. Numbers keep counting up.
    ///
    /// # Errors
    /// Whatever `open` returns; the store stays failing then.
    pub(crate) async fn restart(
        &self,
        close: impl FnOnce() + Send + 'static,
        open: impl FnOnce() -> Result<(), StoreError> + Send + 'static,
    ) -> Result<(), StoreError> {
        let guard = Arc::clone(&self.shared.flush_lock).lock_owned().await;
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || {
            let _guard = guard;
            shared.failing.store(true, Ordering::Relaxed);
            close();
            {
                // A write still running finishes first; later ones fail.
                let last = shared.last.lock().unwrap_or_else(PoisonError::into_inner);
                let durable = shared.durable.load(Ordering::Acquire);
                if *last > durable {
                    shared
                        .lost
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(durable + 1..=*last);
                }
            }
            open()?;
            shared.failing.store(false, Ordering::Relaxed);
            Ok(())
        })
        .await
        .map_err(|e| StoreError::Io(format!("the reopen task failed: {e}")))?
    }

    /// How many flushes were attempted.
    pub(crate) fn flush_count(&self) -> u64 {
        self.shared.flushes.load(Ordering::Relaxed)
    }

    /// Whether the latest flush failed.
    pub(crate) fn is_failing(&self) -> bool {
        self.shared.failing.load(Ordering::Relaxed)
    }
}

impl Shared {
    /// Fails for the number of a write that a restart lost.
    fn check_not_lost(&self, upto: u64) -> Result<(), StoreError> {
        let lost = self.lost.lock().unwrap_or_else(PoisonError::into_inner);
        if lost.iter().any(|range| range.contains(&upto)) {
            return Err(StoreError::Io(format!(
                "commit {upto} was lost when the database was reopened after a failed write"
            )));
        }
        Ok(())
    }

    /// Flushes and, on success, marks everything written before it durable. Caller holds
    /// the flush lock.
    fn flush_written(&self) -> Result<(), StoreError> {
        // Read before flushing: every write numbered up to here is in sled already.
        let target = self.written.load(Ordering::Acquire);
        let started = Instant::now();
        let result = (self.flush)();
        self.flushes.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        match result {
            Ok(bytes) => {
                self.durable.fetch_max(target, Ordering::Release);
                self.failing.store(false, Ordering::Relaxed);
                tracing::debug!(upto = target, bytes, micros, "flushed");
                Ok(())
            }
            Err(e) => {
                self.failing.store(true, Ordering::Relaxed);
                tracing::debug!(upto = target, micros, "flush failed");
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;

    fn failing_once() -> (GroupCommit, Arc<AtomicBool>) {
        let fail = Arc::new(AtomicBool::new(true));
        let flag = Arc::clone(&fail);
        let commits = GroupCommit::new(move || {
            if flag.swap(false, Ordering::SeqCst) {
                Err(StoreError::Io("disk full".into()))
            } else {
                Ok(1)
            }
        });
        (commits, fail)
    }

    #[tokio::test]
    async fn a_failed_flush_is_reported_and_does_not_count_as_durable() {
        let (commits, _) = failing_once();
        let ((), seq) = commits.write(|| Ok(())).expect("write");

        let first = commits.sync(seq).await;

        assert!(matches!(first, Err(StoreError::Io(_))), "{first:?}");
        assert!(commits.is_failing());
        commits.sync(seq).await.expect("the retry flushes again");
        assert_eq!(commits.flush_count(), 2);
        assert!(!commits.is_failing());
    }

    #[tokio::test]
    async fn a_failed_write_uses_up_no_number() {
        let commits = GroupCommit::new(|| Ok(0));
        let failed = commits.write::<()>(|| Err(StoreError::Io("no".into())));
        assert!(failed.is_err());
        let ((), seq) = commits.write(|| Ok(())).expect("write");
        assert_eq!(seq, CommitSeq(1));
    }

    #[tokio::test]
    async fn sync_of_a_number_never_handed_out_is_an_error() {
        let commits = GroupCommit::new(|| Ok(0));
        let result = commits.sync(CommitSeq(1)).await;
        assert!(matches!(result, Err(StoreError::Io(_))), "{result:?}");
        assert_eq!(commits.flush_count(), 0);
    }

    #[tokio::test]
    async fn sync_of_nothing_needs_no_flush() {
        let commits = GroupCommit::new(|| Ok(0));
        commits.sync(CommitSeq(0)).await.expect("sync");
        assert_eq!(commits.flush_count(), 0);
    }
}
