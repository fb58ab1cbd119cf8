//! A citizen on Matrix: a second matrix-sdk client (SQLite store in a temp dir) that opens a
//! direct chat with the bot, plain or end-to-end encrypted, writes, and reads the bot's
//! notices (decrypted).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use matrix_sdk::config::SyncSettings;
use matrix_sdk::room::MessagesOptions;
use matrix_sdk::ruma::api::client::room::create_room::v3::{Request as CreateRoom, RoomPreset};
use matrix_sdk::ruma::events::room::encryption::RoomEncryptionEventContent;
use matrix_sdk::ruma::events::room::message::{
    MessageType, OriginalSyncRoomMessageEvent, Relation, RoomMessageEventContent,
};
use matrix_sdk::ruma::events::{AnySyncMessageLikeEvent, AnySyncTimelineEvent, InitialStateEvent};
use matrix_sdk::ruma::{OwnedEventId, OwnedRoomId, OwnedUserId, RoomId, UserId};
use matrix_sdk::{Client, Room, RoomMemberships};
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::Synapse;

/// How long the citizen waits for the bot.
pub const MATRIX_DEADLINE: Duration = Duration::from_secs(30);

/// A notice the bot wrote, as the citizen's client received it.
#[derive(Debug, Clone)]
pub struct Notice {
    /// The room.
    pub room: OwnedRoomId,
    /// Its event id.
    pub event_id: OwnedEventId,
    /// The text.
    pub body: String,
    /// Whether it arrived encrypted (and was decrypted).
    pub encrypted: bool,
    /// The event it replies to.
    pub reply_to: Option<OwnedEventId>,
}

/// A logged-in citizen with a running sync loop.
pub struct MatrixCitizen {
    client: Client,
    notices: Arc<Mutex<Vec<Notice>>>,
    sync: JoinHandle<()>,
    _dir: TempDir,
}

impl Drop for MatrixCitizen {
    fn drop(&mut self) {
        self.sync.abort();
    }
}

impl MatrixCitizen {
    /// Registers `localpart` on the homeserver and logs in with a fresh device.
    ///
    /// # Errors
    /// Registration, login or the first sync failed.
    pub async fn register(synapse: &Synapse, localpart: &str) -> anyhow::Result<MatrixCitizen> {
        let password = format!("{localpart}-passwort-1234");
        synapse.register(localpart, &password).await?;
        let dir = tempfile::Builder::new()
            .prefix("sprechstunde-mxcitizen-")
            .tempdir()?;
        let client = Client::builder()
            .homeserver_url(synapse.url())
            .sqlite_store(dir.path(), None)
            .build()
            .await?;
        client
            .matrix_auth()
            .login_username(localpart, &password)
            .initial_device_display_name("Bürger-Handy")
            .send()
            .await?;
        let notices = Arc::new(Mutex::new(Vec::new()));
        let sink = notices.clone();
        client.add_event_handler(
            move |event: OriginalSyncRoomMessageEvent,
                  room: Room,
                  info: Option<matrix_sdk::deserialized_responses::EncryptionInfo>| {
                let sink = sink.clone();
                async move {
                    let MessageType::Notice(notice) = event.content.msgtype else {
                        return;
                    };
                    let reply_to = match event.content.relates_to {
                        Some(Relation::Reply(reply)) => Some(reply.in_reply_to.event_id),
                        _ => None,
                    };
                    sink.lock().unwrap_or_else(|e| e.into_inner()).push(Notice {
                        room: room.room_id().to_owned(),
                        event_id: event.event_id,
                        body: notice.body,
                        encrypted: info.is_some(),
                        reply_to,
                    });
                }
            },
        );
        client.sync_once(SyncSettings::default()).await?;
        let syncing = client.clone();
        let sync = tokio::spawn(async move {
            loop {
                let settings = SyncSettings::default().timeout(Duration::from_secs(5));
                if syncing.sync_once(settings).await.is_err() {
                    // The homeserver is down (outage tests): try again shortly.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        });
        Ok(MatrixCitizen {
            client,
            notices,
            sync,
            _dir: dir,
        })
    }

    /// The citizen's user id.
    pub fn user_id(&self) -> OwnedUserId {
        // Logged in by `register`, so always set.
        self.client.user_id().expect("logged in").to_owned()
    }

    /// The client, for anything the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Creates a direct chat inviting `invite` (the bot first); with `encrypted`,
    /// `m.room.encryption` is part of the room's initial state.
    ///
    /// # Errors
    /// The homeserver refused.
    pub async fn create_room(
        &self,
        invite: &[&str],
        encrypted: bool,
    ) -> anyhow::Result<OwnedRoomId> {
        let mut request = CreateRoom::new();
        request.invite = invite
            .iter()
            .map(|u| UserId::parse(*u))
            .collect::<Result<_, _>>()?;
        request.is_direct = true;
        request.preset = Some(RoomPreset::TrustedPrivateChat);
        if encrypted {
            request.initial_state = vec![
                InitialStateEvent::with_empty_state_key(
                    RoomEncryptionEventContent::with_recommended_defaults(),
                )
                .to_raw_any(),
            ];
        }
        let room = self.client.create_room(request).await?;
        Ok(room.room_id().to_owned())
    }

    /// Invites a user into a room.
    ///
    /// # Errors
    /// The homeserver refused.
    pub async fn invite(&self, room: &RoomId, user: &str) -> anyhow::Result<()> {
        self.room(room)?
            .invite_user_by_id(&UserId::parse(user)?)
            .await?;
        Ok(())
    }

    fn room(&self, room: &RoomId) -> anyhow::Result<Room> {
        self.client
            .get_room(room)
            .context("the citizen does not know the room")
    }

    /// Sends a text message (encrypted in an encrypted room).
    ///
    /// # Errors
    /// The homeserver refused.
    pub async fn send(&self, room: &RoomId, text: &str) -> anyhow::Result<OwnedEventId> {
        let sent = self
            .room(room)?
            .send(RoomMessageEventContent::text_plain(text))
            .await?;
        Ok(sent.response.event_id)
    }

    /// Agrees to the privacy notice (`/einverstanden`) and waits for the thanks; a citizen
    /// does this before the first question is kept. Consent counts only while the notice is
    /// pending: a citizen who was never shown it gets the notice first and agrees to it then.
    ///
    /// # Errors
    /// Sending failed, or the thanks did not arrive within [`MATRIX_DEADLINE`].
    pub async fn agree(&self, room: &RoomId) -> anyhow::Result<Notice> {
        const THANKS: &str = "Vielen Dank für Ihr Einverständnis";
        const NOTICE: &str = "Antworten Sie mit /einverstanden oder /ablehnen";
        let seen = self.notices(room).len();
        self.send(room, "/einverstanden").await?;
        let deadline = Instant::now() + MATRIX_DEADLINE;
        let reply = loop {
            if let Some(reply) = self
                .notices(room)
                .into_iter()
                .skip(seen)
                .find(|n| n.body.contains(THANKS) || n.body.contains(NOTICE))
            {
                break reply;
            }
            if Instant::now() > deadline {
                bail!("neither the thanks nor the privacy notice arrived");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        if reply.body.contains(THANKS) {
            return Ok(reply);
        }
        self.send(room, "/einverstanden").await?;
        self.notice_containing(room, THANKS).await
    }

    /// All notices received in `room` so far.
    pub fn notices(&self, room: &RoomId) -> Vec<Notice> {
        self.notices
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|n| n.room == room)
            .cloned()
            .collect()
    }

    /// Waits for the `n`-th notice (counting from 1) in `room`.
    ///
    /// # Errors
    /// None arrives within [`MATRIX_DEADLINE`].
    pub async fn nth_notice(&self, room: &RoomId, n: usize) -> anyhow::Result<Notice> {
        let deadline = Instant::now() + MATRIX_DEADLINE;
        loop {
            if let Some(notice) = self.notices(room).get(n - 1) {
                return Ok(notice.clone());
            }
            if Instant::now() > deadline {
                bail!(
                    "notice {n} did not arrive; got {:?}",
                    self.notices(room)
                        .iter()
                        .map(|n| &n.body)
                        .collect::<Vec<_>>()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for a notice in `room` that contains `text`.
    ///
    /// # Errors
    /// None arrives within [`MATRIX_DEADLINE`].
    pub async fn notice_containing(&self, room: &RoomId, text: &str) -> anyhow::Result<Notice> {
        let deadline = Instant::now() + MATRIX_DEADLINE;
        loop {
            if let Some(notice) = self
                .notices(room)
                .into_iter()
                .find(|n| n.body.contains(text))
            {
                return Ok(notice);
            }
            if Instant::now() > deadline {
                bail!(
                    "no notice containing {text:?}; got {:?}",
                    self.notices(room)
                        .iter()
                        .map(|n| &n.body)
                        .collect::<Vec<_>>()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `user` is no longer joined to or invited into `room`.
    ///
    /// # Errors
    /// Still there after [`MATRIX_DEADLINE`].
    pub async fn wait_until_gone(&self, room: &RoomId, user: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + MATRIX_DEADLINE;
        loop {
            let members = self
                .room(room)?
                .members_no_sync(RoomMemberships::JOIN | RoomMemberships::INVITE)
                .await?;
            if !members.iter().any(|m| m.user_id() == user) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("{user} is still in the room");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The bodies of all `m.room.message` events `sender` wrote into `room`, oldest first,
    /// read back from the homeserver (decrypted where encrypted).
    ///
    /// # Errors
    /// The homeserver refused.
    pub async fn messages_from(&self, room: &RoomId, sender: &str) -> anyhow::Result<Vec<String>> {
        let room = self.room(room)?;
        let mut bodies = Vec::new();
        let mut from: Option<String> = None;
        loop {
            let batch = room
                .messages(MessagesOptions::backward().from(from.as_deref()))
                .await?;
            for event in &batch.chunk {
                let Ok(AnySyncTimelineEvent::MessageLike(message)) = event.raw().deserialize()
                else {
                    continue;
                };
                if message.sender() != sender {
                    continue;
                }
                match message {
                    AnySyncMessageLikeEvent::RoomMessage(m) => {
                        let body = m
                            .as_original()
                            .map(|o| o.content.body().to_owned())
                            .unwrap_or_default();
                        bodies.push(body);
                    }
                    AnySyncMessageLikeEvent::RoomEncrypted(_) => {
                        bodies.push("<undecryptable>".into());
                    }
                    _ => {}
                }
            }
            match batch.end {
                Some(end) if !batch.chunk.is_empty() => from = Some(end),
                _ => break,
            }
        }
        bodies.reverse();
        Ok(bodies)
    }

    /// The device ids the homeserver lists for `user`.
    ///
    /// # Errors
    /// The key query failed.
    pub async fn devices_of(&self, user: &str) -> anyhow::Result<Vec<String>> {
        let user = UserId::parse(user)?;
        // Ask the homeserver, not the local cache.
        let mut request = matrix_sdk::ruma::api::client::keys::get_keys::v3::Request::new();
        request.device_keys.insert(user.clone(), Vec::new());
        let response = self.client.send(request).await?;
        Ok(response
            .device_keys
            .get(&user)
            .map(|d| d.keys().map(ToString::to_string).collect())
            .unwrap_or_default())
    }
}
