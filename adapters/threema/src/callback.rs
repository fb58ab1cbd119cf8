//! The inbound side: the Gateway POSTs every incoming message to the callback URL. The MAC
//! (HMAC-SHA256 under the API secret) is checked first, in constant time, by the SDK; a
//! request that fails it gets 401 and nothing of it is kept. Then the box is opened with the
//! sender's public key and our private key; a box that does not open gets 400 and a short
//! notice to the sender (sent directly, nothing stored). A text becomes a citizen message,
//! stored durably before the callback is answered with 200, under an intake key made of the
//! sender's message id, so a repeated callback (the Gateway retrying, or a replay) counts
//! once. A delivery receipt updates the delivery state staff see.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use sprechstunde_core::{
    ChannelIdentity, ChannelKind, CitizenMessage, DeliveryReceipt, Input, ReceiptReport,
};
use sprechstunde_runtime::{Office, Pseudonymizer};
use threema_gateway::errors::{ApiError, CryptoOrMessageDecodeError};
use threema_gateway::protocol::e2e::delivery_receipt::DeliveryReceipt as ThreemaReceipt;
use threema_gateway::{E2eMessage, IncomingMessage, ThreemaId};

use crate::gateway::Gateway;

/// Senders remembered as told about an unreadable message; beyond this the memory starts
/// afresh.
const NOTICE_MEMORY: usize = 10_000;
/// How long a receipt waits for the id of a send whose answer from the Gateway is still on
/// its way (an unknown id after that: sent before a restart, or not ours).
const RECEIPT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// Handles callbacks for one Gateway ID.
#[derive(Clone)]
pub(crate) struct Inbound {
    office: Office,
    pseudonyms: Pseudonymizer,
    gateway: Arc<Gateway>,
    own_id: ThreemaId,
    noticed: Arc<Mutex<HashSet<(ThreemaId, &'static str)>>>,
}

impl Inbound {
    pub(crate) fn new(
        office: Office,
        pseudonyms: Pseudonymizer,
        gateway: Arc<Gateway>,
        own_id: ThreemaId,
    ) -> Inbound {
        Inbound {
            office,
            pseudonyms,
            gateway,
            own_id,
            noticed: Arc::default(),
        }
    }

    /// Handles one callback body; the status code answers the Gateway.
    pub(crate) async fn handle(&self, body: &[u8]) -> StatusCode {
        let message = match self.gateway.api.decode_incoming_message(body) {
            Ok(message) => message,
            Err(ApiError::InvalidMac) => {
                tracing::warn!("a Threema callback with a wrong MAC was refused");
                return StatusCode::UNAUTHORIZED;
            }
            Err(_) => {
                // Without a MAC to check, nothing in it can be trusted.
                tracing::warn!("an unreadable Threema callback was refused");
                return StatusCode::UNAUTHORIZED;
            }
        };
        if message.to != self.own_id {
            tracing::warn!("a Threema callback for another Gateway ID was refused");
            return StatusCode::BAD_REQUEST;
        }
        let key = match self.gateway.key(&message.from).await {
            Ok(key) => key,
            Err(ApiError::IdNotFound) => return StatusCode::BAD_REQUEST,
            Err(error) => {
                // The Gateway tries the callback again later.
                tracing::warn!(%error, "the sender's public key could not be looked up");
                return StatusCode::SERVICE_UNAVAILABLE;
            }
        };
        let decoded = match self
            .gateway
            .api
            .decrypt_and_decode_incoming_message(&message, &key)
        {
            Ok(decoded) => decoded,
            Err(CryptoOrMessageDecodeError::Crypto(_)) => {
                // The citizen may have a new key; the next message looks it up again.
                self.gateway.forget_key(&message.from);
                tracing::warn!("a Threema message could not be decrypted; refused");
                self.notice(message.from, "undecryptable").await;
                return StatusCode::BAD_REQUEST;
            }
            Err(CryptoOrMessageDecodeError::Decode(_)) => {
                tracing::warn!("a Threema message could not be decoded; refused");
                return StatusCode::BAD_REQUEST;
            }
        };
        match decoded {
            E2eMessage::Text(text) => self.text(&message, text).await,
            E2eMessage::DeliveryReceipt(receipt) => {
                let kind = match receipt.receipt {
                    ThreemaReceipt::Received => DeliveryReceipt::Received,
                    ThreemaReceipt::Read => DeliveryReceipt::Read,
                    // Reactions (acknowledged, declined) say nothing about delivery.
                    _ => return StatusCode::OK,
                };
                let mut reports = Vec::new();
                for id in receipt.message_ids.iter() {
                    if let Some(id) = self.gateway.outbox_of_waiting(*id, RECEIPT_PATIENCE).await {
                        reports.push(ReceiptReport { id, receipt: kind });
                    }
                }
                if reports.is_empty() {
                    return StatusCode::OK;
                }
                match self.office.submit(Input::Receipts(reports)).await {
                    Ok(_) => StatusCode::OK,
                    Err(error) => {
                        tracing::error!(%error, "could not store a Threema delivery receipt");
                        StatusCode::SERVICE_UNAVAILABLE
                    }
                }
            }
            E2eMessage::File(_) | E2eMessage::Location(_) => {
                self.notice(message.from, "text-only").await;
                StatusCode::OK
            }
            // Typing, edits, deletions and what the SDK does not know change nothing here.
            _ => StatusCode::OK,
        }
    }

    async fn text(&self, message: &IncomingMessage, text: String) -> StatusCode {
        let address = message.from.as_str().to_owned();
        let input = Input::Citizen(CitizenMessage {
            identity: ChannelIdentity {
                channel: ChannelKind::Threema,
                pseudonym: self.pseudonyms.pseudonym(ChannelKind::Threema, &address),
                address,
            },
            lang: None,
            text,
            intake_key: Some(format!("th:{}", message.message_id.to_hex_le())),
            inline_errors: false,
            encrypted: Some(true),
        });
        match self.office.submit(input).await {
            // A refusal (empty, too long) is a reply the engine already queued.
            Ok(_receipt_or_refusal) => {
                tracing::debug!("Threema message stored");
                StatusCode::OK
            }
            Err(error) => {
                tracing::error!(%error, "could not store a Threema message; the Gateway will send it again");
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// Tells the sender once per run that a message could not be taken, directly (nothing
    /// is stored about a message that was not taken in); if sending fails, it is not
    /// repeated.
    async fn notice(&self, to: ThreemaId, key: &'static str) {
        {
            let mut noticed = self.noticed.lock().unwrap_or_else(|e| e.into_inner());
            if noticed.len() >= NOTICE_MEMORY {
                noticed.clear();
            }
            if !noticed.insert((to, key)) {
                return;
            }
        }
        let text = self.office.engine().texts().bilingual(key, &[]);
        let sent = async {
            let recipient = self.gateway.key(&to).await?;
            let message = self
                .gateway
                .api
                .encode_and_encrypt(&E2eMessage::Text(text), &recipient)
                .map_err(|e| ApiError::Other(e.to_string()))?;
            self.gateway.api.send(&to, &message, false).await
        };
        if let Err(error) = sent.await {
            tracing::debug!(%error, "Threema notice not sent");
        }
    }
}

pub(crate) fn router(path: &str, inbound: Inbound) -> Router {
    Router::new().route(path, post(receive)).with_state(inbound)
}

async fn receive(State(inbound): State<Inbound>, body: Bytes) -> StatusCode {
    inbound.handle(&body).await
}
