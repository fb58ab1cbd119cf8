//! A throw-away PostgreSQL cluster for tests (feature `test-cluster`): `initdb` in a temp
//! directory, a server on a free port of 127.0.0.1 with its socket in that directory, a new
//! database per test, everything stopped and removed at the end.
//!
//! The binaries are found in `SPRECHSTUNDE_PG_BIN` (which `scripts/test.sh` exports), else
//! in `/usr/lib/postgresql/<newest>/bin`, else on `PATH`; without them [`Cluster::start`]
//! fails with a message saying how to install PostgreSQL (tests do not skip). The server
//! refuses to run as root, so as root the directory is given to the user `postgres` and the
//! binaries run through `runuser`.
//!
//! A watchdog process (`sh`) holds the read end of a pipe whose write end only the test
//! process has: when the test process ends, however it ends, the watchdog stops the server
//! and removes the directory. So a cluster kept in a `static` for a whole test binary is
//! cleaned up too.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// A running cluster; stopped and removed on drop.
pub struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
    bin: PathBuf,
    as_postgres: bool,
    watchdog: Mutex<Option<(Child, ChildStdin)>>,
}

/// Databases created so far, for unique names.
static DATABASES: AtomicU64 = AtomicU64::new(0);

impl Cluster {
    /// One cluster for the whole test process, started at the first call.
    ///
    /// # Panics
    /// If the cluster cannot be started (PostgreSQL missing, say).
    pub fn shared() -> &'static Cluster {
        static SHARED: OnceLock<Cluster> = OnceLock::new();
        SHARED.get_or_init(|| match Cluster::start() {
            Ok(cluster) => cluster,
            Err(e) => panic!("cannot start a PostgreSQL cluster for the tests: {e}"),
        })
    }

    /// Creates and starts a new cluster (blocking, about 2–4 s).
    ///
    /// # Errors
    /// PostgreSQL is not installed, or `initdb` or the server failed (their output is in
    /// the message).
    pub fn start() -> Result<Cluster, String> {
        let bin = find_bin()?;
        let dir = tempfile::Builder::new()
            .prefix("sprechstunde-pg-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let as_postgres = std::fs::metadata("/proc/self")
            .map(|m| m.uid())
            .unwrap_or(1)
            == 0;
        if as_postgres {
            run(Command::new("chown").arg("postgres:").arg(dir.path()))?;
        }
        let data = dir.path().join("data");
        let mut cluster = Cluster {
            dir,
            port: 0,
            bin,
            as_postgres,
            watchdog: Mutex::new(None),
        };
        run(cluster
            .pg("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
            .arg("--locale=C.UTF-8"))?;
        cluster.watch()?;
        // A port free now may be taken before the server binds it: a few attempts.
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port()?;
            let options = format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1",
                cluster.dir.path().display()
            );
            let started = run(cluster
                .pg("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(cluster.dir.path().join("log"))
                .args(["-o", &options, "-w", "-t", "60", "start"]));
            match started {
                Ok(()) => {
                    cluster.port = port;
                    return Ok(cluster);
                }
                Err(e) => last = format!("{e}\n{}", cluster.log()),
            }
        }
        Err(last)
    }

    /// The cluster's directory (the data directory is `data` in it).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates a new, empty database; returns its URL.
    ///
    /// # Panics
    /// If the server does not answer.
    pub async fn create_database(&self) -> String {
        let n = DATABASES.fetch_add(1, Ordering::Relaxed);
        let name = format!("test_{}_{n}", std::process::id());
        self.sql("postgres", &format!("CREATE DATABASE {name}"))
            .await;
        self.url(&name)
    }

    /// Runs `sql` (no results) in database `db`.
    ///
    /// # Panics
    /// If the server does not answer or the statement fails.
    pub async fn sql(&self, db: &str, sql: &str) {
        let (client, connection) = tokio_postgres::connect(&self.url(db), tokio_postgres::NoTls)
            .await
            .expect("connect to the test cluster");
        let driver = tokio::spawn(connection);
        client.batch_execute(sql).await.expect("test SQL");
        drop(client);
        let _ = driver.await;
    }

    /// The server log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// A command for PostgreSQL binary `name`, as user `postgres` when running as root.
    fn pg(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    /// Starts the watchdog (see the module documentation).
    fn watch(&self) -> Result<(), String> {
        let stop = self.pg("pg_ctl");
        let mut words: Vec<String> = std::iter::once(stop.get_program())
            .chain(stop.get_args())
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        words.extend(["-D".into(), self.data_dir().display().to_string()]);
        words.extend(["-m", "immediate", "-w", "stop"].map(String::from));
        let script = format!(
            "cat >/dev/null; {} >/dev/null 2>&1; rm -rf \"$0\"",
            words
                .iter()
                .map(|w| format!("'{w}'"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting the watchdog: {e}"))?;
        let stdin = child.stdin.take().ok_or("the watchdog has no stdin")?;
        *self
            .watchdog
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((child, stdin));
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let taken = self
            .watchdog
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some((mut child, mut stdin)) = taken {
            // Closing the pipe makes the watchdog stop the server and remove the directory.
            let _ = stdin.flush();
            drop(stdin);
            let _ = child.wait();
        }
    }
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("dir", &self.dir.path())
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// Where `initdb` and `pg_ctl` are.
fn find_bin() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("SPRECHSTUNDE_PG_BIN") {
        let dir = PathBuf::from(dir);
        if dir.join("initdb").is_file() {
            return Ok(dir);
        }
        return Err(format!(
            "SPRECHSTUNDE_PG_BIN={} has no initdb",
            dir.display()
        ));
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok())
            .unwrap_or(0)
    });
    if let Some(newest) = versions.pop() {
        return Ok(newest);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
        .ok_or_else(|| {
            "PostgreSQL is not installed (no initdb): run scripts/test.sh, which installs it, \
             or `apt-get install -y postgresql`"
                .to_owned()
        })
}

/// A port free on 127.0.0.1 at the moment.
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// Runs `command`, failing with its output.
fn run(command: &mut Command) -> Result<(), String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{:?}: {e}", command.get_program()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{:?} {:?} failed ({}): {}{}",
            command.get_program(),
            command.get_args().collect::<Vec<_>>(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
