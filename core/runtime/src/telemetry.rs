//! The telemetry port: what the office tells an observer while it works (a question taken
//! in, how long a citizen waited for the acknowledgement, how a delivery went, how long a
//! commit took to become durable), so that a metrics adapter can count it. Counts and
//! durations only, by channel: never a text, reference, name or address.
//!
//! The office holds one observer ([`Office::register_telemetry`]); without one, nothing is
//! counted. Adapters reach it through [`Office::telemetry`] (the console counts failed
//! logins there).

use std::sync::Arc;
use std::time::Duration;

use sprechstunde_core::{ChannelKind, DeliveryError};

use crate::office::Office;

/// How one delivery attempt went, as the metrics count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryOutcome {
    /// Handed to the channel.
    Delivered,
    /// The channel asked to wait (HTTP 429, `retry_after`); retried then.
    RateLimited,
    /// A temporary failure; retried with backoff.
    Retried,
    /// The citizen is not connected (web chat closed); handed over when they come back.
    Deferred,
    /// Given up: the citizen cannot be reached on this channel.
    Failed,
}

impl DeliveryOutcome {
    /// The outcome of a delivery result.
    pub fn of(result: &Result<(), DeliveryError>) -> DeliveryOutcome {
        match result {
            Ok(()) => DeliveryOutcome::Delivered,
            Err(DeliveryError::RetryAfter(_)) => DeliveryOutcome::RateLimited,
            Err(DeliveryError::Transient(_)) => DeliveryOutcome::Retried,
            Err(DeliveryError::Deferred) => DeliveryOutcome::Deferred,
            Err(DeliveryError::Permanent(_)) => DeliveryOutcome::Failed,
        }
    }
}

/// Receives what the office counts. Every method has a default that does nothing, and
/// every call is cheap and never blocks (it runs on the intake and delivery paths).
pub trait Telemetry: Send + Sync {
    /// A citizen message became a new question on `channel`.
    fn question_taken_in(&self, channel: ChannelKind) {
        let _ = channel;
    }

    /// A citizen message on `channel` was acknowledged durably `elapsed` after it reached
    /// the office (its commit is on disk; the reply may go out).
    fn acknowledged(&self, channel: ChannelKind, elapsed: Duration) {
        let _ = (channel, elapsed);
    }

    /// One delivery attempt on `channel` ended with `outcome`.
    fn delivery(&self, channel: ChannelKind, outcome: DeliveryOutcome) {
        let _ = (channel, outcome);
    }

    /// A commit became durable `elapsed` after the office asked the store for it (the
    /// store's flush or transaction, including the wait for its group commit).
    fn store_flushed(&self, elapsed: Duration) {
        let _ = elapsed;
    }

    /// A console login was refused (wrong name or password, disabled account).
    fn login_failed(&self) {}
}

/// The observer of an office without metrics.
struct Nothing;

impl Telemetry for Nothing {}

/// The empty observer (the default).
pub(crate) fn nothing() -> Arc<dyn Telemetry> {
    Arc::new(Nothing)
}

impl Office {
    /// Registers the observer that counts the office's work (replaces an earlier one).
    pub fn register_telemetry(&self, telemetry: Arc<dyn Telemetry>) {
        *self
            .inner
            .telemetry
            .write()
            .unwrap_or_else(|e| e.into_inner()) = telemetry;
    }

    /// The registered observer (one that counts nothing if none is registered).
    pub fn telemetry(&self) -> Arc<dyn Telemetry> {
        self.inner
            .telemetry
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
