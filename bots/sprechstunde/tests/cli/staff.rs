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
