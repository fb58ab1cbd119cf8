//! `backup DIR` while the server serves web-chat citizens, and `restore DIR` into a new data
//! directory: a second server on the restored directory has every question acknowledged
//! before the backup, with the same content, and no citizen erased before it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::{DEADLINE, run, run_with_stdin, serve, serve_command, sprechstunde, text};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The binary in `dir` without flood limits: the test's citizens all come from 127.0.0.1.
fn unlimited(dir: &Path) -> tokio::process::Command {
    let mut command = sprechstunde(dir);
    for limit in [
        "CITIZEN_MESSAGES",
        "CONNECTION_MESSAGES_PER_MINUTE",
        "ADDRESS_MESSAGES_PER_MINUTE",
        "ADDRESS_NEW_CONVERSATIONS_PER_MINUTE",
        "NEW_CONVERSATIONS_PER_MINUTE",
    ] {
        command.env(format!("SPRECHSTUNDE_LIMITS__{limit}"), "0");
    }
    command
}

/// A new web-chat conversation that has agreed to the privacy notice.
async fn citizen(base: &str) -> Socket {
    let url = format!("{}/ws", base.replace("http://", "ws://"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let hello = json!({"type": "hello", "token": null, "lang": "de"});
    ws.send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    frame_where(&mut ws, |f| f["type"] == "welcome").await;
    let agreed = say(&mut ws, "agree", "/einverstanden").await;
    assert_eq!(agreed["type"], "accepted", "{agreed}");
    ws
}

async fn frame_where(ws: &mut Socket, want: impl Fn(&Value) -> bool) -> Value {
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        let msg = tokio::time::timeout_at(until, ws.next())
            .await
            .expect("frame before the deadline")
            .expect("socket open")
            .expect("frame");
        if let Message::Text(t) = msg {
            let frame: Value = serde_json::from_str(&t).unwrap();
            if want(&frame) {
                return frame;
            }
        }
    }
}

/// Sends a message and returns the `accepted` or `error` frame about it.
async fn say(ws: &mut Socket, client_id: &str, said: &str) -> Value {
    let frame = json!({"type": "message", "client_id": client_id, "text": said});
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    frame_where(ws, |f| {
        (f["type"] == "accepted" || f["type"] == "error") && f["client_id"] == client_id
    })
    .await
}

/// An admin account and an API token for it, in a file.
async fn admin_token(dir: &Path) -> std::path::PathBuf {
    let added = run_with_stdin(
        dir,
        &[
            "staff",
            "add",
            "--login",
            "admin",
            "--name",
            "Ada Admin",
            "--role",
            "admin",
        ],
        "ein-sicheres-passwort\n",
    )
    .await;
    assert!(added.status.success(), "{}", text(&added.stderr));
    let created = run(
        dir,
        &["token", "create", "--staff", "admin", "--name", "Sicherung"],
    )
    .await;
    assert!(created.status.success(), "{}", text(&created.stderr));
    let file = dir.join("admin.token");
    std::fs::write(&file, text(&created.stdout)).unwrap();
    file
}

/// Every question the staff API lists (all statuses), with its detail, by reference.
async fn questions(base: &str, token: &str) -> std::collections::BTreeMap<String, Value> {
    let http = reqwest::Client::new();
    let list: Value = http
        .get(format!("{base}/api/v1/questions?status=all"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut out = std::collections::BTreeMap::new();
    for q in list["questions"].as_array().unwrap() {
        let reference = q["reference"].as_str().unwrap().to_owned();
        let detail: Value = http
            .get(format!("{base}/api/v1/questions/{reference}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        out.insert(reference, detail);
    }
    out
}

/// A question's detail without the delivery states of its messages: the original server
/// goes on delivering after the copy was taken, the copy keeps the state of that moment.
fn without_delivery(detail: &Value) -> Value {
    let mut detail = detail.clone();
    if let Some(q) = detail.as_object_mut() {
        q.remove("delivery");
    }
    for entry in detail["entries"].as_array_mut().into_iter().flatten() {
        if let Some(e) = entry.as_object_mut() {
            e.remove("delivery");
        }
    }
    detail
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_a_serving_server_restores_into_a_second_server_with_every_acknowledged_question()
 {
    // Arrange: an admin token; a server; a citizen who asked and then erased everything;
    // three citizens who keep asking while the backup runs.
    let dir = tempfile::tempdir().unwrap();
    let token_file = admin_token(dir.path()).await;
    let token = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_owned();
    let (mut server, base) = serve_command(unlimited(dir.path())).await;
    let mut erased = citizen(&base).await;
    let asked = say(
        &mut erased,
        "e-1",
        "Bitte löschen Sie mich danach. ERASED-4c2a",
    )
    .await;
    assert_eq!(asked["type"], "accepted", "{asked}");
    say(&mut erased, "e-2", "/loeschen").await;
    let confirmed = say(&mut erased, "e-3", "/loeschen bestaetigen").await;
    assert_eq!(confirmed["type"], "accepted", "{confirmed}");
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let stop = tokio_util::sync::CancellationToken::new();
    let mut askers = Vec::new();
    for c in 0..3 {
        let (acknowledged, stop, base) = (Arc::clone(&acknowledged), stop.clone(), base.clone());
        askers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.is_cancelled() {
                // A new conversation for every question: one citizen has one open question.
                let mut ws = citizen(&base).await;
                n += 1;
                let said = format!("Frage {n} von Bürger {c}: Wann wird die Straße {n} saniert?");
                let frame = say(&mut ws, &format!("{c}-{n}"), &said).await;
                if frame["type"] == "accepted"
                    && let Some(reference) = frame["reference"].as_str()
                {
                    acknowledged
                        .lock()
                        .unwrap()
                        .push((reference.to_owned(), said));
                }
            }
        }));
    }
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while acknowledged.lock().unwrap().len() < 15 {
        assert!(tokio::time::Instant::now() < deadline, "questions come in");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    // Act: the backup while the citizens keep asking; then they stop.
    let before: Vec<(String, String)> = acknowledged.lock().unwrap().clone();
    let backup_dir = dir.path().join("sicherung");
    let backed_up = run(
        dir.path(),
        &[
            "backup",
            backup_dir.to_str().unwrap(),
            "--server",
            &base,
            "--token-file",
            token_file.to_str().unwrap(),
        ],
    )
    .await;
    let during = acknowledged.lock().unwrap().len() - before.len();
    stop.cancel();
    for asker in askers {
        asker.await.unwrap();
    }
    let original = questions(&base, &token).await;
    let restored_dir = dir.path().join("wiederhergestellt");
    let restored = run(
        dir.path(),
        &[
            "--data-dir",
            restored_dir.to_str().unwrap(),
            "restore",
            backup_dir.to_str().unwrap(),
        ],
    )
    .await;
    let mut second = unlimited(dir.path());
    second.args(["--data-dir", restored_dir.to_str().unwrap()]);
    let (mut second, second_base) = serve_command(second).await;
    let copy = questions(&second_base, &token).await;
    second.kill().await.unwrap();
    server.kill().await.unwrap();

    // Assert
    assert!(backed_up.status.success(), "{}", text(&backed_up.stderr));
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    println!(
        "backup: {} questions acknowledged before, {during} while it ran; {} in the copy, {} in \
         the original afterwards",
        before.len(),
        copy.len(),
        original.len()
    );
    assert!(
        during > 0 || copy.len() >= before.len(),
        "the citizens kept asking"
    );
    for (reference, said) in &before {
        let detail = copy
            .get(reference)
            .unwrap_or_else(|| panic!("{reference} acknowledged before the backup is missing"));
        assert!(
            detail.to_string().contains(said.as_str()),
            "{reference}: {detail}"
        );
    }
    for (reference, detail) in &copy {
        let in_original = original.get(reference).expect("in the original");
        assert_eq!(
            without_delivery(detail),
            without_delivery(in_original),
            "{reference} is the same in the copy"
        );
    }
    let everything = format!("{copy:?}");
    assert!(
        !everything.contains("ERASED-4c2a"),
        "the erased citizen is gone"
    );
    // Private, and it says what it holds.
    assert_eq!(mode(&backup_dir), 0o700);
    for entry in std::fs::read_dir(&backup_dir).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(backup_dir.join("manifest.json")).unwrap()).unwrap();
    let names: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["store.sled-trees", "citizen-keys", "pseudonym.key"]);
    assert_eq!(
        manifest["counts"]["questions"].as_u64(),
        Some(copy.len() as u64)
    );
    assert_eq!(
        std::fs::read(backup_dir.join("pseudonym.key")).unwrap(),
        std::fs::read(restored_dir.join("pseudonym.key")).unwrap()
    );
    let readme = std::fs::read_to_string(backup_dir.join("LIESMICH.txt")).unwrap();
    assert!(readme.contains("sprechstunde restore"), "{readme}");
    assert_eq!(mode(&restored_dir), 0o700);
}

#[tokio::test]
async fn an_erased_citizen_is_not_in_a_later_backup_a_used_data_directory_is_refused_and_backup_needs_a_token()
 {
    // Arrange: a backup taken after one of two citizens erased everything, and the data
    // directory of the running server.
    let dir = tempfile::tempdir().unwrap();
    let token_file = admin_token(dir.path()).await;
    let (mut server, base) = serve(dir.path()).await;
    let mut erased = citizen(&base).await;
    say(&mut erased, "e-1", "Bitte löschen Sie mich danach.").await;
    say(&mut erased, "e-2", "/loeschen").await;
    let confirmed = say(&mut erased, "e-3", "/loeschen bestaetigen").await;
    assert_eq!(confirmed["type"], "accepted", "{confirmed}");
    let mut kept = citizen(&base).await;
    let asked = say(&mut kept, "k-1", "Wann öffnet das Bürgerbüro?").await;
    assert_eq!(asked["type"], "accepted", "{asked}");
    let backup_dir = dir.path().join("sicherung");
    let backed_up = run(
        dir.path(),
        &[
            "backup",
            backup_dir.to_str().unwrap(),
            "--server",
            &base,
            "--token-file",
            token_file.to_str().unwrap(),
        ],
    )
    .await;
    assert!(backed_up.status.success(), "{}", text(&backed_up.stderr));

    // Act
    let into_used = run(dir.path(), &["restore", backup_dir.to_str().unwrap()]).await;
    let again = run(
        dir.path(),
        &[
            "backup",
            backup_dir.to_str().unwrap(),
            "--server",
            &base,
            "--token-file",
            token_file.to_str().unwrap(),
        ],
    )
    .await;
    let without_token = run(
        dir.path(),
        &[
            "backup",
            dir.path().join("ohne").to_str().unwrap(),
            "--server",
            &base,
        ],
    )
    .await;
    let wrong_token = dir.path().join("falsch.token");
    std::fs::write(&wrong_token, "spst_nope_nope").unwrap();
    let refused = run(
        dir.path(),
        &[
            "backup",
            dir.path().join("falsch").to_str().unwrap(),
            "--server",
            &base,
            "--token-file",
            wrong_token.to_str().unwrap(),
        ],
    )
    .await;
    let health = reqwest::get(format!("{base}/healthz"))
        .await
        .unwrap()
        .status();
    let token = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_owned();
    let audit: Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/audit?action=backup"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.kill().await.unwrap();

    // Assert
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(backup_dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["counts"]["citizens"], 1, "{manifest}");
    assert_eq!(manifest["counts"]["questions"], 1, "{manifest}");
    assert!(!into_used.status.success());
    let err = text(&into_used.stderr);
    assert!(err.contains("not empty") && err.contains("data"), "{err}");
    assert_eq!(health, 200, "the running server's directory was left alone");
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("not empty"),
        "{}",
        text(&again.stderr)
    );
    assert!(!without_token.status.success());
    assert!(
        text(&without_token.stderr).contains("needs an admin's API token"),
        "{}",
        text(&without_token.stderr)
    );
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("401"),
        "{}",
        text(&refused.stderr)
    );
    assert!(!dir.path().join("falsch").exists());
    let outcomes: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["200"],
        "the backup is in the audit trail: {audit}"
    );
}
