//! A real OpenID provider on loopback for the single sign-on tests: the npm package
//! `oidc-provider` (a certified implementation) run by `tests/oidc/provider.mjs` with Node.js.
//!
//! `scripts/test.sh` installs the package into `~/.cache/sprechstunde/oidc` and exports
//! `SPRECHSTUNDE_OIDC_PROVIDER_MODULES` (its `node_modules`). Without it [`Provider::start`]
//! returns `Ok(None)` so that a developer can run the other tests; under CI (`CI=true`) a
//! missing provider is an error, so the tests fail, never skip.
//!
//! Test accounts (any password): `anna` (group `/sprechstunde/buergerreferat`), `tom`
//! (`/sprechstunde/tiefbau`, `/alle`), `olaf` (`/alle` only).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The client id the provider knows.
pub const CLIENT_ID: &str = "sprechstunde";
/// The client secret the provider knows.
pub const CLIENT_SECRET: &str = "sprechstunde-test-client-secret";
/// The key id of the provider's signing key.
pub const KEY_ID: &str = "test-provider-key";
/// Where `scripts/test.sh` installs the package, relative to `$HOME`.
const DEFAULT_MODULES: &str = ".cache/sprechstunde/oidc/node_modules";
/// Node starts in well under a second; a loaded machine may take longer.
const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

/// A running provider; dropping it stops it.
#[derive(Debug)]
pub struct Provider {
    /// The issuer URL, `http://127.0.0.1:PORT`.
    pub issuer: String,
    _child: Child,
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// A file under `tests/oidc/`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("oidc")
        .join(name)
}

/// The PEM of the provider's signing key (the tests sign expired tokens with it).
///
/// # Errors
/// The fixture is missing.
pub fn provider_key_pem() -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(fixture("provider-key.pem"))?)
}

/// The PEM of a key the provider does not know (forged tokens).
///
/// # Errors
/// The fixture is missing.
pub fn forger_key_pem() -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(fixture("forger-key.pem"))?)
}

impl Provider {
    /// Starts the provider on a free port of 127.0.0.1 and waits until it listens.
    ///
    /// # Errors
    /// Node or the package is missing under CI; the provider did not start in time.
    pub async fn start() -> anyhow::Result<Option<Provider>> {
        let modules = match std::env::var_os("SPRECHSTUNDE_OIDC_PROVIDER_MODULES") {
            Some(path) => PathBuf::from(path),
            None => std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default()
                .join(DEFAULT_MODULES),
        };
        if !modules.join("oidc-provider").is_dir() {
            if under_ci() {
                bail!(
                    "OIDC TESTS CANNOT RUN: {} has no oidc-provider. scripts/test.sh installs \
                     it (ensure_oidc_provider).",
                    modules.display()
                );
            }
            eprintln!(
                "notice: oidc-provider not found in {}, skipping this test (run scripts/test.sh)",
                modules.display()
            );
            return Ok(None);
        }
        let mut child = Command::new("node")
            .arg(fixture("provider.mjs"))
            .args(["0", CLIENT_ID, CLIENT_SECRET])
            .arg(fixture("provider-key.pem"))
            .env("SPRECHSTUNDE_OIDC_PROVIDER_MODULES", &modules)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting node (is Node.js installed?)")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let issuer = tokio::time::timeout(STARTUP_DEADLINE, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(issuer) = line.strip_prefix("ready ") {
                    return Ok(issuer.trim().to_owned());
                }
            }
            bail!("the provider ended before it was ready")
        })
        .await
        .context("the provider did not start in time")??;
        // Keep reading, so a chatty provider never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Some(Provider {
            issuer,
            _child: child,
        }))
    }
}
