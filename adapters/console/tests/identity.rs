//! The caller is authenticated once per request: a store that counts its look-ups of logins,
//! tokens and staff members sits under the office while requests go through every layer
//! (identity, audit, CSRF guard, access guard, handler).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::Value;
use sprechstunde_console::accounts::sha256_hex;
use sprechstunde_console::{Console, ConsoleSettings};
use sprechstunde_core::audit::{AuditAnchor, AuditEntry};
use sprechstunde_core::{
    ApiToken, Change, CommitSeq, Engine, LoginSession, Policy, Role, Snapshot, StaffId,
    StaffMember, Store, StoreError, Texts,
};
use sprechstunde_runtime::{Office, SystemClock};
use sprechstunde_store_sled::SledStore;
use tokio_util::sync::CancellationToken;

/// How often the credentials of a caller were read from the store.
#[derive(Debug, Default)]
struct Lookups {
    logins: AtomicU64,
    tokens: AtomicU64,
    members: AtomicU64,
}

impl Lookups {
    fn take(&self) -> (u64, u64, u64) {
        (
            self.logins.swap(0, Ordering::SeqCst),
            self.tokens.swap(0, Ordering::SeqCst),
            self.members.swap(0, Ordering::SeqCst),
        )
    }
}

/// The sled store, counting the look-ups that authentication makes.
struct Counting {
    inner: SledStore,
    lookups: Arc<Lookups>,
}

#[async_trait]
impl Store for Counting {
    async fn load(&self) -> Result<Snapshot, StoreError> {
        self.inner.load().await
    }
    async fn apply(&self, changes: &[Change]) -> Result<CommitSeq, StoreError> {
        self.inner.apply(changes).await
    }
    async fn sync(&self, upto: CommitSeq) -> Result<(), StoreError> {
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
        self.lookups.members.fetch_add(1, Ordering::SeqCst);
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
        self.lookups.tokens.fetch_add(1, Ordering::SeqCst);
        self.inner.token(id).await
    }
    async fn put_login(&self, login: &LoginSession) -> Result<(), StoreError> {
        self.inner.put_login(login).await
    }
    async fn login(&self, secret_hash: &str) -> Result<Option<LoginSession>, StoreError> {
        self.lookups.logins.fetch_add(1, Ordering::SeqCst);
        self.inner.login(secret_hash).await
    }
    async fn delete_login(&self, secret_hash: &str) -> Result<(), StoreError> {
        self.inner.delete_login(secret_hash).await
    }
    async fn end_logins_of(&self, staff: StaffId, keep: Option<&str>) -> Result<usize, StoreError> {
        self.inner.end_logins_of(staff, keep).await
    }
    async fn put_token_use(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        self.inner.put_token_use(id, at).await
    }
    async fn token_last_used(&self, id: &str) -> Result<Option<Timestamp>, StoreError> {
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

const COOKIE_SECRET: &str = "cookie-secret-of-the-test-login";
const CSRF: &str = "csrf-token-of-the-test-login";
const TOKEN: &str = "spst_tok1_token-secret-of-the-test";

/// The console on `127.0.0.1:0` over a counting store holding one admin with a login and
/// an API token. Returns the base URL and the counters.
async fn serve(dir: &std::path::Path) -> (String, Arc<Lookups>) {
    let lookups = Arc::new(Lookups::default());
    let store = Arc::new(Counting {
        inner: SledStore::open(dir).unwrap(),
        lookups: lookups.clone(),
    });
    let now = Timestamp::now();
    store
        .put_staff(&StaffMember {
            id: StaffId(1),
            login: "admin".into(),
            name: "Ada Admin".into(),
            roles: [Role::Admin].into_iter().collect(),
            department: None,
            password_hash: String::new(),
            disabled: false,
            created_at: now,
            email: None,
            notify: true,
            external: None,
        })
        .await
        .unwrap();
    store
        .put_login(&LoginSession {
            secret_hash: sha256_hex(COOKIE_SECRET),
            staff: StaffId(1),
            csrf: CSRF.into(),
            created_at: now,
            expires_at: now + SignedDuration::from_hours(8),
        })
        .await
        .unwrap();
    store
        .put_token(&ApiToken {
            id: "tok1".into(),
            name: "test".into(),
            staff: StaffId(1),
            secret_hash: sha256_hex("token-secret-of-the-test"),
            created_at: now,
            revoked_at: None,
        })
        .await
        .unwrap();
    let engine = Engine::new(Policy::default(), Texts::builtin().unwrap());
    let office = Office::open(engine, store, Arc::new(SystemClock))
        .await
        .unwrap();
    let console = Console::new(
        office,
        ConsoleSettings {
            login_lifetime: SignedDuration::from_hours(8),
            secure_cookies: false,
            limits: Default::default(),
        },
        CancellationToken::new(),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = console.router();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    lookups.take();
    (format!("http://{addr}"), lookups)
}

#[tokio::test]
async fn a_staff_request_looks_up_its_login_or_token_and_its_member_once() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let (base, lookups) = serve(dir.path()).await;
    let client = reqwest::Client::new();
    let cookie = format!("{}={COOKIE_SECRET}", sprechstunde_console::auth::COOKIE);
    let by_cookie = |method: reqwest::Method, path: &str| {
        client
            .request(method, format!("{base}/api/v1{path}"))
            .header("cookie", &cookie)
    };

    // Act and assert: (request, status, (logins, tokens, members) looked up)
    let cases = [
        (
            "GET /me with the cookie",
            by_cookie(reqwest::Method::GET, "/me"),
            StatusCode::OK,
            (1, 0, 1),
        ),
        (
            "GET /questions with the cookie (audited, access-checked)",
            by_cookie(reqwest::Method::GET, "/questions"),
            StatusCode::OK,
            (1, 0, 1),
        ),
        (
            "POST /logout/everywhere with the cookie and its CSRF token",
            by_cookie(reqwest::Method::POST, "/logout/everywhere").header("x-csrf-token", CSRF),
            StatusCode::OK,
            (1, 0, 1),
        ),
        (
            "POST /logout/everywhere with a wrong CSRF token",
            by_cookie(reqwest::Method::POST, "/logout/everywhere").header("x-csrf-token", "no"),
            StatusCode::FORBIDDEN,
            (1, 0, 1),
        ),
        (
            "GET /stats with the bearer token",
            client
                .get(format!("{base}/api/v1/stats"))
                .bearer_auth(TOKEN),
            StatusCode::OK,
            (0, 1, 1),
        ),
        (
            "GET /questions without credentials",
            client.get(format!("{base}/api/v1/questions")),
            StatusCode::UNAUTHORIZED,
            (0, 0, 0),
        ),
    ];
    for (what, request, status, expected) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{what}");
        let _: Value = response.json().await.unwrap();
        assert_eq!(
            lookups.take(),
            expected,
            "{what}: (logins, tokens, members)"
        );
    }
}
