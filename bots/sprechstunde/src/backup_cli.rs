//! `backup DIR` and `restore DIR`: a consistent copy of a running sled installation, and
//! bringing it back into an empty data directory (see docs/operations.md).
//!
//! The server holds the sled database open (sled locks it), and its files cannot be copied
//! consistently from outside while it writes. So `backup` asks the running server, as an
//! admin with an API token, for `POST /api/v1/backup`: the server copies every tree and the
//! keys inside the process while no write runs ([`SledStore::backup`]) and answers with an
//! archive; the command checks it and writes it into `DIR` (mode 0700, files 0600), the
//! manifest last. `restore` checks the manifest's checksums and writes the copy into an
//! empty data directory, then opens and loads it once.
//!
//! The archive (the answer of `POST /api/v1/backup`): the magic `SPRECHSTUNDE-BACKUP-1\n`,
//! then per file its name (length as big-endian `u16`, UTF-8) and its bytes (length as
//! big-endian `u64`). The last file is `manifest.json`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sprechstunde_core::Store;
use sprechstunde_store_sled::{BackupCounts, SledBackup, SledStore};

use crate::settings::{Settings, StoreBackend};

const MAGIC: &[u8] = b"SPRECHSTUNDE-BACKUP-1\n";

/// SHA-256 of `bytes` in lower-case hex.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
/// The format name in the manifest.
const FORMAT: &str = "sprechstunde-backup-1";
/// The copy of the store's trees.
const TREES: &str = "store.sled-trees";
/// The keys of the sealed records.
const KEYS: &str = "citizen-keys";
/// The key of the pseudonyms (citizens' Telegram and Matrix ids are stored as HMACs under it).
const PSEUDONYM_KEY: &str = "pseudonym.key";
/// What the backup holds.
const MANIFEST: &str = "manifest.json";
/// The same, for a person.
const README: &str = "LIESMICH.txt";

/// `backup DIR`.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// New (or empty) directory for the backup; it is created readable by its owner only.
    pub dir: PathBuf,
    /// Base URL of the running server; default: `server.public_url`, else the listen
    /// address.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// File with an admin's API token (`token create --staff ADMIN`), first line; else the
    /// environment variable SPRECHSTUNDE_ADMIN_TOKEN.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
}

/// `restore DIR`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// A directory written by `backup`.
    pub dir: PathBuf,
}

/// `manifest.json`: what a backup holds.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    /// [`FORMAT`].
    format: String,
    /// When the copy was taken (RFC 3339).
    created_at: String,
    /// The server's version.
    version: String,
    /// The store: `sled`.
    store: String,
    /// The files, with size, SHA-256 and what they are.
    files: Vec<FileEntry>,
    /// What the copy holds.
    counts: Counts,
    /// What is not in it, and what to do about it.
    not_included: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct FileEntry {
    name: String,
    bytes: u64,
    sha256: String,
    what: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Counts {
    questions: u64,
    citizens: u64,
    sessions: u64,
    outbox: u64,
    keys: u64,
    trees: std::collections::BTreeMap<String, u64>,
}

impl From<&BackupCounts> for Counts {
    fn from(c: &BackupCounts) -> Self {
        Counts {
            questions: c.questions,
            citizens: c.citizens,
            sessions: c.sessions,
            outbox: c.outbox,
            keys: c.keys,
            trees: c.trees.clone(),
        }
    }
}

/// The server side of `POST /api/v1/backup` for a sled store: the archive with the store's
/// trees, its keys and the pseudonym key (when it is a file).
pub fn maker(store: Arc<SledStore>, settings: &Settings) -> sprechstunde_console::BackupFn {
    let pseudonym_file = pseudonym_key_file(settings);
    Arc::new(move || {
        let store = Arc::clone(&store);
        let pseudonym_file = pseudonym_file.clone();
        Box::pin(async move {
            // Reading the trees is blocking work (and holds the write lock, not the runtime).
            let backup = tokio::task::spawn_blocking(move || store.backup())
                .await
                .map_err(|e| format!("the backup task failed: {e}"))?
                .map_err(|e| e.to_string())?;
            let pseudonym =
                match &pseudonym_file {
                    Some(path) => Some(std::fs::read(path).map_err(|e| {
                        format!("reading the pseudonym key {}: {e}", path.display())
                    })?),
                    None => None,
                };
            Ok(archive(&backup, pseudonym.as_deref()))
        })
    })
}

/// The pseudonym key's file, unless the key comes from the environment.
fn pseudonym_key_file(settings: &Settings) -> Option<PathBuf> {
    let privacy = &settings.privacy;
    if privacy.pseudonym_key.is_some() {
        None
    } else if privacy.pseudonym_key_file.as_os_str().is_empty() {
        Some(settings.server.data_dir.join(PSEUDONYM_KEY))
    } else {
        Some(privacy.pseudonym_key_file.clone())
    }
}

/// The archive of a backup, manifest last.
fn archive(backup: &SledBackup, pseudonym: Option<&[u8]>) -> Vec<u8> {
    let mut files: Vec<(&str, &[u8], &str)> = vec![
        (
            TREES,
            &backup.trees,
            "every tree of the sled store; records linked to citizens sealed under their keys",
        ),
        (
            KEYS,
            &backup.keys,
            "the keys of the sealed records, taken at the same moment (erased citizens' keys \
             are gone)",
        ),
    ];
    let mut not_included = vec![
        "the configuration and secrets from the environment (Telegram and Matrix tokens, \
         SMTP password, store.url)"
            .to_owned(),
        "matrix/: the Matrix bot's device and encryption keys (the bot logs in again as a new \
         device after a restore; see docs/operations.md)"
            .to_owned(),
    ];
    match pseudonym {
        Some(key) => files.push((
            PSEUDONYM_KEY,
            key,
            "the pseudonym key: Telegram and Matrix ids are stored as HMAC pseudonyms under it \
             (without it returning citizens are not recognised)",
        )),
        None => not_included.push(
            "the pseudonym key: it comes from the environment (privacy.pseudonym_key); keep it \
             with the configuration"
                .to_owned(),
        ),
    }
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        created_at: jiff::Timestamp::now().to_string(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        store: "sled".to_owned(),
        files: files
            .iter()
            .map(|(name, bytes, what)| FileEntry {
                name: (*name).to_owned(),
                bytes: bytes.len() as u64,
                sha256: sha256_hex(bytes),
                what: (*what).to_owned(),
            })
            .collect(),
        counts: Counts::from(&backup.counts),
        not_included,
    };
    let manifest = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    let mut out = MAGIC.to_vec();
    for (name, bytes) in files
        .iter()
        .map(|(n, b, _)| (*n, *b))
        .chain([(MANIFEST, manifest.as_slice())])
    {
        let name_len = u16::try_from(name.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&name_len.to_be_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

/// The files of an archive, in order.
fn unpack(mut rest: &[u8]) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    rest = rest
        .strip_prefix(MAGIC)
        .context("the server's answer is not a sprechstunde backup")?;
    let mut take = |n: usize| -> anyhow::Result<&[u8]> {
        if rest.len() < n {
            bail!("the backup is truncated");
        }
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Ok(head)
    };
    let mut files = Vec::new();
    loop {
        let Ok(len) = take(2) else { break };
        let name_len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let name = String::from_utf8(take(name_len)?.to_vec())?;
        let size: [u8; 8] = take(8)?.try_into()?;
        let size = usize::try_from(u64::from_be_bytes(size))?;
        let bytes = take(size)?.to_vec();
        if name.contains(['/', '\\']) || name.starts_with('.') {
            bail!("the backup names a file outside its directory: {name:?}");
        }
        files.push((name, bytes));
    }
    Ok(files)
}

/// Whether `dir` is missing or an empty directory.
fn is_empty_or_missing(dir: &Path) -> anyhow::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

/// Creates `dir` readable by its owner only (mode 0700), or tightens an empty one to that.
fn private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot set the mode of {}", dir.display()))
}

/// Writes `bytes` to `path`, readable and writable by its owner only, durably.
fn private_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `backup DIR`: asks the running server for a backup and writes it into `DIR`.
///
/// # Errors
/// `DIR` is not empty, no token, the server unreachable or refusing, a damaged answer.
pub async fn backup(args: BackupArgs, settings: &Settings) -> anyhow::Result<()> {
    if settings.store.backend == StoreBackend::Postgres {
        bail!(
            "backup copies the embedded sled store; with PostgreSQL back up the database with \
             pg_dump and keep the pseudonym key (see docs/operations.md)"
        );
    }
    if !is_empty_or_missing(&args.dir)? {
        bail!(
            "{} is not empty: a backup is written only into a new or empty directory",
            args.dir.display()
        );
    }
    let token = crate::staff_cli::admin_token("backup", args.token_file.as_ref())?;
    let base = crate::staff_cli::server_base(settings, args.server.as_deref());
    let answer = reqwest::Client::new()
        .post(format!("{base}/api/v1/backup"))
        .bearer_auth(&token)
        .send()
        .await
        .with_context(|| format!("cannot reach the server at {base} (is it running?)"))?;
    let status = answer.status();
    if !status.is_success() {
        let message = answer
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or_default();
        bail!("the server refused the backup: {status} {message}");
    }
    let body = answer.bytes().await.context("the backup did not arrive")?;
    let files = unpack(&body)?;
    let manifest = check(&files)?;
    private_dir(&args.dir)?;
    for (name, bytes) in &files {
        private_file(&args.dir.join(name), bytes)?;
    }
    private_file(&args.dir.join(README), readme(&manifest).as_bytes())?;
    std::fs::File::open(&args.dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", args.dir.display()))?;
    let c = &manifest.counts;
    println!(
        "Backup in {}: {} questions, {} citizens, {} sessions, {} keys (taken {}).",
        args.dir.display(),
        c.questions,
        c.citizens,
        c.sessions,
        c.keys,
        manifest.created_at
    );
    Ok(())
}

/// The manifest of `files` (the last one), after checking every other file against it.
fn check(files: &[(String, Vec<u8>)]) -> anyhow::Result<Manifest> {
    let Some((name, bytes)) = files.last().filter(|(n, _)| n == MANIFEST) else {
        bail!("the backup has no manifest: it is incomplete");
    };
    let manifest: Manifest =
        serde_json::from_slice(bytes).with_context(|| format!("{name} is damaged"))?;
    if manifest.format != FORMAT {
        bail!(
            "unknown backup format {:?} (this version reads {FORMAT:?})",
            manifest.format
        );
    }
    for entry in &manifest.files {
        let (_, bytes) = files
            .iter()
            .find(|(n, _)| *n == entry.name)
            .with_context(|| format!("the backup lacks {}", entry.name))?;
        if sha256_hex(bytes) != entry.sha256 {
            bail!(
                "{} does not match its checksum: the backup is damaged",
                entry.name
            );
        }
    }
    Ok(manifest)
}

/// `LIESMICH.txt`: what the directory holds, in German and English.
fn readme(m: &Manifest) -> String {
    let c = &m.counts;
    let files: Vec<String> = m
        .files
        .iter()
        .map(|f| format!("  {} ({} bytes): {}", f.name, f.bytes, f.what))
        .collect();
    let missing: Vec<String> = m.not_included.iter().map(|n| format!("  {n}")).collect();
    format!(
        "Sicherung von sprechstunde {version}, erstellt {at}.\n\
         Sie enthält verschlüsselte Daten von Bürgerinnen und Bürgern UND die Schlüssel dazu:\n\
         bewahren Sie sie so geschützt auf wie den Server selbst.\n\
         Zurückspielen: sprechstunde restore DIESES_VERZEICHNIS (in ein leeres Datenverzeichnis).\n\n\
         Backup of sprechstunde {version}, taken {at}.\n\
         It holds sealed citizens' data AND the keys that open it: keep it as safe as the server.\n\
         Restore: sprechstunde restore THIS_DIRECTORY (into an empty data directory).\n\n\
         {q} questions, {ci} citizens, {s} sessions, {o} outbox messages, {k} keys.\n\
         Files:\n{files}\n  manifest.json: the same, with SHA-256 checksums\n\
         Not included:\n{missing}\n",
        version = m.version,
        at = m.created_at,
        q = c.questions,
        ci = c.citizens,
        s = c.sessions,
        o = c.outbox,
        k = c.keys,
        files = files.join("\n"),
        missing = missing.join("\n"),
    )
}

/// `restore DIR`: writes the backup in `DIR` into the (empty) data directory.
///
/// # Errors
/// Not a backup, a damaged one, a data directory that is not empty, a failed write.
pub async fn restore(args: RestoreArgs, settings: &Settings) -> anyhow::Result<()> {
    if settings.store.backend == StoreBackend::Postgres {
        bail!(
            "restore writes the embedded sled store; with PostgreSQL restore the database with \
             pg_restore (see docs/operations.md)"
        );
    }
    let read = |name: &str| {
        let path = args.dir.join(name);
        std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
    };
    let manifest_bytes = read(MANIFEST).context("not a complete backup directory")?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .with_context(|| format!("{MANIFEST} is damaged"))?;
    let mut files = Vec::new();
    for entry in &manifest.files {
        files.push((entry.name.clone(), read(&entry.name)?));
    }
    files.push((MANIFEST.to_owned(), manifest_bytes));
    let manifest = check(&files)?;
    let file = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
    };
    let data = settings.server.data_dir.clone();
    if !is_empty_or_missing(&data)? {
        bail!(
            "the data directory {} is not empty: restore writes only into an empty one (stop the \
             server and move the old directory aside, or restore with --data-dir NEW_DIR)",
            data.display()
        );
    }
    let existed = data.exists();
    let restored = restore_into(&data, &args.dir, settings, &manifest, &file).await;
    if restored.is_err() {
        // Leave no half-restored store behind for a server to start on.
        if existed {
            if let Ok(entries) = std::fs::read_dir(&data) {
                for entry in entries.flatten() {
                    let path = entry.path();
                    let _ = if path.is_dir() {
                        std::fs::remove_dir_all(&path)
                    } else {
                        std::fs::remove_file(&path)
                    };
                }
            }
        } else {
            let _ = std::fs::remove_dir_all(&data);
        }
    }
    restored
}

/// Writes the store, its keys and the pseudonym key into `data`, then loads the store once.
async fn restore_into(
    data: &Path,
    backup_dir: &Path,
    settings: &Settings,
    manifest: &Manifest,
    file: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> anyhow::Result<()> {
    let backup = SledBackup {
        trees: file(TREES).context("the backup lacks the store")?,
        keys: file(KEYS).context("the backup lacks the keys")?,
        counts: BackupCounts::default(),
    };
    let counts = sprechstunde_store_sled::restore(data, &backup)
        .with_context(|| format!("cannot restore into {}", data.display()))?;
    let mut notes = Vec::new();
    if let Some(key) = file(PSEUDONYM_KEY) {
        match pseudonym_key_file(settings) {
            Some(path) if path == data.join(PSEUDONYM_KEY) => {
                private_file(&path, &key)?;
            }
            Some(path) => notes.push(format!(
                "The configuration reads the pseudonym key from {}; it was not changed. The \
                 backup's key is {}.",
                path.display(),
                backup_dir.join(PSEUDONYM_KEY).display()
            )),
            None => notes.push(
                "The pseudonym key comes from the environment; the backup's copy was not used."
                    .to_owned(),
            ),
        }
    }
    // Loads what was written, as the server will: a copy that does not load fails here.
    let store = SledStore::open(data).context("the restored store does not open")?;
    let snapshot = store
        .load()
        .await
        .context("the restored store does not load")?;
    drop(store);
    println!(
        "Restored into {}: {} questions, {} citizens, {} sessions, {} keys (backup taken {}).",
        data.display(),
        snapshot.questions.len(),
        snapshot.citizens.len(),
        counts.sessions,
        counts.keys,
        manifest.created_at
    );
    for note in notes {
        eprintln!("{note}");
    }
    Ok(())
}
