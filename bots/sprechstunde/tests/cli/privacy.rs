//! `privacy record` and `audit …` as an operator runs them.

use super::{run, run_with_stdin, sprechstunde, text};

async fn record(dir: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> (bool, String) {
    let mut cmd = sprechstunde(dir);
    cmd.args(["privacy", "record"]).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(super::DEADLINE, cmd.output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        out.stderr.is_empty() || out.status.success(),
        "{}",
        text(&out.stderr)
    );
    (out.status.success(), text(&out.stdout))
}

#[tokio::test]
async fn the_record_of_processing_follows_the_running_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("stadt.toml");
    std::fs::write(
        &config,
        "[office]\nname = \"Stadt Beispielhausen\"\n\n[privacy.controller]\n\
         name = \"Stadt Beispielhausen, Die Bürgermeisterin\"\n\
         dpo_contact = \"dsb@beispielhausen.example\"\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();

    let (ok_plain, plain) = record(dir.path(), &[], &["--config", config]).await;
    let telegram_env = [
        ("SPRECHSTUNDE_TELEGRAM__ENABLED", "true"),
        (
            "SPRECHSTUNDE_TELEGRAM__TOKEN",
            "123:secret-token-never-printed",
        ),
        ("SPRECHSTUNDE_AUDIT__RETENTION_DAYS", "365"),
        (
            "SPRECHSTUNDE_PRIVACY__RETENTION__INACTIVE_CITIZEN_DAYS",
            "45",
        ),
    ];
    let (ok_tg, with_telegram) = record(dir.path(), &telegram_env, &["--config", config]).await;
    let (ok_json, json) = record(dir.path(), &telegram_env, &["--format", "json"]).await;

    assert!(ok_plain && ok_tg && ok_json);
    println!(
        "privacy record: {} bytes (web chat only), {} bytes (with Telegram)",
        plain.len(),
        with_telegram.len()
    );
    // Controller and municipality from the file, the rest of the placeholders from the default.
    assert!(
        plain.contains("Stadt Beispielhausen, Die Bürgermeisterin"),
        "{plain}"
    );
    assert!(plain.contains("dsb@beispielhausen.example"));
    assert!(plain.contains("**Kommune:** Stadt Beispielhausen"));
    assert!(plain.contains("Rathausplatz 1, 12345 Musterstadt"));
    // Channels.
    assert!(plain.contains("| Web-Chat | ja |"));
    assert!(plain.contains("| Telegram | nein |"));
    assert!(with_telegram.contains("| Telegram | ja | nein |"));
    assert!(!plain.contains("Bürgerinnen und Bürger (Telegram)"));
    assert!(with_telegram.contains("Bürgerinnen und Bürger (Telegram)"));
    // The Telegram reply address is kept with the citizen record, as configured.
    assert!(
        with_telegram.contains(
            "Antwortadresse: die Telegram-Chat-ID, verschlüsselt beim Bürgerdatensatz gespeichert \
             bis zur Löschung auf Wunsch (/loeschen) oder bis kein Anliegen mehr gespeichert ist \
             und der letzte Kontakt 45 Tage zurückliegt"
        ),
        "{with_telegram}"
    );
    assert!(!with_telegram.contains("nur solange Antworten zuzustellen sind"));
    // Recipients: the press office sees question texts (live view, summaries, drafts).
    let press = plain
        .lines()
        .find(|l| l.starts_with("| Pressereferat"))
        .unwrap_or_default();
    assert!(
        press.contains("Live-Warteschlange mit Texten")
            && press.contains("Zusammenfassungen")
            && press.contains("Antwortentwürfe mit Texten")
            && !press.contains("keine Anliegen"),
        "{press}"
    );
    // Hosts read the whole queue, not only the live one.
    assert!(
        plain.contains("(Rolle host) | alle Anliegen: lesen, beantworten"),
        "{plain}"
    );
    // Recipients and third countries.
    assert!(!plain.contains("Telegram Messenger Inc."));
    assert!(with_telegram.contains("Telegram Messenger Inc."));
    assert!(plain.contains("keine (nur Web-Chat"));
    assert!(with_telegram.contains("Dubai"));
    // Retention periods.
    assert!(plain.contains("| Audit-Protokoll (ohne Inhalte) | 730 Tage"));
    assert!(with_telegram.contains("| Audit-Protokoll (ohne Inhalte) | 365 Tage"));
    assert!(plain.contains("| 12 Stunden | server.login_hours |"));
    // Measures.
    assert!(plain.contains("HMAC-SHA256"));
    // Secrets never appear.
    assert!(!with_telegram.contains("secret-token-never-printed"));
    assert!(!json.contains("secret-token-never-printed"));
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let channel = |id: &str| {
        json["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(channel("webchat")["enabled"], true);
    assert_eq!(channel("telegram")["enabled"], true);
    assert_eq!(channel("telegram")["end_to_end_encryption"], "no");
    assert_eq!(channel("matrix")["enabled"], false);
    assert_eq!(
        json["controller"]["name"],
        "Stadt Musterstadt, Der Oberbürgermeister"
    );
    assert!(
        json["retention"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["source"] == "audit.retention_days"
                && r["period"].as_str().unwrap().starts_with("365 Tage"))
    );
}

#[tokio::test]
async fn with_threema_on_the_record_names_the_gateway_operator_as_a_processor_that_sees_metadata_only()
 {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("SPRECHSTUNDE_THREEMA__ENABLED", "true"),
        ("SPRECHSTUNDE_THREEMA__GATEWAY_ID", "*SPRECH1"),
        (
            "SPRECHSTUNDE_THREEMA__SECRET",
            "threema-secret-never-printed",
        ),
    ];
    let (ok_plain, plain) = record(dir.path(), &[], &[]).await;
    let (ok, with_threema) = record(dir.path(), &env, &[]).await;
    let (ok_json, json) = record(dir.path(), &env, &["--format", "json"]).await;

    assert!(ok_plain && ok && ok_json);
    assert!(!plain.contains("Threema GmbH"));
    assert!(
        with_threema.contains("Threema GmbH, Schweiz, als Betreiberin des Threema Gateway"),
        "{with_threema}"
    );
    assert!(with_threema.contains("nur Metadaten"), "{with_threema}");
    assert!(with_threema.contains("Bürgerinnen und Bürger (Threema)"));
    assert!(with_threema.contains("Pseudonym der Threema-ID"));
    assert!(with_threema.contains("Angemessenheitsbeschluss"));
    assert!(!with_threema.contains("threema-secret-never-printed"));
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let threema = json["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "threema")
        .cloned()
        .unwrap();
    assert_eq!(threema["enabled"], true);
    assert_eq!(threema["end_to_end_encryption"], "yes");
}

#[tokio::test]
async fn the_record_lists_the_departments_of_the_data_directory_or_says_where_they_are() {
    // Arrange: the record's configuration names the Tiefbauamt; the data directory gets the
    // Ordnungsamt from another configuration (as if an admin had created it in the console).
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, toml: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, toml).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let config = write(
        "stadt.toml",
        "[[departments]]\nid = 1\nslug = \"tiefbau\"\nname = \"Tiefbauamt\"\n",
    );
    let other = write(
        "vorher.toml",
        "[[departments]]\nid = 2\nslug = \"ordnung\"\nname = \"Ordnungsamt\"\n",
    );
    let json_of = |(ok, out): (bool, String)| -> serde_json::Value {
        assert!(ok);
        serde_json::from_str(&out).unwrap()
    };
    let names = |json: &serde_json::Value| -> Vec<String> {
        json["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| {
                r["name"]
                    .as_str()?
                    .strip_prefix("Fachamt: ")
                    .map(str::to_owned)
            })
            .collect()
    };

    // Act: before the first start, with a stopped server, and while the server runs.
    let before = json_of(record(dir.path(), &[], &["--config", &config, "--format", "json"]).await);
    let seeded = run(dir.path(), &["--config", &other, "session", "list"]).await;
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let stopped =
        json_of(record(dir.path(), &[], &["--config", &config, "--format", "json"]).await);
    let (mut server, _) = super::serve(dir.path()).await;
    let (ok_running, running) = record(dir.path(), &[], &["--config", &config]).await;
    server.kill().await.unwrap();

    // Assert.
    assert_eq!(names(&before), ["Tiefbauamt"]);
    assert_eq!(before["departments_source"], "configuration");
    assert_eq!(names(&stopped), ["Tiefbauamt", "Ordnungsamt"]);
    assert_eq!(stopped["departments_source"], "store");
    assert!(ok_running);
    assert!(running.contains("| Fachamt: Tiefbauamt |"), "{running}");
    assert!(!running.contains("Ordnungsamt"), "{running}");
    assert!(
        running.contains("in der Konsole angelegte Fachämter sind in der Konsole aufgeführt"),
        "{running}"
    );
}

#[tokio::test]
async fn cli_actions_are_audited_and_a_tampered_entry_fails_verification() {
    let dir = tempfile::tempdir().unwrap();
    let added = run_with_stdin(
        dir.path(),
        &[
            "staff",
            "add",
            "--login",
            "dsb",
            "--name",
            "DSB",
            "--role",
            "data_protection",
        ],
        "ein-sicheres-passwort\n",
    )
    .await;
    assert!(added.status.success(), "{}", text(&added.stderr));
    let created = run(
        dir.path(),
        &["token", "create", "--staff", "dsb", "--name", "Prüfung"],
    )
    .await;
    let token = text(&created.stdout).trim().to_owned();
    let id = token.split('_').nth(1).unwrap().to_owned();
    let revoked = run(dir.path(), &["token", "revoke", &id]).await;
    assert!(revoked.status.success());

    let listed = run(dir.path(), &["audit", "list"]).await;
    let verified = run(dir.path(), &["audit", "verify"]).await;

    let listed = text(&listed.stdout);
    assert!(listed.contains("staff.add"), "{listed}");
    assert!(listed.contains(&format!("token={id}")), "{listed}");
    assert!(listed.contains("token.revoke"), "{listed}");
    assert!(
        !listed.contains(&token),
        "the token secret is never in the trail"
    );
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    let verified = text(&verified.stdout);
    assert!(verified.contains("intact: 3 entries"), "{verified}");
    assert!(verified.contains("Newest entry 3: hash "), "{verified}");

    // Somebody edits entry 2 in the database files to hide for whom the token was made.
    {
        let db = sled::Config::new()
            .path(dir.path().join("data"))
            .open()
            .unwrap();
        let tree = db.open_tree("audit").unwrap();
        let mut key = vec![b'e'];
        key.extend_from_slice(&2u64.to_be_bytes());
        let stored = tree.get(&key).unwrap().unwrap();
        let edited = String::from_utf8(stored.to_vec())
            .unwrap()
            .replace("login=dsb", "login=xyz");
        tree.insert(&key, edited.as_bytes()).unwrap();
        db.flush().unwrap();
    }
    let broken = run(dir.path(), &["audit", "verify"]).await;
    assert!(!broken.status.success());
    let err = text(&broken.stderr);
    println!("audit verify after tampering: {}", err.trim());
    assert!(err.contains("entry 2 was altered"), "{err}");
}
