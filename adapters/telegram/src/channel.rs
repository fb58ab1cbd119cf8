//! The outbound side: delivers outbox messages with `sendMessage`, paced under Telegram's
//! limits, long texts split, choices as an inline keyboard under the last chunk.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use sprechstunde_core::{Channel, ChannelKind, Delivery, DeliveryError, OutboxId};
use teloxide::RequestError;
use teloxide::prelude::*;

use crate::pace::Pacer;
use crate::translate::{self, MAX_MESSAGE_UNITS, Scrubber};

/// Deliveries the dispatcher hands over at once. About two seconds of sending at full pace:
/// enough to keep the pace, few enough that the rest waits in the durable outbox.
pub(crate) const MAX_IN_FLIGHT: usize = 64;
/// 429s answered inside one delivery before it goes back to the outbox with `RetryAfter`.
const RETRIES_IN_CALL: u32 = 3;

/// The Telegram channel's outbound side.
pub(crate) struct TelegramChannel {
    bot: Bot,
    pacer: Arc<Pacer>,
    scrubber: Scrubber,
    /// Chunks of a split message already sent, so a retry continues where it stopped. In
    /// memory only: after a restart a partly sent message is sent whole (at least once).
    partial: Mutex<HashMap<OutboxId, usize>>,
}

impl TelegramChannel {
    pub(crate) fn new(bot: Bot, pacer: Arc<Pacer>, scrubber: Scrubber) -> TelegramChannel {
        TelegramChannel {
            bot,
            pacer,
            scrubber,
            partial: Mutex::new(HashMap::new()),
        }
    }

    fn partial(&self) -> std::sync::MutexGuard<'_, HashMap<OutboxId, usize>> {
        self.partial.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends one chunk, waiting out up to [`RETRIES_IN_CALL`] 429s.
    async fn send_chunk(
        &self,
        chat: i64,
        text: &str,
        markup: Option<&teloxide::types::InlineKeyboardMarkup>,
    ) -> Result<(), RequestError> {
        let mut retries = 0;
        loop {
            // Held until the Bot API has answered: the pacer counts from the answer.
            let _permit = self.pacer.acquire(chat).await;
            let mut request = self.bot.send_message(ChatId(chat), text);
            if let Some(markup) = markup {
                request = request.reply_markup(markup.clone());
            }
            match request.await {
                Ok(_) => return Ok(()),
                Err(RequestError::RetryAfter(wait)) if retries < RETRIES_IN_CALL => {
                    retries += 1;
                    tracing::info!(
                        retry_after_s = wait.seconds(),
                        "Telegram asked to slow down"
                    );
                    self.pacer.pause(wait.duration());
                }
                Err(RequestError::RetryAfter(wait)) => {
                    self.pacer.pause(wait.duration());
                    return Err(RequestError::RetryAfter(wait));
                }
                Err(other) => return Err(other),
            }
        }
    }
}

#[async_trait]
impl Channel for TelegramChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Telegram
    }

    fn max_in_flight(&self) -> usize {
        MAX_IN_FLIGHT
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let Ok(chat) = delivery.address.parse::<i64>() else {
            return Err(DeliveryError::Permanent(
                "not a Telegram chat address".to_owned(),
            ));
        };
        let chunks = translate::split(&delivery.text, MAX_MESSAGE_UNITS);
        let markup = translate::keyboard(&delivery.choices);
        let done = self.partial().get(&delivery.id).copied().unwrap_or(0);
        let last = chunks.len().saturating_sub(1);
        for (i, chunk) in chunks.iter().enumerate().skip(done) {
            let keys = if i == last { markup.as_ref() } else { None };
            if let Err(error) = self.send_chunk(chat, chunk, keys).await {
                if i > 0 {
                    self.partial().insert(delivery.id, i);
                }
                return Err(translate::delivery_error(&error, &self.scrubber));
            }
            tracing::debug!(outbox = delivery.id.0, chunk = i, "sent to Telegram");
        }
        self.partial().remove(&delivery.id);
        Ok(())
    }
}
