//! The daily retention purge: once a day by the office's clock, the engine forgets closed
//! questions and inactive citizens whose retention period has passed, and the items of draft
//! summaries that quote those questions (see `Input::Purge`). Tests with a manual clock call [`Office::purge`] after moving the clock.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::office::Office;

/// How often the purge runs, by the office's clock.
const PURGE_EVERY: SignedDuration = SignedDuration::from_hours(24);
/// How often the clock is looked at.
const CHECK_EVERY: Duration = Duration::from_secs(15 * 60);

pub(crate) async fn run(office: Office) {
    let mut last: Option<Timestamp> = None;
    loop {
        let now = office.now();
        if last.is_none_or(|l| now.duration_since(l) >= PURGE_EVERY) {
            match office.purge().await {
                Ok(()) => last = Some(now),
                Err(error) => tracing::error!(%error, "the retention purge failed; retrying later"),
            }
        }
        tokio::time::sleep(CHECK_EVERY).await;
    }
}
