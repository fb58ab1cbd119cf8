//! What both directions share: the SDK's end-to-end API object, the citizens' public keys
//! (looked up once and cached), the message ids the Gateway gave our sends (so delivery
//! receipts find their outbox message) and the remaining credits.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use sprechstunde_core::OutboxId;
use threema_gateway::errors::ApiError;
use threema_gateway::protocol::MessageId;
use threema_gateway::{E2eApi, RecipientKey, ThreemaId};

/// Public keys kept in memory; beyond this the cache starts afresh.
const KEY_CACHE: usize = 50_000;
/// Sent message ids remembered for delivery receipts (a receipt for an older one, or one
/// sent before a restart, changes nothing).
const SENT_MEMORY: usize = 100_000;

/// The Gateway ID's API and what the adapter keeps about it.
pub(crate) struct Gateway {
    pub(crate) api: E2eApi,
    keys: Mutex<HashMap<ThreemaId, RecipientKey>>,
    sent: Mutex<Sent>,
    /// Wakes receipts waiting for the id of a send whose answer is still on its way.
    sent_changed: tokio::sync::Notify,
    credits: Arc<Credits>,
}

#[derive(Default)]
struct Sent {
    by_message: HashMap<u64, OutboxId>,
    order: VecDeque<u64>,
}

/// The remaining credits as last asked for; shared with the server for administrators.
#[derive(Debug, Default)]
pub struct Credits {
    remaining: AtomicI64,
    known: AtomicBool,
    warn_below: AtomicI64,
}

impl Credits {
    /// The remaining credits, once the Gateway has been asked.
    pub fn remaining(&self) -> Option<i64> {
        self.known
            .load(Ordering::Acquire)
            .then(|| self.remaining.load(Ordering::Acquire))
    }

    /// The configured warning threshold.
    pub fn warn_below(&self) -> i64 {
        self.warn_below.load(Ordering::Relaxed)
    }

    /// Whether the credits are known to be below the threshold.
    pub fn low(&self) -> bool {
        self.remaining().is_some_and(|r| r < self.warn_below())
    }

    pub(crate) fn set(&self, remaining: i64) {
        self.remaining.store(remaining, Ordering::Release);
        self.known.store(true, Ordering::Release);
    }

    pub(crate) fn set_warn_below(&self, warn_below: i64) {
        self.warn_below.store(warn_below, Ordering::Relaxed);
    }
}

impl Gateway {
    pub(crate) fn new(api: E2eApi, warn_below: i64) -> Gateway {
        let credits = Arc::new(Credits::default());
        credits.set_warn_below(warn_below);
        Gateway {
            api,
            keys: Mutex::default(),
            sent: Mutex::default(),
            sent_changed: tokio::sync::Notify::new(),
            credits,
        }
    }

    pub(crate) fn credits(&self) -> &Arc<Credits> {
        &self.credits
    }

    /// The citizen's public key: from the cache, else looked up once at the Gateway (which
    /// checks the key against the ID's directory entry and its fingerprint).
    pub(crate) async fn key(&self, id: &ThreemaId) -> Result<RecipientKey, ApiError> {
        if let Some(key) = self.lock_keys().get(id) {
            return Ok(key.clone());
        }
        let key = self.api.lookup_pubkey(id).await?;
        let mut keys = self.lock_keys();
        if keys.len() >= KEY_CACHE {
            keys.clear();
        }
        keys.insert(*id, key.clone());
        Ok(key)
    }

    /// Forgets a cached key (after it failed to open a message: the citizen may have a new
    /// one).
    pub(crate) fn forget_key(&self, id: &ThreemaId) {
        self.lock_keys().remove(id);
    }

    pub(crate) fn remember_sent(&self, message: MessageId, outbox: OutboxId) {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        if sent.order.len() >= SENT_MEMORY
            && let Some(oldest) = sent.order.pop_front()
        {
            sent.by_message.remove(&oldest);
        }
        sent.by_message.insert(message.as_u64(), outbox);
        sent.order.push_back(message.as_u64());
        drop(sent);
        self.sent_changed.notify_waiters();
    }

    /// The outbox message a sent message id belongs to. The citizen's app may confirm a
    /// message before the Gateway's answer to our send (with the id) has reached us, so an
    /// unknown id is waited for, up to `patience`.
    pub(crate) async fn outbox_of_waiting(
        &self,
        message: MessageId,
        patience: std::time::Duration,
    ) -> Option<OutboxId> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let changed = self.sent_changed.notified();
            if let Some(id) = self.outbox_of(message) {
                return Some(id);
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return None;
            }
        }
    }

    pub(crate) fn outbox_of(&self, message: MessageId) -> Option<OutboxId> {
        let sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.by_message.get(&message.as_u64()).copied()
    }

    fn lock_keys(&self) -> std::sync::MutexGuard<'_, HashMap<ThreemaId, RecipientKey>> {
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks for the remaining credits and warns below the threshold.
    pub(crate) async fn check_credits(&self) -> Result<i64, ApiError> {
        let remaining = self.api.lookup_credits().await?;
        self.credits.set(remaining);
        if remaining < self.credits.warn_below() {
            tracing::warn!(
                remaining,
                warn_below = self.credits.warn_below(),
                "Threema Gateway credits are running low; top them up in the Gateway's admin area"
            );
        } else {
            tracing::info!(remaining, "Threema Gateway credits");
        }
        Ok(remaining)
    }
}
