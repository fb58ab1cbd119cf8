//! Erasure leaves no trace in the data directory: citizen data is sealed under keys that are
//! destroyed, and nothing of it is in any file in clear.

use std::path::Path;

use sprechstunde_core::conformance::{citizen, outbox, question};
use sprechstunde_core::{Change, CitizenId, OutboxId, QuestionId, Store};
use sprechstunde_store_sled::SledStore;

/// Every byte of every file under `dir`, with the number of files.
pub(crate) fn read_all(dir: &Path) -> (usize, Vec<u8>) {
    let mut files = 0;
    let mut bytes = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files += 1;
                bytes.extend(std::fs::read(&path).expect("read file"));
            }
        }
    }
    (files, bytes)
}

pub(crate) fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizen_data_is_never_on_disk_in_clear_and_erasure_destroys_its_keys() {
    // Arrange: a citizen with unique strings in every linked record.
    let dir = tempfile::tempdir().expect("dir");
    let store = SledStore::open(dir.path()).expect("open");
    let mut c = citizen(1);
    c.address = "tg-chat-98765432101".into();
    let mut q = question(1);
    q.entries[0].text = "Frage-UNIQUE-7f3a".into();
    let mut m = outbox(1);
    m.text = "Antwort-UNIQUE-91bc".into();
    let mut other = question(2);
    other.citizen = CitizenId(2);
    let mut c2 = citizen(2);
    c2.address = "kept-address-2".into();
    store
        .commit(&[
            Change::Citizen(c),
            Change::Citizen(c2.clone()),
            Change::Question(q),
            Change::Question(other.clone()),
            Change::Outbox(m),
        ])
        .await
        .expect("commit");
    let seeded = [
        "tg-chat-98765432101",
        "Frage-UNIQUE-7f3a",
        "Antwort-UNIQUE-91bc",
        "kept-address-2",
    ];
    let (_, bytes) = read_all(dir.path());
    for s in seeded {
        assert!(!contains(&bytes, s), "{s} is on disk in clear");
    }
    let keys_before = std::fs::read(dir.path().join("citizen-keys")).expect("key file");

    // Act
    store
        .commit(&[
            Change::ForgetOutbox(OutboxId(1)),
            Change::ForgetQuestion(QuestionId(1)),
            Change::ForgetCitizen(CitizenId(1)),
        ])
        .await
        .expect("commit");

    // Assert: the key file shrank by the two destroyed keys; the rest still loads.
    let keys_after = std::fs::read(dir.path().join("citizen-keys")).expect("key file");
    assert_eq!(keys_before.len() - keys_after.len(), 2 * 41);
    let s = store.load().await.expect("load");
    assert_eq!(s.citizens, vec![c2]);
    assert_eq!(s.questions, vec![other]);
    drop(store);
    let reopened = SledStore::open(dir.path()).expect("reopen");
    assert_eq!(reopened.load().await.expect("load").questions.len(), 1);
    let (files, bytes) = read_all(dir.path());
    println!(
        "sled erasure scan: {files} files, {} bytes, {} strings seeded",
        bytes.len(),
        seeded.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_whose_keys_are_lost_load_as_never_written() {
    // Arrange: a citizen with a question, then the key file loses its keys (as if the keys
    // of an unacknowledged commit never reached the disk).
    let dir = tempfile::tempdir().expect("dir");
    let store = SledStore::open(dir.path()).expect("open");
    store
        .commit(&[Change::Citizen(citizen(1)), Change::Question(question(1))])
        .await
        .expect("commit");
    drop(store);
    let path = dir.path().join("citizen-keys");
    let header = b"SPRECHSTUNDE-KEYS-1\n";
    std::fs::write(&path, header).expect("truncate");

    // Act
    let reopened = SledStore::open(dir.path()).expect("reopen");
    let snapshot = reopened.load().await.expect("load");

    // Assert
    assert!(snapshot.citizens.is_empty() && snapshot.questions.is_empty());
}
