//! The Matrix channel: a bot account on a homeserver that citizens invite to a direct chat,
//! end-to-end encrypted or not (matrix-sdk with its SQLite state and crypto store).
//!
//! - [`config`]: the `[matrix]` section and its validation.
//! - `session`: one login, one device for the bot's whole life (`<data_dir>/matrix/`).
//! - `sync`: the inbound loop (invites, refusals, greeting, citizens' messages).
//! - `channel`: the outbound side ([`sprechstunde_core::Channel`]), `m.notice` replies with a
//!   transaction id per outbox message.
//! - `translate`: the pure mapping between Matrix events and the core.
//!
//! Set-up, encryption and what the data protection officer should know: `docs/matrix.md`.

mod channel;
pub mod config;
mod session;
mod sync;
mod translate;

use std::path::Path;
use std::sync::Arc;

use matrix_sdk::ruma::OwnedRoomOrAliasId;
use matrix_sdk::{Client, RoomState};
use sprechstunde_core::ChannelKind;
use sprechstunde_runtime::{Office, Pseudonymizer};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::MatrixConfig;

use crate::channel::{MatrixChannel, ReplyTargets, send_notice};
use crate::session::Paths;

/// The raw id under which the store key is derived from the pseudonym key. It is not a Matrix
/// user id (no `@`), so no citizen's pseudonym can ever be equal to it.
const STORE_KEY_ID: &str = "sprechstunde:matrix-store-key";

/// The key of matrix-sdk's SQLite stores: HMAC-SHA256 of a fixed label under the pseudonym
/// key, so it is never written down and a copy of the data directory alone does not open the
/// stores (when the pseudonym key is kept elsewhere).
fn store_key(pseudonyms: &Pseudonymizer) -> [u8; 32] {
    let hex = pseudonyms.pseudonym(ChannelKind::Matrix, STORE_KEY_ID);
    let mut key = [0u8; 32];
    for (byte, pair) in key.iter_mut().zip(hex.as_bytes().chunks(2)) {
        let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
        *byte = (digit(pair[0]) << 4) | digit(pair.get(1).copied().unwrap_or(b'0'));
    }
    key
}

/// Log filter directives that silence matrix-sdk's own logs: at `info` and above they carry
/// user ids, device ids and request URLs with room ids. The adapter logs its own summaries
/// instead; `RUST_LOG` turns the SDK's logs on for debugging.
pub const QUIET_SDK_LOGS: &str = "matrix_sdk=off,matrix_sdk_base=off,matrix_sdk_crypto=off,\
     matrix_sdk_sqlite=off,matrix_sdk_common=off,matrix_sdk_store_encryption=off";

/// A Matrix start-up or announcement failure.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    /// A configuration key has a bad value.
    #[error("configuration key {key}: {reason}")]
    Config {
        /// The key, e.g. `matrix.homeserver`.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The homeserver could not be reached.
    #[error("the Matrix homeserver is not reachable: {0}")]
    Unreachable(String),
    /// The adapter's files under `<data_dir>/matrix` could not be used.
    #[error("Matrix data: {0}")]
    Storage(String),
    /// matrix-sdk failed.
    #[error("Matrix client: {0}")]
    Client(String),
    /// No announcements room is configured (`matrix.announcements_room`).
    #[error("no Matrix announcements room is configured (matrix.announcements_room)")]
    NoAnnouncementsRoom,
}

/// The running Matrix channel.
pub struct Matrix {
    client: Client,
    announcements_room: Option<OwnedRoomOrAliasId>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Matrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Matrix")
    }
}

impl Matrix {
    /// Starts the channel if enabled; `None` when disabled. Logs in (or restores the saved
    /// session), sets the display name, registers the outbound channel with the office and
    /// starts the sync loop. matrix-sdk keeps its own state under `<data_dir>/matrix/`.
    ///
    /// # Errors
    /// Invalid configuration (the error names the key), unusable files under the data
    /// directory, or a first login that fails.
    pub async fn start(
        office: Office,
        config: &MatrixConfig,
        pseudonyms: Pseudonymizer,
        data_dir: &Path,
        shutdown: CancellationToken,
    ) -> Result<Option<Matrix>, MatrixError> {
        if !config.enabled {
            return Ok(None);
        }
        let valid = config.validate()?;
        let paths = Paths::new(data_dir);
        let store_key = store_key(&pseudonyms);
        let client = session::connect(&valid, &paths, &store_key).await?;
        session::remember(&client, &paths)?;
        set_display_name(&client, &valid.display_name).await;

        let replies = ReplyTargets::new(client.clone());
        office.register_channel(Arc::new(MatrixChannel::new(
            client.clone(),
            replies.clone(),
        )));
        let syncer = sync::Syncer {
            client: client.clone(),
            office,
            pseudonyms,
            replies,
            shutdown,
        };
        let task = tokio::spawn(syncer.run());
        Ok(Some(Matrix {
            client,
            announcements_room: valid.announcements_room,
            task,
        }))
    }

    /// The bot's device id (stable across restarts).
    pub fn device_id(&self) -> Option<String> {
        self.client.device_id().map(|d| d.to_string())
    }

    /// Posts a notice into the configured announcements room (joining it first if needed).
    ///
    /// # Errors
    /// No room configured, the room cannot be joined, or the homeserver refused the message.
    pub async fn announce(&self, text: &str) -> Result<(), MatrixError> {
        let target = self
            .announcements_room
            .as_ref()
            .ok_or(MatrixError::NoAnnouncementsRoom)?;
        let room = match matrix_sdk::ruma::RoomId::parse(target.as_str())
            .ok()
            .and_then(|id| self.client.get_room(&id))
            .filter(|r| r.state() == RoomState::Joined)
        {
            Some(room) => room,
            None => self
                .client
                .join_room_by_id_or_alias(target, &[])
                .await
                .map_err(|e| MatrixError::Client(e.to_string()))?,
        };
        send_notice(&room, text, None, matrix_sdk::ruma::TransactionId::new())
            .await
            .map(|_| ())
            .map_err(|e| MatrixError::Client(e.to_string()))
    }

    /// Waits until the channel's tasks have stopped (after the shutdown token was cancelled).
    pub async fn join(self) {
        let _ = self.task.await;
    }
}

/// Sets the display name unless it is set already: every change is a new membership event in
/// every room the bot is in.
async fn set_display_name(client: &Client, name: &str) {
    match client.account().get_display_name().await {
        Ok(Some(current)) if current == name => {}
        Ok(_) => {
            if let Err(error) = client.account().set_display_name(Some(name)).await {
                let error = channel::describe(&error);
                tracing::warn!(%error, "could not set the Matrix display name");
            }
        }
        Err(error) => {
            let error = channel::describe(&error);
            tracing::warn!(%error, "could not read the Matrix display name");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_key_is_derived_from_the_pseudonym_key() {
        let a = Pseudonymizer::new(vec![1; 32]).expect("key");
        let b = Pseudonymizer::new(vec![2; 32]).expect("key");
        assert_eq!(store_key(&a), store_key(&a));
        assert_ne!(store_key(&a), store_key(&b));
        assert_ne!(store_key(&a), [0; 32]);
    }
}
