//! The HTTP side, as the published Gateway API describes it
//! (<https://gateway.threema.ch/en/developer/api>): `from` and `secret` as query parameters on
//! `GET`, as form fields on `POST`; answers are `text/plain` and the status code is the result.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use threema_gateway::protocol::MessageId;
use threema_gateway::{E2eMessage, IncomingMessage, ThreemaId};

use crate::world::World;
use crate::{CAPABILITIES, MAX_BOX_BYTES, NONCE_BYTES, Received, Shared, hex};

type Params = HashMap<String, String>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/pubkeys/{id}", get(pubkey))
        .route("/credits", get(credits))
        .route("/capabilities/{id}", get(capabilities))
        .route("/send_e2e", post(send_e2e))
        .with_state(shared)
}

/// A plain-text answer.
fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

/// The answer every call gets while the outage is on, or to a wrong `from`/`secret`.
fn refused(world: &World, params: &Params) -> Option<Response> {
    if world.outage {
        return Some(text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "temporary internal server error",
        ));
    }
    let authentic = params.get("from") == Some(&world.gateway_id)
        && params.get("secret") == Some(&world.secret);
    (!authentic).then(|| text(StatusCode::UNAUTHORIZED, "API identity or secret incorrect"))
}

/// `GET /pubkeys/{id}`: the identity's public key as 64 hex characters; 404 for an unknown id.
async fn pubkey(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Response {
    let mut world = shared.world();
    world.pubkey_lookups += 1;
    if let Some(refusal) = refused(&world, &params) {
        return refusal;
    }
    match world.directory.get(&id) {
        Some(key) => text(StatusCode::OK, hex::encode(key.as_bytes())),
        None => text(StatusCode::NOT_FOUND, "no matching ID found"),
    }
}

/// `GET /credits`: the remaining credits as decimal text.
async fn credits(State(shared): State<Arc<Shared>>, Query(params): Query<Params>) -> Response {
    let world = shared.world();
    if let Some(refusal) = refused(&world, &params) {
        return refusal;
    }
    text(StatusCode::OK, world.credits.to_string())
}

/// `GET /capabilities/{id}`: what the identity's app can receive; 404 for an unknown id.
async fn capabilities(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Response {
    let world = shared.world();
    if let Some(refusal) = refused(&world, &params) {
        return refusal;
    }
    if world.directory.contains_key(&id) {
        text(StatusCode::OK, CAPABILITIES)
    } else {
        text(StatusCode::NOT_FOUND, "no matching ID found")
    }
}

/// `POST /send_e2e`: accepts an encrypted message for a citizen, charges one credit and answers
/// the new message id (16 hex characters). The citizen's app decrypts it into its inbox.
///
/// 400 for an invalid or unknown recipient or a malformed nonce/box, 401 for wrong
/// credentials, 402 without credits, 413 for a box over [`MAX_BOX_BYTES`], 500 in an outage.
async fn send_e2e(State(shared): State<Arc<Shared>>, Form(params): Form<Params>) -> Response {
    let mut world = shared.world();
    if let Some(refusal) = refused(&world, &params) {
        return refusal;
    }
    let bad = |why: &str| text(StatusCode::BAD_REQUEST, why.to_owned());
    let Some(to) = params.get("to").cloned() else {
        return bad("missing recipient");
    };
    let Ok(to_id) = ThreemaId::try_from(to.as_str()) else {
        return bad("invalid recipient identity");
    };
    if !world.citizens.contains_key(&to) {
        return bad("recipient identity not found");
    }
    let Some(nonce) = params
        .get("nonce")
        .and_then(|n| hex::decode(n))
        .filter(|n| n.len() == NONCE_BYTES)
    else {
        return bad("invalid nonce");
    };
    let Some(box_data) = params
        .get("box")
        .and_then(|b| hex::decode(b))
        .filter(|b| !b.is_empty())
    else {
        return bad("invalid box");
    };
    if box_data.len() > MAX_BOX_BYTES {
        return text(StatusCode::PAYLOAD_TOO_LARGE, "message is too long");
    }
    if world.credits <= 0 {
        return text(StatusCode::PAYMENT_REQUIRED, "no credits remain");
    }
    world.credits -= 1;
    world.accepted += 1;
    let message_id = world.fresh_message_id();

    // The citizen's app: decrypt with its own secret key and the sender's published key.
    let from_key = world.directory.get(&world.gateway_id).cloned();
    let from_id = ThreemaId::try_from(world.gateway_id.as_str());
    let delivery_receipts_requested = !params.contains_key("noDeliveryReceipts");
    let Some(citizen) = world.citizens.get_mut(&to) else {
        return bad("recipient identity not found");
    };
    let message = match (from_id, from_key) {
        (Ok(from_id), Some(from_key)) => {
            let incoming = IncomingMessage {
                from: from_id,
                to: to_id,
                message_id: MessageId::from_u64(message_id),
                created_at: 0,
                nonce,
                box_data,
                nickname: None,
            };
            incoming
                .decrypt_box(&from_key, &citizen.key)
                .ok()
                .and_then(|bytes| E2eMessage::decode_from_decrypted_bytes(&bytes).ok())
        }
        _ => None,
    };
    let message_id = MessageId::from_u64(message_id).to_hex_le();
    citizen.inbox.push(Received::new(
        message_id.clone(),
        message,
        delivery_receipts_requested,
    ));
    drop(world);
    shared.bump();
    text(StatusCode::OK, message_id)
}
