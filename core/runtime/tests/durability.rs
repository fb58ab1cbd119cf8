//! What the office tells a caller is on disk first, also for inputs that change nothing:
//! a store whose flushes are held until the test releases them shows when `submit` returns.

// Test code: a failed unwrap is a failed test, with the location in the message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// A store whose `sync` waits while flushes are held, counting the callers that wait.
struct HeldStore {
    inner: SledStore,
    held: watch::Sender<bool>,
    waiting: AtomicUsize,
}

impl HeldStore {
    fn new(inner: SledStore) -> Self {
        HeldStore {
            inner,
            held: watch::channel(false).0,
            waiting: AtomicUsize::new(0),
        }
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
    Input::Citizen(CitizenMessage {
        identity: ChannelIdentity {
            channel: ChannelKind::Web,
            pseudonym: "web-pseudonym-1".into(),
            address: "web-address-1".into(),
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
