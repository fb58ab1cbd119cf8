//! `[mail]`: staff notifications by e-mail. Off while `host` is empty; then nothing is queued
//! and everything works as without mail.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use sprechstunde_core::StaffMailPolicy;
use sprechstunde_mail::{SmtpConfig, TlsMode, is_loopback};

/// How the connection to the mail server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTls {
    /// STARTTLS, required (port 587).
    #[default]
    StartTls,
    /// TLS from the start (port 465).
    Tls,
    /// Unencrypted: only for a mail server on 127.0.0.1 (a local relay).
    None,
}

/// `[mail]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailSettings {
    /// Mail server; empty: mail is off.
    pub host: String,
    /// Port.
    pub port: u16,
    /// `starttls`, `tls` or `none`.
    pub tls: MailTls,
    /// Sender, e.g. `Sprechstunde <sprechstunde@musterstadt.de>`.
    pub from: String,
    /// Login at the mail server; empty: none.
    pub username: String,
    /// Password: only from the environment (`SPRECHSTUNDE_MAIL__PASSWORD`), never the file.
    pub password: Option<String>,
    /// Or a file holding the password.
    pub password_file: PathBuf,
    /// The console's public address for links, e.g. `https://sprechstunde.musterstadt.de/staff`.
    pub console_url: String,
    /// Local hour from which the daily digest of overdue questions goes out (working days).
    pub digest_hour: i8,
    /// Longest wait for one SMTP command, in seconds.
    pub timeout_seconds: u64,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            host: String::new(),
            port: 587,
            tls: MailTls::StartTls,
            from: String::new(),
            username: String::new(),
            password: None,
            password_file: PathBuf::new(),
            console_url: String::new(),
            digest_hour: 7,
            timeout_seconds: 30,
        }
    }
}

impl MailSettings {
    /// Whether mail is configured.
    pub fn enabled(&self) -> bool {
        !self.host.trim().is_empty()
    }

    /// The first problem, as (key, problem).
    pub(super) fn problem(&self) -> Option<(&'static str, String)> {
        if !self.enabled() {
            return None;
        }
        if self.tls == MailTls::None && !is_loopback(self.host.trim()) {
            return Some((
                "mail.tls",
                "\"none\" is only allowed for a mail server on 127.0.0.1 (use \"starttls\" or \"tls\")"
                    .into(),
            ));
        }
        if self.port == 0 {
            return Some(("mail.port", "must be a port number".into()));
        }
        if self.from.trim().is_empty() {
            return Some(("mail.from", "must name the sender address".into()));
        }
        if super::origin_of(&self.console_url).is_none() {
            return Some((
                "mail.console_url",
                "must be the console's http:// or https:// address, for the links in mails".into(),
            ));
        }
        if !(0..=23).contains(&self.digest_hour) {
            return Some(("mail.digest_hour", "must be between 0 and 23".into()));
        }
        if !(1..=600).contains(&self.timeout_seconds) {
            return Some(("mail.timeout_seconds", "must be between 1 and 600".into()));
        }
        if self.password.is_some() && !self.password_file.as_os_str().is_empty() {
            return Some((
                "mail.password_file",
                "set either SPRECHSTUNDE_MAIL__PASSWORD or password_file, not both".into(),
            ));
        }
        if self.password_or_file_set() && self.username.trim().is_empty() {
            return Some(("mail.username", "a password needs a username".into()));
        }
        match self.smtp_config() {
            Err(e) => Some(("mail.password_file", format!("{e:#}"))),
            Ok(config) => sprechstunde_mail::SmtpMailer::new(&config)
                .err()
                .map(|e| ("mail", e.to_string())),
        }
    }

    fn password_or_file_set(&self) -> bool {
        self.password.is_some() || !self.password_file.as_os_str().is_empty()
    }

    /// The staff mail policy of the engine; `None` while mail is off.
    pub fn policy(&self) -> Option<StaffMailPolicy> {
        self.enabled().then(|| StaffMailPolicy {
            console_url: self.console_url.trim().to_owned(),
            digest_hour: self.digest_hour,
        })
    }

    /// The SMTP client's configuration, with the password read from its file.
    ///
    /// # Errors
    /// The password file cannot be read.
    pub fn smtp_config(&self) -> anyhow::Result<SmtpConfig> {
        use anyhow::Context;
        let password = match (&self.password, self.password_file.as_os_str().is_empty()) {
            (Some(p), _) => Some(p.clone()),
            (None, false) => Some(
                std::fs::read_to_string(&self.password_file)
                    .with_context(|| {
                        format!(
                            "cannot read mail.password_file {}",
                            self.password_file.display()
                        )
                    })?
                    .trim_end_matches(['\n', '\r'])
                    .to_owned(),
            ),
            (None, true) => None,
        };
        let user = self.username.trim();
        Ok(SmtpConfig {
            host: self.host.trim().to_owned(),
            port: self.port,
            tls: match self.tls {
                MailTls::StartTls => TlsMode::StartTls,
                MailTls::Tls => TlsMode::Tls,
                MailTls::None => TlsMode::None,
            },
            from: self.from.trim().to_owned(),
            credentials: (!user.is_empty())
                .then(|| (user.to_owned(), password.unwrap_or_default())),
            timeout: Duration::from_secs(self.timeout_seconds),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::settings::{Settings, SettingsError};

    /// Loads a `[mail]` section: a working one, with `extra` keys replacing or adding to it.
    fn load(extra: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let mut keys = std::collections::BTreeMap::from([
            ("host", "\"mail.musterstadt.example\"".to_owned()),
            (
                "from",
                "\"Sprechstunde <sprechstunde@musterstadt.example>\"".to_owned(),
            ),
            (
                "console_url",
                "\"https://sprechstunde.musterstadt.example/staff\"".to_owned(),
            ),
        ]);
        for (key, value) in extra {
            keys.insert(key, (*value).to_owned());
        }
        let section: String = keys.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("stadt.toml");
        std::fs::write(&file, format!("[mail]\n{section}")).expect("write");
        Settings::load(Some(&file))
    }

    #[test]
    fn mail_is_off_by_default_and_on_with_host_sender_and_console_address() {
        let default = Settings::load(None).expect("default");
        let on = load(&[]).expect("mail settings");

        assert!(!default.mail.enabled());
        assert_eq!(default.policy().staff_mail, None);
        let policy = on.policy().staff_mail.expect("staff mail on");
        assert_eq!(
            policy.console_url,
            "https://sprechstunde.musterstadt.example/staff"
        );
        assert_eq!(policy.digest_hour, 7);
    }

    #[test]
    fn bad_mail_settings_name_their_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let password = dir.path().join("mail-password");
        std::fs::write(&password, "geheim\n").expect("write");
        let file = format!("\"{}\"", password.display());
        let user = ("username", "\"sprechstunde\"");
        // (keys, the key named in the error, or None: valid)
        type Keys<'a> = Vec<(&'a str, &'a str)>;
        let cases: Vec<(Keys<'_>, Option<&str>)> = vec![
            (vec![("tls", "\"none\"")], Some("mail.tls")),
            (vec![("digest_hour", "24")], Some("mail.digest_hour")),
            (
                vec![("console_url", "\"sprechstunde/staff\"")],
                Some("mail.console_url"),
            ),
            (vec![("from", "\"keine Adresse\"")], Some("mail")),
            (
                vec![user, ("password_file", "\"/nonexistent/mail-password\"")],
                Some("mail.password_file"),
            ),
            (
                vec![("password_file", file.as_str())],
                Some("mail.username"),
            ),
            (vec![user, ("password_file", file.as_str())], None),
            (vec![("host", "\"127.0.0.1\""), ("tls", "\"none\"")], None),
        ];
        for (extra, key) in cases {
            let result = load(&extra);
            match key {
                Some(key) => {
                    let error = result.expect_err(&format!("{extra:?}")).to_string();
                    assert!(error.contains(&format!("key {key}:")), "{extra:?}: {error}");
                }
                None => {
                    let settings = result.unwrap_or_else(|e| panic!("{extra:?}: {e}"));
                    let config = settings.mail.smtp_config().expect("smtp config");
                    let expected = extra
                        .contains(&user)
                        .then(|| ("sprechstunde".to_owned(), "geheim".to_owned()));
                    assert_eq!(config.credentials, expected, "{extra:?}");
                }
            }
        }
    }
}
