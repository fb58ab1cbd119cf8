//! The audit trail on a real sled store: chained records, tamper detection in the raw
//! database, and retention purges under a manual clock that keep the chain verifiable.

// Test code: a failed unwrap is a failed test, with the location in the message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use sprechstunde_core::{AuditActor, AuditRecord, ChainBreak, StaffId, Store};
use sprechstunde_runtime::{AuditFilter, AuditTrail, ManualClock};
use sprechstunde_store_sled::SledStore;

fn open(dir: &Path) -> Arc<dyn Store> {
    Arc::new(SledStore::open(dir).unwrap())
}

fn read_of(reference: &str) -> AuditRecord {
    AuditRecord {
        actor: AuditActor {
            staff: Some(StaffId(3)),
            login: "anna".into(),
            via: "console".into(),
        },
        action: "GET /api/v1/questions/{reference}".into(),
        object: format!("reference={reference}"),
        outcome: "200".into(),
    }
}

fn start() -> Timestamp {
    "2026-01-05T09:00:00Z".parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_records_form_one_unbroken_chain() {
    let dir = tempfile::tempdir().unwrap();
    let trail = Arc::new(AuditTrail::new(
        open(dir.path()),
        Arc::new(ManualClock::new(start())),
    ));
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let trail = trail.clone();
            tokio::spawn(async move { trail.record(read_of(&format!("A-{i}"))).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let verification = trail.verify().await.unwrap();
    println!("audit: {} entries verified", verification.checked);
    assert!(verification.is_intact(), "{verification:?}");
    assert_eq!(verification.checked, 40);
    let found = trail
        .entries(
            &AuditFilter {
                object: Some("A-17".into()),
                ..AuditFilter::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].record.object, "reference=A-17");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_edited_in_the_raw_database_is_reported_at_that_entry() {
    let dir = tempfile::tempdir().unwrap();
    {
        let trail = AuditTrail::new(open(dir.path()), Arc::new(ManualClock::new(start())));
        for i in 1..=5 {
            trail.record(read_of(&format!("A-{i}"))).await.unwrap();
        }
        assert!(trail.verify().await.unwrap().is_intact());
    }
    // Somebody with access to the files edits entry 3 to hide which question was read.
    {
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let tree = db.open_tree("audit").unwrap();
        let mut key = vec![b'e'];
        key.extend_from_slice(&3u64.to_be_bytes());
        let stored = tree.get(&key).unwrap().expect("entry 3 stored");
        let mut value: serde_json::Value = serde_json::from_slice(&stored).unwrap();
        assert_eq!(value["object"], "reference=A-3");
        value["object"] = "reference=A-999".into();
        tree.insert(&key, serde_json::to_vec(&value).unwrap())
            .unwrap();
        db.flush().unwrap();
    }
    let trail = AuditTrail::new(open(dir.path()), Arc::new(ManualClock::new(start())));
    let verification = trail.verify().await.unwrap();
    assert_eq!(verification.broken, Some(ChainBreak::Altered { seq: 3 }));
    assert_eq!(verification.checked, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_entry_in_the_raw_database_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    {
        let trail = AuditTrail::new(open(dir.path()), Arc::new(ManualClock::new(start())));
        for i in 1..=4 {
            trail.record(read_of(&format!("A-{i}"))).await.unwrap();
        }
    }
    {
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let tree = db.open_tree("audit").unwrap();
        let mut key = vec![b'e'];
        key.extend_from_slice(&2u64.to_be_bytes());
        assert!(tree.remove(&key).unwrap().is_some());
        db.flush().unwrap();
    }
    let trail = AuditTrail::new(open(dir.path()), Arc::new(ManualClock::new(start())));
    assert_eq!(
        trail.verify().await.unwrap().broken,
        Some(ChainBreak::Gap {
            expected: 2,
            found: 3
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_purges_old_entries_and_the_chain_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(start()));
    let retention = SignedDuration::from_hours(24 * 730);
    {
        let trail = AuditTrail::new(open(dir.path()), clock.clone());
        // 10 entries a month apart.
        for i in 1..=10 {
            trail.record(read_of(&format!("A-{i}"))).await.unwrap();
            clock.advance(SignedDuration::from_hours(24 * 30));
        }
        // Nothing is old enough yet.
        assert_eq!(trail.purge(retention).await.unwrap().removed, 0);
        // Two years after the fourth entry.
        clock.set(start() + SignedDuration::from_hours(24 * (3 * 30 + 730) + 1));
        let purged = trail.purge(retention).await.unwrap();
        assert_eq!(purged.removed, 4);
        assert_eq!(purged.anchor.as_ref().map(|a| a.seq), Some(4));
        // Recording goes on after the purge.
        trail.record(read_of("A-11")).await.unwrap();
    }
    // And after a restart.
    let trail = AuditTrail::new(open(dir.path()), clock.clone());
    trail.record(read_of("A-12")).await.unwrap();
    let verification = trail.verify().await.unwrap();
    println!(
        "audit retention: {} entries verified from anchor {:?}",
        verification.checked,
        verification.anchor.as_ref().map(|a| a.seq)
    );
    assert!(verification.is_intact(), "{verification:?}");
    // 6 left, the purge record, two more.
    assert_eq!(verification.checked, 9);
    let all = trail.entries(&AuditFilter::default(), 100).await.unwrap();
    assert_eq!(all.first().map(|e| e.seq), Some(5));
    assert!(all.iter().any(|e| e.record.action == "audit.purge"));
    // A second purge much later removes the rest and still verifies.
    clock.advance(SignedDuration::from_hours(24 * 2000));
    let purged = trail.purge(retention).await.unwrap();
    assert_eq!(purged.removed, 9);
    let verification = trail.verify().await.unwrap();
    assert!(verification.is_intact(), "{verification:?}");
    assert_eq!(verification.checked, 1);
}
