//! Packaging as an operator meets it: the systemd unit (checked and rated by `systemd-analyze`,
//! its command line run for real), the container's health check, shell completions loaded by
//! real shells, the man page rendered by `man`, and a graceful stop on SIGTERM.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::{BIN, DEADLINE, run, serve, sprechstunde, text};

/// The repository root (two levels above this crate).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A tool the test needs from the machine: its path, or `None` (the test is skipped) on a
/// developer machine without it. Under `CI=true` a missing tool fails the test, since
/// `scripts/test.sh` installs it.
fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{name} is missing; scripts/test.sh installs it"
        );
        eprintln!("skipped: {name} is not installed (scripts/test.sh installs it)");
    }
    found
}

/// Runs a program (not `sprechstunde`) to its end within the deadline.
async fn program(path: &Path, args: &[&str], env: &[(&str, &Path)]) -> std::process::Output {
    let mut cmd = tokio::process::Command::new(path);
    cmd.args(args).stdin(Stdio::null()).kill_on_drop(true);
    for (key, value) in env {
        cmd.env(key, value);
    }
    tokio::time::timeout(DEADLINE, cmd.output())
        .await
        .expect("finished in time")
        .expect("ran")
}

/// The unit file with `ExecStart` pointing at the binary under test.
fn unit_for_this_binary() -> String {
    std::fs::read_to_string(repo().join("packaging/sprechstunde.service"))
        .unwrap()
        .replace("/usr/local/bin/sprechstunde", BIN)
}

/// Writes the generated man pages into `<dir>/man1` and returns `dir` (a MANPATH entry).
async fn man_pages(dir: &Path) -> PathBuf {
    let root = dir.join("man");
    let out = run(dir, &["man", "--dir", root.join("man1").to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    root
}

#[tokio::test]
async fn the_systemd_unit_passes_verify_and_systemd_analyze_security_rates_it_ok() {
    let Some(analyze) = tool("systemd-analyze") else {
        return;
    };
    // Arrange: the unit as installed, with its binary and its man page present.
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("sprechstunde.service");
    std::fs::write(&unit, unit_for_this_binary()).unwrap();
    let manpath = man_pages(dir.path()).await;
    let unit_arg = unit.to_str().unwrap();

    // Act
    let verify = program(&analyze, &["verify", unit_arg], &[("MANPATH", &manpath)]).await;
    let security = program(
        &analyze,
        &["security", "--offline=true", "--threshold=20", unit_arg],
        &[],
    )
    .await;

    // Assert: verify reports problems as warnings with exit code 0, so stderr must be empty.
    assert!(
        verify.status.success() && verify.stderr.is_empty(),
        "systemd-analyze verify: {}",
        text(&verify.stderr)
    );
    let report = text(&security.stdout);
    let exposure: f64 = report
        .lines()
        .find_map(|l| l.split_once("Overall exposure level for sprechstunde.service: "))
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in: {report}{}", text(&security.stderr)));
    println!("systemd-analyze security: exposure {exposure} of 10");
    assert!(exposure <= 2.0, "exposure {exposure}: {report}");
    assert!(security.status.success(), "{report}");
    for hardened in [
        "✓ User=/DynamicUser=",
        "✓ NoNewPrivileges=",
        "✓ ProtectSystem=",
        "✓ PrivateTmp=",
        "✓ SystemCallFilter=~@privileged",
        "✓ CapabilityBoundingSet=~CAP_SYS_ADMIN",
    ] {
        assert!(report.contains(hardened), "{hardened} missing in: {report}");
    }
}

#[tokio::test]
async fn the_systemd_units_command_line_serves_from_its_configuration_and_state_directories() {
    // Arrange: the unit's ExecStart with %E (/etc) and %S (/var/lib) inside a temp dir.
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc");
    let state = dir.path().join("var/lib");
    std::fs::create_dir_all(etc.join("sprechstunde")).unwrap();
    std::fs::write(
        etc.join("sprechstunde/sprechstunde.toml"),
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[office]\nname = \"Stadt Unitstadt\"\n",
    )
    .unwrap();
    let unit = unit_for_this_binary();
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("an ExecStart line")
        .replace("%E", etc.to_str().unwrap())
        .replace("%S", state.to_str().unwrap());
    let argv: Vec<&str> = exec.split_whitespace().collect();
    assert_eq!(argv[0], BIN);

    // Act
    let mut child = sprechstunde(dir.path())
        .args(&argv[1..])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let url = super::first_url(&mut child).await;
    let page = reqwest::get(format!("{url}/sprechstunden"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    child.kill().await.unwrap();

    // Assert
    assert!(page.contains("Stadt Unitstadt"), "{page}");
    assert!(
        state.join("sprechstunde/pseudonym.key").is_file(),
        "the state directory holds the data"
    );
}

#[tokio::test]
async fn the_containers_health_check_asks_the_configured_port_and_fails_when_nobody_answers() {
    // Arrange: the HEALTHCHECK command of the container recipe, and a running server.
    let recipe = std::fs::read_to_string(repo().join("packaging/Dockerfile")).unwrap();
    let cmd = recipe
        .split("HEALTHCHECK")
        .nth(1)
        .and_then(|rest| rest.split_once("CMD "))
        .and_then(|(_, rest)| rest.lines().next())
        .expect("a HEALTHCHECK … CMD [...] line");
    let argv: Vec<String> = serde_json::from_str(cmd).expect("CMD in exec form");
    assert_eq!(argv[0], "/usr/local/bin/sprechstunde");
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = serve(dir.path()).await;
    let port = url.rsplit(':').next().unwrap().to_owned();
    // As in the container: the server listens on every address; the check asks loopback.
    let listen = format!("0.0.0.0:{port}");
    let check = |listen: String| {
        let mut cmd = sprechstunde(dir.path());
        cmd.args(&argv[1..])
            .env("SPRECHSTUNDE_SERVER__LISTEN", listen)
            .env("SPRECHSTUNDE_SERVER__DATA_DIR", dir.path().join("data"));
        async move {
            tokio::time::timeout(DEADLINE, cmd.output())
                .await
                .unwrap()
                .unwrap()
        }
    };

    // Act
    let healthy = check(listen.clone()).await;
    child.kill().await.unwrap();
    let _ = child.wait().await;
    let gone = check(listen).await;

    // Assert
    assert!(healthy.status.success(), "{}", text(&healthy.stderr));
    assert!(!gone.status.success());
    assert!(
        text(&gone.stderr).contains(&format!("127.0.0.1:{port}")),
        "{}",
        text(&gone.stderr)
    );
}

#[tokio::test]
async fn serve_stops_gracefully_on_sigterm_and_releases_the_data_directory() {
    let Some(kill) = tool("kill") else {
        return;
    };
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _url) = serve(dir.path()).await;
    let pid = child.id().unwrap().to_string();

    // Act: what `systemctl stop` and `docker stop` send.
    let sent = program(&kill, &["-TERM", &pid], &[]).await;
    let status = tokio::time::timeout(DEADLINE, child.wait())
        .await
        .expect("stopped in time")
        .unwrap();
    let after = run(dir.path(), &["session", "list"]).await;

    // Assert: a clean exit, not death by signal, and the store is free again.
    assert!(sent.status.success());
    assert!(status.success(), "{status:?}");
    assert!(after.status.success(), "{}", text(&after.stderr));
}

#[tokio::test]
async fn bash_completes_subcommands_and_their_options_from_the_generated_script() {
    let Some(bash) = tool("bash") else {
        return;
    };
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["completions", "bash"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let script = dir.path().join("sprechstunde.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    // Completes a command line the way bash's programmable completion calls the function
    // registered with `complete -F`.
    let complete = |line: &str| {
        format!(
            "source {script}; spec=$(complete -p sprechstunde); fn=${{spec##*-F }}; fn=${{fn%% *}}; \
             COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; read -ra COMP_WORDS <<< \"$COMP_LINE\"; \
             [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=(''); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             \"$fn\" sprechstunde \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script = script.display()
        )
    };

    // Act
    let top = program(&bash, &["--norc", "-c", &complete("sprechstunde sta")], &[]).await;
    let staff = program(
        &bash,
        &["--norc", "-c", &complete("sprechstunde staff a")],
        &[],
    )
    .await;
    let options = program(
        &bash,
        &[
            "--norc",
            "-c",
            &complete("sprechstunde session create --ti"),
        ],
        &[],
    )
    .await;

    // Assert
    assert_eq!(text(&top.stdout).trim(), "staff", "{}", text(&top.stderr));
    assert_eq!(text(&staff.stdout).trim(), "add", "{}", text(&staff.stderr));
    assert_eq!(
        text(&options.stdout).trim(),
        "--title",
        "{}",
        text(&options.stderr)
    );
}

#[tokio::test]
async fn fish_and_zsh_load_the_generated_completions() {
    let (Some(fish), Some(zsh)) = (tool("fish"), tool("zsh")) else {
        return;
    };
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let fish_out = run(dir.path(), &["completions", "fish"]).await;
    let zsh_out = run(dir.path(), &["completions", "zsh"]).await;
    let fish_script = dir.path().join("sprechstunde.fish");
    let zsh_script = dir.path().join("_sprechstunde");
    std::fs::write(&fish_script, &fish_out.stdout).unwrap();
    std::fs::write(&zsh_script, &zsh_out.stdout).unwrap();

    // Act: fish completes a command line; zsh registers the completion function.
    let fish_run = program(
        &fish,
        &[
            "--no-config",
            "-c",
            &format!(
                "source {}; complete -C 'sprechstunde audit '",
                fish_script.display()
            ),
        ],
        &[],
    )
    .await;
    let zsh_run = program(
        &zsh,
        &[
            "-f",
            "-c",
            &format!(
                "autoload -Uz compinit && compinit -u -D && source {} && print -r -- $_comps[sprechstunde]",
                zsh_script.display()
            ),
        ],
        &[],
    )
    .await;

    // Assert
    let fish_words: Vec<String> = text(&fish_run.stdout)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or("").to_owned())
        .collect();
    for word in ["verify", "list", "purge"] {
        assert!(
            fish_words.iter().any(|w| w == word),
            "{word} not in {fish_words:?}: {}",
            text(&fish_run.stderr)
        );
    }
    assert_eq!(
        text(&zsh_run.stdout).trim(),
        "_sprechstunde",
        "{}",
        text(&zsh_run.stderr)
    );
}

#[tokio::test]
async fn the_man_pages_render_without_warnings_and_document_every_subcommand() {
    let Some(man) = tool("man") else {
        return;
    };
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let stdout_page = run(dir.path(), &["man"]).await;
    let manpath = man_pages(dir.path()).await;
    let page = manpath.join("man1/sprechstunde.1");

    // Act
    let rendered = program(
        &man,
        &["--warnings", "-l", page.to_str().unwrap()],
        &[("MANWIDTH", Path::new("100"))],
    )
    .await;
    let staff_add = program(
        &man,
        &["--warnings", "sprechstunde-staff-add"],
        &[("MANPATH", &manpath), ("MANWIDTH", Path::new("100"))],
    )
    .await;

    // Assert
    assert!(
        stdout_page.status.success(),
        "{}",
        text(&stdout_page.stderr)
    );
    assert_eq!(
        text(&stdout_page.stdout),
        std::fs::read_to_string(&page).unwrap()
    );
    assert!(rendered.status.success(), "{}", text(&rendered.stderr));
    assert!(
        rendered.stderr.is_empty(),
        "groff: {}",
        text(&rendered.stderr)
    );
    let rendered = text(&rendered.stdout);
    for word in [
        "serve",
        "staff",
        "session",
        "audit",
        "completions",
        "--data-dir",
    ] {
        assert!(rendered.contains(word), "{word} missing in: {rendered}");
    }
    assert!(staff_add.status.success(), "{}", text(&staff_add.stderr));
    assert!(text(&staff_add.stdout).contains("--login"));
}
