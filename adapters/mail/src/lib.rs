//! Staff notifications of sprechstunde by e-mail: the [`Mailer`] port over SMTP, through
//! `lettre` with rustls.
//!
//! One notification is one SMTP transaction: the configured sender in `To`, the recipients
//! only in the envelope (never in a header), so a department's members do not see each
//! other's addresses and the message is accepted for all of them at once or not at all.
//! Connections are opened per message (notifications are few); no pool, nothing kept in
//! memory between attempts: the queue lives in the office's store.

use std::time::Duration;

use async_trait::async_trait;
use lettre::address::Envelope;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sprechstunde_core::{DeliveryError, Mailer, OutgoingMail};

/// How the connection to the mail server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain connection upgraded with STARTTLS, required (submission, port 587).
    StartTls,
    /// TLS from the first byte (submissions, port 465).
    Tls,
    /// No encryption: only for a mail server on the loopback interface.
    None,
}

/// Where and how to send.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// Mail server host name (checked against its certificate).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Transport security.
    pub tls: TlsMode,
    /// Sender, e.g. `Sprechstunde <sprechstunde@stadt.example>`.
    pub from: String,
    /// Login name and password, if the server wants them.
    pub credentials: Option<(String, String)>,
    /// Longest wait for one SMTP command.
    pub timeout: Duration,
}

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    /// The sender is not an address.
    #[error("mail.from {0:?} is not an e-mail address")]
    BadSender(String),
    /// Unencrypted SMTP to another machine.
    #[error("mail.tls = \"none\" is only allowed for a mail server on 127.0.0.1, ::1 or localhost")]
    PlainRemote,
    /// TLS could not be set up.
    #[error("TLS for the mail server could not be set up: {0}")]
    Tls(String),
}

/// Sends staff notifications over SMTP.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer").finish_non_exhaustive()
    }
}

/// Whether `host` is the loopback interface.
pub fn is_loopback(host: &str) -> bool {
    matches!(host, "localhost" | "::1" | "[::1]")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl SmtpMailer {
    /// A mailer for this configuration. Nothing is connected yet.
    ///
    /// # Errors
    /// A sender that is no address, plain SMTP to a remote host, or TLS set-up failure.
    pub fn new(config: &SmtpConfig) -> Result<SmtpMailer, MailConfigError> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|_| MailConfigError::BadSender(config.from.clone()))?;
        let tls = |host: &str| {
            TlsParameters::new(host.to_owned()).map_err(|e| MailConfigError::Tls(e.to_string()))
        };
        let security = match config.tls {
            TlsMode::StartTls => Tls::Required(tls(&config.host)?),
            TlsMode::Tls => Tls::Wrapper(tls(&config.host)?),
            TlsMode::None if is_loopback(&config.host) => Tls::None,
            TlsMode::None => return Err(MailConfigError::PlainRemote),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .tls(security)
            .timeout(Some(config.timeout));
        if let Some((user, password)) = &config.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            from,
        })
    }
}

/// The message for `mail`: the sender in `To`, the recipients hidden.
///
/// # Errors
/// [`DeliveryError::Permanent`] for a recipient that is no address (it will not become one).
pub fn message(from: &Mailbox, mail: &OutgoingMail) -> Result<Message, DeliveryError> {
    let not_an_address = || DeliveryError::Permanent("a recipient is not an e-mail address".into());
    let to = mail
        .to
        .iter()
        .map(|a| a.parse::<Address>().map_err(|_| not_an_address()))
        .collect::<Result<Vec<_>, _>>()?;
    // The envelope names the recipients; the headers only the sender.
    let envelope = Envelope::new(Some(from.email.clone()), to).map_err(|_| not_an_address())?;
    Message::builder()
        .from(from.clone())
        .to(from.clone())
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .envelope(envelope)
        .body(mail.body.clone())
        .map_err(|e| DeliveryError::Permanent(format!("the message could not be built: {e}")))
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), DeliveryError> {
        let message = message(&self.from, mail)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            // 5xx: the server refuses for good (unknown recipient, policy).
            Err(e) if e.is_permanent() => Err(DeliveryError::Permanent(e.to_string())),
            // 4xx, connection refused, TLS or timeout: try again later.
            Err(e) => Err(DeliveryError::Transient(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(host: &str, tls: TlsMode) -> SmtpConfig {
        SmtpConfig {
            host: host.into(),
            port: 25,
            tls,
            from: "Sprechstunde <sprechstunde@stadt.example>".into(),
            credentials: None,
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn plain_smtp_is_refused_for_a_remote_server_and_allowed_on_loopback() {
        // (host, accepted)
        let cases = [
            ("127.0.0.1", true),
            ("localhost", true),
            ("::1", true),
            ("mail.stadt.example", false),
            ("10.0.0.5", false),
        ];
        for (host, accepted) in cases {
            let result = SmtpMailer::new(&config(host, TlsMode::None));
            assert_eq!(result.is_ok(), accepted, "{host}");
        }
        assert!(SmtpMailer::new(&config("mail.stadt.example", TlsMode::StartTls)).is_ok());
        assert!(SmtpMailer::new(&config("mail.stadt.example", TlsMode::Tls)).is_ok());
    }

    #[test]
    fn a_bad_sender_is_refused_and_recipients_are_hidden() {
        let mut bad = config("127.0.0.1", TlsMode::None);
        bad.from = "keine adresse".into();
        assert!(matches!(
            SmtpMailer::new(&bad),
            Err(MailConfigError::BadSender(_))
        ));

        let from: Mailbox = "sprechstunde@stadt.example".parse().expect("mailbox");
        let mail = OutgoingMail {
            to: vec!["a@stadt.example".into(), "b@stadt.example".into()],
            subject: "Anliegen A-1001".into(),
            body: "Text".into(),
        };
        let message = message(&from, &mail).expect("message");
        let envelope = message.envelope().to().to_vec();
        let headers = String::from_utf8_lossy(&message.formatted()).into_owned();

        assert_eq!(envelope.len(), 2, "{envelope:?}");
        assert!(
            !envelope
                .iter()
                .any(|a| a.to_string() == "sprechstunde@stadt.example")
        );
        assert!(!headers.contains("a@stadt.example"), "{headers}");
        assert!(
            headers.contains("To: sprechstunde@stadt.example"),
            "{headers}"
        );
    }
}
