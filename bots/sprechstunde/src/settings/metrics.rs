//! `[metrics]`: the bearer token that guards `/metrics`. The token comes from the
//! environment (`SPRECHSTUNDE_METRICS__TOKEN`) or from `token_file`, never from a
//! configuration file; without either, `/metrics` answers 404.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Toml};
use serde::Deserialize;

/// The shortest token accepted (a scrape token is no password a person types).
const MIN_TOKEN_CHARS: usize = 16;

/// `[metrics]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// The token: only from the environment (`SPRECHSTUNDE_METRICS__TOKEN`).
    pub token: Option<String>,
    /// Or a file holding it (first line).
    pub token_file: PathBuf,
}

impl MetricsSettings {
    /// The token, if metrics are on.
    ///
    /// # Errors
    /// Both sources are set, the file cannot be read or is empty, or the token is shorter
    /// than 16 characters.
    pub fn token(&self) -> Result<Option<String>, String> {
        let token = match (&self.token, self.token_file.as_os_str().is_empty()) {
            (Some(_), false) => {
                return Err(
                    "set either SPRECHSTUNDE_METRICS__TOKEN or metrics.token_file, not both".into(),
                );
            }
            (Some(token), true) => token.trim().to_owned(),
            (None, false) => std::fs::read_to_string(&self.token_file)
                .map_err(|e| format!("cannot read {}: {e}", self.token_file.display()))?
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned(),
            (None, true) => return Ok(None),
        };
        if token.chars().count() < MIN_TOKEN_CHARS {
            return Err(format!(
                "the metrics token must have at least {MIN_TOKEN_CHARS} characters"
            ));
        }
        Ok(Some(token))
    }

    /// The first problem, as (key, problem).
    pub(super) fn problem(&self) -> Option<(&'static str, String)> {
        self.token().err().map(|problem| ("metrics.token", problem))
    }
}

/// Refuses a configuration file that sets `metrics.token` (files end up in repositories
/// and backups).
///
/// # Errors
/// A message for [`super::SettingsError::Invalid`].
pub(super) fn check_file(file: &Path) -> Result<(), &'static str> {
    match Figment::from(Toml::file_exact(file)).find_value("metrics.token") {
        Ok(_) => Err(
            "must not be set in a configuration file: use the environment variable \
             SPRECHSTUNDE_METRICS__TOKEN or metrics.token_file",
        ),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use crate::settings::Settings;

    fn load(toml: &str) -> (tempfile::TempDir, Result<Settings, String>) {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            toml.replace("DIR", &dir.path().display().to_string()),
        )
        .expect("write");
        let loaded = Settings::load(Some(&file)).map_err(|e| e.to_string());
        (dir, loaded)
    }

    #[test]
    fn metrics_are_off_without_a_token_and_a_token_file_is_read() {
        let default = Settings::load(None).expect("default");
        assert_eq!(default.metrics.token(), Ok(None));
        let (dir, _) = load("");
        let secret = dir.path().join("token");
        std::fs::write(&secret, "0123456789abcdef-scrape\n").expect("write");
        let (_dir, loaded) = load(&format!(
            "[metrics]\ntoken_file = {:?}\n",
            secret.display().to_string()
        ));
        let settings = loaded.expect("settings");
        assert_eq!(
            settings.metrics.token(),
            Ok(Some("0123456789abcdef-scrape".to_owned()))
        );
    }

    #[test]
    fn a_token_in_the_configuration_file_or_a_short_one_is_refused() {
        let (_dir, loaded) = load("[metrics]\ntoken = \"0123456789abcdef-geheim\"\n");
        let message = loaded.expect_err("token in a file");
        assert!(message.contains("SPRECHSTUNDE_METRICS__TOKEN"), "{message}");
        assert!(!message.contains("geheim"), "{message}");
        let (_dir, loaded) = load("[metrics]\ntoken_file = \"DIR/short\"\n");
        assert!(loaded.expect_err("unreadable").contains("cannot read"));
        let (dir, _) = load("");
        let short = dir.path().join("short");
        std::fs::write(&short, "kurz").expect("write");
        let (_dir, loaded) = load(&format!(
            "[metrics]\ntoken_file = {:?}\n",
            short.display().to_string()
        ));
        assert!(loaded.expect_err("short").contains("at least 16"));
    }
}
