//! The outbound side: outbox messages become `m.notice` events, replying to the citizen's
//! message, sent with a transaction id derived from the outbox id so that a retry never
//! creates a second event.

use async_trait::async_trait;
use matrix_sdk::ruma::api::error::{ErrorKind, RetryAfter};
use matrix_sdk::ruma::events::relation::{InReplyTo, Reply};
use matrix_sdk::ruma::events::room::message::{Relation, RoomMessageEventContent};
use matrix_sdk::ruma::{EventId, OwnedEventId, OwnedTransactionId, RoomId};
use matrix_sdk::{Client, HttpError, Room, RoomState};
use sprechstunde_core::{Channel, ChannelKind, Delivery, DeliveryError, QuestionId};

use crate::translate;

/// Deliveries handed to Matrix at once; more wait in the durable outbox.
const MAX_IN_FLIGHT: usize = 16;

/// Where the bot's answers point to: kept in matrix-sdk's (encrypted) state store as custom
/// values, so they survive restarts and stay with the other Matrix data.
#[derive(Clone, Debug)]
pub(crate) struct ReplyTargets {
    client: Client,
}

impl ReplyTargets {
    pub(crate) fn new(client: Client) -> Self {
        ReplyTargets { client }
    }

    fn question_key(question: QuestionId) -> Vec<u8> {
        format!("sprechstunde/reply/question/{}", question.0).into_bytes()
    }

    fn room_key(room: &RoomId) -> Vec<u8> {
        format!("sprechstunde/reply/room/{room}").into_bytes()
    }

    async fn put(&self, key: Vec<u8>, event: &EventId) {
        let store = self.client.state_store();
        if let Err(error) = store
            .set_custom_value(&key, event.as_str().as_bytes().to_vec())
            .await
        {
            // Only the reply relation is lost; the message itself goes out.
            tracing::warn!(%error, "could not remember the message to reply to");
        }
    }

    async fn get(&self, key: &[u8]) -> Option<OwnedEventId> {
        let bytes = self
            .client
            .state_store()
            .get_custom_value(key)
            .await
            .ok()??;
        let text = String::from_utf8(bytes).ok()?;
        EventId::parse(text).ok()
    }

    /// The citizen's latest message in a room.
    pub(crate) async fn set_latest(&self, room: &RoomId, event: &EventId) {
        self.put(Self::room_key(room), event).await;
    }

    /// The citizen's latest message on a question.
    pub(crate) async fn set_question(&self, question: QuestionId, event: &EventId) {
        self.put(Self::question_key(question), event).await;
    }

    /// What a message on `question` in `room` replies to: the question's latest message, else
    /// the room's.
    async fn target(&self, question: Option<QuestionId>, room: &RoomId) -> Option<OwnedEventId> {
        if let Some(q) = question
            && let Some(event) = self.get(&Self::question_key(q)).await
        {
            return Some(event);
        }
        self.get(&Self::room_key(room)).await
    }
}

/// The Matrix channel's outbound side.
#[derive(Clone, Debug)]
pub(crate) struct MatrixChannel {
    client: Client,
    replies: ReplyTargets,
}

impl MatrixChannel {
    pub(crate) fn new(client: Client, replies: ReplyTargets) -> Self {
        MatrixChannel { client, replies }
    }
}

/// A joined room by id, or why a message cannot go there.
pub(crate) fn joined_room(client: &Client, address: &str) -> Result<Room, DeliveryError> {
    let room_id = RoomId::parse(address)
        .map_err(|_| DeliveryError::Permanent("not a Matrix room id".into()))?;
    let room = client
        .get_room(&room_id)
        .ok_or_else(|| DeliveryError::Permanent("the bot is not in this room".into()))?;
    if room.state() != RoomState::Joined {
        return Err(DeliveryError::Permanent(
            "the bot has left this room".into(),
        ));
    }
    Ok(room)
}

/// Sends a notice with a fixed transaction id, replying to `reply_to` if given.
pub(crate) async fn send_notice(
    room: &Room,
    text: &str,
    reply_to: Option<OwnedEventId>,
    txn_id: OwnedTransactionId,
) -> Result<OwnedEventId, DeliveryError> {
    let mut content = RoomMessageEventContent::notice_plain(text);
    if let Some(event) = reply_to {
        content.relates_to = Some(Relation::Reply(Reply::new(InReplyTo::new(event))));
    }
    room.send(content)
        .with_transaction_id(txn_id)
        .await
        .map(|sent| sent.response.event_id)
        .map_err(|e| classify_error(&e))
}

/// Maps a matrix-sdk failure to the outbox's retry decision.
pub(crate) fn classify_error(error: &matrix_sdk::Error) -> DeliveryError {
    match error.client_api_error_kind() {
        Some(ErrorKind::LimitExceeded(data)) => {
            let wait = match data.retry_after {
                Some(RetryAfter::Delay(d)) => d,
                Some(RetryAfter::DateTime(at)) => at
                    .duration_since(std::time::SystemTime::now())
                    .unwrap_or_default(),
                None => std::time::Duration::from_secs(5),
            };
            DeliveryError::RetryAfter(wait)
        }
        Some(ErrorKind::Forbidden) => {
            DeliveryError::Permanent("the homeserver forbids sending to this room".into())
        }
        Some(ErrorKind::NotFound) => DeliveryError::Permanent("the room does not exist".into()),
        // Connection refused, timeouts, 5xx, store hiccups.
        _ => DeliveryError::Transient(describe(error)),
    }
}

/// A description of a matrix-sdk failure that is safe to log and to show staff: no URLs (they
/// carry room ids) and no server messages (they may name users or rooms). The full error goes
/// to the debug log only.
pub(crate) fn describe(error: &matrix_sdk::Error) -> String {
    tracing::debug!(%error, "Matrix error in full");
    if let Some(api) = error.as_client_api_error() {
        return match api.error_kind() {
            Some(kind) => format!("homeserver answered {} {}", api.status_code, kind.errcode()),
            None => format!("homeserver answered {}", api.status_code),
        };
    }
    match error {
        matrix_sdk::Error::Http(http) => match http.as_ref() {
            HttpError::Reqwest(e) if e.is_timeout() => "the homeserver did not answer in time",
            HttpError::Reqwest(e) if e.is_connect() => "the homeserver is not reachable",
            HttpError::Reqwest(_) => "network error talking to the homeserver",
            _ => "HTTP error talking to the homeserver",
        }
        .to_owned(),
        matrix_sdk::Error::StateStore(_) | matrix_sdk::Error::CryptoStoreError(_) => {
            "the Matrix store failed".to_owned()
        }
        matrix_sdk::Error::OlmError(_) | matrix_sdk::Error::MegolmError(_) => {
            "end-to-end encryption failed".to_owned()
        }
        _ => "the Matrix client failed".to_owned(),
    }
}

#[async_trait]
impl Channel for MatrixChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Matrix
    }

    fn max_in_flight(&self) -> usize {
        MAX_IN_FLIGHT
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let room = joined_room(&self.client, &delivery.address)?;
        let reply_to = self.replies.target(delivery.question, room.room_id()).await;
        send_notice(
            &room,
            &delivery.text,
            reply_to,
            translate::transaction_id(delivery.id),
        )
        .await
        .map(|_| ())
    }
}
