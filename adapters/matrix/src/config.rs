//! `[matrix]` configuration and its validation at start.
//!
//! Secrets (password or access token) never come from the configuration files in the
//! repository: figment maps the environment variables `SPRECHSTUNDE_MATRIX__PASSWORD` and
//! `SPRECHSTUNDE_MATRIX__ACCESS_TOKEN` to the keys `password` and `access_token`, or the
//! operator names a file with `password_file` / `access_token_file`.

use std::path::{Path, PathBuf};

use matrix_sdk::reqwest::Url;
use matrix_sdk::ruma::{OwnedRoomOrAliasId, OwnedUserId, UserId};
use serde::Deserialize;

use crate::MatrixError;

/// `[matrix]` configuration.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixConfig {
    /// Run the Matrix bot.
    #[serde(default)]
    pub enabled: bool,
    /// The homeserver's client-server API base URL, e.g. `https://matrix.example.org`.
    #[serde(default)]
    pub homeserver: String,
    /// The bot's full user id, e.g. `@sprechstunde:example.org`.
    #[serde(default)]
    pub user: String,
    /// Name of the bot's device, shown in the account's session list.
    #[serde(default = "default_device_name")]
    pub device_name: String,
    /// The bot's display name in rooms.
    #[serde(default = "default_display_name")]
    pub display_name: String,
    /// The password (only from `SPRECHSTUNDE_MATRIX__PASSWORD`).
    #[serde(default)]
    pub password: Option<String>,
    /// A file holding the password; empty for none.
    #[serde(default)]
    pub password_file: PathBuf,
    /// An access token (only from `SPRECHSTUNDE_MATRIX__ACCESS_TOKEN`).
    #[serde(default)]
    pub access_token: Option<String>,
    /// A file holding an access token; empty for none.
    #[serde(default)]
    pub access_token_file: PathBuf,
    /// A room (id or alias) the bot may post announcements into; empty for none.
    #[serde(default)]
    pub announcements_room: String,
}

impl Default for MatrixConfig {
    fn default() -> Self {
        MatrixConfig {
            enabled: false,
            homeserver: String::new(),
            user: String::new(),
            device_name: default_device_name(),
            display_name: default_display_name(),
            password: None,
            password_file: PathBuf::new(),
            access_token: None,
            access_token_file: PathBuf::new(),
            announcements_room: String::new(),
        }
    }
}

fn default_device_name() -> String {
    "sprechstunde".into()
}

fn default_display_name() -> String {
    "Bürgersprechstunde".into()
}

impl std::fmt::Debug for MatrixConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secrets.
        f.debug_struct("MatrixConfig")
            .field("enabled", &self.enabled)
            .field("homeserver", &self.homeserver)
            .field("user", &self.user)
            .field("device_name", &self.device_name)
            .field("display_name", &self.display_name)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("password_file", &self.password_file)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .field("access_token_file", &self.access_token_file)
            .field("announcements_room", &self.announcements_room)
            .finish()
    }
}

/// How the bot authenticates.
#[derive(Clone)]
pub(crate) enum Credential {
    /// Log in with the password (once; the session is kept afterwards).
    Password(String),
    /// Use an access token made elsewhere (its device is the bot's device).
    AccessToken(String),
}

/// A checked configuration.
#[derive(Clone)]
pub(crate) struct Validated {
    pub(crate) homeserver: Url,
    pub(crate) user: OwnedUserId,
    pub(crate) device_name: String,
    pub(crate) display_name: String,
    pub(crate) credential: Credential,
    pub(crate) announcements_room: Option<OwnedRoomOrAliasId>,
}

fn invalid(key: &str, reason: impl Into<String>) -> MatrixError {
    MatrixError::Config {
        key: format!("matrix.{key}"),
        reason: reason.into(),
    }
}

fn read_secret(key: &str, path: &Path) -> Result<String, MatrixError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid(key, format!("cannot read {}: {e}", path.display())))?;
    let secret = text.trim().to_owned();
    if secret.is_empty() {
        return Err(invalid(key, format!("{} is empty", path.display())));
    }
    Ok(secret)
}

fn given(value: Option<&String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl MatrixConfig {
    /// Checks every key; the error names the first bad one.
    pub(crate) fn validate(&self) -> Result<Validated, MatrixError> {
        let homeserver = Url::parse(self.homeserver.trim())
            .map_err(|e| invalid("homeserver", format!("not a URL: {e}")))?;
        if !matches!(homeserver.scheme(), "http" | "https") {
            return Err(invalid("homeserver", "must be an http or https URL"));
        }
        let user = UserId::parse(self.user.trim()).map_err(|e| {
            invalid(
                "user",
                format!("not a full Matrix user id like @bot:example.org: {e}"),
            )
        })?;
        if self.device_name.trim().is_empty() {
            return Err(invalid("device_name", "must not be empty"));
        }
        if self.display_name.trim().is_empty() {
            return Err(invalid("display_name", "must not be empty"));
        }
        let mut sources = Vec::new();
        if let Some(p) = given(self.password.as_ref()) {
            sources.push(("password", Credential::Password(p)));
        }
        if !self.password_file.as_os_str().is_empty() {
            let p = read_secret("password_file", &self.password_file)?;
            sources.push(("password_file", Credential::Password(p)));
        }
        if let Some(t) = given(self.access_token.as_ref()) {
            sources.push(("access_token", Credential::AccessToken(t)));
        }
        if !self.access_token_file.as_os_str().is_empty() {
            let t = read_secret("access_token_file", &self.access_token_file)?;
            sources.push(("access_token_file", Credential::AccessToken(t)));
        }
        let credential = match sources.len() {
            0 => {
                return Err(invalid(
                    "password",
                    "no credential: set SPRECHSTUNDE_MATRIX__PASSWORD or \
                     SPRECHSTUNDE_MATRIX__ACCESS_TOKEN, or matrix.password_file or \
                     matrix.access_token_file",
                ));
            }
            1 => sources.remove(0).1,
            _ => {
                let keys: Vec<_> = sources.iter().map(|(k, _)| format!("matrix.{k}")).collect();
                return Err(invalid(
                    sources[1].0,
                    format!(
                        "more than one credential is set ({}); keep one",
                        keys.join(", ")
                    ),
                ));
            }
        };
        let announcements_room = match self.announcements_room.trim() {
            "" => None,
            room => Some(OwnedRoomOrAliasId::try_from(room).map_err(|e| {
                invalid("announcements_room", format!("not a room id or alias: {e}"))
            })?),
        };
        Ok(Validated {
            homeserver,
            user,
            device_name: self.device_name.trim().to_owned(),
            display_name: self.display_name.trim().to_owned(),
            credential,
            announcements_room,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> MatrixConfig {
        MatrixConfig {
            enabled: true,
            homeserver: "http://127.0.0.1:8008".into(),
            user: "@bot:localhost".into(),
            password: Some("secret".into()),
            ..MatrixConfig::default()
        }
    }

    fn key_of(result: Result<Validated, MatrixError>) -> String {
        match result {
            Err(MatrixError::Config { key, .. }) => key,
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn a_complete_configuration_is_accepted() {
        let valid = config().validate().expect("valid");
        assert_eq!(valid.user.as_str(), "@bot:localhost");
        assert!(matches!(valid.credential, Credential::Password(_)));
        assert!(valid.announcements_room.is_none());
    }

    #[test]
    fn bad_values_name_their_key() {
        let mut c = config();
        c.homeserver = "matrix.example.org".into();
        assert_eq!(key_of(c.validate()), "matrix.homeserver");
        let mut c = config();
        c.user = "bot".into();
        assert_eq!(key_of(c.validate()), "matrix.user");
        let mut c = config();
        c.password = None;
        assert_eq!(key_of(c.validate()), "matrix.password");
        let mut c = config();
        c.access_token = Some("t".into());
        assert_eq!(key_of(c.validate()), "matrix.access_token");
        let mut c = config();
        c.announcements_room = "not a room".into();
        assert_eq!(key_of(c.validate()), "matrix.announcements_room");
        let mut c = config();
        c.password_file = "/nonexistent/sprechstunde/password".into();
        assert_eq!(key_of(c.validate()), "matrix.password_file");
    }

    #[test]
    fn debug_output_hides_the_secrets() {
        let mut c = config();
        c.access_token = Some("syt_geheim".into());
        let shown = format!("{c:?}");
        assert!(!shown.contains("secret") && !shown.contains("syt_geheim"));
    }
}
