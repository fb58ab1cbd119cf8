//! The commit writer: hands the office's commits to the store in the order they were made,
//! outside the state lock.
//!
//! The engine decides under the state lock and queues its changes here before the lock is
//! released, so the queue order is the commit order. One task takes the queue in runs:
//! consecutive commits become one atomic [`Store::apply`](sprechstunde_core::Store::apply)
//! (encoding, sealing and writing happen here, on this task, while the next input already
//! holds the lock), then the search index follows them, in the same order.
//!
//! After a commit fails, the state may hold changes the store never got, and every commit
//! queued after it was made on top of them: the writer refuses them all, without applying
//! anything, until the office has reloaded its state ([`Job::Reset`], sent under the state
//! lock before the reload, so nothing made from the stale state comes after it).

use std::sync::Weak;
use std::sync::atomic::Ordering;

use sprechstunde_core::{Change, CommitSeq, StoreError};
use tokio::sync::{mpsc, oneshot};

use crate::events::OfficeEvent;
use crate::office::Inner;

/// Most jobs taken from the queue at once.
const RUN: usize = 256;

/// What the writer is asked to do.
pub(crate) enum Job {
    /// Apply one commit's changes after every commit queued before.
    Commit {
        /// The changes, as the engine recorded them.
        changes: Vec<Change>,
        /// Who hears about it.
        done: Done,
    },
    /// Answer once every job queued before is done: the number of the last commit applied
    /// since the last reset (0: none), or an error if one of them failed.
    Barrier(oneshot::Sender<Result<CommitSeq, StoreError>>),
    /// Every job queued before is done; forget earlier failures (the state is about to be
    /// reloaded from the store) and count commits from 0 again.
    Reset(oneshot::Sender<()>),
}

/// Who hears that a commit was applied.
pub(crate) enum Done {
    /// The submitter waits for the commit's number (to sync up to it).
    Reply(oneshot::Sender<Result<CommitSeq, StoreError>>),
    /// Nobody waits (delivery bookkeeping, durable with the next flush): the writer announces
    /// the commit's event itself once it is applied.
    Announce(OfficeEvent),
}

/// The sending side, kept in the office.
pub(crate) type Queue = mpsc::UnboundedSender<Job>;

/// A queue and its receiver, for [`run`].
pub(crate) fn queue() -> (Queue, mpsc::UnboundedReceiver<Job>) {
    mpsc::unbounded_channel()
}

/// The error for a caller whose commit is refused or whose run failed: a copy of `error`.
pub(crate) fn copy_of(error: &StoreError) -> StoreError {
    match error {
        StoreError::Locked => StoreError::Locked,
        StoreError::Io(s) => StoreError::Io(s.clone()),
        StoreError::Corrupt(s) => StoreError::Corrupt(s.clone()),
        StoreError::Conflict(s) => StoreError::Conflict(s.clone()),
        StoreError::Fenced(s) => StoreError::Fenced(s.clone()),
    }
}

/// The error when the writer is gone (the office is shutting down).
pub(crate) fn gone() -> StoreError {
    StoreError::Io("the commit writer has stopped".into())
}

/// Runs until the office is dropped (the queue closes). The office is held only while a run
/// is written and answered after it is let go, so whoever hears the last answer can drop the
/// office (and with it the store) at once.
pub(crate) async fn run(office: Weak<Inner>, mut jobs: mpsc::UnboundedReceiver<Job>) {
    let mut writer = Writer {
        last: CommitSeq(0),
        failed: None,
        run: Vec::new(),
        answers: Vec::new(),
    };
    let mut taken = Vec::with_capacity(RUN);
    while jobs.recv_many(&mut taken, RUN).await > 0 {
        let Some(inner) = office.upgrade() else {
            return;
        };
        for job in taken.drain(..) {
            match job {
                Job::Commit { changes, done } => writer.run.push((changes, done)),
                Job::Barrier(reply) => {
                    writer.write(&inner).await;
                    let answer = match &writer.failed {
                        Some(error) => Err(copy_of(error)),
                        None => Ok(writer.last),
                    };
                    writer.answers.push(Answer::Commit(reply, answer));
                }
                Job::Reset(reply) => {
                    writer.write(&inner).await;
                    writer.failed = None;
                    writer.last = CommitSeq(0);
                    writer.answers.push(Answer::Reset(reply));
                }
            }
        }
        writer.write(&inner).await;
        drop(inner);
        for answer in writer.answers.drain(..) {
            match answer {
                Answer::Commit(reply, answer) => {
                    let _ = reply.send(answer);
                }
                Answer::Reset(reply) => {
                    let _ = reply.send(());
                }
            }
        }
    }
}

/// An answer to send once the office is let go.
enum Answer {
    Commit(
        oneshot::Sender<Result<CommitSeq, StoreError>>,
        Result<CommitSeq, StoreError>,
    ),
    Reset(oneshot::Sender<()>),
}

struct Writer {
    /// The number of the last commit applied since the last reset.
    last: CommitSeq,
    /// The failure that makes every later commit be refused, until a reset.
    failed: Option<StoreError>,
    /// Commits taken from the queue and not applied yet, in order.
    run: Vec<(Vec<Change>, Done)>,
    /// Answers to send after the run.
    answers: Vec<Answer>,
}

impl Writer {
    /// Applies the run of commits taken so far as one batch.
    async fn write(&mut self, inner: &Inner) {
        if self.run.is_empty() {
            return;
        }
        let run = std::mem::take(&mut self.run);
        if let Some(error) = &self.failed {
            for (_, done) in run {
                if let Done::Reply(reply) = done {
                    self.answers
                        .push(Answer::Commit(reply, Err(copy_of(error))));
                }
            }
            return;
        }
        let mut changes = Vec::with_capacity(run.iter().map(|(c, _)| c.len()).sum());
        let mut dones = Vec::with_capacity(run.len());
        for (mine, done) in run {
            changes.extend(mine);
            dones.push(done);
        }
        match inner.store.apply(&changes).await {
            Ok(seq) => {
                self.last = seq;
                inner.search.apply(&changes);
                for done in dones {
                    match done {
                        Done::Reply(reply) => self.answers.push(Answer::Commit(reply, Ok(seq))),
                        Done::Announce(event) => inner.announce(event),
                    }
                }
            }
            Err(error) => {
                // The in-memory state ran ahead of the store: it is reloaded before anything
                // else is answered, and nothing made from it is written meanwhile.
                tracing::error!(%error, "store rejected a commit; reloading state");
                inner.stale.store(true, Ordering::Release);
                for done in dones {
                    if let Done::Reply(reply) = done {
                        self.answers
                            .push(Answer::Commit(reply, Err(copy_of(&error))));
                    }
                }
                self.failed = Some(error);
            }
        }
    }
}
