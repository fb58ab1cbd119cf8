//! Waiting, when a store is dropped, until sled has really let go of the directory.
//!
//! sled 0.34.7 releases its directory lock only when the last reference to its log file
//! is gone, and its own I/O threads hold such references for a moment after the last
//! `Db` is dropped (upstream #1289, #1234). A reopen right after a drop, as on a restart
//! within one process, would then fail with [`StoreError::Locked`](sprechstunde_core::StoreError).
//! [`ReleaseOnDrop`] closes that gap: it is dropped after the sled handles and waits, with
//! a deadline, until the lock on the log file can be taken.

use std::fs::{File, TryLockError};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The file sled locks, inside the store directory (`Config::db_path`).
const LOCK_FILE: &str = "db";
/// How long a drop waits at most; sled's threads normally finish in well under a millisecond.
const DEADLINE: Duration = Duration::from_secs(5);
/// Pause between two attempts; there is nothing to be notified by.
const POLL: Duration = Duration::from_millis(1);

/// Waits on drop until the directory's sled lock is free. Must be dropped after every sled
/// handle of the store (declare it last).
pub(crate) struct ReleaseOnDrop {
    dir: PathBuf,
}

impl ReleaseOnDrop {
    /// A guard for the store in `dir`.
    pub(crate) fn new(dir: PathBuf) -> Self {
        ReleaseOnDrop { dir }
    }
}

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        let started = Instant::now();
        let Ok(file) = File::open(self.dir.join(LOCK_FILE)) else {
            return;
        };
        loop {
            match file.try_lock() {
                // Closing `file` releases the probe's own lock.
                Ok(()) => {
                    tracing::debug!(
                        micros = started.elapsed().as_micros(),
                        "sled store released"
                    );
                    return;
                }
                Err(TryLockError::WouldBlock) if started.elapsed() < DEADLINE => {
                    std::thread::sleep(POLL);
                }
                Err(e) => {
                    tracing::debug!(error = %e, "sled store still locked after drop");
                    return;
                }
            }
        }
    }
}
