//! Long polling with `getUpdates`. An update is confirmed (by the `offset` of the next
//! `getUpdates`) only after [`Updates::handle`] has stored it durably; a crash in between makes
//! Telegram deliver it again, and the engine's intake key (`tg:<update_id>`) makes the second
//! delivery a no-op.

use std::time::Duration;

use futures_util::future::join_all;
use teloxide::prelude::*;
use teloxide::types::{AllowedUpdate, Update};
use tokio_util::sync::CancellationToken;

use crate::translate::{self, Inbound, Scrubber};
use crate::updates::Updates;

/// Long-poll timeout in seconds; below teloxide's 17 s HTTP client timeout.
const POLL_TIMEOUT_S: u32 = 10;
/// Longest pause after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The updates a bot subscribes to.
pub(crate) fn allowed_updates() -> Vec<AllowedUpdate> {
    vec![
        AllowedUpdate::Message,
        AllowedUpdate::CallbackQuery,
        AllowedUpdate::ChannelPost,
    ]
}

/// Polls until `shutdown` is cancelled.
pub(crate) async fn run(
    bot: Bot,
    updates: Updates,
    scrubber: Scrubber,
    shutdown: CancellationToken,
) {
    let mut offset: Option<i32> = None;
    let mut backoff = Duration::from_millis(500);
    loop {
        let mut request = bot
            .get_updates()
            .timeout(POLL_TIMEOUT_S)
            .limit(100)
            .allowed_updates(allowed_updates());
        if let Some(offset) = offset {
            request = request.offset(offset);
        }
        let result = tokio::select! {
            () = shutdown.cancelled() => return,
            r = request.send() => r,
        };
        let failed = match result {
            Ok(batch) => match process(&updates, &batch).await {
                Ok(()) => {
                    if let Some(last) = batch.iter().map(|u| u.id.0).max() {
                        offset = i32::try_from(last.saturating_add(1)).ok();
                    }
                    false
                }
                Err(error) => {
                    tracing::error!(%error, "could not store updates; they will come again");
                    true
                }
            },
            Err(error) => {
                tracing::warn!(error = %scrubber.error(&error), "getUpdates failed");
                true
            }
        };
        if failed {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        } else {
            backoff = Duration::from_millis(500);
        }
    }
}

/// Handles a batch: the updates of one chat in order, different chats at once. Returns only
/// when all are stored.
async fn process(
    updates: &Updates,
    batch: &[Update],
) -> Result<(), sprechstunde_runtime::OfficeError> {
    let mut groups: Vec<(i64, Vec<&Update>)> = Vec::new();
    for update in batch {
        let key = match translate::inbound(update) {
            Inbound::Citizen { chat_id, .. } | Inbound::Public { chat_id } => chat_id,
            Inbound::Ignored => continue,
            Inbound::Unreadable => {
                updates.skip_unreadable(update);
                continue;
            }
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(update),
            None => groups.push((key, vec![update])),
        }
    }
    let results = join_all(groups.iter().map(|(_, list)| async move {
        for update in list {
            updates.handle(update).await?;
        }
        Ok(())
    }))
    .await;
    results.into_iter().collect()
}
