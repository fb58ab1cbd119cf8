//! `[store]`: which backend holds the office's data — the embedded sled database in
//! `server.data_dir` (the default) or PostgreSQL.
//!
//! The PostgreSQL connection URL may carry a password, so it comes from the environment
//! (`SPRECHSTUNDE_STORE__URL`) or from a file (`store.url_file`), never from a
//! configuration file: [`check_file`] refuses one that sets `store.url`.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Toml};
use serde::Deserialize;

/// The storage backend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreBackend {
    /// The embedded sled database in `server.data_dir`.
    #[default]
    Sled,
    /// A PostgreSQL database (`store.url` or `store.url_file`).
    Postgres,
}

/// How long a lease lasts without renewal unless configured: a standby takes over within
/// this plus a second or two after the active instance died.
const DEFAULT_LEASE_SECONDS: u32 = 5;

/// `[store]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSettings {
    /// `sled` or `postgres`.
    pub backend: StoreBackend,
    /// The PostgreSQL URL (`postgres://user:password@host:port/db`, or `host=/run/postgresql
    /// dbname=…`); only from the environment, `SPRECHSTUNDE_STORE__URL`.
    pub url: String,
    /// A file holding the PostgreSQL URL (readable by the service only), instead of `url`.
    pub url_file: PathBuf,
    /// PostgreSQL only: how long the active instance's lease lasts without renewal (it renews
    /// every second); a standby takes over after that once the active one died.
    pub lease_seconds: u32,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            backend: StoreBackend::default(),
            url: String::new(),
            url_file: PathBuf::new(),
            lease_seconds: DEFAULT_LEASE_SECONDS,
        }
    }
}

impl std::fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password.
        f.debug_struct("StoreSettings")
            .field("backend", &self.backend)
            .field("url", &if self.url.is_empty() { "" } else { "<set>" })
            .field("url_file", &self.url_file)
            .field("lease_seconds", &self.lease_seconds)
            .finish()
    }
}

impl StoreSettings {
    /// What is wrong with the settings, if anything.
    pub(crate) fn problem(&self) -> Option<&'static str> {
        let (url, file) = (!self.url.is_empty(), !self.url_file.as_os_str().is_empty());
        match self.backend {
            StoreBackend::Postgres if url && file => {
                Some("set either SPRECHSTUNDE_STORE__URL or store.url_file, not both")
            }
            StoreBackend::Postgres if !url && !file => Some(
                "backend \"postgres\" needs the connection URL in SPRECHSTUNDE_STORE__URL or a \
                 file named by store.url_file",
            ),
            StoreBackend::Postgres if !(2..=60).contains(&self.lease_seconds) => {
                Some("lease_seconds must be between 2 and 60 (the lease is renewed every second)")
            }
            _ => None,
        }
    }

    /// How long the lease lasts without renewal.
    pub fn lease(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.lease_seconds))
    }

    /// The PostgreSQL URL: `url`, or the first line of `url_file`.
    ///
    /// # Errors
    /// The file cannot be read or is empty.
    pub fn database_url(&self) -> anyhow::Result<String> {
        if !self.url.is_empty() {
            return Ok(self.url.clone());
        }
        let text = std::fs::read_to_string(&self.url_file).map_err(|e| {
            anyhow::anyhow!(
                "cannot read store.url_file {}: {e}",
                self.url_file.display()
            )
        })?;
        let url = text.lines().next().unwrap_or("").trim();
        if url.is_empty() {
            anyhow::bail!("store.url_file {} is empty", self.url_file.display());
        }
        Ok(url.to_owned())
    }
}

/// Refuses a configuration file that sets `store.url` (it may hold a password, and files
/// end up in repositories and backups).
///
/// # Errors
/// A message for [`super::SettingsError::Invalid`].
pub(crate) fn check_file(file: &Path) -> Result<(), &'static str> {
    match Figment::from(Toml::file_exact(file)).find_value("store.url") {
        Ok(_) => Err(
            "must not be set in a configuration file: use the environment variable \
             SPRECHSTUNDE_STORE__URL or store.url_file",
        ),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use crate::settings::{Settings, SettingsError};

    fn load(toml: &str) -> (tempfile::TempDir, Result<Settings, SettingsError>) {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("c.toml");
        std::fs::write(&file, toml).expect("write");
        let loaded = Settings::load(Some(&file));
        (dir, loaded)
    }

    #[test]
    fn a_configuration_file_with_the_database_url_is_refused() {
        let (_dir, loaded) =
            load("[store]\nbackend = \"postgres\"\nurl = \"postgres://u:geheim@db/x\"\n");
        let err = loaded.expect_err("url in a file");
        let message = err.to_string();
        assert!(message.contains("store.url"), "{message}");
        assert!(!message.contains("geheim"), "{message}");
    }

    #[test]
    fn a_lease_shorter_than_two_seconds_is_refused_and_five_is_the_default() {
        let dir = tempfile::tempdir().expect("dir");
        let url_file = dir.path().join("db-url");
        std::fs::write(&url_file, "postgres://127.0.0.1/office\n").expect("write");
        let toml = |extra: &str| {
            format!(
                "[store]\nbackend = \"postgres\"\nurl_file = \"{}\"\n{extra}",
                url_file.display()
            )
        };
        let (_a, short) = load(&toml("lease_seconds = 1\n"));
        let (_b, default) = load(&toml(""));
        assert!(
            short
                .expect_err("too short")
                .to_string()
                .contains("lease_seconds")
        );
        assert_eq!(
            default.expect("default").store.lease(),
            std::time::Duration::from_secs(5)
        );
    }

    #[test]
    fn postgres_without_a_url_is_refused_and_a_url_file_is_read() {
        let (_dir, loaded) = load("[store]\nbackend = \"postgres\"\n");
        assert!(
            loaded
                .expect_err("no url")
                .to_string()
                .contains("SPRECHSTUNDE_STORE__URL")
        );

        let dir = tempfile::tempdir().expect("dir");
        let url_file = dir.path().join("db-url");
        std::fs::write(&url_file, "postgres://u:p@127.0.0.1:5432/office\n").expect("write");
        let (_c, loaded) = load(&format!(
            "[store]\nbackend = \"postgres\"\nurl_file = \"{}\"\n",
            url_file.display()
        ));
        let settings = loaded.expect("url file");
        assert_eq!(
            settings.store.database_url().expect("read"),
            "postgres://u:p@127.0.0.1:5432/office"
        );
        assert!(
            !format!("{settings:?}").contains("u:p@"),
            "the URL is not in Debug output"
        );
    }
}
