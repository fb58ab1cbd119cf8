//! What happens with one update, whether it came by polling or by webhook: a citizen's
//! message goes to the office (durably, before the update is confirmed), a button press is
//! answered and then handled as the command it carries, a group is refused.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sprechstunde_runtime::{Office, OfficeError, Pseudonymizer};
use teloxide::prelude::*;
use teloxide::types::Update;

use crate::pace::Pacer;
use crate::translate::{self, Inbound, Scrubber};

/// Groups remembered as refused; beyond this the memory starts afresh.
const REFUSED_MEMORY: usize = 10_000;

/// Handles updates for one bot.
#[derive(Clone)]
pub(crate) struct Updates {
    office: Office,
    pseudonyms: Pseudonymizer,
    bot: Bot,
    pacer: Arc<Pacer>,
    scrubber: Scrubber,
    refused: Arc<Mutex<HashSet<i64>>>,
    /// Updates skipped because teloxide could not read them, since start.
    unreadable: Arc<AtomicU64>,
}

impl Updates {
    pub(crate) fn new(
        office: Office,
        pseudonyms: Pseudonymizer,
        bot: Bot,
        pacer: Arc<Pacer>,
        scrubber: Scrubber,
    ) -> Updates {
        Updates {
            office,
            pseudonyms,
            bot,
            pacer,
            scrubber,
            refused: Arc::default(),
            unreadable: Arc::default(),
        }
    }

    /// Updates skipped since start because they could not be read.
    pub(crate) fn unreadable(&self) -> Arc<AtomicU64> {
        self.unreadable.clone()
    }

    /// Skips an update teloxide could not read: it is confirmed like any other (Telegram
    /// would otherwise send it forever), counted, and logged by id only. Its content, which
    /// teloxide keeps as raw JSON, may hold a citizen's text and chat id and is never logged.
    pub(crate) fn skip_unreadable(&self, update: &Update) {
        let total = self.unreadable.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::warn!(
            update = update.id.0,
            unreadable_total = total,
            "a Telegram update could not be read; skipped"
        );
    }

    /// Handles one update. Returns once whatever it changed is on disk.
    ///
    /// # Errors
    /// The store failed: the update must not be confirmed, so Telegram delivers it again.
    pub(crate) async fn handle(&self, update: &Update) -> Result<(), OfficeError> {
        match translate::inbound(update) {
            Inbound::Citizen {
                chat_id,
                lang,
                text,
                callback,
            } => {
                if let Some(id) = callback {
                    // Stops the button's spinner. A failure (the query is too old after a
                    // restart) changes nothing for the citizen.
                    if let Err(error) = self.bot.answer_callback_query(id).await {
                        tracing::debug!(error = %self.scrubber.error(&error), "callback not answered");
                    }
                }
                let input =
                    translate::citizen_input(&self.pseudonyms, update.id.0, chat_id, lang, text);
                // A refusal (empty, too long) is a reply the engine already queued.
                let _receipt_or_refusal = self.office.submit(input).await?;
                tracing::debug!(update = update.id.0, "citizen update stored");
                Ok(())
            }
            Inbound::Public { chat_id } => {
                self.refuse(chat_id).await;
                Ok(())
            }
            Inbound::Ignored => Ok(()),
            Inbound::Unreadable => {
                self.skip_unreadable(update);
                Ok(())
            }
        }
    }

    /// Office hours are private conversations, so groups and channels are refused, and
    /// nothing about them is stored: no citizen record, no pseudonym, no outbox entry. That
    /// is why the refusal is sent directly rather than through the durable outbox (which
    /// would need a stored recipient); if sending fails, the refusal is simply not repeated.
    /// Each chat is refused once per run (remembered in memory only), so a busy group is not
    /// answered message after message.
    async fn refuse(&self, chat_id: i64) {
        {
            let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
            if refused.len() >= REFUSED_MEMORY {
                refused.clear();
            }
            if !refused.insert(chat_id) {
                return;
            }
        }
        let _permit = self.pacer.acquire(chat_id).await;
        let refusal = self
            .office
            .engine()
            .texts()
            .bilingual("group-refusal-telegram", &[]);
        match self.bot.send_message(ChatId(chat_id), refusal).await {
            Ok(_) => tracing::info!("refused a group or channel chat"),
            Err(error) => {
                tracing::debug!(error = %self.scrubber.error(&error), "group refusal not sent");
            }
        }
    }
}
