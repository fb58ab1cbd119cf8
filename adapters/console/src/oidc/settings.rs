//! The `[oidc]` section of the configuration and its checks at start.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::roles::RoleMapping;

/// `[oidc]`: single sign-on through an OpenID provider. Off while `issuer` is empty.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcSettings {
    /// The provider's issuer URL, e.g. `https://id.musterstadt.de/realms/rathaus`; discovery
    /// reads `<issuer>/.well-known/openid-configuration`. Empty: no single sign-on.
    pub issuer: String,
    /// Our client id at the provider.
    pub client_id: String,
    /// The client secret, from the environment only (`SPRECHSTUNDE_OIDC__CLIENT_SECRET`).
    pub client_secret: Option<String>,
    /// A file holding the client secret (used when the environment has none).
    pub client_secret_file: PathBuf,
    /// The public base URL the provider sends the browser back to; empty for
    /// `server.public_url` (or the listen address).
    pub redirect_base_url: String,
    /// Scopes asked for (`openid` is always added).
    pub scopes: Vec<String>,
    /// The claim carrying group or role names; dots walk into objects
    /// (`realm_access.roles`).
    pub role_claim: String,
    /// Whether the password login stays available.
    pub password_login: bool,
    /// Claim values and the roles and department they grant.
    pub mapping: Vec<RoleMapping>,
}

impl Default for OidcSettings {
    fn default() -> Self {
        OidcSettings {
            issuer: String::new(),
            client_id: String::new(),
            client_secret: None,
            client_secret_file: PathBuf::new(),
            redirect_base_url: String::new(),
            scopes: vec!["openid".into(), "profile".into(), "email".into()],
            role_claim: "groups".into(),
            password_login: true,
            mapping: Vec::new(),
        }
    }
}

impl OidcSettings {
    /// Whether single sign-on is configured.
    pub fn enabled(&self) -> bool {
        !self.issuer.trim().is_empty()
    }

    /// The first problem of the section, as `(key, what is wrong)`; `None` if it is usable.
    /// The secret file is read here too, so a missing one stops the start.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        if !self.enabled() {
            return (!self.password_login).then(|| {
                (
                    "oidc.password_login",
                    "the password login can only be switched off when oidc.issuer is set"
                        .to_owned(),
                )
            });
        }
        let issuer = self.issuer.trim();
        if !is_allowed_url(issuer) {
            return Some((
                "oidc.issuer",
                format!(
                    "{issuer:?} must be an https:// URL (http:// only on 127.0.0.1 or localhost)"
                ),
            ));
        }
        if self.client_id.trim().is_empty() {
            return Some(("oidc.client_id", "must be set".to_owned()));
        }
        if let Err(problem) = self.client_secret() {
            return Some(("oidc.client_secret", problem));
        }
        let base = self.redirect_base_url.trim();
        if !base.is_empty() && !is_allowed_url(base) {
            return Some((
                "oidc.redirect_base_url",
                "must be an https:// URL (http:// only on 127.0.0.1 or localhost)".to_owned(),
            ));
        }
        if self.role_claim.trim().is_empty() {
            return Some((
                "oidc.role_claim",
                "must name a claim, e.g. groups".to_owned(),
            ));
        }
        if self.mapping.is_empty() {
            return Some((
                "oidc.mapping",
                "needs at least one [[oidc.mapping]] entry (value and roles); without one \
                 nobody could sign in"
                    .to_owned(),
            ));
        }
        if let Some(row) = self
            .mapping
            .iter()
            .find(|r| r.value.trim().is_empty() || r.roles.is_empty())
        {
            return Some((
                "oidc.mapping",
                format!(
                    "entry {:?}: every entry needs a value and at least one role",
                    row.value
                ),
            ));
        }
        None
    }

    /// The client secret: from the environment (`client_secret`), else from
    /// `client_secret_file`.
    ///
    /// # Errors
    /// Neither is set, or the file cannot be read or is empty.
    pub fn client_secret(&self) -> Result<String, String> {
        if let Some(secret) = self.client_secret.as_deref().map(str::trim)
            && !secret.is_empty()
        {
            return Ok(secret.to_owned());
        }
        if self.client_secret_file.as_os_str().is_empty() {
            return Err(
                "set SPRECHSTUNDE_OIDC__CLIENT_SECRET or oidc.client_secret_file".to_owned(),
            );
        }
        read_secret(&self.client_secret_file)
    }
}

fn read_secret(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let secret = text.trim();
    if secret.is_empty() {
        return Err(format!("{} is empty", path.display()));
    }
    Ok(secret.to_owned())
}

/// `https://…`, or `http://` on a loopback host (tests, a provider on the same machine).
fn is_allowed_url(url: &str) -> bool {
    let Ok(parsed) = openidconnect::url::Url::parse(url) else {
        return false;
    };
    match parsed.scheme() {
        "https" => parsed.host().is_some(),
        "http" => matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use sprechstunde_core::Role;

    use super::*;

    fn configured() -> OidcSettings {
        OidcSettings {
            issuer: "https://id.musterstadt.de/realms/rathaus".into(),
            client_id: "sprechstunde".into(),
            client_secret: Some("s3cret".into()),
            mapping: vec![RoleMapping {
                value: "/buergerreferat".into(),
                roles: vec![Role::CitizensOffice],
                department: String::new(),
            }],
            ..OidcSettings::default()
        }
    }

    #[test]
    fn a_complete_section_has_no_problem_and_an_empty_one_is_off() {
        assert_eq!(configured().problem(), None);
        assert!(!OidcSettings::default().enabled());
        assert_eq!(OidcSettings::default().problem(), None);
    }

    #[test]
    fn each_missing_or_bad_value_names_its_key() {
        let key = |s: OidcSettings| s.problem().map(|(k, _)| k);
        assert_eq!(
            key(OidcSettings {
                issuer: "http://id.musterstadt.de".into(),
                ..configured()
            }),
            Some("oidc.issuer")
        );
        assert_eq!(
            key(OidcSettings {
                client_id: " ".into(),
                ..configured()
            }),
            Some("oidc.client_id")
        );
        assert_eq!(
            key(OidcSettings {
                client_secret: None,
                ..configured()
            }),
            Some("oidc.client_secret")
        );
        assert_eq!(
            key(OidcSettings {
                mapping: Vec::new(),
                ..configured()
            }),
            Some("oidc.mapping")
        );
        assert_eq!(
            key(OidcSettings {
                password_login: false,
                ..OidcSettings::default()
            }),
            Some("oidc.password_login")
        );
    }

    #[test]
    fn the_secret_comes_from_a_file_when_the_environment_has_none() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("secret");
        std::fs::write(&file, "from-the-file\n").expect("write");
        let settings = OidcSettings {
            client_secret: None,
            client_secret_file: file,
            ..configured()
        };

        assert_eq!(settings.client_secret().as_deref(), Ok("from-the-file"));
        assert_eq!(settings.problem(), None);
    }
}
