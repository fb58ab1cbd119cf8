//! `[telegram]` configuration and its validation at start.
//!
//! Secrets (the bot token, the webhook secret) come from the environment
//! (`SPRECHSTUNDE_TELEGRAM__TOKEN`, `SPRECHSTUNDE_TELEGRAM__WEBHOOK_SECRET`) or from files named
//! in the configuration; they are never printed, not even by `Debug`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::TelegramError;

/// The public Bot API.
pub const DEFAULT_API_URL: &str = "https://api.telegram.org";
/// Where the webhook is served by default.
pub const DEFAULT_WEBHOOK_PATH: &str = "/telegram/webhook";

/// How updates reach the bot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TelegramMode {
    /// The bot asks with `getUpdates` (long polling); needs no public URL.
    #[default]
    Polling,
    /// Telegram POSTs updates to `webhook_url`; needs a public HTTPS URL.
    Webhook,
}

/// `[telegram]` configuration.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// Run the Telegram bot.
    #[serde(default)]
    pub enabled: bool,
    /// Base URL of the Bot API (tests point it at an emulator).
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// `polling` or `webhook`.
    #[serde(default)]
    pub mode: TelegramMode,
    /// Public HTTPS URL of the webhook, including its path (webhook mode).
    #[serde(default)]
    pub webhook_url: String,
    /// Path this server serves the webhook on.
    #[serde(default = "default_webhook_path")]
    pub webhook_path: String,
    /// File holding the bot token (instead of `SPRECHSTUNDE_TELEGRAM__TOKEN`).
    #[serde(default)]
    pub token_file: PathBuf,
    /// File holding the webhook secret (instead of `SPRECHSTUNDE_TELEGRAM__WEBHOOK_SECRET`).
    #[serde(default)]
    pub webhook_secret_file: PathBuf,
    /// The bot token, from `SPRECHSTUNDE_TELEGRAM__TOKEN` only.
    #[serde(default)]
    pub token: Option<String>,
    /// The webhook secret, from `SPRECHSTUNDE_TELEGRAM__WEBHOOK_SECRET` only.
    #[serde(default)]
    pub webhook_secret: Option<String>,
}

fn default_api_url() -> String {
    DEFAULT_API_URL.to_owned()
}

fn default_webhook_path() -> String {
    DEFAULT_WEBHOOK_PATH.to_owned()
}

impl Default for TelegramConfig {
    fn default() -> Self {
        TelegramConfig {
            enabled: false,
            api_url: default_api_url(),
            mode: TelegramMode::Polling,
            webhook_url: String::new(),
            webhook_path: default_webhook_path(),
            token_file: PathBuf::new(),
            webhook_secret_file: PathBuf::new(),
            token: None,
            webhook_secret: None,
        }
    }
}

impl std::fmt::Debug for TelegramConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("TelegramConfig")
            .field("enabled", &self.enabled)
            .field("api_url", &self.api_url)
            .field("mode", &self.mode)
            .field("webhook_url", &self.webhook_url)
            .field("webhook_path", &self.webhook_path)
            .field("token_file", &self.token_file)
            .field("webhook_secret_file", &self.webhook_secret_file)
            .field("token", &redacted(&self.token))
            .field("webhook_secret", &redacted(&self.webhook_secret))
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

/// How updates arrive, validated.
#[derive(Debug, Clone)]
pub(crate) enum Intake {
    Polling,
    Webhook {
        url: reqwest::Url,
        path: String,
        secret: Secret,
    },
}

/// The configuration after validation.
#[derive(Debug, Clone)]
pub(crate) struct Valid {
    pub(crate) token: Secret,
    pub(crate) api_url: reqwest::Url,
    pub(crate) intake: Intake,
}

fn invalid(key: &'static str, problem: impl Into<String>) -> TelegramError {
    TelegramError::Config {
        key,
        problem: problem.into(),
    }
}

fn read_secret(key: &'static str, path: &Path) -> Result<String, TelegramError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| invalid(key, format!("cannot read {}: {e}", path.display())))
}

/// Bot tokens look like `123456789:AA…`.
fn token_shape(token: &str) -> bool {
    match token.split_once(':') {
        Some((id, rest)) => {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit())
                && !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        }
        None => false,
    }
}

/// What Telegram accepts as `secret_token`: 1–256 of `A-Z a-z 0-9 _ -`.
fn secret_shape(secret: &str) -> bool {
    (1..=256).contains(&secret.len())
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl TelegramConfig {
    /// Checks the configuration and loads the secrets.
    pub(crate) fn validate(&self) -> Result<Valid, TelegramError> {
        let env_token = self
            .token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let token = match (env_token, self.token_file.as_os_str().is_empty()) {
            (Some(_), false) => {
                return Err(invalid(
                    "token_file",
                    "set either SPRECHSTUNDE_TELEGRAM__TOKEN or telegram.token_file, not both",
                ));
            }
            (Some(t), true) => t.to_owned(),
            (None, false) => read_secret("token_file", &self.token_file)?,
            (None, true) => {
                return Err(invalid(
                    "token",
                    "the bot token is missing: set SPRECHSTUNDE_TELEGRAM__TOKEN or \
                     telegram.token_file",
                ));
            }
        };
        if !token_shape(&token) {
            // The value itself is not repeated: it may be a real token with a typo.
            return Err(invalid(
                "token",
                "does not look like a bot token from BotFather (<digits>:<letters>)",
            ));
        }
        let api_url = reqwest::Url::parse(self.api_url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            .ok_or_else(|| invalid("api_url", "must be an http(s) URL"))?;
        let intake = match self.mode {
            TelegramMode::Polling => Intake::Polling,
            TelegramMode::Webhook => {
                let url = reqwest::Url::parse(self.webhook_url.trim())
                    .ok()
                    .filter(|u| u.scheme() == "https")
                    .ok_or_else(|| {
                        invalid(
                            "webhook_url",
                            "webhook mode needs the public https:// URL of the webhook",
                        )
                    })?;
                let path = self.webhook_path.trim().to_owned();
                if !path.starts_with('/') || path.len() < 2 || path.contains(['?', '#', ' ']) {
                    return Err(invalid(
                        "webhook_path",
                        "must be a path such as /telegram/webhook",
                    ));
                }
                let env_secret = self
                    .webhook_secret
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty());
                let secret = match (env_secret, self.webhook_secret_file.as_os_str().is_empty()) {
                    (Some(_), false) => {
                        return Err(invalid(
                            "webhook_secret_file",
                            "set either SPRECHSTUNDE_TELEGRAM__WEBHOOK_SECRET or \
                             telegram.webhook_secret_file, not both",
                        ));
                    }
                    (Some(s), true) => s.to_owned(),
                    (None, false) => read_secret("webhook_secret_file", &self.webhook_secret_file)?,
                    (None, true) => {
                        return Err(invalid(
                            "webhook_secret",
                            "webhook mode needs a secret: set \
                             SPRECHSTUNDE_TELEGRAM__WEBHOOK_SECRET or \
                             telegram.webhook_secret_file",
                        ));
                    }
                };
                if !secret_shape(&secret) {
                    return Err(invalid(
                        "webhook_secret",
                        "must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -",
                    ));
                }
                Intake::Webhook {
                    url,
                    path,
                    secret: Secret(secret),
                }
            }
        };
        Ok(Valid {
            token: Secret(token),
            api_url,
            intake,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> TelegramConfig {
        TelegramConfig {
            enabled: true,
            token: Some("123456:ABC-def_ghi".to_owned()),
            ..TelegramConfig::default()
        }
    }

    #[test]
    fn a_valid_polling_configuration_passes() {
        let valid = config().validate().expect("valid");
        assert!(matches!(valid.intake, Intake::Polling));
        assert_eq!(valid.api_url.as_str(), "https://api.telegram.org/");
    }

    #[test]
    fn invalid_configurations_name_their_key_and_never_the_token() {
        let cases: Vec<(&str, TelegramConfig, &str)> = vec![
            (
                "no token",
                TelegramConfig {
                    token: None,
                    ..config()
                },
                "telegram.token",
            ),
            (
                "malformed token",
                TelegramConfig {
                    token: Some("not-a-token".into()),
                    ..config()
                },
                "telegram.token",
            ),
            (
                "bad api url",
                TelegramConfig {
                    api_url: "ftp://x".into(),
                    ..config()
                },
                "telegram.api_url",
            ),
            (
                "webhook without https",
                TelegramConfig {
                    mode: TelegramMode::Webhook,
                    webhook_url: "http://example.org/telegram/webhook".into(),
                    webhook_secret: Some("abc".into()),
                    ..config()
                },
                "telegram.webhook_url",
            ),
            (
                "webhook without secret",
                TelegramConfig {
                    mode: TelegramMode::Webhook,
                    webhook_url: "https://example.org/telegram/webhook".into(),
                    ..config()
                },
                "telegram.webhook_secret",
            ),
            (
                "webhook secret with bad characters",
                TelegramConfig {
                    mode: TelegramMode::Webhook,
                    webhook_url: "https://example.org/telegram/webhook".into(),
                    webhook_secret: Some("geheim!".into()),
                    ..config()
                },
                "telegram.webhook_secret",
            ),
            (
                "missing token file",
                TelegramConfig {
                    token: None,
                    token_file: "/nonexistent/telegram.token".into(),
                    ..config()
                },
                "telegram.token_file",
            ),
        ];
        for (name, config, key) in cases {
            let error = config.validate().expect_err(name).to_string();
            assert!(error.contains(key), "{name}: {error}");
            assert!(!error.contains("ABC-def_ghi"), "{name}: {error}");
        }
    }

    #[test]
    fn debug_output_hides_the_secrets() {
        let shown = format!(
            "{:?}",
            TelegramConfig {
                webhook_secret: Some("s3cr3t".into()),
                ..config()
            }
        );
        assert!(!shown.contains("ABC-def_ghi"), "{shown}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }
}
