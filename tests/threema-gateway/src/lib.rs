//! A Threema Gateway emulator (end-to-end mode) on `127.0.0.1`, for sprechstunde's tests.
//!
//! It follows the published Gateway HTTP API (<https://gateway.threema.ch/en/developer/api>) so
//! that the official SDK (`threema-gateway`) talks to it unchanged through
//! `ApiBuilder::with_custom_endpoint(gateway.url())`:
//!
//! - `GET /pubkeys/{id}`: the identity's public key as 64 hex characters (404 unknown id);
//! - `GET /credits`: the remaining credits as decimal text;
//! - `GET /capabilities/{id}`: [`CAPABILITIES`] (404 unknown id);
//! - `POST /send_e2e` (form fields `from`, `to`, `nonce`, `box`, `secret`, optionally
//!   `noDeliveryReceipts`): the new message id, 16 hex characters, one credit per message;
//!   400 for an invalid or unknown recipient (or a malformed nonce/box), 402 without credits,
//!   413 for a box over [`MAX_BOX_BYTES`].
//!
//! Every call answers 401 for a wrong `from`/`secret` and 500 while [`Gateway::set_outage`] is
//! on (nothing is accepted or charged then).
//!
//! The emulator also plays the citizens' Threema apps. Each [`Citizen`] is an identity with its
//! own key pair, published in the directory. What a citizen sends is encrypted with the SDK's
//! own [`threema_gateway::encrypt`] (the citizen's secret key, the bot's public key) and POSTed
//! to the callback URL ([`Gateway::set_callback`]) as the real Gateway does:
//! `application/x-www-form-urlencoded` with `from`, `to`, `messageId`, `date`, `nonce`, `box`,
//! `nickname` (when the citizen has one) and `mac`, the hex HMAC-SHA256 keyed with the API secret
//! over `from‖to‖messageId‖date‖nonce‖box`. Each callback is POSTed once; its HTTP status is what
//! the sending call returns (0 if the callback could not be reached), and
//! [`Gateway::replay_last_callback`] sends the same bytes again, as a Gateway retry would.
//! What the bot sends through `/send_e2e` is decrypted by the recipient's app (its secret key,
//! the bot's published key) and kept in its inbox in order ([`Citizen::next_message`],
//! [`Citizen::inbox`]); waiting wakes on every change, without sleeps.

mod api;
mod hex;
mod world;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use threema_gateway::protocol::MessageId;
use threema_gateway::protocol::e2e::delivery_receipt::{DeliveryReceipt, DeliveryReceiptMessage};
use threema_gateway::{E2eMessage, PublicKey, SecretKey};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use world::{CitizenApp, World};

/// The bot's Gateway ID.
pub const GATEWAY_ID: &str = "*SPRECH1";
/// Credits a fresh Gateway starts with.
pub const INITIAL_CREDITS: i64 = 1000;
/// Largest accepted `box` in `/send_e2e`, in bytes of ciphertext (a larger one is 413).
pub const MAX_BOX_BYTES: usize = 7812;
/// What `/capabilities/{id}` answers for every known identity.
pub const CAPABILITIES: &str = "text,image,video,file";
/// Length of a crypto_box nonce in bytes.
pub(crate) const NONCE_BYTES: usize = 24;

/// The content type of a Gateway callback.
const FORM: &str = "application/x-www-form-urlencoded";

/// `N` bytes from the operating system's random source.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    getrandom::fill(&mut bytes).expect("the operating system has no random source");
    bytes
}

/// A fresh crypto_box secret key.
fn random_key() -> SecretKey {
    SecretKey::from(random_bytes::<32>())
}

/// State shared by the HTTP handlers and the test API.
pub(crate) struct Shared {
    world: Mutex<World>,
    changed: watch::Sender<u64>,
    http: reqwest::Client,
}

impl Shared {
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes everybody waiting for a change.
    pub(crate) fn bump(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// POSTs `body` to the callback URL once; the HTTP status, or 0 if it was not reached.
    async fn post_callback(&self, body: String) -> u16 {
        let url = self
            .world()
            .callback_url
            .clone()
            .expect("Gateway::set_callback must be called before a callback is sent");
        match self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, FORM)
            .body(body)
            .send()
            .await
        {
            Ok(response) => response.status().as_u16(),
            Err(_) => 0,
        }
    }
}

/// What a citizen's app received from the bot.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The message id `/send_e2e` answered (16 hex characters).
    pub message_id: String,
    /// The text of a text message; empty for every other kind.
    pub text: String,
    /// The decrypted, decoded message; `None` if the app could not decrypt or decode the box.
    pub message: Option<E2eMessage>,
    /// Whether the bot asked for delivery receipts (no `noDeliveryReceipts` field).
    pub delivery_receipts_requested: bool,
}

impl Received {
    pub(crate) fn new(
        message_id: String,
        message: Option<E2eMessage>,
        delivery_receipts_requested: bool,
    ) -> Received {
        let text = match &message {
            Some(E2eMessage::Text(text)) => text.clone(),
            _ => String::new(),
        };
        Received {
            message_id,
            text,
            message,
            delivery_receipts_requested,
        }
    }
}

/// What a citizen's send caused at the callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// The callback's HTTP status (0 if the callback URL could not be reached).
    pub status: u16,
    /// The `messageId` of the citizen's message (16 hex characters).
    pub message_id: String,
}

/// The running server; stops when the last handle is dropped.
struct Server {
    shared: Arc<Shared>,
    addr: std::net::SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A running Gateway emulator; clones share it, and it stops when the last clone (and the last
/// [`Citizen`]) is dropped.
#[derive(Clone)]
pub struct Gateway {
    server: Arc<Server>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("addr", &self.server.addr)
            .finish_non_exhaustive()
    }
}

static INSTANCES: AtomicU64 = AtomicU64::new(1);

impl Gateway {
    /// Starts a Gateway on `127.0.0.1:0` with the Gateway ID [`GATEWAY_ID`], a fresh API secret,
    /// a fresh key pair for the bot (its public key published) and [`INITIAL_CREDITS`].
    ///
    /// # Panics
    /// If no loopback port can be bound (the test cannot run at all).
    pub async fn start() -> Gateway {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let n = INSTANCES.fetch_add(1, Ordering::Relaxed);
        let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let mut secret: String = random_bytes::<14>()
            .iter()
            .map(|b| char::from(alphabet[usize::from(*b) % alphabet.len()]))
            .collect();
        secret.push_str(&format!("{:02}", n % 100));
        let (changed, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            world: Mutex::new(World::new(GATEWAY_ID.to_owned(), secret, random_key())),
            changed,
            http: reqwest::Client::new(),
        });
        let router = api::router(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Gateway {
            server: Arc::new(Server { shared, addr, task }),
        }
    }

    fn shared(&self) -> &Shared {
        &self.server.shared
    }

    fn change<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let r = f(&mut self.shared().world());
        self.shared().bump();
        r
    }

    /// The custom endpoint for the SDK: `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// The bot's Gateway ID ([`GATEWAY_ID`]).
    pub fn gateway_id(&self) -> String {
        self.shared().world().gateway_id.clone()
    }

    /// The API secret (`secret` of every call, key of every callback MAC).
    pub fn secret(&self) -> String {
        self.shared().world().secret.clone()
    }

    /// The bot's secret key as 64 lower-case hex characters, as the installation stores it
    /// (`ApiBuilder::with_private_key_str`).
    pub fn private_key_hex(&self) -> String {
        hex::encode(&self.shared().world().bot_key.to_bytes())
    }

    /// The bot's public key as 64 lower-case hex characters (what `/pubkeys/*SPRECH1` answers).
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.shared().world().bot_key.public_key().as_bytes())
    }

    /// Where callbacks go from now on (the server's callback route, a full URL).
    pub fn set_callback(&self, url: &str) {
        self.change(|w| w.callback_url = Some(url.to_owned()));
    }

    /// The callback URL, if set.
    pub fn callback_url(&self) -> Option<String> {
        self.shared().world().callback_url.clone()
    }

    /// A citizen's Threema app under identity `id` (8 characters, `A`–`Z`, `0`–`9`) with a fresh
    /// key pair, its public key published; no nickname. Asking again for the same id returns the
    /// same citizen (same keys, same inbox).
    ///
    /// # Panics
    /// If `id` is not a valid personal Threema ID.
    pub async fn citizen(&self, id: &str) -> Citizen {
        self.register(id, None)
    }

    /// Like [`Gateway::citizen`], with the public `nickname` every callback of theirs carries
    /// (a known citizen's nickname is replaced).
    ///
    /// # Panics
    /// If `id` is not a valid personal Threema ID.
    pub async fn citizen_named(&self, id: &str, nickname: &str) -> Citizen {
        self.register(id, Some(nickname.to_owned()))
    }

    fn register(&self, id: &str, nickname: Option<String>) -> Citizen {
        assert!(
            id.len() == 8
                && id
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
            "a citizen's Threema ID is 8 characters A-Z, 0-9: {id:?}"
        );
        self.change(|w| {
            if let Some(app) = w.citizens.get_mut(id) {
                if nickname.is_some() {
                    app.nickname = nickname;
                }
                return;
            }
            let key = random_key();
            w.directory.insert(id.to_owned(), key.public_key());
            w.citizens.insert(
                id.to_owned(),
                CitizenApp {
                    key,
                    nickname,
                    inbox: Vec::new(),
                    cursor: 0,
                },
            );
        });
        Citizen {
            gateway: self.clone(),
            id: id.to_owned(),
        }
    }

    /// Sets the remaining credits (`/credits`; at 0 or below `/send_e2e` answers 402).
    pub fn set_credits(&self, n: i64) {
        self.change(|w| w.credits = n);
    }

    /// The remaining credits.
    pub fn credits(&self) -> i64 {
        self.shared().world().credits
    }

    /// While on, every API call answers 500 and nothing is accepted or charged. Citizens'
    /// callbacks are not affected.
    pub fn set_outage(&self, on: bool) {
        self.change(|w| w.outage = on);
    }

    /// How many messages `/send_e2e` has accepted so far.
    pub fn accepted_sends(&self) -> usize {
        self.shared().world().accepted
    }

    /// How many `/pubkeys/{id}` requests arrived so far, whatever they were answered.
    pub fn pubkey_lookups(&self) -> usize {
        self.shared().world().pubkey_lookups
    }

    /// POSTs the last callback a citizen's send caused again, byte for byte (as a Gateway
    /// retry would); returns its HTTP status (0 if unreachable).
    ///
    /// # Panics
    /// If no citizen has sent anything yet, or no callback URL is set.
    pub async fn replay_last_callback(&self) -> u16 {
        let body = self
            .shared()
            .world()
            .last_callback
            .clone()
            .expect("no callback to replay: no citizen has sent anything yet");
        self.shared().post_callback(body).await
    }

    /// POSTs `body` as it is to the callback URL (form content type), e.g. with a wrong MAC;
    /// returns the HTTP status (0 if unreachable). It does not become the "last callback".
    ///
    /// # Panics
    /// If no callback URL is set.
    pub async fn post_callback_raw(&self, body: String) -> u16 {
        self.shared().post_callback(body).await
    }
}

/// A citizen's Threema app; clones share it.
#[derive(Clone)]
pub struct Citizen {
    gateway: Gateway,
    id: String,
}

impl std::fmt::Debug for Citizen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Citizen")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// How the box of a citizen's message is made.
enum Sealing {
    /// Properly: the citizen's secret key, the bot's public key.
    Proper,
    /// With a secret key that is not the citizen's (the bot cannot decrypt it).
    WrongKey,
}

impl Citizen {
    /// The citizen's Threema ID.
    pub fn id(&self) -> String {
        self.id.clone()
    }

    /// The citizen's public key as 64 lower-case hex characters.
    pub fn public_key_hex(&self) -> String {
        let world = self.gateway.shared().world();
        world
            .directory
            .get(&self.id)
            .map(|key| hex::encode(key.as_bytes()))
            .unwrap_or_default()
    }

    /// Sends a text message to the bot; returns the callback's HTTP status.
    pub async fn send_text(&self, text: &str) -> u16 {
        self.send(&E2eMessage::Text(text.to_owned())).await.status
    }

    /// Sends a text message whose callback MAC is keyed with `mac_secret` instead of the API
    /// secret; returns the callback's HTTP status.
    pub async fn send_text_with_mac(&self, text: &str, mac_secret: &str) -> u16 {
        self.deliver(
            &E2eMessage::Text(text.to_owned()),
            Sealing::Proper,
            Some(mac_secret),
        )
        .await
        .status
    }

    /// Sends a box sealed with a key that is not the citizen's (the bot cannot decrypt it), with
    /// a valid MAC; returns the callback's HTTP status.
    pub async fn send_undecryptable(&self) -> u16 {
        self.deliver(
            &E2eMessage::Text("nobody can read this".to_owned()),
            Sealing::WrongKey,
            None,
        )
        .await
        .status
    }

    /// Sends a delivery receipt (`status` 1 received, 2 read, 3 acknowledged, 4 declined) for
    /// the bot's messages `ids` (16 hex characters each, as `/send_e2e` answered them); returns
    /// the callback's HTTP status.
    ///
    /// # Panics
    /// If `ids` is empty or one of them is not 16 hex characters.
    pub async fn send_delivery_receipt(&self, status: u8, ids: &[String]) -> u16 {
        let ids: Vec<MessageId> = ids
            .iter()
            .map(|id| MessageId::from_hex_le(id).expect("a message id is 16 hex characters"))
            .collect();
        let receipt = DeliveryReceiptMessage::from_slice(DeliveryReceipt::from(status), &ids)
            .expect("a delivery receipt names at least one message");
        self.send(&E2eMessage::DeliveryReceipt(receipt))
            .await
            .status
    }

    /// Sends any end-to-end message to the bot; returns the callback's status and the message
    /// id.
    pub async fn send(&self, message: &E2eMessage) -> Callback {
        self.deliver(message, Sealing::Proper, None).await
    }

    async fn deliver(
        &self,
        message: &E2eMessage,
        sealing: Sealing,
        mac_secret: Option<&str>,
    ) -> Callback {
        let shared = self.gateway.shared();
        let (body, message_id) = {
            let mut world = shared.world();
            let bot_public: PublicKey = world.bot_key.public_key();
            let app = world
                .citizens
                .get(&self.id)
                .expect("a citizen's app stays registered");
            let own_key = match sealing {
                Sealing::Proper => app.key.clone(),
                Sealing::WrongKey => random_key(),
            };
            let nickname = app.nickname.clone();
            let encoded = message.encode();
            let sealed = threema_gateway::encrypt(
                &encoded.message_bytes,
                encoded.message_type,
                &bot_public,
                &own_key,
            )
            .expect("crypto_box encryption does not fail");
            let message_id = MessageId::from_u64(world.fresh_message_id()).to_hex_le();
            let date = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
                .to_string();
            let fields = CallbackFields {
                from: &self.id,
                to: &world.gateway_id,
                message_id: &message_id,
                date: &date,
                nonce: &hex::encode(&sealed.nonce),
                r#box: &hex::encode(&sealed.ciphertext),
                nickname: nickname.as_deref(),
            };
            let body = fields.encode(mac_secret.unwrap_or(&world.secret));
            world.last_callback = Some(body.clone());
            (body, message_id)
        };
        let status = shared.post_callback(body).await;
        Callback { status, message_id }
    }

    /// The bot's next message to this citizen not handed out before (in the order the Gateway
    /// accepted them), waiting up to `timeout`; `None` if none arrived in time.
    pub async fn next_message(&self, timeout: Duration) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        let shared = self.gateway.shared();
        let mut changed = shared.changed.subscribe();
        loop {
            {
                let mut world = shared.world();
                let app = world.citizens.get_mut(&self.id)?;
                if let Some(next) = app.inbox.get(app.cursor).cloned() {
                    app.cursor += 1;
                    return Some(next);
                }
            }
            match tokio::time::timeout_at(deadline, changed.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return None,
            }
        }
    }

    /// Everything the bot sent this citizen so far, in order.
    pub fn inbox(&self) -> Vec<Received> {
        let world = self.gateway.shared().world();
        world
            .citizens
            .get(&self.id)
            .map(|app| app.inbox.clone())
            .unwrap_or_default()
    }
}

/// The fields of one callback, as the Gateway sends them.
struct CallbackFields<'a> {
    from: &'a str,
    to: &'a str,
    message_id: &'a str,
    date: &'a str,
    nonce: &'a str,
    r#box: &'a str,
    nickname: Option<&'a str>,
}

impl CallbackFields<'_> {
    /// The form body with `mac` = hex HMAC-SHA256 keyed with `mac_secret` over
    /// `from‖to‖messageId‖date‖nonce‖box`.
    fn encode(&self, mac_secret: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(mac_secret.as_bytes())
            .expect("HMAC takes a key of any length");
        for part in [
            self.from,
            self.to,
            self.message_id,
            self.date,
            self.nonce,
            self.r#box,
        ] {
            mac.update(part.as_bytes());
        }
        let mac = hex::encode(&mac.finalize().into_bytes());
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("from", self.from)
            .append_pair("to", self.to)
            .append_pair("messageId", self.message_id)
            .append_pair("date", self.date)
            .append_pair("nonce", self.nonce)
            .append_pair("box", self.r#box);
        if let Some(nickname) = self.nickname {
            form.append_pair("nickname", nickname);
        }
        form.append_pair("mac", &mac);
        form.finish()
    }
}
