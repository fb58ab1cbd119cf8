//! What the office tells a caller is on disk first, also for inputs that change nothing:
//! a store whose flushes are held until the test releases them shows when `submit` returns.

// Test code: a failed unwrap is a failed test, with the location in the message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use sprechstunde_core::{
    ApiToken, AuditAnchor, AuditEntry, Change, ChannelIdentity, ChannelKind, CitizenMessage,
    CommitSeq, Engine, Input, Intake, LoginSession, Policy, Receipt, Snapshot, StaffId,
    StaffMember, Store, StoreError, Texts,
};
use sprechstunde_runtime::{ManualClock, Office};
use sprechstunde_store_sled::SledStore;
use tokio::sync::watch;

const DEADLINE: Duration = Duration::from_secs(10);

/// A store whose `sync` waits while flushes are held, counting the callers that wait; and
/// whose `apply` waits while writes are held, and can be told to fail the next one.
struct HeldStore {
    inner: SledStore,
    held: watch::Sender<bool>,
    waiting: AtomicUsize,
    writes_held: watch::Sender<bool>,
    writing: AtomicUsize,
    fail_next_write: AtomicBool,
}

impl HeldStore {
    fn new(inner: SledStore) -> Self {
        HeldStore {
            inner,
            held: watch::channel(false).0,
            waiting: AtomicUsize::new(0),
            writes_held: watch::channel(false).0,
            writing: AtomicUsize::new(0),
            fail_next_write: AtomicBool::new(false),
        }
    }

    fn hold_writes(&self) {
        self.writes_held.send_replace(true);
    }

    fn release_writes(&self) {
        self.writes_held.send_replace(false);
    }

    fn writing(&self) -> usize {
        self.writing.load(Ordering::SeqCst)
    }

    fn hold(&self) {
        self.held.send_replace(true);
    }

    fn release(&self) {
        self.held.send_replace(false);
    }

    fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Store for HeldStore {
    async fn load(&self) -> Result<Snapshot, StoreError> {
        self.inner.load().await
    }
    async fn apply(&self, changes: &[Change]) -> Result<CommitSeq, StoreError> {
        let mut held = self.writes_held.subscribe();
        self.writing.fetch_add(1, Ordering::SeqCst);
        let _ = held.wait_for(|h| !*h).await;
        self.writing.fetch_sub(1, Ordering::SeqCst);
        if self.fail_next_write.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Io("disk full".into()));
        }
        self.inner.apply(changes).await
    }
    async fn sync(&self, upto: CommitSeq) -> Result<(), StoreError> {
        let mut held = self.held.subscribe();
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _ = held.wait_for(|h| !*h).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        self.inner.sync(upto).await
    }
    async fn health(&self) -> Result<(), StoreError> {
        self.inner.health().await
    }
    async fn put_staff(&self, member: &StaffMember) -> Result<(), StoreError> {
        self.inner.put_staff(member).await
    }
    async fn staff(&self) -> Result<Vec<StaffMember>, StoreError> {
        self.inner.staff().await
    }
    async fn staff_member(&self, id: StaffId) -> Result<Option<StaffMember>, StoreError> {
        self.inner.staff_member(id).await
    }
    async fn staff_by_login(&self, login: &str) -> Result<Option<StaffMember>, StoreError> {
        self.inner.staff_by_login(login).await
    }
    async fn put_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        self.inner.put_token(token).await
    }
    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.inner.tokens().await
    }
    async fn token(&self, id: &str) -> Result<Option<ApiToken>, StoreError> {
        self.inner.token(id).await
    }
    async fn put_login(&self, login: &LoginSession) -> Result<(), StoreError> {
        self.inner.put_login(login).await
    }
    async fn login(&self, secret_hash: &str) -> Result<Option<LoginSession>, StoreError> {
        self.inner.login(secret_hash).await
    }
    async fn delete_login(&self, secret_hash: &str) -> Result<(), StoreError> {
        self.inner.delete_login(secret_hash).await
    }
    async fn end_logins_of(&self, staff: StaffId, keep: Option<&str>) -> Result<usize, StoreError> {
        self.inner.end_logins_of(staff, keep).await
    }
    async fn put_token_use(&self, id: &str, at: jiff::Timestamp) -> Result<(), StoreError> {
        self.inner.put_token_use(id, at).await
    }
    async fn token_last_used(&self, id: &str) -> Result<Option<jiff::Timestamp>, StoreError> {
        self.inner.token_last_used(id).await
    }
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.inner.append_audit(entry).await
    }
    async fn audit_entries(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.audit_entries(after, limit).await
    }
    async fn last_audit_entry(&self) -> Result<Option<AuditEntry>, StoreError> {
        self.inner.last_audit_entry().await
    }
    async fn audit_anchor(&self) -> Result<Option<AuditAnchor>, StoreError> {
        self.inner.audit_anchor().await
    }
    async fn purge_audit(&self, anchor: &AuditAnchor) -> Result<u64, StoreError> {
        self.inner.purge_audit(anchor).await
    }
}

fn engine() -> Engine {
    let mut policy = Policy::default();
    policy.privacy.require_consent = false;
    Engine::new(policy, Texts::builtin().unwrap())
}

fn keyed(text: &str, key: &str) -> Input {
    keyed_from("1", text, key)
}

fn keyed_from(citizen: &str, text: &str, key: &str) -> Input {
    Input::Citizen(CitizenMessage {
        identity: ChannelIdentity {
            channel: ChannelKind::Web,
            pseudonym: format!("web-pseudonym-{citizen}"),
            address: format!("web-address-{citizen}"),
        },
        lang: None,
        text: text.into(),
        intake_key: Some(key.into()),
        inline_errors: true,
        encrypted: None,
    })
}

/// Waits until `done` holds, or fails after the deadline.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resend_is_acknowledged_only_after_the_original_is_durable() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(HeldStore::new(SledStore::open(dir.path()).unwrap()));
    let clock = Arc::new(ManualClock::new("2026-12-04T10:00:00Z".parse().unwrap()));
    let office = Office::open(engine(), store.clone(), clock).await.unwrap();
    store.hold();
    let original = tokio::spawn({
        let office = office.clone();
        async move { office.submit(keyed("Wann öffnet das Bad?", "m-1")).await }
    });
    until("the original waits for its flush", || store.waiting() == 1).await;

    // Act: the page reconnects and sends the same message again while the flush runs.
    let resend = tokio::spawn({
        let office = office.clone();
        async move { office.submit(keyed("Wann öffnet das Bad?", "m-1")).await }
    });
    until("the resend returned or waits for a flush", || {
        resend.is_finished() || store.waiting() == 2
    })
    .await;
    let acknowledged_early = resend.is_finished();
    store.release();
    let original = original.await.unwrap().unwrap().unwrap();
    let resend = resend.await.unwrap().unwrap().unwrap();

    // Assert
    assert!(
        !acknowledged_early,
        "the resend was answered before the original was on disk"
    );
    assert!(matches!(
        original,
        Receipt::Question {
            intake: Intake::New(_),
            ..
        }
    ));
    let (
        Receipt::Question { reference: a, .. },
        Receipt::Question {
            reference: b,
            intake,
            ..
        },
    ) = (original, resend)
    else {
        panic!("both are questions");
    };
    assert_eq!(a, b);
    assert_eq!(intake, Intake::Duplicate);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_made_after_one_that_the_store_rejects_is_refused_and_never_written() {
    // Arrange: the first citizen's commit is held on its way into the store.
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(HeldStore::new(SledStore::open(dir.path()).unwrap()));
    let clock = Arc::new(ManualClock::new("2026-12-04T10:00:00Z".parse().unwrap()));
    let office = Office::open(engine(), store.clone(), clock).await.unwrap();
    store.hold_writes();
    store.fail_next_write.store(true, Ordering::SeqCst);
    let first = tokio::spawn({
        let office = office.clone();
        async move {
            office
                .submit(keyed_from("1", "Wann öffnet das Bad?", "m-1"))
                .await
        }
    });
    until("the first commit is being written", || store.writing() == 1).await;

    // Act: a second citizen's message is decided on top of the first one's changes (its ids
    // follow the first one's) while that is still being written, and then the write fails.
    let second = tokio::spawn({
        let office = office.clone();
        async move {
            office
                .submit(keyed_from("2", "Wo ist das Bürgeramt?", "m-1"))
                .await
        }
    });
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let decided = tokio::time::timeout_at(
            deadline,
            office.read(|state, _, _| state.questions().count()),
        )
        .await
        .expect("timed out: the second message is decided while the first is written");
        if decided == 2 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out: the second is decided"
        );
        tokio::task::yield_now().await;
    }
    store.release_writes();
    let first = first.await.unwrap();
    let second = second.await.unwrap();

    // Assert: neither is acknowledged, and the store holds nothing of either.
    assert!(first.is_err(), "{first:?}");
    assert!(second.is_err(), "{second:?}");
    let stored = store.inner.load().await.unwrap();
    assert!(stored.questions.is_empty(), "{:?}", stored.questions);
    assert!(stored.citizens.is_empty(), "{:?}", stored.citizens);
    let after = office.read(|state, _, _| state.questions().count()).await;
    assert_eq!(after, 0, "the office still shows what was never stored");
}
