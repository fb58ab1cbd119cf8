//! The office: the single writer of the state.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use jiff::Timestamp;
use sprechstunde_core::{
    Channel, ChannelKind, CommitSeq, DeliveryReport, Engine, Input, Intake, OfficeState, OutboxId,
    QuestionId, Receipt, Refusal, Store, StoreError,
};
use tokio::sync::{Mutex, Notify, broadcast, oneshot};
use tokio::task::JoinHandle;

use crate::audit::AuditTrail;
use crate::clock::Clock;
use crate::events::OfficeEvent;
use crate::search::SearchIndex;
use crate::telemetry::Telemetry;
use crate::writer::{self, Done, Job};

/// A failure of the office itself (not a refusal of an input).
#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    /// The store failed; nothing the input would have changed may be assumed stored.
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(crate) struct Inner {
    pub(crate) engine: Engine,
    pub(crate) state: Mutex<OfficeState>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Outbox ids up to this one are on disk and may be delivered.
    pub(crate) durable_outbox: AtomicU64,
    /// Staff mail ids up to this one are on disk and may be sent.
    pub(crate) durable_mail: AtomicU64,
    /// Where staff mails go; none: they wait (mail not configured).
    pub(crate) mailer: RwLock<Option<Arc<dyn sprechstunde_core::Mailer>>>,
    pub(crate) mail_wake: Notify,
    /// Commits on their way to the store, in commit order (see [`crate::writer`]). Sent to
    /// under the state lock only. An input that changes nothing may still answer from a
    /// commit that is not durable yet (a resend while the original is being flushed), so it
    /// waits for the commits queued before it ([`Job::Barrier`]).
    commits: writer::Queue,
    /// A write or flush failed: the state may hold changes that are not on disk. The next
    /// input (or the recovery worker) reloads the state from the store before anything else
    /// is answered.
    pub(crate) stale: AtomicBool,
    pub(crate) channels: RwLock<HashMap<ChannelKind, Arc<dyn Channel>>>,
    pub(crate) dispatch_wake: Notify,
    pub(crate) clock_wake: Notify,
    events: broadcast::Sender<OfficeEvent>,
    audit: AuditTrail,
    /// Folded question texts for staff searches; follows every commit.
    pub(crate) search: SearchIndex,
    /// Who counts the office's work (metrics); counts nothing unless registered.
    pub(crate) telemetry: RwLock<Arc<dyn Telemetry>>,
}

/// The running office. Clones share one state.
#[derive(Clone)]
pub struct Office {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Office {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Office")
    }
}

/// The background tasks of an office: outbox dispatcher and session clock.
#[derive(Debug)]
pub struct Workers {
    dispatcher: JoinHandle<()>,
    scheduler: JoinHandle<()>,
    stop: tokio::sync::watch::Sender<bool>,
    retention: JoinHandle<()>,
    recovery: JoinHandle<()>,
    mail: JoinHandle<()>,
}

/// How often the recovery worker retries after a failed write (disk full).
const RECOVERY_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// How long shutdown waits for deliveries in flight.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

impl Workers {
    /// Stops the tasks. The dispatcher starts nothing new, lets the deliveries in flight
    /// finish (up to a grace period) and records them, so a restart does not send them again.
    /// A delivery still running after the grace period may be sent again after a restart
    /// (delivery is at least once).
    pub async fn shutdown(self) {
        let Workers {
            mut dispatcher,
            scheduler,
            stop,
            retention,
            recovery,
            mail,
        } = self;
        scheduler.abort();
        retention.abort();
        recovery.abort();
        let _ = recovery.await;
        let _ = retention.await;
        let _ = stop.send(true);
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut dispatcher)
            .await
            .is_err()
        {
            tracing::warn!("deliveries still running at shutdown; they may be repeated");
            dispatcher.abort();
            let _ = dispatcher.await;
        }
        let mut mail = mail;
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut mail)
            .await
            .is_err()
        {
            tracing::warn!("a staff mail was still being sent at shutdown; it may be repeated");
            mail.abort();
            let _ = mail.await;
        }
        let _ = scheduler.await;
    }
}

/// Whether a commit must be on disk before `submit` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// Flush before returning: somebody will be told.
    Flush,
    /// Sled's background flush is enough (delivery bookkeeping).
    Lazy,
}

impl Office {
    /// Loads the state from the store.
    ///
    /// # Errors
    /// The store could not be read.
    pub async fn open(
        engine: Engine,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Office, OfficeError> {
        let snapshot = store.load().await?;
        let state = OfficeState::from_snapshot(snapshot);
        let search = SearchIndex::build(&state);
        let durable = state.counters().next_outbox.saturating_sub(1);
        let durable_mail = state.counters().next_mail.saturating_sub(1);
        let (events, _) = broadcast::channel(1024);
        let audit = AuditTrail::new(store.clone(), clock.clone());
        let (commits, jobs) = writer::queue();
        let inner = Arc::new(Inner {
            engine,
            state: Mutex::new(state),
            store,
            clock,
            durable_outbox: AtomicU64::new(durable),
            durable_mail: AtomicU64::new(durable_mail),
            mailer: RwLock::new(None),
            mail_wake: Notify::new(),
            commits,
            stale: AtomicBool::new(false),
            channels: RwLock::new(HashMap::new()),
            dispatch_wake: Notify::new(),
            clock_wake: Notify::new(),
            events,
            audit,
            search,
            telemetry: RwLock::new(crate::telemetry::nothing()),
        });
        tokio::spawn(writer::run(Arc::downgrade(&inner), jobs));
        Ok(Office { inner })
    }

    /// Handles one input. Returns only after its changes are on disk, so whatever the caller
    /// then tells a citizen or staff member is true.
    ///
    /// # Errors
    /// The store failed; the state is reset to what the store holds.
    pub async fn submit(&self, input: Input) -> Result<Result<Receipt, Refusal>, OfficeError> {
        self.submit_with(input, Durability::Flush).await
    }

    /// Handles one input with the given durability; counts citizen messages (intake and
    /// the time to their durable acknowledgement) for the telemetry.
    pub(crate) async fn submit_with(
        &self,
        input: Input,
        durability: Durability,
    ) -> Result<Result<Receipt, Refusal>, OfficeError> {
        let citizen = match &input {
            Input::Citizen(message) => Some(message.identity.channel),
            _ => None,
        };
        let started = Instant::now();
        let outcome = self.apply(input, durability).await;
        if let (Some(channel), Ok(result)) = (citizen, &outcome) {
            let telemetry = self.telemetry();
            telemetry.acknowledged(channel, started.elapsed());
            if let Ok(Receipt::Question {
                intake: Intake::New(_),
                ..
            }) = result
            {
                telemetry.question_taken_in(channel);
            }
        }
        outcome
    }

    /// Applies one input under the state lock and queues its changes for the store in
    /// commit order; then, outside the lock, waits until they are written (and, with
    /// [`Durability::Flush`], durable).
    async fn apply(
        &self,
        input: Input,
        durability: Durability,
    ) -> Result<Result<Receipt, Refusal>, OfficeError> {
        let inner = &self.inner;
        let (result, written, (outbox_mark, mail_mark), event) = {
            let mut state = inner.state.lock().await;
            if inner.stale.load(Ordering::Acquire) {
                self.reload(&mut state).await?;
            }
            let now = inner.clock.now();
            let outcome = inner.engine.handle(&mut state, input, now);
            if outcome.changes.is_empty() {
                if durability == Durability::Flush {
                    // Answers may come from commits queued before: wait until they are durable.
                    let (reply, written) = oneshot::channel();
                    inner.queue(Job::Barrier(reply));
                    drop(state);
                    let upto = writer_reply(written).await?;
                    self.sync(upto).await?;
                }
                return Ok(outcome.result);
            }
            let event = OfficeEvent::from_changes(&state, &outcome.changes);
            let counters = state.counters();
            let marks = (
                counters.next_outbox.saturating_sub(1),
                counters.next_mail.saturating_sub(1),
            );
            let (reply, written) = oneshot::channel();
            inner.queue(Job::Commit {
                changes: outcome.changes,
                done: Done::Reply(reply),
            });
            (outcome.result, written, marks, event)
        };
        let seq = match writer_reply(written).await {
            Ok(seq) => seq,
            Err(error) => {
                // The in-memory state ran ahead of the store: fall back to the store's. If the
                // reload fails too, the next input or the recovery worker retries.
                let mut state = inner.state.lock().await;
                if inner.stale.load(Ordering::Acquire) {
                    let _ = self.reload(&mut state).await;
                }
                return Err(error.into());
            }
        };
        if durability == Durability::Flush {
            let flushing = Instant::now();
            self.sync(seq).await?;
            self.telemetry().store_flushed(flushing.elapsed());
            inner
                .durable_outbox
                .fetch_max(outbox_mark, Ordering::SeqCst);
            inner.durable_mail.fetch_max(mail_mark, Ordering::SeqCst);
        }
        inner.announce(event);
        Ok(result)
    }

    /// Records delivery reports and then runs `f` on the state, under one taking of the state
    /// lock (the dispatcher's round: what was delivered, then what is due next). The reports'
    /// changes are queued for the store without waiting: they become durable with the next
    /// flush, like any delivery bookkeeping ([`Durability::Lazy`]). If the state waits for a
    /// reload that fails, the reports are dropped (their messages stay pending and are
    /// delivered again: delivery is at least once).
    pub(crate) async fn record_and_read<R>(
        &self,
        reports: Vec<DeliveryReport>,
        f: impl FnOnce(&OfficeState, &Engine, Timestamp) -> R,
    ) -> R {
        let inner = &self.inner;
        let mut state = inner.state.lock().await;
        let now = inner.clock.now();
        if !reports.is_empty() {
            let fresh = !inner.stale.load(Ordering::Acquire)
                || {
                    match self.reload(&mut state).await {
                        Ok(()) => true,
                        Err(error) => {
                            tracing::error!(%error, "could not record deliveries; they will be retried");
                            false
                        }
                    }
                };
            if fresh {
                let outcome = inner
                    .engine
                    .handle(&mut state, Input::Delivered(reports), now);
                if !outcome.changes.is_empty() {
                    let event = OfficeEvent::from_changes(&state, &outcome.changes);
                    inner.queue(Job::Commit {
                        changes: outcome.changes,
                        done: Done::Announce(event),
                    });
                }
            }
        }
        f(&state, &inner.engine, now)
    }

    /// Returns once every commit queued so far has been handed to the store (not
    /// necessarily durable).
    pub(crate) async fn written(&self) {
        let (reply, written) = oneshot::channel();
        self.inner.queue(Job::Barrier(reply));
        let _ = written.await;
    }

    /// Waits until the commit `upto` is durable. A failed flush marks the state stale: it
    /// may hold changes that never reach the disk (sled keeps failing after an I/O error
    /// until it is reopened), so nothing in it may be answered before a reload.
    async fn sync(&self, upto: CommitSeq) -> Result<(), OfficeError> {
        if let Err(error) = self.inner.store.sync(upto).await {
            if !self.inner.stale.swap(true, Ordering::AcqRel) {
                tracing::error!(%error, "flush failed; the state is reloaded from the store");
            }
            return Err(error.into());
        }
        Ok(())
    }

    /// Replaces the state with what the store holds (after a failed write or flush the store
    /// returns only what is durable). Caller holds the state lock.
    async fn reload(&self, state: &mut OfficeState) -> Result<(), OfficeError> {
        let inner = &self.inner;
        // Every commit queued so far (made from the state being replaced) is written or
        // refused first, and what is queued from now on is made from the reloaded state.
        let (reply, reset) = oneshot::channel();
        inner.queue(Job::Reset(reply));
        let _ = reset.await;
        let snapshot = inner.store.load().await?;
        *state = OfficeState::from_snapshot(snapshot);
        inner.search.reset(state);
        // Outbox ids that were lost are handed out again; none of them is durable yet.
        inner.durable_outbox.store(
            state.counters().next_outbox.saturating_sub(1),
            Ordering::SeqCst,
        );
        inner.durable_mail.store(
            state.counters().next_mail.saturating_sub(1),
            Ordering::SeqCst,
        );
        inner.stale.store(false, Ordering::Release);
        tracing::info!("state reloaded from the store");
        Ok(())
    }

    /// Whether the state waits for a reload after a failed write (see [`Office::recover`]).
    pub fn is_stale(&self) -> bool {
        self.inner.stale.load(Ordering::Acquire)
    }

    /// Reloads the state if a write or flush failed, or the store reports itself unhealthy
    /// (a failed staff write leaves the store failing while the state is fine). The recovery
    /// worker calls this every second; until it succeeds, every input fails
    /// with the store's error (citizens get "unavailable", nothing is acknowledged).
    ///
    /// # Errors
    /// The store still fails.
    pub async fn recover(&self) -> Result<(), OfficeError> {
        if !self.is_stale() && self.inner.store.health().await.is_ok() {
            return Ok(());
        }
        let mut state = self.inner.state.lock().await;
        self.reload(&mut state).await?;
        drop(state);
        self.inner.store.health().await?;
        self.inner.dispatch_wake.notify_one();
        Ok(())
    }

    /// Reads the state. Keep `f` short: it holds the state lock, which every citizen
    /// message and staff action needs too. Long reads go in slices (see
    /// [`read_in_slices`](Office::read_in_slices)).
    pub async fn read<R>(&self, f: impl FnOnce(&OfficeState, &Engine, Timestamp) -> R) -> R {
        let state = self.inner.state.lock().await;
        f(&state, &self.inner.engine, self.inner.clock.now())
    }

    /// Reads the state for `items` in slices of `slice` items, taking the state lock once
    /// per slice, so that citizens and staff waiting for the lock get it between slices
    /// (the lock is fair). Each slice sees the state as it is then: `f` must look its items
    /// up again and skip what no longer exists or no longer qualifies.
    pub async fn read_in_slices<T, R>(
        &self,
        items: &[T],
        slice: usize,
        mut f: impl FnMut(&OfficeState, &Engine, Timestamp, &[T]) -> Vec<R>,
    ) -> Vec<R> {
        let mut out = Vec::with_capacity(items.len());
        for part in items.chunks(slice.max(1)) {
            let state = self.inner.state.lock().await;
            out.extend(f(&state, &self.inner.engine, self.inner.clock.now(), part));
        }
        out
    }

    /// The folded search texts (reference and thread, lower-cased, umlauts folded as
    /// [`fold`](sprechstunde_core::triage::fold) does) of `questions`, in the same order;
    /// `None` for a question that no longer exists. Does not take the state lock: staff
    /// searches match outside it.
    pub fn search_texts(&self, questions: &[QuestionId]) -> Vec<Option<Arc<str>>> {
        self.inner.search.texts(questions)
    }

    /// The engine (policy and texts).
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The audit trail of the office's store.
    pub fn audit(&self) -> &AuditTrail {
        &self.inner.audit
    }

    /// The current time of the office's clock.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// Applies due session transitions now (the scheduler does this by itself; tests with a
    /// manual clock call it after moving the clock).
    ///
    /// # Errors
    /// The store failed.
    pub async fn tick(&self) -> Result<(), OfficeError> {
        self.submit(Input::Tick).await.map(|_| ())
    }

    /// Runs the retention purge now (the daily job does this by itself; tests with a manual
    /// clock call it after moving the clock).
    ///
    /// # Errors
    /// The store failed.
    pub async fn purge(&self) -> Result<(), OfficeError> {
        let count = |s: &OfficeState| (s.questions().count(), s.citizens().count());
        let before = self.read(|s, _, _| count(s)).await;
        // A purge is never refused.
        let _receipt = self.submit(Input::Purge).await?;
        let after = self.read(|s, _, _| count(s)).await;
        // Counts only; what was forgotten is gone.
        tracing::info!(
            questions = before.0.saturating_sub(after.0),
            citizens = before.1.saturating_sub(after.1),
            "retention purge done"
        );
        Ok(())
    }

    /// Registers the outbound side of a channel adapter.
    pub fn register_channel(&self, channel: Arc<dyn Channel>) {
        let mut channels = self
            .inner
            .channels
            .write()
            .unwrap_or_else(|e| e.into_inner());
        channels.insert(channel.kind(), channel);
        drop(channels);
        self.inner.dispatch_wake.notify_one();
    }

    /// Change notifications, for live views.
    pub fn subscribe(&self) -> broadcast::Receiver<OfficeEvent> {
        self.inner.events.subscribe()
    }

    /// Records that messages were handed to the citizen outside the dispatcher (the web chat
    /// sends the whole conversation when a citizen comes back).
    ///
    /// # Errors
    /// The store failed.
    pub async fn mark_delivered(&self, ids: Vec<OutboxId>) -> Result<(), OfficeError> {
        if ids.is_empty() {
            return Ok(());
        }
        // Only the web chat hands messages over by itself.
        let telemetry = self.telemetry();
        for _ in &ids {
            telemetry.delivery(ChannelKind::Web, crate::DeliveryOutcome::Delivered);
        }
        let reports = ids
            .into_iter()
            .map(|id| sprechstunde_core::DeliveryReport { id, result: Ok(()) })
            .collect();
        self.submit_with(Input::Delivered(reports), Durability::Lazy)
            .await
            .map(|_| ())
    }

    /// Starts the outbox dispatcher and the session clock.
    pub fn spawn_workers(&self) -> Workers {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mail = tokio::spawn(crate::mailer::run(self.clone(), stop.subscribe()));
        Workers {
            dispatcher: tokio::spawn(crate::dispatcher::run(self.clone(), stopped)),
            scheduler: tokio::spawn(crate::scheduler::run(self.clone())),
            stop,
            retention: tokio::spawn(crate::retention::run(self.clone())),
            recovery: tokio::spawn(recovery(self.clone())),
            mail,
        }
    }

    /// Wakes the dispatcher (after a channel became reachable again).
    pub fn wake_dispatcher(&self) {
        self.inner.dispatch_wake.notify_one();
    }
}

impl Inner {
    /// Queues a job for the commit writer (call it under the state lock: the queue order is
    /// the commit order). Nothing is lost if the writer is gone: its callers then hear so.
    fn queue(&self, job: Job) {
        let _ = self.commits.send(job);
    }

    /// Tells the workers and live views about an applied commit.
    pub(crate) fn announce(&self, event: OfficeEvent) {
        if event.new_mail {
            self.mail_wake.notify_one();
        }
        if event.new_outbox {
            self.dispatch_wake.notify_one();
        }
        if !event.sessions.is_empty() {
            self.clock_wake.notify_one();
        }
        // Nobody listening is fine.
        let _ = self.events.send(event);
    }
}

/// What the writer answered, or an error if it has stopped.
async fn writer_reply(
    reply: oneshot::Receiver<Result<CommitSeq, StoreError>>,
) -> Result<CommitSeq, StoreError> {
    reply.await.unwrap_or_else(|_| Err(writer::gone()))
}

/// Retries [`Office::recover`] until the store works again, so that a server whose disk
/// was full serves again by itself once space is free.
async fn recovery(office: Office) {
    let mut failing = false;
    loop {
        tokio::time::sleep(RECOVERY_EVERY).await;
        match office.recover().await {
            Ok(()) if failing => {
                failing = false;
                tracing::info!("store recovered; serving again");
            }
            Ok(()) => {}
            Err(error) if !failing => {
                failing = true;
                tracing::error!(%error, "store still failing; retrying every second");
            }
            Err(_) => {}
        }
    }
}
