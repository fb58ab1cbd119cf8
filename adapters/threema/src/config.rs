//! `[threema]` configuration and its validation at start.
//!
//! The two secrets, the API secret of the Gateway ID and the ID's private key, come from the
//! environment (`SPRECHSTUNDE_THREEMA__SECRET`, `SPRECHSTUNDE_THREEMA__PRIVATE_KEY`) or from
//! files named in the configuration; they are never printed, not even by `Debug`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use threema_gateway::ThreemaId;

use crate::ThreemaError;

/// The public Threema Gateway API.
pub const DEFAULT_API_URL: &str = "https://msgapi.threema.ch";
/// Where the Gateway's callback is served by default.
pub const DEFAULT_CALLBACK_PATH: &str = "/threema/callback";
/// Below this many credits an administrator is warned, by default.
pub const DEFAULT_CREDITS_WARN_BELOW: i64 = 500;

/// `[threema]` configuration.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreemaConfig {
    /// Run the Threema channel.
    #[serde(default)]
    pub enabled: bool,
    /// Base URL of the Gateway API (tests point it at an emulator).
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// The Gateway ID in end-to-end mode, eight characters starting with `*`.
    #[serde(default)]
    pub gateway_id: String,
    /// Path this server serves the Gateway's callback on (the callback URL set for the ID in
    /// the Gateway's admin area ends with it).
    #[serde(default = "default_callback_path")]
    pub callback_path: String,
    /// File holding the API secret (instead of `SPRECHSTUNDE_THREEMA__SECRET`).
    #[serde(default)]
    pub secret_file: PathBuf,
    /// File holding the ID's private key, 64 hex digits, optionally prefixed `private:` as
    /// the Gateway's key tool writes it (instead of `SPRECHSTUNDE_THREEMA__PRIVATE_KEY`).
    #[serde(default)]
    pub private_key_file: PathBuf,
    /// Remaining credits below which administrators are warned.
    #[serde(default = "default_credits_warn_below")]
    pub credits_warn_below: i64,
    /// How often the remaining credits are asked for, in minutes.
    #[serde(default = "default_credits_check_minutes")]
    pub credits_check_minutes: u64,
    /// The API secret, from `SPRECHSTUNDE_THREEMA__SECRET` only.
    #[serde(default)]
    pub secret: Option<String>,
    /// The private key, from `SPRECHSTUNDE_THREEMA__PRIVATE_KEY` only.
    #[serde(default)]
    pub private_key: Option<String>,
}

fn default_api_url() -> String {
    DEFAULT_API_URL.to_owned()
}

fn default_callback_path() -> String {
    DEFAULT_CALLBACK_PATH.to_owned()
}

fn default_credits_warn_below() -> i64 {
    DEFAULT_CREDITS_WARN_BELOW
}

fn default_credits_check_minutes() -> u64 {
    60
}

impl Default for ThreemaConfig {
    fn default() -> Self {
        ThreemaConfig {
            enabled: false,
            api_url: default_api_url(),
            gateway_id: String::new(),
            callback_path: default_callback_path(),
            secret_file: PathBuf::new(),
            private_key_file: PathBuf::new(),
            credits_warn_below: default_credits_warn_below(),
            credits_check_minutes: default_credits_check_minutes(),
            secret: None,
            private_key: None,
        }
    }
}

impl std::fmt::Debug for ThreemaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("ThreemaConfig")
            .field("enabled", &self.enabled)
            .field("api_url", &self.api_url)
            .field("gateway_id", &self.gateway_id)
            .field("callback_path", &self.callback_path)
            .field("secret_file", &self.secret_file)
            .field("private_key_file", &self.private_key_file)
            .field("credits_warn_below", &self.credits_warn_below)
            .field("credits_check_minutes", &self.credits_check_minutes)
            .field("secret", &redacted(&self.secret))
            .field("private_key", &redacted(&self.private_key))
            .finish()
    }
}

/// A secret string that never prints.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The configuration after validation.
#[derive(Debug, Clone)]
pub(crate) struct Valid {
    pub(crate) gateway_id: ThreemaId,
    pub(crate) api_url: String,
    pub(crate) callback_path: String,
    pub(crate) secret: Secret,
    pub(crate) private_key: Secret,
    pub(crate) credits_warn_below: i64,
    pub(crate) credits_every: std::time::Duration,
}

fn invalid(key: &'static str, problem: impl Into<String>) -> ThreemaError {
    ThreemaError::Config {
        key,
        problem: problem.into(),
    }
}

fn read_secret(key: &'static str, path: &Path) -> Result<String, ThreemaError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| invalid(key, format!("cannot read {}: {e}", path.display())))
}

/// One secret from the environment or a file, never both.
fn secret(
    env_value: Option<&str>,
    file: &Path,
    key: &'static str,
    file_key: &'static str,
    env: &'static str,
) -> Result<String, ThreemaError> {
    let env_value = env_value.map(str::trim).filter(|v| !v.is_empty());
    match (env_value, file.as_os_str().is_empty()) {
        (Some(_), false) => Err(invalid(
            file_key,
            format!("set either {env} or threema.{file_key}, not both"),
        )),
        (Some(v), true) => Ok(v.to_owned()),
        (None, false) => read_secret(file_key, file),
        (None, true) => Err(invalid(
            key,
            format!("missing: set {env} or threema.{file_key}"),
        )),
    }
}

impl ThreemaConfig {
    /// Checks the configuration and loads the secrets.
    pub(crate) fn validate(&self) -> Result<Valid, ThreemaError> {
        let id = self.gateway_id.trim();
        if !id.starts_with('*') {
            return Err(invalid(
                "gateway_id",
                "a Gateway ID has eight characters and starts with * (e.g. *SPRECH1)",
            ));
        }
        let gateway_id = ThreemaId::try_from(id).map_err(|_| {
            invalid(
                "gateway_id",
                "a Gateway ID has eight characters and starts with * (e.g. *SPRECH1)",
            )
        })?;
        let api_url = self.api_url.trim().trim_end_matches('/').to_owned();
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
            return Err(invalid("api_url", "must be an http(s) URL"));
        }
        let callback_path = self.callback_path.trim().to_owned();
        if !callback_path.starts_with('/') {
            return Err(invalid("callback_path", "must start with /"));
        }
        let secret_value = secret(
            self.secret.as_deref(),
            &self.secret_file,
            "secret",
            "secret_file",
            "SPRECHSTUNDE_THREEMA__SECRET",
        )?;
        let key = secret(
            self.private_key.as_deref(),
            &self.private_key_file,
            "private_key",
            "private_key_file",
            "SPRECHSTUNDE_THREEMA__PRIVATE_KEY",
        )?;
        let key = key
            .strip_prefix("private:")
            .unwrap_or(&key)
            .trim()
            .to_owned();
        if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
            // The value itself is not repeated: it is a private key.
            return Err(invalid(
                "private_key",
                "must be the Gateway ID's private key, 64 hex digits (optionally after private:)",
            ));
        }
        if self.credits_check_minutes == 0 {
            return Err(invalid("credits_check_minutes", "must be at least 1"));
        }
        Ok(Valid {
            gateway_id,
            api_url,
            callback_path,
            secret: Secret(secret_value),
            private_key: Secret(key),
            credits_warn_below: self.credits_warn_below,
            credits_every: std::time::Duration::from_secs(self.credits_check_minutes * 60),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ThreemaConfig {
        ThreemaConfig {
            enabled: true,
            gateway_id: "*SPRECH1".into(),
            secret: Some("s3cret".into()),
            private_key: Some(format!("private:{}", "ab".repeat(32))),
            ..ThreemaConfig::default()
        }
    }

    #[test]
    fn a_complete_configuration_is_valid_and_the_key_loses_its_prefix() {
        let valid = config().validate().expect("valid");
        assert_eq!(valid.gateway_id.as_str(), "*SPRECH1");
        assert_eq!(valid.private_key.0, "ab".repeat(32));
        assert_eq!(valid.api_url, DEFAULT_API_URL);
    }

    #[test]
    fn each_wrong_value_is_named_by_its_key_without_repeating_a_secret() {
        type Change = fn(&mut ThreemaConfig);
        let cases: [(&str, Change, &str); 6] = [
            (
                "no star",
                |c| c.gateway_id = "SPRECH12".into(),
                "gateway_id",
            ),
            ("too short", |c| c.gateway_id = "*SP".into(), "gateway_id"),
            ("no secret", |c| c.secret = None, "secret"),
            (
                "short key",
                |c| c.private_key = Some("abcd-not-a-key".into()),
                "private_key",
            ),
            (
                "both",
                |c| c.secret_file = "/nonexistent".into(),
                "secret_file",
            ),
            ("path", |c| c.callback_path = "cb".into(), "callback_path"),
        ];
        for (name, change, key) in cases {
            let mut c = config();
            change(&mut c);
            let error = c.validate().expect_err(name).to_string();
            assert!(error.contains(&format!("threema.{key}")), "{name}: {error}");
            assert!(!error.contains("abcd-not-a-key"), "{name}: {error}");
            assert!(!error.contains("s3cret"), "{name}: {error}");
        }
    }

    #[test]
    fn debug_output_redacts_both_secrets() {
        let shown = format!("{:?}", config());
        assert!(!shown.contains("s3cret"));
        assert!(!shown.contains(&"ab".repeat(32)));
    }
}
