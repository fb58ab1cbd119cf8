//! Headless Chromium for end-to-end tests, driven over WebDriver with fantoccini.
//!
//! [`Browser::start`] spawns Debian's `chromedriver` on a free loopback port, opens a
//! session in headless Chromium with a fresh profile, and hands out the
//! [`fantoccini::Client`]. The helpers wait for a condition with a deadline instead of
//! sleeping, and [`Browser::axe`] checks the current page against WCAG 2.1 A and AA with
//! axe-core.
//!
//! `scripts/test.sh` installs Chromium, ChromeDriver and axe-core and exports their paths
//! (`SPRECHSTUNDE_CHROMIUM`, `SPRECHSTUNDE_CHROMEDRIVER`, `SPRECHSTUNDE_AXE_JS`). Without
//! Chromium, `start` returns `Ok(None)` so that a developer can still run the other tests;
//! under CI (`CI=true`) a missing browser is an error, so browser tests fail, never skip.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use sprechstunde_tests::browser::{Browser, describe};
//!
//! let Some(browser) = Browser::start().await? else {
//!     return Ok(()); // no Chromium on this developer machine
//! };
//! browser.client().goto("http://127.0.0.1:8080/").await?;
//! browser.wait_for_text("h1", "Sprechstunde").await?;
//! let violations = browser.axe().await?;
//! assert!(violations.is_empty(), "{}", describe(&violations));
//! browser.close().await?;
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use fantoccini::elements::Element;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde::Deserialize;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::process::{Child, Command};
use tokio::time::{Instant, sleep};

const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
const DEFAULT_CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Where `scripts/test.sh` installs axe-core, relative to `$HOME`.
const DEFAULT_AXE_JS: &str = ".cache/sprechstunde/node/node_modules/axe-core/axe.min.js";

/// How long chromedriver may take to answer `/status` with `ready`.
const STARTUP_DEADLINE: Duration = Duration::from_secs(20);
/// How long [`Browser::wait_for`] and [`Browser::wait_for_text`] wait.
const WAIT_DEADLINE: Duration = Duration::from_secs(10);
/// Pause between two looks at a condition that is polled.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Attempts at starting chromedriver; another attempt only follows an early exit, which is
/// what losing the race for the free port looks like.
const DRIVER_ATTEMPTS: usize = 3;

/// The rule sets [`Browser::axe`] checks: WCAG 2.0 and 2.1, levels A and AA.
const WCAG_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// Runs axe-core in the page and reports its violations, or the error it threw, to the
/// WebDriver callback (the last argument). Selector paths into shadow DOM are joined with
/// ` >>> ` so that every frame's target is one string.
const RUN_AXE: &str = r#"
const [tags, done] = arguments;
window.axe
  .run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
  .then((results) => done({
    violations: results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({
        target: n.target.map((t) => (Array.isArray(t) ? t.join(' >>> ') : String(t))),
        html: n.html,
      })),
    })),
  }))
  .catch((e) => done({ error: String((e && e.stack) || e) }));
"#;

/// A headless Chromium session for one test: the chromedriver process, a fresh profile
/// directory, and the WebDriver client.
///
/// Everything is cleaned up when the value is dropped, also when a test panics: the
/// chromedriver process and every Chromium process it started are killed, and the profile
/// is deleted. [`Browser::close`] ends the session politely first.
pub struct Browser {
    client: Client,
    driver: Driver,
    /// Holds the Chromium profile and chromedriver's log; deleted on drop.
    dir: TempDir,
}

/// The chromedriver process, and with it every Chromium process it started.
///
/// chromedriver runs in a process group of its own, which the Chromium it starts joins.
/// Chromium does not quit when chromedriver dies, so killing chromedriver alone (as
/// `kill_on_drop` does) would leave a browser behind: dropping a `Driver` kills the group.
struct Driver {
    child: Child,
    /// The process group (chromedriver's pid); `None` once killed.
    group: Option<u32>,
}

/// One accessibility rule that the page breaks, as reported by axe-core.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AxeViolation {
    /// The axe rule, such as `image-alt` or `color-contrast`.
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`, where axe gives one.
    pub impact: Option<String>,
    /// What the rule asks for, in one sentence.
    pub help: String,
    /// Deque's page explaining the rule.
    pub help_url: String,
    /// The elements that break the rule.
    pub nodes: Vec<AxeNode>,
}

/// An element that breaks an accessibility rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AxeNode {
    /// CSS selectors leading to the element, one per frame (a single one outside frames).
    pub target: Vec<String>,
    /// The element's opening tag, as axe shows it.
    pub html: String,
}

/// What the axe script hands back to WebDriver.
#[derive(Deserialize)]
struct AxeOutcome {
    #[serde(default)]
    violations: Vec<AxeViolation>,
    error: Option<String>,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile.
    ///
    /// The binaries are taken from `SPRECHSTUNDE_CHROMIUM` and `SPRECHSTUNDE_CHROMEDRIVER`,
    /// or else from `/usr/bin/chromium` and `/usr/bin/chromedriver`.
    ///
    /// Returns `Ok(None)`, after a notice on stderr, when either is missing and the
    /// environment variable `CI` is not `true`, so that the caller can skip its test.
    ///
    /// # Errors
    ///
    /// A missing binary under CI; chromedriver that fails to start or is not ready within
    /// 20 s; Chromium that fails to open a session.
    pub async fn start() -> anyhow::Result<Option<Self>> {
        let chromium = tool_path("SPRECHSTUNDE_CHROMIUM", DEFAULT_CHROMIUM);
        let chromedriver = tool_path("SPRECHSTUNDE_CHROMEDRIVER", DEFAULT_CHROMEDRIVER);
        for tool in [&chromium, &chromedriver] {
            if tool.is_file() {
                continue;
            }
            if under_ci() {
                bail!(
                    "BROWSER TESTS CANNOT RUN: {} does not exist. Under CI the browser tests \
                     must run; scripts/test.sh installs the Debian packages chromium and \
                     chromium-driver.",
                    tool.display()
                );
            }
            eprintln!(
                "notice: {} not found, skipping this browser test \
                 (run scripts/test.sh, or apt-get install chromium chromium-driver)",
                tool.display()
            );
            return Ok(None);
        }

        let dir = tempfile::Builder::new()
            .prefix("sprechstunde-browser-")
            .tempdir()
            .context("creating a temporary directory for Chromium")?;
        let log = dir.path().join("chromedriver.log");
        let (driver, port) = spawn_driver(&chromedriver, dir.path()).await?;
        // Should this fail, dropping `driver` kills whatever Chromium got started.
        let client = connect(port, &chromium, &dir.path().join("profile"))
            .await
            .with_context(|| format!("opening a Chromium session{}", log_tail(&log)))?;
        Ok(Some(Self {
            client,
            driver,
            dir,
        }))
    }

    /// The WebDriver client, for navigation, clicks, typing and everything else.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens the staff console at `base` and logs in as `login` with `password` (the login
    /// form: name, password, submit). The caller waits for the view it expects next.
    ///
    /// # Errors
    ///
    /// The login form did not appear, or a WebDriver failure.
    pub async fn log_in_staff(
        &self,
        base: &str,
        login: &str,
        password: &str,
    ) -> anyhow::Result<()> {
        self.client.goto(&format!("{base}/staff")).await?;
        self.submit_staff_login(login, password).await
    }

    /// Fills in and submits the console's login form on the open page.
    ///
    /// # Errors
    ///
    /// The login form did not appear, or a WebDriver failure.
    pub async fn submit_staff_login(&self, login: &str, password: &str) -> anyhow::Result<()> {
        self.wait_for("#login").await?.send_keys(login).await?;
        self.client
            .find(Locator::Css("#password"))
            .await?
            .send_keys(password)
            .await?;
        self.client
            .find(Locator::Css("#login-form button[type='submit']"))
            .await?
            .click()
            .await?;
        Ok(())
    }

    /// Types `text` into the element matching `css` (which must be on the page now).
    ///
    /// # Errors
    ///
    /// No such element, or a WebDriver failure.
    pub async fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        self.client
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("no element `{css}`"))?
            .send_keys(text)
            .await?;
        Ok(())
    }

    /// Clicks the element matching `css` (which must be on the page now).
    ///
    /// # Errors
    ///
    /// No such element, or a WebDriver failure.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.client
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("no element `{css}`"))?
            .click()
            .await?;
        Ok(())
    }

    /// Waits up to 10 s for an element matching the CSS selector `css` and returns it.
    ///
    /// # Errors
    ///
    /// No such element within the deadline, or a WebDriver failure.
    pub async fn wait_for(&self, css: &str) -> anyhow::Result<Element> {
        self.client
            .wait()
            .at_most(WAIT_DEADLINE)
            .every(POLL_INTERVAL)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("no element `{css}` within {WAIT_DEADLINE:?}"))
    }

    /// Waits up to 10 s until the first element matching `css` has a text that contains
    /// `needle`.
    ///
    /// # Errors
    ///
    /// The deadline passed; the error shows the last text seen, or that no element matched.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + WAIT_DEADLINE;
        let mut last_seen = None;
        loop {
            // The element may not exist yet, or be replaced while we read it: both are
            // reasons to look again, not errors.
            if let Ok(element) = self.client.find(Locator::Css(css)).await
                && let Ok(text) = element.text().await
            {
                if text.contains(needle) {
                    return Ok(());
                }
                last_seen = Some(text);
            }
            if Instant::now() >= deadline {
                return Err(match last_seen {
                    Some(text) => anyhow!(
                        "`{css}` did not contain {needle:?} within {WAIT_DEADLINE:?}; \
                         last text seen: {text:?}"
                    ),
                    None => anyhow!(
                        "no element `{css}` within {WAIT_DEADLINE:?} (waiting for {needle:?})"
                    ),
                });
            }
            sleep(POLL_INTERVAL).await;
        }
    }

    /// Checks the current page with axe-core against WCAG 2.0/2.1 A and AA and returns the
    /// violations; an accessible page gives an empty list.
    ///
    /// axe-core is read from `SPRECHSTUNDE_AXE_JS`, or else from
    /// `~/.cache/sprechstunde/node/node_modules/axe-core/axe.min.js`, and injected through
    /// WebDriver, which works on pages whose Content-Security-Policy forbids inline and
    /// foreign scripts.
    ///
    /// # Errors
    ///
    /// axe-core is not installed; the script failed in the page; WebDriver failed.
    pub async fn axe(&self) -> anyhow::Result<Vec<AxeViolation>> {
        let loaded = self
            .client
            .execute(
                "return typeof window.axe === 'object' && typeof window.axe.run === 'function';",
                vec![],
            )
            .await
            .context("looking for axe-core in the page")?;
        if loaded != Value::Bool(true) {
            let path = axe_path()?;
            let source = tokio::fs::read_to_string(&path).await.with_context(|| {
                format!(
                    "reading axe-core from {} (scripts/test.sh installs it; or set \
                     SPRECHSTUNDE_AXE_JS)",
                    path.display()
                )
            })?;
            // The newline ends a trailing `//` comment (the source map) before our return.
            let injected = self
                .client
                .execute(&format!("{source}\n;return typeof window.axe;"), vec![])
                .await
                .context("injecting axe-core into the page")?;
            if injected != json!("object") {
                bail!("axe-core did not load into the page (window.axe is {injected})");
            }
        }

        let outcome = self
            .client
            .execute_async(RUN_AXE, vec![json!(WCAG_TAGS)])
            .await
            .context("running axe-core")?;
        let outcome: AxeOutcome = serde_json::from_value(outcome.clone())
            .with_context(|| format!("unexpected result from axe-core: {outcome}"))?;
        match outcome.error {
            Some(error) => Err(anyhow!("axe-core failed in the page: {error}")),
            None => Ok(outcome.violations),
        }
    }

    /// Saves a PNG screenshot of the viewport at `path`, creating its parent directories.
    ///
    /// # Errors
    ///
    /// WebDriver failed, or the file could not be written.
    pub async fn screenshot(&self, path: impl AsRef<Path>) -> anyhow::Result<()> {
        let path = path.as_ref();
        let png = self
            .client
            .screenshot()
            .await
            .context("taking a screenshot")?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(parent)
                .await
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        tokio::fs::write(path, png)
            .await
            .with_context(|| format!("writing {}", path.display()))
    }

    /// Ends the WebDriver session, which quits Chromium, then stops chromedriver.
    ///
    /// Dropping a `Browser` cleans up as well, only less gently.
    ///
    /// # Errors
    ///
    /// The session could not be ended; the processes are stopped all the same.
    pub async fn close(self) -> anyhow::Result<()> {
        let Self {
            client,
            driver,
            dir,
        } = self;
        let closed = client.close().await.context("ending the WebDriver session");
        driver.stop().await?;
        drop(dir);
        closed
    }
}

impl Driver {
    /// Wraps a chromedriver just spawned with `process_group(0)`.
    fn new(child: Child) -> Self {
        let group = child.id();
        Self { child, group }
    }

    /// Kills the process group, once.
    fn kill(&mut self) {
        if let Some(group) = self.group.take() {
            // The group id is chromedriver's pid, which cannot be reused while `child` holds
            // it unreaped. An error means the group is gone already.
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{group}")])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }

    /// Kills the process group and reaps chromedriver.
    async fn stop(mut self) -> anyhow::Result<()> {
        self.kill();
        self.child
            .wait()
            .await
            .context("waiting for chromedriver to exit")?;
        Ok(())
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.kill();
    }
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("chromedriver", &self.driver.child.id())
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

/// Formats violations for an assertion message, one rule per line with its elements.
pub fn describe(violations: &[AxeViolation]) -> String {
    if violations.is_empty() {
        return "no accessibility violations".to_owned();
    }
    let mut out = format!("{} accessibility violation(s):", violations.len());
    for v in violations {
        let impact = v.impact.as_deref().unwrap_or("unknown impact");
        out.push_str(&format!(
            "\n- {} ({impact}): {} <{}>",
            v.id, v.help, v.help_url
        ));
        for node in &v.nodes {
            out.push_str(&format!("\n    {}  {}", node.target.join(" | "), node.html));
        }
    }
    out
}

/// The path in environment variable `var`, or `default`.
fn tool_path(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(default), PathBuf::from)
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

fn axe_path() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("SPRECHSTUNDE_AXE_JS").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let home = std::env::var_os("HOME")
        .context("neither SPRECHSTUNDE_AXE_JS nor HOME is set, so axe-core cannot be found")?;
    Ok(Path::new(&home).join(DEFAULT_AXE_JS))
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).context("binding 127.0.0.1:0")?;
    Ok(listener
        .local_addr()
        .context("reading the bound port")?
        .port())
}

/// Starts chromedriver on a free port and waits until it is ready; returns it and its port.
async fn spawn_driver(chromedriver: &Path, dir: &Path) -> anyhow::Result<(Driver, u16)> {
    let log = &dir.join("chromedriver.log");
    let mut last_error = None;
    for _ in 0..DRIVER_ATTEMPTS {
        let port = free_port()?;
        let log_file =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let log_file2 = log_file.try_clone().context("sharing the log file")?;
        // No `--allowed-ips`: with it, chromedriver listens on all interfaces and filters by
        // address; without it, it listens on 127.0.0.1 and ::1 only.
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            // Chromium's scratch directories, which a killed Chromium leaves behind, go into
            // our temporary directory instead of /tmp.
            .env("TMPDIR", dir)
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_file2)
            // A process group of its own, for `Driver` to kill.
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", chromedriver.display()))?;
        let mut driver = Driver::new(child);
        match wait_until_ready(&mut driver.child, port).await {
            Ok(()) => return Ok((driver, port)),
            Err(Startup::Exited(error)) => last_error = Some(error),
            Err(Startup::Failed(error)) => {
                return Err(error.context(format!("chromedriver{}", log_tail(log))));
            }
        }
    }
    let error = last_error.unwrap_or_else(|| anyhow!("no attempt was made"));
    Err(error.context(format!(
        "chromedriver exited early {DRIVER_ATTEMPTS} times{}",
        log_tail(log)
    )))
}

/// Why chromedriver did not become ready.
enum Startup {
    /// It exited, perhaps because another process took the port: worth another try.
    Exited(anyhow::Error),
    /// It did not answer in time, or could not be asked.
    Failed(anyhow::Error),
}

/// Polls `GET /status` until chromedriver says it is ready.
async fn wait_until_ready(child: &mut Child, port: u16) -> Result<(), Startup> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .context("building an HTTP client")
        .map_err(Startup::Failed)?;
    let url = format!("http://127.0.0.1:{port}/status");
    let deadline = Instant::now() + STARTUP_DEADLINE;
    loop {
        if let Some(status) = child
            .try_wait()
            .context("checking on chromedriver")
            .map_err(Startup::Failed)?
        {
            return Err(Startup::Exited(anyhow!(
                "chromedriver exited with {status} before it was ready"
            )));
        }
        if let Ok(response) = http.get(&url).send().await
            && let Ok(body) = response.json::<Value>().await
            && body["value"]["ready"] == Value::Bool(true)
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Startup::Failed(anyhow!(
                "{url} did not report ready within {STARTUP_DEADLINE:?}"
            )));
        }
        sleep(POLL_INTERVAL).await;
    }
}

/// Opens a WebDriver session in headless Chromium with a new profile at `profile`.
async fn connect(port: u16, chromium: &Path, profile: &Path) -> anyhow::Result<Client> {
    let options = json!({
        "binary": chromium,
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            // This machine's network is closed: without these, Chromium keeps trying to
            // reach Google's services.
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            format!("--user-data-dir={}", profile.display()),
            "--window-size=1280,900",
        ],
    });
    let mut capabilities = Capabilities::new();
    capabilities.insert("goog:chromeOptions".to_owned(), options);
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .map_err(anyhow::Error::from)
}

/// The end of chromedriver's log, as a suffix for an error message.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    if tail.trim().is_empty() {
        String::new()
    } else {
        format!("; chromedriver's log ends:\n{tail}")
    }
}
