//! The inbound side: the sync loop. It joins invites, refuses rooms that are not direct
//! chats, greets, and hands citizens' messages to the office.
//!
//! The sync position the adapter has *processed* is kept as a custom value in matrix-sdk's
//! store and written only after every event of a batch was handed over (matrix-sdk saves its
//! own position before that). After a crash or stop the same batch comes again; the intake key
//! `mx:<event id>` makes the office ignore what it already has. On the very first start the
//! initial sync is skipped, so nothing from before the bot existed becomes a question.

use std::time::Duration;

use matrix_sdk::config::SyncSettings;
use matrix_sdk::deserialized_responses::TimelineEvent;
use matrix_sdk::ruma::api::client::filter::FilterDefinition;
use matrix_sdk::ruma::api::client::sync::sync_events::v3::Filter;
use matrix_sdk::ruma::{EventId, OwnedEventId, OwnedRoomId, RoomId, UInt, UserId};
use matrix_sdk::sync::SyncResponse;
use matrix_sdk::{Client, Room, RoomMemberships, RoomState};
use sprechstunde_core::{ChannelIdentity, ChannelKind, CitizenMessage, Input, Lang, Receipt};
use sprechstunde_runtime::{Office, Pseudonymizer};
use tokio_util::sync::CancellationToken;

use crate::channel::{ReplyTargets, describe, send_notice};
use crate::translate::{self, Seen};

/// Custom-value key of the last sync position whose events were all handed over.
const PROCESSED_TOKEN: &[u8] = b"sprechstunde/sync/processed";
/// How long the homeserver may hold a sync request open.
const SYNC_TIMEOUT: Duration = Duration::from_secs(30);
/// Timeline events per room and sync; a bot that was down for long gets this many of each
/// room's latest events.
const TIMELINE_LIMIT: u32 = 100;
/// Longest pause between sync attempts while the homeserver is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The sync loop's handles.
pub(crate) struct Syncer {
    pub(crate) client: Client,
    pub(crate) office: Office,
    pub(crate) pseudonyms: Pseudonymizer,
    pub(crate) replies: ReplyTargets,
    pub(crate) shutdown: CancellationToken,
}

fn settings() -> SyncSettings {
    let mut filter = FilterDefinition::default();
    filter.room.timeline.limit = Some(UInt::from(TIMELINE_LIMIT));
    SyncSettings::default()
        .timeout(SYNC_TIMEOUT)
        .filter(Filter::FilterDefinition(filter))
}

impl Syncer {
    /// Runs until the shutdown token is cancelled.
    pub(crate) async fn run(self) {
        let Some(mut token) = self.start_position().await else {
            return;
        };
        self.join_pending_invites().await;
        let mut backoff = Duration::from_secs(1);
        loop {
            let sync = self.client.sync_once(settings().token(token.clone()));
            let result = tokio::select! {
                r = sync => r,
                () = self.shutdown.cancelled() => return,
            };
            match result {
                Ok(response) => {
                    backoff = Duration::from_secs(1);
                    let next = response.next_batch.clone();
                    tokio::select! {
                        () = self.handle(response) => {}
                        // Not saved: the batch comes again after the restart.
                        () = self.shutdown.cancelled() => return,
                    }
                    self.save_position(&next).await;
                    token = next;
                }
                Err(error) => {
                    let error = describe(&error);
                    tracing::warn!(%error, "Matrix sync failed; retrying");
                    if !self.pause(backoff).await {
                        return;
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// Sleeps unless shut down; false if shut down.
    async fn pause(&self, duration: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(duration) => true,
            () = self.shutdown.cancelled() => false,
        }
    }

    /// The processed position, or (first start) the position after an initial sync whose
    /// events are not handled.
    async fn start_position(&self) -> Option<String> {
        let stored = self
            .client
            .state_store()
            .get_custom_value(PROCESSED_TOKEN)
            .await
            .ok()
            .flatten()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        if stored.is_some() {
            return stored;
        }
        let mut backoff = Duration::from_secs(1);
        loop {
            let sync = self.client.sync_once(settings());
            let result = tokio::select! {
                r = sync => r,
                () = self.shutdown.cancelled() => return None,
            };
            match result {
                Ok(response) => {
                    self.save_position(&response.next_batch).await;
                    tracing::info!("first Matrix sync done; earlier history is not handled");
                    return Some(response.next_batch);
                }
                Err(error) => {
                    let error = describe(&error);
                    tracing::warn!(%error, "first Matrix sync failed; retrying");
                    if !self.pause(backoff).await {
                        return None;
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    async fn save_position(&self, token: &str) {
        if let Err(error) = self
            .client
            .state_store()
            .set_custom_value(PROCESSED_TOKEN, token.as_bytes().to_vec())
            .await
        {
            // The batch is handled again after a restart; the intake keys make that harmless.
            tracing::warn!(%error, "could not save the Matrix sync position");
        }
    }

    fn own_user(&self) -> Option<&UserId> {
        self.client.user_id()
    }

    /// Invites that arrived while the bot could not join them (first start, crash).
    async fn join_pending_invites(&self) {
        for room in self.client.invited_rooms() {
            accept_invite(room).await;
        }
    }

    async fn handle(&self, response: SyncResponse) {
        for room_id in response.rooms.invited.keys() {
            if let Some(room) = self.client.get_room(room_id) {
                accept_invite(room).await;
            }
        }
        for (room_id, update) in response.rooms.joined {
            self.joined_room(&room_id, update.timeline.events, update.timeline.limited)
                .await;
        }
    }

    async fn joined_room(&self, room_id: &OwnedRoomId, events: Vec<TimelineEvent>, limited: bool) {
        let Some(own) = self.own_user().map(ToOwned::to_owned) else {
            return;
        };
        let Some(room) = self.client.get_room(room_id) else {
            return;
        };
        if room.state() != RoomState::Joined {
            return;
        }
        let seen: Vec<Seen> = events
            .iter()
            .map(|e| translate::classify(e.raw(), &own))
            .collect();
        let (join, new) = translate::after_own_join(seen);
        if limited && join.is_none() {
            // Events between the last processed position and this batch were left out.
            tracing::warn!(
                limit = TIMELINE_LIMIT,
                "a Matrix room had more new events than one sync returns; older ones are skipped"
            );
        }
        let others = match room
            .members(RoomMemberships::JOIN | RoomMemberships::INVITE)
            .await
        {
            Ok(members) => members.iter().filter(|m| m.user_id() != own).count(),
            Err(error) => {
                // Fall back to the counts from the sync rather than skip the batch, whose
                // position is saved afterwards.
                let error = describe(&error);
                tracing::warn!(%error, "could not read a Matrix room's members");
                let all = room.joined_members_count() + room.invited_members_count();
                usize::try_from(all.saturating_sub(1)).unwrap_or(usize::MAX)
            }
        };
        if others > 1 {
            self.refuse(&room, join.as_deref()).await;
            return;
        }
        if others == 0 {
            // The citizen left (or never joined): nobody to talk to.
            if let Err(error) = room.leave().await {
                let error = describe(&error);
                tracing::warn!(%error, "could not leave an empty Matrix room");
            }
            return;
        }
        if let Some(join) = &join {
            self.greet(&room, join).await;
        }
        for event in new {
            match event {
                Seen::Text {
                    event_id,
                    sender,
                    body,
                } => self.intake(&room, event_id, &sender, body).await,
                Seen::NotText { event_id, .. } => {
                    let txn = translate::event_transaction_id("not-text", &event_id);
                    let text = self.office.engine().texts().bilingual("text-only", &[]);
                    self.notice(&room, text, Some(event_id), txn).await;
                }
                Seen::Undecryptable(event_id) => {
                    tracing::warn!("a Matrix message could not be decrypted");
                    let txn = translate::event_transaction_id("undecryptable", &event_id);
                    let text = self.office.engine().texts().bilingual("undecryptable", &[]);
                    self.notice(&room, text, Some(event_id), txn).await;
                }
                Seen::OwnJoin(_) | Seen::Other => {}
            }
        }
    }

    async fn notice(
        &self,
        room: &Room,
        text: String,
        reply_to: Option<OwnedEventId>,
        txn: matrix_sdk::ruma::OwnedTransactionId,
    ) {
        if let Err(error) = send_notice(room, &text, reply_to, txn).await {
            tracing::warn!(%error, "could not send a notice to a Matrix room");
        }
    }

    async fn refuse(&self, room: &Room, join: Option<&EventId>) {
        tracing::info!("refusing a Matrix room that is not a direct chat");
        let txn = match join {
            Some(join) => translate::event_transaction_id("refusal", join),
            None => matrix_sdk::ruma::TransactionId::new(),
        };
        let text = self
            .office
            .engine()
            .texts()
            .bilingual("group-refusal-matrix", &[]);
        self.notice(room, text, None, txn).await;
        if let Err(error) = room.leave().await {
            let error = describe(&error);
            tracing::warn!(%error, "could not leave a Matrix group room");
        }
    }

    async fn greet(&self, room: &Room, join: &EventId) {
        let encrypted = match room.latest_encryption_state().await {
            Ok(state) => state.is_encrypted(),
            Err(_) => room.encryption_state().is_encrypted(),
        };
        let (de, en) = self
            .office
            .read(|state, engine, now| {
                (
                    engine.greeting(state, ChannelKind::Matrix, Lang::De, now),
                    engine.greeting(state, ChannelKind::Matrix, Lang::En, now),
                )
            })
            .await;
        let text = translate::greeting(self.office.engine().texts(), encrypted, &de, &en);
        let txn = translate::event_transaction_id("greeting", join);
        self.notice(room, text, None, txn).await;
        tracing::info!(encrypted, "joined a Matrix direct chat and greeted");
    }

    async fn intake(&self, room: &Room, event_id: OwnedEventId, sender: &UserId, body: String) {
        let room_id: &RoomId = room.room_id();
        self.replies.set_latest(room_id, &event_id).await;
        let encrypted = room.encryption_state().is_encrypted();
        let input = Input::Citizen(CitizenMessage {
            identity: ChannelIdentity {
                channel: ChannelKind::Matrix,
                pseudonym: self
                    .pseudonyms
                    .pseudonym(ChannelKind::Matrix, sender.as_str()),
                address: room_id.to_string(),
            },
            lang: None,
            text: body,
            intake_key: Some(translate::intake_key(&event_id)),
            inline_errors: false,
            encrypted: Some(encrypted),
        });
        let mut backoff = Duration::from_millis(200);
        loop {
            match self.office.submit(input.clone()).await {
                Ok(Ok(Receipt::Question { question, .. })) => {
                    self.replies.set_question(question, &event_id).await;
                    return;
                }
                // Commands are answered through the outbox; refusals (too long) too.
                Ok(_) => return,
                Err(error) => {
                    // Holding the sync here keeps the position from moving past the message.
                    tracing::error!(%error, "could not store a Matrix message; retrying");
                    if !self.pause(backoff).await {
                        return;
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}

/// Joins a room the bot was invited to. Whether it is a direct chat is checked once the
/// room's members are known (next sync).
async fn accept_invite(room: Room) {
    if room.state() != RoomState::Invited {
        return;
    }
    match room.join().await {
        Ok(()) => tracing::debug!("joined a Matrix room after an invite"),
        // It stays invited; the next start tries again.
        Err(error) => {
            let error = describe(&error);
            tracing::warn!(%error, "could not join a Matrix room");
        }
    }
}
