//! The emulator against the official Threema Gateway SDK, over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use sprechstunde_threema_emulator::{
    CAPABILITIES, Callback, GATEWAY_ID, Gateway, INITIAL_CREDITS, MAX_BOX_BYTES,
};
use threema_gateway::errors::ApiError;
use threema_gateway::protocol::MessageId;
use threema_gateway::protocol::e2e::delivery_receipt::DeliveryReceipt;
use threema_gateway::{ApiBuilder, E2eApi, E2eMessage, RecipientKey, ThreemaId};
use tokio::sync::mpsc;

/// Upper bound for anything the tests wait for (they are woken as soon as it happens).
const WAIT: Duration = Duration::from_secs(10);

fn id(text: &str) -> ThreemaId {
    ThreemaId::try_from(text).unwrap()
}

/// The bot's side, built exactly as an installation would build it.
fn bot(gateway: &Gateway) -> E2eApi {
    bot_with_secret(gateway, &gateway.secret())
}

fn bot_with_secret(gateway: &Gateway, secret: &str) -> E2eApi {
    ApiBuilder::new(id(&gateway.gateway_id()), secret)
        .with_custom_endpoint(gateway.url())
        .with_private_key_str(&gateway.private_key_hex())
        .and_then(ApiBuilder::into_e2e)
        .unwrap()
}

async fn send_text(api: &E2eApi, to: &str, text: &str) -> Result<MessageId, ApiError> {
    let key = api.lookup_pubkey(&id(to)).await?;
    let sealed = api
        .encode_and_encrypt(&E2eMessage::Text(text.to_owned()), &key)
        .unwrap();
    api.send(&id(to), &sealed, true).await
}

/// What the test's callback route made of one callback.
#[derive(Debug)]
enum Seen {
    Message {
        from: String,
        to: String,
        message_id: String,
        nickname: Option<String>,
        message: Box<E2eMessage>,
    },
    InvalidMac,
    Undecryptable {
        from: String,
    },
    Unparsable(String),
}

#[derive(Clone)]
struct Route {
    api: E2eApi,
    seen: mpsc::UnboundedSender<(Bytes, Seen)>,
}

/// The bot's callback route as the SDK documents it: check the MAC, look up the sender's key,
/// decrypt and decode. Answers 200, or 400 for a MAC or body the SDK rejects.
async fn callback(State(route): State<Route>, body: Bytes) -> StatusCode {
    let (status, seen) = match route.api.decode_incoming_message(&body) {
        Err(ApiError::InvalidMac) => (StatusCode::BAD_REQUEST, Seen::InvalidMac),
        Err(other) => (StatusCode::BAD_REQUEST, Seen::Unparsable(other.to_string())),
        Ok(incoming) => {
            let key: RecipientKey = route.api.lookup_pubkey(&incoming.from).await.unwrap();
            match route
                .api
                .decrypt_and_decode_incoming_message(&incoming, &key)
            {
                Ok(message) => (
                    StatusCode::OK,
                    Seen::Message {
                        from: incoming.from.to_string(),
                        to: incoming.to.to_string(),
                        message_id: incoming.message_id.to_string(),
                        nickname: incoming.nickname.clone(),
                        message: Box::new(message),
                    },
                ),
                Err(_) => (
                    StatusCode::OK,
                    Seen::Undecryptable {
                        from: incoming.from.to_string(),
                    },
                ),
            }
        }
    };
    route.seen.send((body, seen)).unwrap();
    status
}

/// Serves the callback route on loopback and points the Gateway at it.
async fn callback_server(gateway: &Gateway) -> mpsc::UnboundedReceiver<(Bytes, Seen)> {
    let (seen, received) = mpsc::unbounded_channel();
    let route = Route {
        api: bot(gateway),
        seen,
    };
    let app = Router::new()
        .route("/threema/callback", post(callback))
        .with_state(route);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    gateway.set_callback(&format!("http://{addr}/threema/callback"));
    received
}

async fn next_seen(seen: &mut mpsc::UnboundedReceiver<(Bytes, Seen)>) -> (Bytes, Seen) {
    tokio::time::timeout(WAIT, seen.recv())
        .await
        .expect("a callback arrives")
        .expect("the callback route is up")
}

#[tokio::test]
async fn the_sdk_looks_up_public_keys_capabilities_and_credits() {
    let gateway = Gateway::start().await;
    let anna = gateway.citizen("ANNA0001").await;
    let api = bot(&gateway);

    let anna_key = api.lookup_pubkey(&id("ANNA0001")).await.unwrap();
    let bot_key = api.lookup_pubkey(&id(GATEWAY_ID)).await.unwrap();
    let unknown = api.lookup_pubkey(&id("NOBODY00")).await;
    let capabilities = api.lookup_capabilities(&id("ANNA0001")).await.unwrap();
    let unknown_capabilities = api.lookup_capabilities(&id("NOBODY00")).await;
    let credits = api.lookup_credits().await.unwrap();

    assert_eq!(anna_key.to_hex_string(), anna.public_key_hex());
    assert_eq!(bot_key.to_hex_string(), gateway.public_key_hex());
    assert_eq!(RecipientKey(api.public_key()), bot_key);
    assert!(matches!(unknown, Err(ApiError::IdNotFound)), "{unknown:?}");
    assert!(capabilities.text && capabilities.image && capabilities.video && capabilities.file);
    assert!(!capabilities.audio, "{CAPABILITIES} has no audio");
    assert!(
        matches!(unknown_capabilities, Err(ApiError::IdNotFound)),
        "{unknown_capabilities:?}"
    );
    assert_eq!(credits, INITIAL_CREDITS);
    assert_eq!(gateway.pubkey_lookups(), 3);
    assert_eq!(gateway.url(), gateway.url().trim_end_matches('/'));
    assert_eq!(gateway.private_key_hex().len(), 64);
}

#[tokio::test]
async fn a_wrong_secret_is_bad_credentials_for_every_call() {
    let gateway = Gateway::start().await;
    gateway.citizen("ANNA0001").await;
    let right = bot(&gateway);
    let key = right.lookup_pubkey(&id("ANNA0001")).await.unwrap();
    let sealed = right
        .encode_and_encrypt(&E2eMessage::Text("hallo".to_owned()), &key)
        .unwrap();
    let wrong = bot_with_secret(&gateway, "not-the-secret");

    let pubkey = wrong.lookup_pubkey(&id("ANNA0001")).await;
    let credits = wrong.lookup_credits().await;
    let capabilities = wrong.lookup_capabilities(&id("ANNA0001")).await;
    let sent = wrong.send(&id("ANNA0001"), &sealed, true).await;

    assert!(
        matches!(pubkey, Err(ApiError::BadCredentials)),
        "{pubkey:?}"
    );
    assert!(
        matches!(credits, Err(ApiError::BadCredentials)),
        "{credits:?}"
    );
    assert!(
        matches!(capabilities, Err(ApiError::BadCredentials)),
        "{capabilities:?}"
    );
    assert!(matches!(sent, Err(ApiError::BadCredentials)), "{sent:?}");
    assert_eq!(gateway.accepted_sends(), 0);
    assert_eq!(gateway.credits(), INITIAL_CREDITS);
}

#[tokio::test]
async fn texts_the_sdk_sends_arrive_decrypted_in_order_at_one_credit_each() {
    let gateway = Gateway::start().await;
    let anna = gateway.citizen("ANNA0001").await;
    let api = bot(&gateway);
    let key = api.lookup_pubkey(&id("ANNA0001")).await.unwrap();

    let first = send_text(&api, "ANNA0001", "Guten Tag, Anna!")
        .await
        .unwrap();
    #[allow(deprecated)]
    let sealed = api
        .encrypt_text_msg("Ihre Frage ist angekommen.", &key)
        .unwrap();
    let second = api.send(&id("ANNA0001"), &sealed, false).await.unwrap();

    let one = anna.next_message(WAIT).await.expect("the first message");
    let two = anna.next_message(WAIT).await.expect("the second message");
    assert_eq!(one.message_id, first.to_string());
    assert_eq!(one.text, "Guten Tag, Anna!");
    assert_eq!(
        one.message,
        Some(E2eMessage::Text("Guten Tag, Anna!".to_owned()))
    );
    assert!(one.delivery_receipts_requested);
    assert_eq!(two.message_id, second.to_string());
    assert_eq!(two.text, "Ihre Frage ist angekommen.");
    assert!(!two.delivery_receipts_requested);
    assert_ne!(first, second);
    assert_eq!(first.to_string().len(), 16);
    assert_eq!(anna.inbox(), vec![one, two]);
    assert_eq!(gateway.accepted_sends(), 2);
    assert_eq!(gateway.credits(), INITIAL_CREDITS - 2);
    assert_eq!(api.lookup_credits().await.unwrap(), INITIAL_CREDITS - 2);
}

#[tokio::test]
async fn next_message_wakes_for_a_message_sent_while_it_waits_and_gives_up_at_its_timeout() {
    let gateway = Gateway::start().await;
    let anna = gateway.citizen("ANNA0001").await;
    let api = bot(&gateway);

    let nothing = anna.next_message(Duration::from_millis(50)).await;
    let sender = tokio::spawn(async move { send_text(&api, "ANNA0001", "später").await });
    let later = anna.next_message(WAIT).await;
    let sent = sender.await.unwrap().unwrap();

    assert_eq!(nothing, None);
    let later = later.expect("the message sent while waiting");
    assert_eq!(later.text, "später");
    assert_eq!(later.message_id, sent.to_string());
}

#[tokio::test]
async fn without_credits_a_send_is_no_credits_and_nothing_is_accepted() {
    let gateway = Gateway::start().await;
    let anna = gateway.citizen("ANNA0001").await;
    let api = bot(&gateway);
    gateway.set_credits(1);

    let paid = send_text(&api, "ANNA0001", "eins").await;
    let unpaid = send_text(&api, "ANNA0001", "zwei").await;

    assert!(paid.is_ok(), "{paid:?}");
    assert!(matches!(unpaid, Err(ApiError::NoCredits)), "{unpaid:?}");
    assert_eq!(gateway.credits(), 0);
    assert_eq!(gateway.accepted_sends(), 1);
    assert_eq!(anna.inbox().len(), 1);
}

#[tokio::test]
async fn during_an_outage_every_call_is_a_server_error_and_nothing_is_charged() {
    let gateway = Gateway::start().await;
    let anna = gateway.citizen("ANNA0001").await;
    let api = bot(&gateway);
    let key = api.lookup_pubkey(&id("ANNA0001")).await.unwrap();
    let sealed = api
        .encode_and_encrypt(&E2eMessage::Text("hallo".to_owned()), &key)
        .unwrap();
    gateway.set_outage(true);

    let pubkey = api.lookup_pubkey(&id("ANNA0001")).await;
    let credits = api.lookup_credits().await;
    let sent = api.send(&id("ANNA0001"), &sealed, true).await;
    let during = (
        gateway.accepted_sends(),
        gateway.credits(),
        anna.inbox().len(),
    );
    gateway.set_outage(false);
    let after = api.send(&id("ANNA0001"), &sealed, true).await;

    assert!(matches!(pubkey, Err(ApiError::ServerError)), "{pubkey:?}");
    assert!(matches!(credits, Err(ApiError::ServerError)), "{credits:?}");
    assert!(matches!(sent, Err(ApiError::ServerError)), "{sent:?}");
    assert_eq!(during, (0, INITIAL_CREDITS, 0));
    assert!(after.is_ok(), "{after:?}");
    assert_eq!(gateway.accepted_sends(), 1);
    assert_eq!(
        gateway.pubkey_lookups(),
        2,
        "lookups are counted even in an outage"
    );
}

#[tokio::test]
async fn an_unknown_recipient_is_bad_sender_or_recipient_and_costs_nothing() {
    let gateway = Gateway::start().await;
    gateway.citizen("ANNA0001").await;
    let api = bot(&gateway);
    let key = api.lookup_pubkey(&id("ANNA0001")).await.unwrap();
    let sealed = api
        .encode_and_encrypt(&E2eMessage::Text("hallo".to_owned()), &key)
        .unwrap();

    let sent = api.send(&id("NOBODY00"), &sealed, true).await;

    assert!(
        matches!(sent, Err(ApiError::BadSenderOrRecipient)),
        "{sent:?}"
    );
    assert_eq!(gateway.credits(), INITIAL_CREDITS);
}

#[tokio::test]
async fn a_box_over_the_limit_is_message_too_long_and_one_at_the_limit_is_accepted() {
    let gateway = Gateway::start().await;
    let anna = gateway.citizen("ANNA0001").await;
    let api = bot(&gateway);
    // type byte + text + 1..=255 padding + 16 bytes MAC: this text always fits, that never does.
    let fits = "a".repeat(MAX_BOX_BYTES - 1 - 255 - 16);
    let too_long = "a".repeat(MAX_BOX_BYTES - 1 - 16);

    let accepted = send_text(&api, "ANNA0001", &fits).await;
    let refused = send_text(&api, "ANNA0001", &too_long).await;

    assert!(accepted.is_ok(), "{accepted:?}");
    assert!(
        matches!(refused, Err(ApiError::MessageTooLong)),
        "{refused:?}"
    );
    assert_eq!(gateway.accepted_sends(), 1);
    assert_eq!(anna.inbox()[0].text, fits);
}

#[tokio::test]
async fn a_citizens_text_reaches_the_callback_with_a_mac_the_sdk_accepts() {
    let gateway = Gateway::start().await;
    let mut seen = callback_server(&gateway).await;
    let anna = gateway.citizen_named("ANNA0001", "Anna Beispiel").await;
    let bert = gateway.citizen("BERT0002").await;

    let Callback { status, message_id } = anna
        .send(&E2eMessage::Text("Wann ist die Sprechstunde?".to_owned()))
        .await;
    let bert_status = bert.send_text("Grüß Gott – ä ö ü ß & = +").await;

    assert_eq!(status, 200);
    assert_eq!(bert_status, 200);
    let (_, first) = next_seen(&mut seen).await;
    let (_, second) = next_seen(&mut seen).await;
    match first {
        Seen::Message {
            from,
            to,
            message_id: seen_id,
            nickname,
            message,
        } => {
            assert_eq!(from, "ANNA0001");
            assert_eq!(to, GATEWAY_ID);
            assert_eq!(seen_id, message_id);
            assert_eq!(nickname.as_deref(), Some("Anna Beispiel"));
            assert_eq!(
                *message,
                E2eMessage::Text("Wann ist die Sprechstunde?".to_owned())
            );
        }
        other => panic!("expected a message, got {other:?}"),
    }
    match second {
        Seen::Message {
            from,
            nickname,
            message,
            ..
        } => {
            assert_eq!(from, "BERT0002");
            assert_eq!(nickname, None);
            assert_eq!(
                *message,
                E2eMessage::Text("Grüß Gott – ä ö ü ß & = +".to_owned())
            );
        }
        other => panic!("expected a message, got {other:?}"),
    }
}

#[tokio::test]
async fn a_mac_keyed_with_another_secret_is_invalid_mac_to_the_sdk() {
    let gateway = Gateway::start().await;
    let mut seen = callback_server(&gateway).await;
    let anna = gateway.citizen("ANNA0001").await;

    let status = anna.send_text_with_mac("hallo", "wrong-secret").await;
    let raw_status = gateway
        .post_callback_raw(
            "from=ANNA0001&to=*SPRECH1&messageId=0102030405060708&date=1&nonce=00&box=00&mac=00"
                .to_owned(),
        )
        .await;

    assert_eq!(status, 400);
    assert!(matches!(next_seen(&mut seen).await.1, Seen::InvalidMac));
    assert_eq!(raw_status, 400);
    match next_seen(&mut seen).await.1 {
        Seen::Unparsable(why) => assert!(why.contains("MAC"), "{why}"),
        other => panic!("expected a body the SDK cannot parse, got {other:?}"),
    }
}

#[tokio::test]
async fn an_undecryptable_box_passes_the_mac_check_and_fails_decryption() {
    let gateway = Gateway::start().await;
    let mut seen = callback_server(&gateway).await;
    let anna = gateway.citizen("ANNA0001").await;

    let status = anna.send_undecryptable().await;

    assert_eq!(status, 200);
    match next_seen(&mut seen).await.1 {
        Seen::Undecryptable { from } => assert_eq!(from, "ANNA0001"),
        other => panic!("expected an undecryptable message, got {other:?}"),
    }
}

#[tokio::test]
async fn a_delivery_receipt_decodes_as_a_delivery_receipt_for_the_bots_message() {
    let gateway = Gateway::start().await;
    let mut seen = callback_server(&gateway).await;
    let anna = gateway.citizen("ANNA0001").await;
    let api = bot(&gateway);
    let sent = send_text(&api, "ANNA0001", "Ihre Antwort").await.unwrap();
    let received = anna.next_message(WAIT).await.unwrap();

    let status = anna.send_delivery_receipt(2, &[received.message_id]).await;

    assert_eq!(status, 200);
    match next_seen(&mut seen).await.1 {
        Seen::Message { message, .. } => match *message {
            E2eMessage::DeliveryReceipt(receipt) => {
                assert_eq!(receipt.receipt, DeliveryReceipt::Read);
                assert_eq!(receipt.message_ids.as_slice(), &[sent]);
            }
            other => panic!("expected a delivery receipt, got {other:?}"),
        },
        other => panic!("expected a delivery receipt, got {other:?}"),
    }
}

#[tokio::test]
async fn replaying_the_last_callback_posts_the_same_bytes_again() {
    let gateway = Gateway::start().await;
    let mut seen = callback_server(&gateway).await;
    let anna = gateway.citizen("ANNA0001").await;

    let first = anna.send_text("nur einmal, bitte").await;
    let replayed = gateway.replay_last_callback().await;

    assert_eq!((first, replayed), (200, 200));
    let (original, _) = next_seen(&mut seen).await;
    let (again, what) = next_seen(&mut seen).await;
    assert_eq!(original, again);
    assert!(matches!(what, Seen::Message { .. }), "{what:?}");
}

#[tokio::test]
async fn a_citizen_asked_for_again_is_the_same_identity_with_the_same_inbox() {
    let gateway = Gateway::start().await;
    let anna = gateway.citizen("ANNA0001").await;
    let api = bot(&gateway);
    send_text(&api, "ANNA0001", "eins").await.unwrap();

    let again = gateway.citizen("ANNA0001").await;

    assert_eq!(again.public_key_hex(), anna.public_key_hex());
    assert_eq!(again.inbox(), anna.inbox());
    assert_eq!(again.next_message(WAIT).await.unwrap().text, "eins");
    assert_eq!(anna.next_message(Duration::from_millis(20)).await, None);
}
