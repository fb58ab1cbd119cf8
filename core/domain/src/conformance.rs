//! The store conformance suite. Every [`Store`] backend runs it through
//! [`store_conformance_tests!`](crate::store_conformance_tests):
//!
//! ```text
//! async fn open(dir: &std::path::Path) -> std::sync::Arc<dyn Store> { /* open in dir */ }
//! sprechstunde_core::store_conformance_tests!(open);
//! ```
//!
//! `open` is called again on the same directory after the first store is dropped, to prove
//! that what was committed survives a restart.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::audit::{AuditActor, AuditAnchor, AuditEntry, AuditRecord, GENESIS};
use crate::channel::ChannelKind;
use crate::citizen::Citizen;
use crate::ids::{CitizenId, OutboxId, QuestionId, Reference, SessionId, StaffId};
use crate::outbox::{DeliveryState, OutboxMessage};
use crate::question::{Entry, EntryKind, Question, QuestionStatus, Queue, StaffRef};
use crate::session::{Session, SessionStatus};
use crate::staff::{ApiToken, LoginSession, Role, StaffMember};
use crate::state::{Change, Counters};
use crate::store::{Store, StoreError};
use crate::texts::Lang;

/// Generates one `#[tokio::test]` per conformance check for a store opened by `$open`.
#[macro_export]
macro_rules! store_conformance_tests {
    ($open:ident) => {
        mod store_conformance {
            use $crate::conformance as c;
            $crate::store_conformance_tests!(@tests $open;
                a_new_store_loads_empty,
                applied_changes_load_back_equal,
                a_later_change_replaces_the_earlier_one,
                committed_changes_survive_a_reopen,
                concurrent_commits_all_survive,
                commit_sequence_numbers_increase,
                staff_login_names_are_unique,
                staff_tokens_and_logins_survive_a_reopen,
                logins_can_be_ended,
                a_members_logins_end_together_but_for_the_one_kept,
                token_use_is_recorded_and_survives_a_reopen,
                forgotten_entities_are_gone_after_a_reopen,
                audit_entries_append_in_order_and_survive_a_reopen,
                audit_numbers_cannot_be_taken_twice,
                audit_purge_removes_old_entries_and_keeps_the_anchor,
                departments_load_back_and_are_replaced,
                summaries_load_back_and_are_replaced,
                staff_mails_load_back_are_replaced_and_forgotten,
            );
        }
    };
    (@tests $open:ident; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                c::$name(&super::$open).await;
            }
        )*
    };
}

fn t(s: &str) -> Timestamp {
    s.parse().expect("fixture timestamp")
}

/// A session fixture.
pub fn session(id: u64) -> Session {
    Session {
        channels: Vec::new(),
        id: SessionId(id),
        title: format!("Bürgersprechstunde {id}"),
        host: "Oberbürgermeisterin".into(),
        description: "Fragen Sie, was Sie bewegt.".into(),
        starts_at: t("2026-12-01T16:00:00Z"),
        ends_at: t("2026-12-01T17:00:00Z"),
        status: SessionStatus::Scheduled,
        question_cap: Some(15),
        presubmission: Some(SignedDuration::from_hours(24)),
        admitted: 0,
        series: None,
        reminded: Vec::new(),
        revision: 0,
        answering: None,
    }
}

/// A citizen fixture.
pub fn citizen(id: u64) -> Citizen {
    Citizen {
        id: CitizenId(id),
        channel: ChannelKind::Web,
        pseudonym: format!("pseudonym-{id}"),
        address: format!("address-{id}"),
        lang: Lang::De,
        first_seen: t("2026-11-20T10:00:00Z"),
        recent_intake: vec![format!("key-{id}")],
        consent: Some(crate::privacy::Consent {
            at: t("2026-11-20T10:00:00Z"),
            notice: "1".into(),
        }),
        last_seen: Some(t("2026-11-20T10:00:00Z")),
        erased: false,
        subscribed: false,
        notice_sent: None,
    }
}

/// A question fixture with a three-entry thread.
pub fn question(id: u64) -> Question {
    let staff = StaffRef {
        id: StaffId(1),
        name: "Erika Muster".into(),
    };
    Question {
        id: QuestionId(id),
        reference: Reference(1000 + u32::try_from(id).unwrap_or(0)),
        citizen: CitizenId(1),
        channel: ChannelKind::Web,
        session: Some(SessionId(1)),
        queue: Queue::Session(SessionId(1)),
        status: QuestionStatus::Open,
        department: None,
        created_at: t("2026-11-20T10:00:00Z"),
        updated_at: t("2026-11-20T10:05:00Z"),
        due: Some(jiff::civil::date(2026, 11, 27)),
        rejection: None,
        suggestion: None,
        assignee: None,
        draft: None,
        entries: vec![
            Entry {
                at: t("2026-11-20T10:00:00Z"),
                kind: EntryKind::Citizen,
                text: format!("Frage Nummer {id}: Wann wird die Brücke saniert?"),
                outbox: None,
            },
            Entry {
                at: t("2026-11-20T10:00:01Z"),
                kind: EntryKind::System,
                text: "Vielen Dank!".into(),
                outbox: Some(OutboxId(id)),
            },
            Entry {
                at: t("2026-11-20T10:05:00Z"),
                kind: EntryKind::Note { staff },
                text: "Tiefbauamt fragen".into(),
                outbox: None,
            },
        ],
        merged_into: None,
    }
}

/// An outbox fixture.
pub fn outbox(id: u64) -> OutboxMessage {
    OutboxMessage {
        id: OutboxId(id),
        citizen: CitizenId(1),
        channel: ChannelKind::Web,
        address: "address-1".into(),
        text: format!("Nachricht {id}"),
        question: Some(QuestionId(1)),
        created_at: t("2026-11-20T10:00:01Z"),
        state: DeliveryState::Pending {
            attempts: 2,
            next_attempt_at: Some(t("2026-11-20T10:00:09Z")),
            last_error: Some("timeout".into()),
        },
        choices: vec![crate::outbox::Choice {
            label: "Stand abfragen".into(),
            command: "/status".into(),
        }],
        ephemeral: false,
        confirmed: None,
    }
}

/// A staff fixture.
pub fn staff(id: u64, login: &str) -> StaffMember {
    StaffMember {
        id: StaffId(id),
        login: login.into(),
        name: format!("Staff {id}"),
        roles: BTreeSet::from([Role::CitizensOffice, Role::Host]),
        department: None,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        disabled: false,
        created_at: t("2026-11-01T08:00:00Z"),
        email: None,
        notify: true,
        external: None,
    }
}

fn everything() -> Vec<Change> {
    vec![
        Change::Session(session(1)),
        Change::Session(session(2)),
        Change::Citizen(citizen(1)),
        Change::Question(question(1)),
        Change::Question(question(2)),
        Change::Outbox(outbox(1)),
        Change::Counters(Counters {
            next_session: 3,
            next_question: 3,
            next_reference: 1003,
            next_citizen: 2,
            next_outbox: 2,
            next_mail: 1,
            last_digest: Some(jiff::civil::date(2026, 12, 7)),
        }),
    ]
}

async fn fresh<F>(open: &F) -> (tempfile::TempDir, Arc<dyn Store>)
where
    F: AsyncFn(&Path) -> Arc<dyn Store>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(dir.path()).await;
    (dir, store)
}

/// A new store holds nothing.
pub async fn a_new_store_loads_empty<F: AsyncFn(&Path) -> Arc<dyn Store>>(open: &F) {
    let (_dir, store) = fresh(open).await;
    let snapshot = store.load().await.expect("load");
    assert_eq!(snapshot, crate::state::Snapshot::default());
    store.health().await.expect("healthy");
}

/// Whatever is applied loads back equal, entity by entity.
pub async fn applied_changes_load_back_equal<F: AsyncFn(&Path) -> Arc<dyn Store>>(open: &F) {
    let (_dir, store) = fresh(open).await;
    store.commit(&everything()).await.expect("commit");
    let s = store.load().await.expect("load");
    assert_eq!(s.sessions, vec![session(1), session(2)]);
    assert_eq!(s.citizens, vec![citizen(1)]);
    assert_eq!(s.questions, vec![question(1), question(2)]);
    assert_eq!(s.outbox, vec![outbox(1)]);
    assert_eq!(s.counters.map(|c| c.next_reference), Some(1003));
}

/// Changes replace the stored entity with the same id.
pub async fn a_later_change_replaces_the_earlier_one<F: AsyncFn(&Path) -> Arc<dyn Store>>(
    open: &F,
) {
    let (_dir, store) = fresh(open).await;
    store.commit(&everything()).await.expect("commit");
    let mut answered = question(1);
    answered.status = QuestionStatus::Answered;
    let mut delivered = outbox(1);
    delivered.state = DeliveryState::Delivered {
        at: t("2026-11-20T10:00:02Z"),
    };
    store
        .commit(&[
            Change::Question(answered.clone()),
            Change::Outbox(delivered.clone()),
        ])
        .await
        .expect("commit");
    let s = store.load().await.expect("load");
    assert_eq!(s.questions, vec![answered, question(2)]);
    assert_eq!(s.outbox, vec![delivered]);
}

/// Committed data is there after the store is closed and opened again.
pub async fn committed_changes_survive_a_reopen<F: AsyncFn(&Path) -> Arc<dyn Store>>(open: &F) {
    let (dir, store) = fresh(open).await;
    store.commit(&everything()).await.expect("commit");
    let before = store.load().await.expect("load");
    drop(store);
    let reopened = open(dir.path()).await;
    assert_eq!(reopened.load().await.expect("load"), before);
}

/// Many writers at once: every commit that returned is loaded after a reopen.
pub async fn concurrent_commits_all_survive<F: AsyncFn(&Path) -> Arc<dyn Store>>(open: &F) {
    let (dir, store) = fresh(open).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 1..=64 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            store
                .commit(&[Change::Question(question(i)), Change::Outbox(outbox(i))])
                .await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task").expect("commit");
    }
    drop(store);
    let reopened = open(dir.path()).await;
    let s = reopened.load().await.expect("load");
    assert_eq!(s.questions.len(), 64);
    assert_eq!(s.outbox.len(), 64);
}

/// `apply` hands out increasing sequence numbers and `sync` accepts any of them.
pub async fn commit_sequence_numbers_increase<F: AsyncFn(&Path) -> Arc<dyn Store>>(open: &F) {
    let (_dir, store) = fresh(open).await;
    let a = store
        .apply(&[Change::Session(session(1))])
        .await
        .expect("apply");
    let b = store
        .apply(&[Change::Session(session(2))])
        .await
        .expect("apply");
    assert!(b > a, "{b:?} after {a:?}");
    store.sync(b).await.expect("sync");
    store
        .sync(a)
        .await
        .expect("sync of an older seq returns at once");
}

/// Two members cannot share a login name; updating a member keeps its login.
pub async fn staff_login_names_are_unique<F: AsyncFn(&Path) -> Arc<dyn Store>>(open: &F) {
    let (_dir, store) = fresh(open).await;
    store.put_staff(&staff(1, "erika")).await.expect("put");
    let clash = store.put_staff(&staff(2, "erika")).await;
    assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
    let mut renamed = staff(1, "erika");
    renamed.name = "Erika Mustermann".into();
    store.put_staff(&renamed).await.expect("update");
    assert_eq!(store.staff().await.expect("list"), vec![renamed.clone()]);
    assert_eq!(
        store.staff_by_login("erika").await.expect("get"),
        Some(renamed)
    );
    assert_eq!(store.staff_by_login("nobody").await.expect("get"), None);
}

/// Staff, tokens and logins are durable.
pub async fn staff_tokens_and_logins_survive_a_reopen<F: AsyncFn(&Path) -> Arc<dyn Store>>(
    open: &F,
) {
    let (dir, store) = fresh(open).await;
    let member = staff(7, "max");
    let token = ApiToken {
        id: "tok1".into(),
        name: "Ratsinformationssystem".into(),
        staff: StaffId(7),
        secret_hash: "ab".repeat(32),
        created_at: t("2026-11-01T08:00:00Z"),
        revoked_at: None,
    };
    let login = LoginSession {
        secret_hash: "cd".repeat(32),
        staff: StaffId(7),
        csrf: "csrf".into(),
        created_at: t("2026-11-01T08:00:00Z"),
        expires_at: t("2026-11-01T20:00:00Z"),
    };
    store.put_staff(&member).await.expect("staff");
    store.put_token(&token).await.expect("token");
    store.put_login(&login).await.expect("login");
    drop(store);
    let store = open(dir.path()).await;
    assert_eq!(
        store.staff_member(StaffId(7)).await.expect("get"),
        Some(member)
    );
    assert_eq!(store.token("tok1").await.expect("get"), Some(token.clone()));
    assert_eq!(store.tokens().await.expect("list"), vec![token]);
    assert_eq!(
        store.login(&"cd".repeat(32)).await.expect("get"),
        Some(login)
    );
}

/// A deleted login is gone.
pub async fn logins_can_be_ended<F: AsyncFn(&Path) -> Arc<dyn Store>>(open: &F) {
    let (_dir, store) = fresh(open).await;
    let login = LoginSession {
        secret_hash: "ef".repeat(32),
        staff: StaffId(1),
        csrf: "x".into(),
        created_at: t("2026-11-01T08:00:00Z"),
        expires_at: t("2026-11-01T20:00:00Z"),
    };
    store.put_login(&login).await.expect("put");
    store
        .delete_login(&login.secret_hash)
        .await
        .expect("delete");
    assert_eq!(store.login(&login.secret_hash).await.expect("get"), None);
}

/// Ending a member's logins removes every one of theirs but the one kept, and nobody else's.
pub async fn a_members_logins_end_together_but_for_the_one_kept<
    F: AsyncFn(&Path) -> Arc<dyn Store>,
>(
    open: &F,
) {
    let (dir, store) = fresh(open).await;
    let login = |hash: &str, staff: u64| LoginSession {
        secret_hash: hash.repeat(32),
        staff: StaffId(staff),
        csrf: "x".into(),
        created_at: t("2026-11-01T08:00:00Z"),
        expires_at: t("2026-11-01T20:00:00Z"),
    };
    let logins = [
        login("a1", 1),
        login("a2", 1),
        login("a3", 1),
        login("b1", 2),
    ];
    for l in &logins {
        store.put_login(l).await.expect("put");
    }
    let kept = "a2".repeat(32);

    let ended = store
        .end_logins_of(StaffId(1), Some(&kept))
        .await
        .expect("end");
    let all_ended = store.end_logins_of(StaffId(2), None).await.expect("end");
    drop(store);
    let store = open(dir.path()).await;

    assert_eq!((ended, all_ended), (2, 1));
    for (l, alive) in logins.iter().zip([false, true, false, false]) {
        assert_eq!(
            store.login(&l.secret_hash).await.expect("get").is_some(),
            alive,
            "{}",
            l.secret_hash
        );
    }
}

/// The last use of a token is kept, also after a reopen; a token never used has none.
pub async fn token_use_is_recorded_and_survives_a_reopen<F: AsyncFn(&Path) -> Arc<dyn Store>>(
    open: &F,
) {
    let (dir, store) = fresh(open).await;

    store
        .put_token_use("tok1", t("2026-11-01T08:00:00Z"))
        .await
        .expect("use");
    store
        .put_token_use("tok1", t("2026-11-02T09:30:00Z"))
        .await
        .expect("use");
    drop(store);
    let store = open(dir.path()).await;

    assert_eq!(
        store.token_last_used("tok1").await.expect("get"),
        Some(t("2026-11-02T09:30:00Z"))
    );
    assert_eq!(store.token_last_used("tok2").await.expect("get"), None);
}

/// Forgotten citizens, questions and outbox messages do not load again, also after a reopen;
/// the others stay.
pub async fn forgotten_entities_are_gone_after_a_reopen<F: AsyncFn(&Path) -> Arc<dyn Store>>(
    open: &F,
) {
    let (dir, store) = fresh(open).await;
    store.commit(&everything()).await.expect("commit");
    store
        .commit(&[
            Change::ForgetOutbox(OutboxId(1)),
            Change::ForgetQuestion(QuestionId(1)),
            Change::ForgetCitizen(CitizenId(1)),
        ])
        .await
        .expect("commit");
    let s = store.load().await.expect("load");
    assert!(s.citizens.is_empty());
    assert_eq!(s.questions, vec![question(2)]);
    assert!(s.outbox.is_empty());
    drop(store);
    let reopened = open(dir.path()).await;
    let s = reopened.load().await.expect("load");
    assert!(s.citizens.is_empty() && s.outbox.is_empty());
    assert_eq!(s.questions, vec![question(2)]);
    assert_eq!(s.sessions, vec![session(1), session(2)]);
}

/// A chain of `n` audit entries.
pub fn audit_chain(n: u64) -> Vec<AuditEntry> {
    let mut prev = GENESIS.to_owned();
    (1..=n)
        .map(|seq| {
            let record = AuditRecord {
                actor: AuditActor {
                    staff: Some(StaffId(1)),
                    login: "anna".into(),
                    via: "console".into(),
                },
                action: "GET /api/v1/questions/{reference}".into(),
                object: format!("reference=A-{}", 1000 + seq),
                outcome: "200".into(),
            };
            let entry = AuditEntry::seal(seq, t("2026-11-01T08:00:00Z"), record, &prev);
            prev.clone_from(&entry.hash);
            entry
        })
        .collect()
}

/// Audit entries come back in order, page by page, and after a reopen.
pub async fn audit_entries_append_in_order_and_survive_a_reopen<
    F: AsyncFn(&Path) -> Arc<dyn Store>,
>(
    open: &F,
) {
    let (dir, store) = fresh(open).await;
    assert_eq!(store.last_audit_entry().await.expect("last"), None);
    let chain = audit_chain(12);
    for entry in &chain {
        store.append_audit(entry).await.expect("append");
    }
    drop(store);
    let store = open(dir.path()).await;
    assert_eq!(store.audit_entries(0, 100).await.expect("all"), chain);
    assert_eq!(
        store.audit_entries(3, 4).await.expect("page"),
        chain[3..7].to_vec()
    );
    assert_eq!(
        store.last_audit_entry().await.expect("last"),
        chain.last().cloned()
    );
    assert_eq!(store.audit_entries(12, 10).await.expect("none"), vec![]);
}

/// A number is used once: a second writer cannot fork the chain.
pub async fn audit_numbers_cannot_be_taken_twice<F: AsyncFn(&Path) -> Arc<dyn Store>>(open: &F) {
    let (_dir, store) = fresh(open).await;
    let chain = audit_chain(2);
    store.append_audit(&chain[0]).await.expect("first");
    let mut fork = chain[1].clone();
    fork.seq = 1;
    assert!(matches!(
        store.append_audit(&fork).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.audit_entries(0, 10).await.expect("all"),
        vec![chain[0].clone()]
    );
}

/// A purge removes entries up to the anchor and keeps the anchor, durably.
pub async fn audit_purge_removes_old_entries_and_keeps_the_anchor<
    F: AsyncFn(&Path) -> Arc<dyn Store>,
>(
    open: &F,
) {
    let (dir, store) = fresh(open).await;
    let chain = audit_chain(6);
    for entry in &chain {
        store.append_audit(entry).await.expect("append");
    }
    let anchor = AuditAnchor {
        seq: 4,
        hash: chain[3].hash.clone(),
        purged_at: t("2028-11-01T08:00:00Z"),
    };
    assert_eq!(store.purge_audit(&anchor).await.expect("purge"), 4);
    drop(store);
    let store = open(dir.path()).await;
    assert_eq!(store.audit_anchor().await.expect("anchor"), Some(anchor));
    assert_eq!(
        store.audit_entries(0, 10).await.expect("rest"),
        chain[4..].to_vec()
    );
    let verification = crate::audit::verify(store.as_ref()).await.expect("verify");
    assert!(verification.is_intact(), "{verification:?}");
    assert_eq!(verification.checked, 2);
}

/// A department fixture with routing rules and a text module.
pub fn department(id: u64) -> crate::staff::Department {
    crate::staff::Department {
        id: crate::ids::DepartmentId(id),
        name: format!("Amt {id}"),
        slug: format!("amt-{id}"),
        keywords: vec!["Schlagloch".into()],
        patterns: vec![r"stra(ß|ss)e".into()],
        requires_approval: id.is_multiple_of(2),
        text_modules: vec![crate::triage::TextModule {
            key: "eingang".into(),
            title: "Eingang".into(),
            text: "Ihr Anliegen {reference} ist bis {due} beantwortet.".into(),
        }],
    }
}

/// Departments load back in id order and a later version replaces the earlier one, also
/// after a reopen; a question keeps its triage fields.
pub async fn departments_load_back_and_are_replaced<F: AsyncFn(&Path) -> Arc<dyn Store>>(open: &F) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut routed = question(1);
    routed.department = Some(crate::ids::DepartmentId(2));
    routed.suggestion = Some(crate::triage::RouteSuggestion {
        department: crate::ids::DepartmentId(2),
        rule: "keyword \"Schlagloch\"".into(),
    });
    routed.assignee = Some(StaffRef {
        id: StaffId(3),
        name: "Max".into(),
    });
    routed.draft = Some(crate::triage::Draft {
        staff: StaffRef {
            id: StaffId(3),
            name: "Max".into(),
        },
        text: "Entwurf".into(),
        at: t("2026-11-20T11:00:00Z"),
    });
    {
        let store = open(dir.path()).await;
        store
            .commit(&[
                Change::Department(department(2)),
                Change::Department(department(1)),
                Change::Question(routed.clone()),
            ])
            .await
            .expect("commit");
        let mut renamed = department(2);
        renamed.name = "Tiefbauamt".into();
        store
            .commit(&[Change::Department(renamed)])
            .await
            .expect("commit");
    }
    let store = open(dir.path()).await;
    let s = store.load().await.expect("load");
    let names: Vec<&str> = s.departments.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["Amt 1", "Tiefbauamt"]);
    assert_eq!(s.departments[0], department(1));
    assert_eq!(s.questions, vec![routed]);
}

/// A summary fixture: a draft for session `session`.
pub fn summary(session: u64) -> crate::summary::Summary {
    crate::summary::Summary {
        session: SessionId(session),
        title: format!("Bürgersprechstunde {session}"),
        host: "Oberbürgermeisterin".into(),
        starts_at: t("2026-12-01T16:00:00Z"),
        items: vec![crate::summary::SummaryItem {
            question: "Wann wird die Brücke saniert?".into(),
            answer: "Im Frühjahr.".into(),
            asked_by: 3,
            source: Some(crate::summary::ItemSource {
                question: QuestionId(4),
                duplicates: vec![QuestionId(5), QuestionId(6)],
            }),
        }],
        updated_at: t("2026-12-01T17:00:00Z"),
        published_at: None,
    }
}

/// Summaries load back equal, by session id, and a later version replaces the draft.
pub async fn summaries_load_back_and_are_replaced<F: AsyncFn(&Path) -> Arc<dyn Store>>(open: &F) {
    let (dir, store) = fresh(open).await;
    let mut published = summary(1);
    published.published_at = Some(t("2026-12-02T09:00:00Z"));
    store
        .commit(&[Change::Summary(summary(2)), Change::Summary(summary(1))])
        .await
        .expect("commit");
    store
        .commit(&[Change::Summary(published.clone())])
        .await
        .expect("commit");
    drop(store);
    let store = open(dir.path()).await;
    let s = store.load().await.expect("load");
    assert_eq!(s.summaries, vec![published, summary(2)]);
}

/// A staff mail fixture: question `id` routed to department 1.
pub fn staff_mail(id: u64) -> crate::staff_mail::StaffMail {
    crate::staff_mail::StaffMail {
        id: crate::ids::MailId(id),
        notice: crate::staff_mail::Notice::Routed {
            question: QuestionId(id),
            reference: crate::ids::Reference(1000 + id as u32),
            department: crate::ids::DepartmentId(1),
        },
        created_at: t("2026-12-01T09:00:00Z"),
        state: crate::outbox::DeliveryState::new_pending(t("2026-12-01T09:00:00Z")),
    }
}

/// Staff mails load back equal, in id order; a later state replaces the earlier one
/// (a delivery recorded survives a reopen) and a forgotten mail is gone.
pub async fn staff_mails_load_back_are_replaced_and_forgotten<
    F: AsyncFn(&Path) -> Arc<dyn Store>,
>(
    open: &F,
) {
    let (dir, store) = fresh(open).await;
    let mut delivered = staff_mail(1);
    delivered.state = crate::outbox::DeliveryState::Delivered {
        at: t("2026-12-01T09:00:01Z"),
    };
    store
        .commit(&[
            Change::Mail(staff_mail(3)),
            Change::Mail(staff_mail(1)),
            Change::Mail(staff_mail(2)),
        ])
        .await
        .expect("commit");
    store
        .commit(&[
            Change::Mail(delivered.clone()),
            Change::ForgetMail(crate::ids::MailId(3)),
        ])
        .await
        .expect("commit");
    drop(store);
    let store = open(dir.path()).await;
    let s = store.load().await.expect("load");
    assert_eq!(s.mails, vec![delivered, staff_mail(2)]);
}
