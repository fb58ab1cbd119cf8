//! `staff add|update|list` with department membership: department ids are checked, department
//! staff need a department, and the list shows roles, department and state.

use super::{run, run_with_stdin, serve, text};

const PASSWORD: &str = "ein-sicheres-passwort\n";

#[tokio::test]
async fn department_membership_is_checked_changed_and_listed_from_the_cli() {
    // Arrange: one configured department.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("stadt.toml");
    std::fs::write(
        &config,
        "[[departments]]\nid = 1\nslug = \"tiefbau\"\nname = \"Tiefbauamt\"\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let path = dir.path();
    let add = |login: &'static str, extra: &'static [&'static str]| {
        let mut args = vec![
            "--config", config, "staff", "add", "--login", login, "--name", login,
        ];
        args.extend_from_slice(extra);
        async move { run_with_stdin(path, &args, PASSWORD).await }
    };
    let update = |extra: &'static [&'static str]| {
        let mut args = vec!["--config", config, "staff", "update"];
        args.extend_from_slice(extra);
        async move { run(path, &args).await }
    };

    // Act.
    let without = add("ohne", &["--role", "department"]).await;
    let unknown = add("falsch", &["--role", "department", "--department", "7"]).await;
    let tb = add("tb", &["--role", "department", "--department", "1"]).await;
    let br = add("br", &["--role", "citizens_office"]).await;
    let br_no_department = update(&["br", "--role", "department"]).await;
    let br_joins = update(&[
        "br",
        "--role",
        "department",
        "--department",
        "1",
        "--name",
        "Bea Bau",
    ])
    .await;
    let tb_leaves_only = update(&["tb", "--no-department"]).await;
    let tb_becomes_host = update(&["tb", "--role", "host", "--no-department"]).await;
    let tb_disabled = update(&["tb", "--disable"]).await;
    let nobody = update(&["niemand", "--disable"]).await;
    let nothing = update(&["br"]).await;
    let listed = run(dir.path(), &["--config", config, "staff", "list"]).await;
    let (mut server, url) = serve(dir.path()).await;
    let login = |login: &'static str| {
        let url = url.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{url}/api/v1/login"))
                .json(&serde_json::json!({"login": login, "password": PASSWORD.trim()}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let disabled_login = login("tb").await;
    let member_login = login("br").await;
    server.kill().await.unwrap();

    // Assert: refusals are clear.
    assert!(!without.status.success());
    let err = text(&without.stderr);
    assert!(
        err.contains("the role department needs a department") && err.contains("1 Tiefbauamt"),
        "{err}"
    );
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("there is no department with id 7"),
        "{}",
        text(&unknown.stderr)
    );
    assert!(tb.status.success(), "{}", text(&tb.stderr));
    assert!(br.status.success(), "{}", text(&br.stderr));
    assert!(!br_no_department.status.success());
    assert!(text(&br_no_department.stderr).contains("needs a department"));
    assert!(br_joins.status.success(), "{}", text(&br_joins.stderr));
    assert!(!tb_leaves_only.status.success());
    assert!(
        tb_becomes_host.status.success(),
        "{}",
        text(&tb_becomes_host.stderr)
    );
    assert!(
        tb_disabled.status.success(),
        "{}",
        text(&tb_disabled.stderr)
    );
    assert!(!nobody.status.success());
    assert!(text(&nobody.stderr).contains("no staff member with login \"niemand\""));
    assert!(!nothing.status.success());
    assert!(text(&nothing.stderr).contains("nothing to change"));
    // The list shows roles, department and state.
    let listed = text(&listed.stdout);
    let line = |login: &str| {
        listed
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(login))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        !listed.contains("ohne") && !listed.contains("falsch"),
        "{listed}"
    );
    let br_line = line("br");
    assert!(
        br_line.contains("Bea Bau")
            && br_line.contains("department  department 1 (Tiefbauamt)")
            && !br_line.contains("disabled"),
        "{listed}"
    );
    let tb_line = line("tb");
    assert!(
        tb_line.contains("host") && tb_line.contains("(disabled)") && !tb_line.contains("Tiefbau"),
        "{listed}"
    );
    // A disabled account cannot log in; the changed one can.
    assert_eq!(disabled_login, 401);
    assert_eq!(member_login, 200);
}

/// `/api/v1/me` with `client`'s cookies.
async fn me(client: &reqwest::Client, url: &str) -> reqwest::StatusCode {
    client
        .get(format!("{url}/api/v1/me"))
        .send()
        .await
        .unwrap()
        .status()
}

async fn log_in(url: &str, login: &str, password: &str) -> (reqwest::Client, reqwest::StatusCode) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let status = client
        .post(format!("{url}/api/v1/login"))
        .json(&serde_json::json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap()
        .status();
    (client, status)
}

#[tokio::test]
async fn a_password_change_new_roles_disabling_or_logout_end_the_members_console_logins() {
    // Arrange: six members, each logged in (cookies are per host, not per port, so the
    // clients present them to the restarted server too).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let logins = [
        "passwd",
        "roles",
        "disabled",
        "logout",
        "renamed",
        "untouched",
    ];
    for login in logins {
        let out = run_with_stdin(
            path,
            &[
                "staff", "add", "--login", login, "--name", login, "--role", "host",
            ],
            PASSWORD,
        )
        .await;
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let (mut server, url) = serve(path).await;
    let mut clients = Vec::new();
    for login in logins {
        let (client, status) = log_in(&url, login, PASSWORD.trim()).await;
        assert_eq!(status, 200, "{login}");
        clients.push(client);
    }
    server.kill().await.unwrap();

    // Act
    let passwd = run_with_stdin(
        path,
        &["staff", "passwd", "passwd"],
        "ein-neues-passwort-1\n",
    )
    .await;
    let roles = run(
        path,
        &["staff", "update", "roles", "--role", "citizens_office"],
    )
    .await;
    let disabled = run(path, &["staff", "update", "disabled", "--disable"]).await;
    let logout = run(path, &["staff", "logout", "logout"]).await;
    let renamed = run(path, &["staff", "update", "renamed", "--name", "Neu"]).await;
    let (mut server, url) = serve(path).await;
    let mut after = Vec::new();
    for client in &clients {
        after.push(me(client, &url).await);
    }
    server.kill().await.unwrap();

    // Assert
    for (out, what) in [
        (&passwd, "passwd"),
        (&roles, "roles"),
        (&disabled, "disabled"),
        (&logout, "logout"),
    ] {
        assert!(out.status.success(), "{what}: {}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("1 console login(s) ended"),
            "{what}: {}",
            text(&out.stdout)
        );
    }
    assert!(renamed.status.success(), "{}", text(&renamed.stderr));
    let statuses: Vec<u16> = after.iter().map(|s| s.as_u16()).collect();
    assert_eq!(statuses, [401, 401, 401, 401, 200, 200], "{logins:?}");
}

#[tokio::test]
async fn token_list_shows_when_each_token_was_last_used() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let add = run_with_stdin(
        path,
        &[
            "staff", "add", "--login", "system", "--name", "RIS", "--role", "host",
        ],
        PASSWORD,
    )
    .await;
    assert!(add.status.success(), "{}", text(&add.stderr));
    let used = run(
        path,
        &["token", "create", "--staff", "system", "--name", "benutzt"],
    )
    .await;
    let unused = run(
        path,
        &["token", "create", "--staff", "system", "--name", "liegt"],
    )
    .await;
    let secret = text(&used.stdout).trim().to_owned();
    assert!(unused.status.success());
    let (mut server, url) = serve(path).await;
    let status = reqwest::Client::new()
        .get(format!("{url}/api/v1/questions"))
        .header("authorization", format!("Bearer {secret}"))
        .send()
        .await
        .unwrap()
        .status();
    server.kill().await.unwrap();

    // Act
    let listed = run(path, &["token", "list"]).await;

    // Assert
    assert_eq!(status, 200);
    let listed = text(&listed.stdout);
    let line = |name: &str| {
        listed
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(line("benutzt").contains("last used 20"), "{listed}");
    assert!(line("liegt").contains("never used"), "{listed}");
}

#[tokio::test]
async fn staff_unlock_clears_a_lockout_in_the_running_server() {
    // Arrange: two failures lock a name from an address; an admin with a token.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let config = path.join("stadt.toml");
    std::fs::write(&config, "[limits]\nlogin_failures_per_name = 2\n").unwrap();
    let config = config.to_str().unwrap();
    for (login, role) in [("admin", "admin"), ("erika", "host")] {
        let out = run_with_stdin(
            path,
            &[
                "--config", config, "staff", "add", "--login", login, "--name", login, "--role",
                role,
            ],
            PASSWORD,
        )
        .await;
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let token = run(
        path,
        &[
            "--config", config, "token", "create", "--staff", "admin", "--name", "cli",
        ],
    )
    .await;
    let token_file = path.join("admin-token");
    std::fs::write(&token_file, text(&token.stdout)).unwrap();
    let mut child = super::sprechstunde(path);
    child.args(["--config", config]);
    let (mut server, url) = super::serve_command(child).await;
    for _ in 0..2 {
        log_in(&url, "erika", "falsch").await;
    }
    let (_, locked) = log_in(&url, "erika", PASSWORD.trim()).await;

    // Act
    let unlock = run(
        path,
        &[
            "--config",
            config,
            "staff",
            "unlock",
            "erika",
            "--server",
            &url,
            "--token-file",
            token_file.to_str().unwrap(),
        ],
    )
    .await;
    let (_, after) = log_in(&url, "erika", PASSWORD.trim()).await;
    let without_token = run(
        path,
        &[
            "--config", config, "staff", "unlock", "erika", "--server", &url,
        ],
    )
    .await;
    server.kill().await.unwrap();

    // Assert
    assert_eq!(locked, 429);
    assert!(unlock.status.success(), "{}", text(&unlock.stderr));
    assert!(
        text(&unlock.stdout).contains("Lockout of erika cleared."),
        "{}",
        text(&unlock.stdout)
    );
    assert_eq!(after, 200);
    assert!(!without_token.status.success());
    assert!(
        text(&without_token.stderr).contains("needs an admin's API token"),
        "{}",
        text(&without_token.stderr)
    );
}

#[tokio::test]
async fn a_members_mail_address_and_switch_are_checked_set_and_listed_from_the_cli() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let add = |login: &'static str, extra: &'static [&'static str]| {
        let mut args = vec![
            "staff",
            "add",
            "--login",
            login,
            "--name",
            login,
            "--role",
            "citizens_office",
        ];
        args.extend_from_slice(extra);
        async move { run_with_stdin(path, &args, PASSWORD).await }
    };
    let list = || async move { text(&run(path, &["staff", "list"]).await.stdout) };

    // Act
    let bad = add("falsch", &["--email", "keine adresse"]).await;
    let with_mail = add("br", &["--email", "br@musterstadt.example"]).await;
    let without = add("ohne", &[]).await;
    let off = run(path, &["staff", "update", "br", "--notify", "off"]).await;
    let listed_off = list().await;
    let removed = run(path, &["staff", "update", "br", "--no-email"]).await;
    let listed_removed = list().await;

    // Assert
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("is not an e-mail address"),
        "{}",
        text(&bad.stderr)
    );
    assert!(with_mail.status.success(), "{}", text(&with_mail.stderr));
    assert!(without.status.success(), "{}", text(&without.stderr));
    assert!(off.status.success(), "{}", text(&off.stderr));
    assert!(removed.status.success(), "{}", text(&removed.stderr));
    let line = |listed: &str, login: &str| {
        listed
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(login))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        line(&listed_off, "br").contains("mail br@musterstadt.example (off)"),
        "{listed_off}"
    );
    assert!(!line(&listed_off, "ohne").contains("mail"), "{listed_off}");
    assert!(!listed_off.contains("falsch"), "{listed_off}");
    assert!(
        !line(&listed_removed, "br").contains("mail"),
        "{listed_removed}"
    );
}
