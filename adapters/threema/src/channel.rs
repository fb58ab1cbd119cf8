//! The outbound side: delivers outbox messages as end-to-end encrypted text messages through
//! `send_e2e`, long texts split, choices written out as commands (Threema has no buttons),
//! the Gateway's error codes mapped to the channel port's retry cases.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use sprechstunde_core::{Channel, ChannelKind, Choice, Delivery, DeliveryError, OutboxId};
use threema_gateway::errors::ApiError;
use threema_gateway::{E2eMessage, ThreemaId};

use crate::gateway::Gateway;

/// Longest text per message, in bytes of UTF-8. The Gateway takes boxes of up to 4,000
/// bytes, which hold the text with its type byte, up to 255 bytes of padding and the MAC.
pub(crate) const MAX_TEXT_BYTES: usize = 3_500;
/// Deliveries the dispatcher hands over at once.
const MAX_IN_FLIGHT: usize = 32;
/// How long to wait after the Gateway's 429 before the next attempt.
const RATE_LIMIT_WAIT: Duration = Duration::from_secs(10);

/// The Threema channel's outbound side.
pub(crate) struct ThreemaChannel {
    gateway: Arc<Gateway>,
    /// Chunks of a split message already sent, so a retry continues where it stopped. In
    /// memory only: after a restart a partly sent message is sent whole (at least once).
    partial: Mutex<HashMap<OutboxId, usize>>,
}

impl ThreemaChannel {
    pub(crate) fn new(gateway: Arc<Gateway>) -> ThreemaChannel {
        ThreemaChannel {
            gateway,
            partial: Mutex::new(HashMap::new()),
        }
    }

    fn partial(&self) -> std::sync::MutexGuard<'_, HashMap<OutboxId, usize>> {
        self.partial.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The text with its choices written out, one command per line; a command the text names
/// already is not repeated.
pub(crate) fn with_choices(text: &str, choices: &[Choice]) -> String {
    let missing: Vec<&Choice> = choices
        .iter()
        .filter(|c| !text.contains(c.command.as_str()))
        .collect();
    if missing.is_empty() {
        return text.to_owned();
    }
    let mut out = text.to_owned();
    out.push('\n');
    for c in missing {
        out.push_str(&format!("\n{} – {}", c.command, c.label));
    }
    out
}

/// Splits `text` into chunks of at most `max` bytes, at a line break or space where one is
/// near, never inside a character.
pub(crate) fn split(text: &str, max: usize) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut rest = text;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let head = &rest[..cut];
        let at = head
            .rfind('\n')
            .or_else(|| head.rfind(' '))
            .filter(|&i| i > max / 2)
            .map_or(cut, |i| i + 1);
        chunks.push(rest[..at].trim_end().to_owned());
        rest = &rest[at..];
    }
    if !rest.trim().is_empty() || chunks.is_empty() {
        chunks.push(rest.to_owned());
    }
    chunks
}

/// What a Gateway error means for the outbox.
pub(crate) fn delivery_error(error: &ApiError) -> DeliveryError {
    match error {
        ApiError::IdNotFound | ApiError::BadSenderOrRecipient => {
            DeliveryError::Permanent("the Threema ID does not exist (any more)".to_owned())
        }
        ApiError::MessageTooLong => {
            DeliveryError::Permanent("the message is too long for Threema".to_owned())
        }
        ApiError::RateLimitReached => DeliveryError::RetryAfter(RATE_LIMIT_WAIT),
        ApiError::NoCredits => DeliveryError::Transient(
            "the Threema Gateway has no credits left; the message is sent once they are topped up"
                .to_owned(),
        ),
        ApiError::BadCredentials => DeliveryError::Transient(
            "the Threema Gateway refused the Gateway ID or its secret".to_owned(),
        ),
        ApiError::ServerError => {
            DeliveryError::Transient("the Threema Gateway had a server error".to_owned())
        }
        ApiError::RequestError(_) | ApiError::IoError(_) => {
            DeliveryError::Transient("the Threema Gateway could not be reached".to_owned())
        }
        other => DeliveryError::Transient(format!("Threema Gateway: {other}")),
    }
}

#[async_trait]
impl Channel for ThreemaChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Threema
    }

    fn max_in_flight(&self) -> usize {
        MAX_IN_FLIGHT
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let Ok(to) = ThreemaId::try_from(delivery.address.as_str()) else {
            return Err(DeliveryError::Permanent("not a Threema ID".to_owned()));
        };
        let key = self
            .gateway
            .key(&to)
            .await
            .map_err(|e| delivery_error(&e))?;
        let text = with_choices(&delivery.text, &delivery.choices);
        let chunks = split(&text, MAX_TEXT_BYTES);
        let done = self.partial().get(&delivery.id).copied().unwrap_or(0);
        for (i, chunk) in chunks.into_iter().enumerate().skip(done) {
            let message = self
                .gateway
                .api
                .encode_and_encrypt(&E2eMessage::Text(chunk), &key)
                .map_err(|e| DeliveryError::Permanent(format!("cannot encrypt: {e}")))?;
            match self.gateway.api.send(&to, &message, true).await {
                Ok(id) => {
                    self.gateway.remember_sent(id, delivery.id);
                    tracing::debug!(outbox = delivery.id.0, chunk = i, "sent to Threema");
                }
                Err(error) => {
                    if i > 0 {
                        self.partial().insert(delivery.id, i);
                    }
                    if matches!(error, ApiError::NoCredits) {
                        self.gateway.credits().set(0);
                        tracing::warn!(
                            "the Threema Gateway has no credits left; messages wait in the outbox"
                        );
                    }
                    return Err(delivery_error(&error));
                }
            }
        }
        self.partial().remove(&delivery.id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_is_split_at_spaces_into_chunks_that_fit() {
        let text = "Wort ".repeat(2_000);
        let chunks = split(&text, MAX_TEXT_BYTES);
        assert!(chunks.len() >= 3);
        assert!(chunks.iter().all(|c| c.len() <= MAX_TEXT_BYTES));
        assert_eq!(chunks.concat().replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn a_split_never_cuts_a_character() {
        let text = "ä".repeat(3_000);
        let chunks = split(&text, 1_001);
        assert!(chunks.iter().all(|c| c.len() <= 1_001));
        assert_eq!(chunks.concat(), text);
    }

    #[test]
    fn choices_are_written_out_as_commands() {
        let text = with_choices(
            "Ihre Frage ist eingegangen.",
            &[Choice {
                label: "Stand abfragen".into(),
                command: "/status".into(),
            }],
        );
        assert_eq!(
            text,
            "Ihre Frage ist eingegangen.\n\n/status – Stand abfragen"
        );
    }

    #[test]
    fn a_command_the_text_names_already_is_not_listed_again() {
        let choice = |command: &str| Choice {
            label: "x".into(),
            command: command.into(),
        };
        let text = with_choices(
            "Antworten Sie mit /einverstanden oder /ablehnen.",
            &[choice("/einverstanden"), choice("/ablehnen")],
        );
        assert_eq!(text, "Antworten Sie mit /einverstanden oder /ablehnen.");
    }

    #[test]
    fn gateway_errors_map_to_permanent_only_for_a_missing_id_or_an_oversized_message() {
        assert!(matches!(
            delivery_error(&ApiError::IdNotFound),
            DeliveryError::Permanent(_)
        ));
        assert!(matches!(
            delivery_error(&ApiError::MessageTooLong),
            DeliveryError::Permanent(_)
        ));
        assert!(matches!(
            delivery_error(&ApiError::RateLimitReached),
            DeliveryError::RetryAfter(_)
        ));
        for transient in [
            ApiError::NoCredits,
            ApiError::ServerError,
            ApiError::BadCredentials,
        ] {
            assert!(matches!(
                delivery_error(&transient),
                DeliveryError::Transient(_)
            ));
        }
    }
}
