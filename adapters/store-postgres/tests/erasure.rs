//! Erasure in PostgreSQL: citizen data never reaches the database in clear (not even the
//! WAL), and erasing destroys the keys so that their bytes are gone from the database's
//! files. The WAL still holds them until its segments are recycled: that is asserted too, so
//! that `docs/privacy.md` stays true.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sprechstunde_core::conformance::{citizen, outbox, question};
use sprechstunde_core::{Change, CitizenId, OutboxId, QuestionId, Store};
use sprechstunde_store_postgres::PgStore;
use sprechstunde_store_postgres::test_cluster::Cluster;

/// Every byte of every file under `dir`.
fn read_all(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(file) = std::fs::read(&path) {
                bytes.extend(file);
            }
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// The files under `db_dir` once none of them holds any of `keys` (checked after each
/// checkpoint, until a deadline).
async fn files_without(cluster: &Cluster, db_dir: &Path, keys: &[Vec<u8>]) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        cluster.sql("postgres", "CHECKPOINT").await;
        let files = read_all(db_dir);
        if !keys.iter().any(|key| contains(&files, key)) {
            return files;
        }
        assert!(
            Instant::now() < deadline,
            "an erased key is still in the database files after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The directory of `url`'s database in the cluster.
async fn database_dir(cluster: &Cluster, url: &str) -> PathBuf {
    let path = query_bytes(
        url,
        "SELECT convert_to(pg_relation_filepath('record_keys'), 'UTF8')",
    )
    .await;
    let relative = String::from_utf8(path[0].clone()).expect("path");
    cluster
        .data_dir()
        .join(Path::new(&relative).parent().expect("database directory"))
}

/// Runs one query on `url` and returns the first column of each row as bytes.
async fn query_bytes(url: &str, sql: &str) -> Vec<Vec<u8>> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
        .query(sql, &[])
        .await
        .expect("query")
        .iter()
        .map(|row| row.get::<_, Vec<u8>>(0))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_removes_the_keys_from_the_database_files_and_citizen_data_is_never_in_clear() {
    // Arrange: a citizen with unique strings in every linked record, and another one kept.
    let cluster = Cluster::shared();
    let url = cluster.create_database().await;
    let store = PgStore::connect(&url).await.expect("connect");
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
    let erased_keys = query_bytes(
        &url,
        "SELECT key FROM record_keys WHERE (kind, id) IN (('c', 1), ('q', 1))",
    )
    .await;
    let kept_keys = query_bytes(
        &url,
        "SELECT key FROM record_keys WHERE (kind, id) IN (('c', 2), ('q', 2))",
    )
    .await;
    assert_eq!((erased_keys.len(), kept_keys.len()), (2, 2));
    let db_dir = database_dir(cluster, &url).await;
    cluster.sql("postgres", "CHECKPOINT").await;
    // This database's files, the shared catalogue and the WAL (the other databases of the
    // shared test cluster belong to other tests).
    let mut everything = read_all(&db_dir);
    everything.extend(read_all(&cluster.data_dir().join("global")));
    everything.extend(read_all(&cluster.data_dir().join("pg_wal")));
    for s in [
        "tg-chat-98765432101",
        "Frage-UNIQUE-7f3a",
        "Antwort-UNIQUE-91bc",
        "kept-address-2",
    ] {
        assert!(
            !contains(&everything, s.as_bytes()),
            "{s} is in the cluster's files (tables or WAL) in clear"
        );
    }
    let before = read_all(&db_dir);
    for key in erased_keys.iter().chain(&kept_keys) {
        assert!(contains(&before, key), "the keys are in the table's files");
    }

    // Act
    store
        .commit(&[
            Change::ForgetOutbox(OutboxId(1)),
            Change::ForgetQuestion(QuestionId(1)),
            Change::ForgetCitizen(CitizenId(1)),
        ])
        .await
        .expect("commit");

    // Assert: the erased keys leave the database's files (the rewrite runs in the
    // background once no older transaction runs: other tests share the cluster), the kept
    // ones and the rest of the data are there; the WAL still has the erased keys
    // (docs/privacy.md).
    let after = files_without(cluster, &db_dir, &erased_keys).await;
    for key in &kept_keys {
        assert!(contains(&after, key), "a kept key is missing");
    }
    let s = store.load().await.expect("load");
    assert_eq!(s.citizens, vec![c2]);
    assert_eq!(s.questions, vec![other]);
    assert!(s.outbox.is_empty());
    let wal = read_all(&cluster.data_dir().join("pg_wal"));
    assert!(
        erased_keys.iter().all(|key| contains(&wal, key)),
        "the WAL no longer holds erased keys: update docs/privacy.md"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_erased_while_an_older_transaction_runs_leaves_the_files_once_it_has_ended() {
    // Arrange: a citizen's record and key, and a transaction with an id in another database
    // of the cluster, begun before the erasure (a rewrite now would have to keep the row).
    let cluster = Cluster::shared();
    let url = cluster.create_database().await;
    let store = PgStore::connect(&url).await.expect("connect");
    store
        .commit(&[Change::Citizen(citizen(1)), Change::Question(question(1))])
        .await
        .expect("commit");
    let keys = query_bytes(&url, "SELECT key FROM record_keys").await;
    assert_eq!(keys.len(), 2);
    let db_dir = database_dir(cluster, &url).await;
    let other_url = cluster.create_database().await;
    let (other, connection) = tokio_postgres::connect(&other_url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    other
        .batch_execute("BEGIN; SELECT pg_current_xact_id();")
        .await
        .expect("begin");

    // Act: erase, then end the older transaction.
    store
        .commit(&[
            Change::ForgetQuestion(QuestionId(1)),
            Change::ForgetCitizen(CitizenId(1)),
        ])
        .await
        .expect("commit");
    other.batch_execute("COMMIT").await.expect("commit");

    // Assert
    files_without(cluster, &db_dir, &keys).await;
    assert!(store.load().await.expect("load").citizens.is_empty());
}
