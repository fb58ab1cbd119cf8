//! Configuration: the embedded default `config/sprechstunde.toml`, then an optional file, then
//! environment variables `SPRECHSTUNDE_<SECTION>__<KEY>`. Validated once at start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use jiff::SignedDuration;
use serde::Deserialize;
use sprechstunde_core::{Calendar, Policy, RetryPolicy};

mod mail;
mod metrics;
mod security;
mod store;
pub use mail::{MailSettings, MailTls};
pub use metrics::MetricsSettings;
pub use security::{Hsts, LimitSettings, origin_of, own_origins};
pub use store::{StoreBackend, StoreSettings};

/// The embedded default configuration.
pub const DEFAULT_CONFIG: &str = include_str!("../../../config/sprechstunde.toml");

/// All settings.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// HTTP server and data directory.
    pub server: ServerSettings,
    /// Where the office's data is stored (sled or PostgreSQL).
    #[serde(default)]
    pub store: StoreSettings,
    /// How the office works.
    pub office: OfficeSettings,
    /// Web chat.
    pub webchat: WebchatSettings,
    /// Outbox retries.
    pub outbox: OutboxSettings,
    /// Pseudonyms, consent, retention.
    pub privacy: PrivacySettings,
    /// The Telegram channel.
    #[serde(default)]
    pub telegram: sprechstunde_telegram::TelegramConfig,
    /// The Matrix channel.
    #[serde(default)]
    pub matrix: sprechstunde_matrix::MatrixConfig,
    /// The Threema channel (Threema Gateway, end-to-end mode).
    #[serde(default)]
    pub threema: sprechstunde_threema::ThreemaConfig,
    /// Logging.
    pub log: LogSettings,
    /// The audit trail.
    #[serde(default)]
    pub audit: AuditSettings,
    /// Departments (Fachämter) created at start if no department with the slug exists yet;
    /// later edits in the console win.
    #[serde(default)]
    pub departments: Vec<DepartmentSettings>,
    /// Flood limits, login throttling and request sizes (web hardening).
    #[serde(default)]
    pub limits: LimitSettings,
    /// The accessibility statement at /barrierefreiheit (BITV 2.0 § 7).
    #[serde(default)]
    pub accessibility: sprechstunde_public::AccessibilityStatement,
    /// Staff notifications by e-mail (off while `mail.host` is empty).
    #[serde(default)]
    pub mail: MailSettings,
    /// Single sign-on for staff through an OpenID provider (off while its issuer is empty).
    #[serde(default)]
    pub oidc: sprechstunde_console::oidc::OidcSettings,
    /// The bearer token of `/metrics` (off without one).
    #[serde(default)]
    pub metrics: MetricsSettings,
}

/// `[audit]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    /// Entries older than this many days are removed (daily); the chain stays verifiable.
    pub retention_days: u32,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings {
            retention_days: 730,
        }
    }
}

/// `[privacy.controller]`: who is responsible for the processing (Art. 30 (1) (a) GDPR), for
/// the record of processing activities.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControllerSettings {
    /// The controller, e.g. "Stadt Musterstadt, Der Oberbürgermeister".
    pub name: String,
    /// Postal address.
    pub address: String,
    /// Contact (e-mail or phone).
    pub contact: String,
    /// The data protection officer.
    pub dpo_name: String,
    /// The data protection officer's contact.
    pub dpo_contact: String,
}

/// `[[departments]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentSettings {
    /// Id (a positive number; staff are tied to it with `staff add --department ID`).
    pub id: u64,
    /// Short name for URLs and filters (a-z, 0-9, '-').
    pub slug: String,
    /// Name.
    pub name: String,
    /// Routing keywords.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Routing patterns (regular expressions, case-insensitive).
    #[serde(default)]
    pub patterns: Vec<String>,
    /// Answers need four-eyes approval.
    #[serde(default)]
    pub requires_approval: bool,
    /// Text modules.
    #[serde(default)]
    pub text_modules: Vec<sprechstunde_core::triage::TextModule>,
}

impl DepartmentSettings {
    /// The department.
    pub fn department(&self) -> sprechstunde_core::Department {
        sprechstunde_core::Department {
            id: sprechstunde_core::DepartmentId(self.id),
            name: self.name.clone(),
            slug: self.slug.clone(),
            keywords: self.keywords.clone(),
            patterns: self.patterns.clone(),
            requires_approval: self.requires_approval,
            text_modules: self.text_modules.clone(),
        }
    }
}

/// `[privacy]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacySettings {
    /// Hex key from the environment (`SPRECHSTUNDE_PRIVACY__PSEUDONYM_KEY`).
    #[serde(default)]
    pub pseudonym_key: Option<String>,
    /// File holding the key; empty for `<data_dir>/pseudonym.key`.
    #[serde(default)]
    pub pseudonym_key_file: PathBuf,
    /// The controller, for the record of processing activities.
    #[serde(default)]
    pub controller: ControllerSettings,
    /// Citizens agree to the privacy notice before a question is kept.
    #[serde(default = "yes")]
    pub require_consent: bool,
    /// Version of the notice, recorded with every consent; change it with the text.
    #[serde(default = "first_version")]
    pub notice_version: String,
    /// The municipality's own notice (German); empty for the built-in text.
    #[serde(default)]
    pub notice_de: String,
    /// The municipality's own notice (English); empty for the built-in text.
    #[serde(default)]
    pub notice_en: String,
    /// `[privacy.retention]`.
    #[serde(default)]
    pub retention: RetentionSettings,
}

fn yes() -> bool {
    true
}

fn first_version() -> String {
    "1".to_owned()
}

/// `[privacy.retention]`: days until the daily purge forgets data.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// Answered questions, from their last change.
    pub answered_days: u32,
    /// Rejected questions.
    pub rejected_days: u32,
    /// Withdrawn questions.
    pub withdrawn_days: u32,
    /// Citizens without questions and without contact.
    pub inactive_citizen_days: u32,
    /// Citizens who never agreed to the privacy notice, from their last contact.
    pub unconsented_days: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        let r = sprechstunde_core::Retention::default();
        RetentionSettings {
            answered_days: r.answered_days,
            rejected_days: r.rejected_days,
            withdrawn_days: r.withdrawn_days,
            inactive_citizen_days: r.inactive_citizen_days,
            unconsented_days: r.unconsented_days,
        }
    }
}

impl PrivacySettings {
    /// Loads the pseudonym key: from the environment, the configured file, or
    /// `<data_dir>/pseudonym.key` (created with a random key on first use).
    ///
    /// # Errors
    /// Unreadable or too short key, or no randomness for a new one.
    pub fn pseudonymizer(
        &self,
        data_dir: &Path,
    ) -> anyhow::Result<sprechstunde_runtime::Pseudonymizer> {
        use anyhow::Context;
        let key = if let Some(hex) = &self.pseudonym_key {
            decode_hex(hex.trim()).context(
                "privacy.pseudonym_key (SPRECHSTUNDE_PRIVACY__PSEUDONYM_KEY) must be hex",
            )?
        } else {
            let file = if self.pseudonym_key_file.as_os_str().is_empty() {
                data_dir.join("pseudonym.key")
            } else {
                self.pseudonym_key_file.clone()
            };
            if !file.exists() && self.pseudonym_key_file.as_os_str().is_empty() {
                create_key_file(&file)?;
            }
            tighten_key_file(&file)?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read the pseudonym key {}", file.display()))?;
            decode_hex(text.trim())
                .with_context(|| format!("the pseudonym key in {} must be hex", file.display()))?
        };
        Ok(sprechstunde_runtime::Pseudonymizer::new(key)?)
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Makes the key file readable by its owner only (0600) if group or others may read it:
/// whoever reads the key can recompute pseudonyms from chat ids. A file whose mode cannot be
/// changed (another owner) is refused.
fn tighten_key_file(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else {
        // Reading it reports the problem with the file's name.
        return Ok(());
    };
    let mode = meta.permissions().mode();
    if mode & 0o077 == 0 {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| {
        anyhow::anyhow!(
            "the pseudonym key {} is readable by other users (mode {:o}) and cannot be \
             tightened ({e}); run `chmod 600 {}` as its owner",
            path.display(),
            mode & 0o777,
            path.display()
        )
    })?;
    tracing::warn!(
        path = %path.display(),
        was = format_args!("{:o}", mode & 0o777),
        "the pseudonym key was readable by other users; tightened to 0600"
    );
    Ok(())
}

fn create_key_file(path: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(hex.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Listen address.
    pub listen: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// `Secure` cookies.
    pub secure_cookies: bool,
    /// Console login lifetime in hours.
    pub login_hours: u32,
    /// The public base URL (e.g. `https://sprechstunde.musterstadt.de`); its origin is allowed
    /// for WebSockets and state-changing requests, and `https` turns HSTS on.
    #[serde(default)]
    pub public_url: String,
    /// `Strict-Transport-Security`: `auto` (with an https `public_url`), `on` or `off`.
    #[serde(default)]
    pub hsts: Hsts,
}

/// `[office]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeSettings {
    /// Municipality.
    pub name: String,
    /// IANA time zone.
    pub timezone: String,
    /// Working days to answer.
    pub answer_working_days: u32,
    /// Follow-up window in days.
    pub follow_up_days: u32,
    /// Holidays, `YYYY-MM-DD`.
    pub holidays: Vec<String>,
    /// Federal state whose public holidays count (`NW`, `BY`, …); empty for none.
    #[serde(default)]
    pub state: String,
    /// Reminders to subscribers before a session starts, e.g. `["24h", "15m"]`.
    #[serde(default)]
    pub reminders: Vec<String>,
}

/// `[webchat]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebchatSettings {
    /// Longest message.
    pub max_message_chars: usize,
    /// Origins allowed to open the WebSocket and to send state-changing requests; empty for
    /// the server's own origins (`server.public_url` and the listen address).
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

/// `[outbox]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxSettings {
    /// First retry delay.
    pub retry_base_seconds: u64,
    /// Longest retry delay.
    pub retry_max_seconds: u64,
    /// Attempts before giving up.
    pub max_attempts: u32,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// Level filter.
    pub level: String,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Could not be read or has the wrong shape.
    #[error("configuration {}", describe(.0))]
    Load(Box<figment::Error>),
    /// A value is out of range.
    #[error("configuration key {key}: {problem}")]
    Invalid {
        /// Dotted key, e.g. `office.timezone`.
        key: &'static str,
        /// What is wrong.
        problem: String,
    },
}

/// Names the key and where its value came from, e.g.
/// `key server.listen (environment variable SPRECHSTUNDE_SERVER__LISTEN): invalid socket address`.
fn describe(error: &figment::Error) -> String {
    error
        .clone()
        .into_iter()
        .map(|e| {
            let key = e.path.join(".").to_lowercase();
            let source = match &e.metadata {
                Some(m) if m.name.contains("environment") => format!(
                    " (environment variable SPRECHSTUNDE_{})",
                    e.path.join("__").to_uppercase()
                ),
                Some(m) => match &m.source {
                    Some(source) => format!(" ({source})"),
                    None => format!(" ({})", m.name),
                },
                None => String::new(),
            };
            if key.is_empty() {
                format!("{source}: {}", e.kind)
            } else {
                format!("key {key}{source}: {}", e.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl Settings {
    /// Loads the default, then `file` (if any), then the environment, and validates.
    ///
    /// # Errors
    /// A missing file, a syntax error, a wrong type or an invalid value, naming the key.
    pub fn load(file: Option<&Path>) -> Result<Settings, SettingsError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_CONFIG));
        if let Some(file) = file {
            if !file.exists() {
                return Err(SettingsError::Invalid {
                    key: "--config",
                    problem: format!("file {} does not exist", file.display()),
                });
            }
            if let Err(problem) = store::check_file(file) {
                return Err(SettingsError::Invalid {
                    key: "store.url",
                    problem: problem.to_owned(),
                });
            }
            if let Err(problem) = metrics::check_file(file) {
                return Err(SettingsError::Invalid {
                    key: "metrics.token",
                    problem: problem.to_owned(),
                });
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        let figment = figment.merge(
            Env::prefixed("SPRECHSTUNDE_")
                .filter(|key| key.as_str().contains("__"))
                .split("__"),
        );
        let settings: Settings = figment
            .extract()
            .map_err(|e| SettingsError::Load(Box::new(e)))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |key, problem: &str| {
            Err(SettingsError::Invalid {
                key,
                problem: problem.to_owned(),
            })
        };
        if let Some(problem) = self.store.problem() {
            return invalid("store", problem);
        }
        if jiff::tz::TimeZone::get(&self.office.timezone).is_err() {
            return invalid(
                "office.timezone",
                "not a known IANA time zone (e.g. Europe/Berlin)",
            );
        }
        if !(1..=60).contains(&self.office.answer_working_days) {
            return invalid("office.answer_working_days", "must be between 1 and 60");
        }
        if self.office.follow_up_days > 365 {
            return invalid("office.follow_up_days", "must be at most 365");
        }
        if self.holidays().is_err() {
            return invalid(
                "office.holidays",
                "every entry must be a date like 2026-12-25",
            );
        }
        if !self.office.state.is_empty()
            && self
                .office
                .state
                .parse::<sprechstunde_core::holidays::GermanState>()
                .is_err()
        {
            return invalid(
                "office.state",
                "must be a German state code (BW, BY, BE, BB, HB, HH, HE, MV, NI, NW, RP, SL, SN, ST, SH, TH) or empty",
            );
        }
        for d in &self.departments {
            if d.id == 0 {
                return invalid("departments.id", "must be a positive number");
            }
            if let Err(e) = sprechstunde_core::triage::validate_department(&d.department()) {
                return Err(SettingsError::Invalid {
                    key: "departments",
                    problem: format!("{}: {e}", d.slug),
                });
            }
        }
        let ids: std::collections::BTreeSet<_> = self.departments.iter().map(|d| d.id).collect();
        let slugs: std::collections::BTreeSet<_> =
            self.departments.iter().map(|d| d.slug.as_str()).collect();
        if ids.len() != self.departments.len() || slugs.len() != self.departments.len() {
            return invalid("departments", "ids and slugs must be unique");
        }
        if self
            .reminders()
            .is_none_or(|r| r.iter().any(|d| d.is_negative() || d.is_zero()))
        {
            return invalid(
                "office.reminders",
                "every entry must be a positive duration like \"24h\" or \"15m\"",
            );
        }
        if !(1..=20_000).contains(&self.webchat.max_message_chars) {
            return invalid("webchat.max_message_chars", "must be between 1 and 20000");
        }
        if self.outbox.retry_base_seconds == 0
            || self.outbox.retry_max_seconds < self.outbox.retry_base_seconds
        {
            return invalid(
                "outbox.retry_base_seconds",
                "must be at least 1 and at most retry_max_seconds",
            );
        }
        if self.outbox.max_attempts == 0 {
            return invalid("outbox.max_attempts", "must be at least 1");
        }
        if !(1..=24 * 30).contains(&self.server.login_hours) {
            return invalid("server.login_hours", "must be between 1 and 720");
        }
        let r = &self.privacy.retention;
        for (key, days) in [
            ("privacy.retention.answered_days", r.answered_days),
            ("privacy.retention.rejected_days", r.rejected_days),
            ("privacy.retention.withdrawn_days", r.withdrawn_days),
            (
                "privacy.retention.inactive_citizen_days",
                r.inactive_citizen_days,
            ),
            ("privacy.retention.unconsented_days", r.unconsented_days),
        ] {
            if !(1..=3650).contains(&days) {
                return invalid(key, "must be between 1 and 3650 days");
            }
        }
        if r.answered_days < self.office.follow_up_days {
            return invalid(
                "privacy.retention.answered_days",
                "must be at least office.follow_up_days (a follow-up reopens the answered question)",
            );
        }
        if self.privacy.notice_version.trim().is_empty() {
            return invalid("privacy.notice_version", "must not be empty");
        }
        if !(1..=3650).contains(&self.audit.retention_days) {
            return invalid("audit.retention_days", "must be between 1 and 3650");
        }
        if let Some((key, problem)) = self.limits.problem() {
            return invalid(key, problem);
        }
        if let Some((key, problem)) = self.mail.problem() {
            return Err(SettingsError::Invalid { key, problem });
        }
        if let Some((key, problem)) = self.oidc.problem() {
            return invalid(key, &problem);
        }
        if let Some((key, problem)) = self.metrics.problem() {
            return invalid(key, &problem);
        }
        if !self.server.public_url.is_empty() && origin_of(&self.server.public_url).is_none() {
            return invalid(
                "server.public_url",
                "must be an http:// or https:// URL, e.g. https://sprechstunde.musterstadt.de",
            );
        }
        if let Some(bad) = self
            .webchat
            .allowed_origins
            .iter()
            .find(|o| origin_of(o).as_deref() != Some(o.trim_end_matches('/')))
        {
            return Err(SettingsError::Invalid {
                key: "webchat.allowed_origins",
                problem: format!(
                    "{bad:?} is not an origin like https://sprechstunde.musterstadt.de"
                ),
            });
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return invalid(
                "log.level",
                "not a valid level (error, warn, info, debug, trace)",
            );
        }
        Ok(())
    }

    /// The origins allowed for WebSockets and state-changing browser requests, given the
    /// bound listen address: `webchat.allowed_origins`, or else the server's own.
    pub fn allowed_origins(&self, listen: SocketAddr) -> Vec<String> {
        if self.webchat.allowed_origins.is_empty() {
            own_origins(&self.server.public_url, listen)
        } else {
            self.webchat
                .allowed_origins
                .iter()
                .filter_map(|o| origin_of(o))
                .collect()
        }
    }

    /// Whether responses carry HSTS.
    pub fn hsts(&self) -> bool {
        match self.server.hsts {
            Hsts::On => true,
            Hsts::Off => false,
            Hsts::Auto => self
                .server
                .public_url
                .trim()
                .to_ascii_lowercase()
                .starts_with("https://"),
        }
    }

    fn reminders(&self) -> Option<Vec<SignedDuration>> {
        self.office
            .reminders
            .iter()
            .map(|d| d.trim().parse::<SignedDuration>().ok())
            .collect()
    }

    fn holidays(&self) -> Result<Vec<jiff::civil::Date>, jiff::Error> {
        self.office.holidays.iter().map(|d| d.parse()).collect()
    }

    /// The engine policy these settings describe.
    pub fn policy(&self) -> Policy {
        let mut calendar = Calendar::berlin();
        if let Ok(zone) = jiff::tz::TimeZone::get(&self.office.timezone) {
            calendar.zone = zone;
        }
        calendar.holidays = self.holidays().unwrap_or_default();
        calendar.state = self.office.state.parse().ok();
        Policy {
            calendar,
            answer_working_days: self.office.answer_working_days,
            follow_up_window: SignedDuration::from_hours(
                i64::from(self.office.follow_up_days) * 24,
            ),
            max_message_chars: self.webchat.max_message_chars,
            retry: RetryPolicy {
                base: Duration::from_secs(self.outbox.retry_base_seconds),
                max_delay: Duration::from_secs(self.outbox.retry_max_seconds),
                max_attempts: self.outbox.max_attempts,
            },
            reminders: self.reminders().unwrap_or_default(),
            flood: sprechstunde_core::FloodPolicy {
                max_messages: self.limits.citizen_messages,
                window: SignedDuration::from_secs(i64::from(self.limits.citizen_window_seconds)),
            },
            privacy: self.privacy_policy(),
            staff_mail: self.mail.policy(),
        }
    }

    /// Consent and retention as the engine applies them.
    pub fn privacy_policy(&self) -> sprechstunde_core::PrivacyPolicy {
        let p = &self.privacy;
        let text = |t: &str| Some(t.trim().to_owned()).filter(|t| !t.is_empty());
        sprechstunde_core::PrivacyPolicy {
            require_consent: p.require_consent,
            notice_version: p.notice_version.trim().to_owned(),
            notice_de: text(&p.notice_de),
            notice_en: text(&p.notice_en),
            retention: sprechstunde_core::Retention {
                answered_days: p.retention.answered_days,
                rejected_days: p.retention.rejected_days,
                withdrawn_days: p.retention.withdrawn_days,
                inactive_citizen_days: p.retention.inactive_citizen_days,
                unconsented_days: p.retention.unconsented_days,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_default_loads_and_validates() {
        let settings = Settings::load(None).expect("default config");
        assert_eq!(settings.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.policy().answer_working_days, 5);
        assert_eq!(
            settings.policy().reminders,
            [
                SignedDuration::from_hours(24),
                SignedDuration::from_mins(15)
            ]
        );
    }

    #[test]
    fn a_file_overrides_the_default_and_bad_values_name_their_key() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[office]\ntimezone = \"Mars/Olympus\"\n").expect("write");
        let err = Settings::load(Some(&file)).expect_err("invalid zone");
        assert!(err.to_string().contains("office.timezone"), "{err}");

        std::fs::write(&file, "[server]\nlisten = \"nonsense\"\n").expect("write");
        let err = Settings::load(Some(&file)).expect_err("invalid listen");
        assert!(err.to_string().contains("listen"), "{err}");

        std::fs::write(&file, "[office]\nstate = \"XY\"\n").expect("write");
        let err = Settings::load(Some(&file)).expect_err("invalid state");
        assert!(err.to_string().contains("office.state"), "{err}");

        std::fs::write(
            &file,
            "[[departments]]\nid = 1\nslug = \"bau\"\nname = \"Bauamt\"\npatterns = [\"(\"]\n",
        )
        .expect("write");
        let err = Settings::load(Some(&file)).expect_err("invalid pattern");
        assert!(err.to_string().contains("departments"), "{err}");

        std::fs::write(&file, "[office]\nreminders = [\"soon\"]\n").expect("write");
        let err = Settings::load(Some(&file)).expect_err("invalid reminder");
        assert!(err.to_string().contains("office.reminders"), "{err}");

        std::fs::write(&file, "[webchat]\nmax_message_chars = 500\n").expect("write");
        let settings = Settings::load(Some(&file)).expect("valid override");
        assert_eq!(settings.webchat.max_message_chars, 500);
    }

    #[test]
    fn an_incomplete_oidc_section_stops_the_start_naming_its_key() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "[oidc]\nissuer = \"https://id.musterstadt.de/realms/rathaus\"\nclient_id = \"sprechstunde\"\n",
        )
        .expect("write");
        let err = Settings::load(Some(&file)).expect_err("no secret");
        assert!(err.to_string().contains("oidc.client_secret"), "{err}");

        let secret = dir.path().join("secret");
        std::fs::write(&secret, "geheim").expect("write");
        std::fs::write(
            &file,
            format!(
                "[oidc]\nissuer = \"https://id.musterstadt.de/realms/rathaus\"\n\
                 client_id = \"sprechstunde\"\nclient_secret_file = {:?}\n",
                secret.display().to_string()
            ),
        )
        .expect("write");
        let err = Settings::load(Some(&file)).expect_err("no mapping");
        assert!(err.to_string().contains("oidc.mapping"), "{err}");

        std::fs::write(
            &file,
            format!(
                "[oidc]\nissuer = \"https://id.musterstadt.de/realms/rathaus\"\n\
                 client_id = \"sprechstunde\"\nclient_secret_file = {:?}\n\
                 password_login = false\n[[oidc.mapping]]\nvalue = \"/admins\"\nroles = [\"admin\"]\n",
                secret.display().to_string()
            ),
        )
        .expect("write");
        let settings = Settings::load(Some(&file)).expect("complete");
        assert!(settings.oidc.enabled());
        assert!(!settings.oidc.password_login);
        assert_eq!(settings.oidc.client_secret().as_deref(), Ok("geheim"));

        std::fs::write(&file, "[oidc]\npassword_login = false\n").expect("write");
        let err = Settings::load(Some(&file)).expect_err("no other way in");
        assert!(err.to_string().contains("oidc.password_login"), "{err}");
    }

    #[test]
    fn privacy_notice_and_retention_come_from_the_config_and_are_checked() {
        let settings = Settings::load(None).expect("default config");
        let policy = settings.privacy_policy();
        assert!(policy.require_consent);
        assert_eq!(policy.retention, sprechstunde_core::Retention::default());
        assert_eq!(policy.notice_de, None);

        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "[privacy]\nnotice_de = \"Musterstadt speichert.\"\nnotice_version = \"2026-11\"\n\
             [privacy.retention]\nwithdrawn_days = 7\n",
        )
        .expect("write");
        let policy = Settings::load(Some(&file)).expect("valid").privacy_policy();
        assert_eq!(policy.notice_de.as_deref(), Some("Musterstadt speichert."));
        assert_eq!(policy.notice_version, "2026-11");
        assert_eq!(policy.retention.withdrawn_days, 7);
        assert_eq!(policy.retention.answered_days, 90);

        std::fs::write(&file, "[privacy.retention]\nanswered_days = 3\n").expect("write");
        let err = Settings::load(Some(&file)).expect_err("shorter than the follow-up window");
        assert!(
            err.to_string().contains("privacy.retention.answered_days"),
            "{err}"
        );
        std::fs::write(&file, "[privacy.retention]\nrejected_days = 0\n").expect("write");
        let err = Settings::load(Some(&file)).expect_err("zero days");
        assert!(
            err.to_string().contains("privacy.retention.rejected_days"),
            "{err}"
        );
    }
}
