//! A Telegram Bot API emulator on `127.0.0.1`, for sprechstunde's end-to-end tests and benchmark.
//!
//! It follows the published Bot API (<https://core.telegram.org/bots/api>), not the adapter's
//! convenience: `POST|GET /bot<token>/<method>` with JSON or form bodies, the full `getMe` user,
//! `{ok: false, error_code, description}` errors (401 for a wrong token, 400 for bad parameters,
//! 403 for a chat that blocked the bot, 409 for `getUpdates` while a webhook is set), `getUpdates`
//! with `offset` confirmation, `limit` and long-poll `timeout`, `sendMessage` under the flood
//! limits (30 messages/s overall, 1/s per chat; 429 with `parameters.retry_after`),
//! `answerCallbackQuery`, `setMyCommands`/`getMyCommands` per `language_code`, and
//! `setWebhook` (with `secret_token`)/`deleteWebhook`/`getWebhookInfo`. While a webhook is set,
//! queued updates are POSTed to it one by one with `X-Telegram-Bot-Api-Secret-Token`, each
//! retried until it is answered with 200.
//!
//! Tests drive the Telegram side through the Rust API of [`Emulator`]: users write
//! ([`Emulator::user_says`]), press buttons ([`Emulator::user_presses`]), block the bot; tests
//! wait for what the bot sent with [`Emulator::wait_for_sent`] (no sleeps: every change wakes
//! the waiters). Faults a real deployment meets are switched on the same way: a user blocks
//! the bot ([`Emulator::block`]), a 429 storm ([`Emulator::force_429_storm`]), answers cut
//! off mid-body ([`Emulator::cut_off_answers`]).

mod api;
mod limits;
mod objects;
mod world;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use api::MAX_TEXT_CHARS;
pub use limits::{GLOBAL_PER_SECOND, PER_CHAT_GAP};
pub use objects::TestUser;
pub use world::{SentMessage, WebhookInfo};

use objects::ChatKind;
use world::World;

/// The secret header Telegram sends with webhook requests.
pub const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

/// State shared by the HTTP handlers, the webhook pusher and the test API.
pub(crate) struct Shared {
    world: Mutex<World>,
    changed: watch::Sender<u64>,
    /// `getUpdates` calls waiting in a long poll right now.
    polls: watch::Sender<usize>,
}

impl Shared {
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes everybody waiting for a change.
    pub(crate) fn bump(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }
}

/// A wait ran past its deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedOut(pub String);

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "timed out waiting for {}", self.0)
    }
}

impl std::error::Error for TimedOut {}

/// A running emulator; stops when dropped.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: std::net::SocketAddr,
    server: JoinHandle<()>,
    pusher: JoinHandle<()>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.server.abort();
        self.pusher.abort();
    }
}

static INSTANCES: AtomicU64 = AtomicU64::new(1);

impl Emulator {
    /// Starts an emulator on `127.0.0.1:0` with a fresh bot token.
    ///
    /// # Panics
    /// If no loopback port can be bound (the test cannot run at all).
    pub async fn start() -> Emulator {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let n = INSTANCES.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let bot_id = 7_000_000_000 + i64::from(addr.port());
        let token = format!("{bot_id}:AAE{n:04}emu{nanos:09}x{:05}", addr.port());
        Self::start_on(listener, token)
    }

    /// Starts an emulator on a listener the test bound itself, accepting `token` (to bring the
    /// Bot API "back" on an address a bot already uses). The bot id is the token's number.
    ///
    /// # Panics
    /// If the listener has no local address.
    pub fn start_on(listener: tokio::net::TcpListener, token: String) -> Emulator {
        let addr = listener.local_addr().expect("local addr");
        let bot_id = token
            .split(':')
            .next()
            .and_then(|id| id.parse().ok())
            .unwrap_or(7_000_000_000);
        let (changed, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            world: Mutex::new(World::new(token, bot_id)),
            changed,
            polls: watch::channel(0).0,
        });
        let router = api::router(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let pusher = tokio::spawn(push_webhooks(shared.clone()));
        Emulator {
            shared,
            addr,
            server,
            pusher,
        }
    }

    /// The API base URL to configure in the bot (`http://127.0.0.1:PORT`).
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bot token this emulator accepts.
    pub fn token(&self) -> String {
        self.shared.world().token.clone()
    }

    fn change<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let r = f(&mut self.shared.world());
        self.shared.bump();
        r
    }

    /// A user writes `text` in their private chat with the bot (user id = chat id). Returns
    /// the update id.
    pub fn user_says(&self, chat_id: i64, user: &TestUser, text: &str) -> i64 {
        self.change(|w| {
            let kind = ChatKind::Private(user.clone());
            w.chat(chat_id, kind.clone());
            let message_id = w.next_message_id(chat_id);
            let from = objects::user(chat_id, user);
            let chat = objects::chat(chat_id, &kind);
            w.push_update(|id| {
                json!({
                    "update_id": id,
                    "message": objects::text_message(message_id, from, chat, objects::unix_now(), text, None),
                })
            })
        })
    }

    /// The user of a private chat presses an inline button carrying `callback_data` under the
    /// bot's last message in that chat. Returns the update id.
    pub fn user_presses(&self, chat_id: i64, callback_data: &str) -> i64 {
        self.change(|w| {
            let user = w.user_of(chat_id);
            let kind = ChatKind::Private(user.clone());
            w.chat(chat_id, kind.clone());
            let from = objects::user(chat_id, &user);
            let bot = objects::bot_user(w.bot_id, &w.bot_username);
            let last = w.sent.get(&chat_id).and_then(|s| s.last()).cloned();
            let message = objects::text_message(
                last.as_ref().map_or(1, |m| m.message_id),
                bot,
                objects::chat(chat_id, &kind),
                objects::unix_now(),
                last.as_ref().map_or("…", |m| m.text.as_str()),
                last.as_ref().and_then(|m| m.reply_markup.as_ref()),
            );
            let callback_id = format!("{}{:06}", w.bot_id, w.next_callback);
            w.next_callback += 1;
            w.callbacks_open.push(callback_id.clone());
            let query = objects::callback_query(
                &callback_id,
                from,
                message,
                &format!("ci{chat_id}"),
                callback_data,
            );
            w.push_update(|id| json!({"update_id": id, "callback_query": query}))
        })
    }

    /// Somebody writes `text` in a group chat (`chat_id` negative, as Telegram's are) the
    /// bot is a member of. Returns the update id.
    pub fn group_says(&self, chat_id: i64, user_id: i64, user: &TestUser, text: &str) -> i64 {
        self.change(|w| {
            let kind = ChatKind::Group("Stammtisch Musterstadt".to_owned());
            w.chat(chat_id, kind.clone());
            let message_id = w.next_message_id(chat_id);
            let from = objects::user(user_id, user);
            let chat = objects::chat(chat_id, &kind);
            w.push_update(|id| {
                json!({
                    "update_id": id,
                    "message": objects::text_message(message_id, from, chat, objects::unix_now(), text, None),
                })
            })
        })
    }

    /// Fault mode: queues `update` as given, with the next `update_id` put in, for updates
    /// the published Bot API would not send in that shape (or a newer one sends), e.g. a
    /// button press without `chat_instance`. Returns the update id.
    pub fn push_raw_update(&self, update: Value) -> i64 {
        self.change(|w| {
            w.push_update(|id| {
                let mut update = update;
                if let Some(fields) = update.as_object_mut() {
                    fields.insert("update_id".to_owned(), json!(id));
                }
                update
            })
        })
    }

    /// Delivers an update once more, as Telegram does when the offset confirming it never
    /// arrived (the bot crashed after processing it). Returns false for an unknown id.
    pub fn deliver_again(&self, update_id: i64) -> bool {
        self.change(|w| match w.history.get(&update_id).cloned() {
            Some(u) => {
                w.again.push_back((update_id, u));
                true
            }
            None => false,
        })
    }

    /// The user of `chat_id` blocks the bot: sends to it fail with 403.
    pub fn block(&self, chat_id: i64) {
        self.change(|w| {
            let user = w.user_of(chat_id);
            w.chat(chat_id, ChatKind::Private(user)).blocked = true;
        });
    }

    /// Switches to strict flood limits: a send counts from when its request arrived, and both
    /// ends of every one-second window count (31 sends within 1.000 s, or two to one chat
    /// 1.000 s apart, are refused with 429). A sender that passes this passes any reading of
    /// Telegram's published limits.
    pub fn strict_limits(&self) {
        self.change(|w| {
            w.strict_limits = true;
            w.flood.set_strict(true);
        });
    }

    /// The most messages accepted within any one second (both ends included), over all
    /// chats, and the most to one chat within any one second.
    pub fn most_sent_in_one_second(&self) -> (usize, usize) {
        let w = self.shared.world();
        let window = std::time::Duration::from_secs(1);
        let most = |times: &mut Vec<std::time::Instant>| {
            times.sort();
            let (mut most, mut from) = (0, 0);
            for (to, t) in times.iter().enumerate() {
                while t.duration_since(times[from]) > window {
                    from += 1;
                }
                most = most.max(to - from + 1);
            }
            most
        };
        let mut all: Vec<_> = w.sent.values().flatten().map(|m| m.at).collect();
        let per_chat = w
            .sent
            .values()
            .map(|list| most(&mut list.iter().map(|m| m.at).collect()))
            .max()
            .unwrap_or(0);
        (most(&mut all), per_chat)
    }

    /// Refuses the next `n` sends with 429 (`retry_after` 1), whatever the pace.
    pub fn force_429_storm(&self, n: u32) {
        self.change(|w| w.flood.force_storm(n));
    }

    /// Fault mode: the next `n` successful answers to `method` (e.g. `"getUpdates"`,
    /// `"sendMessage"`) that carry a non-empty result arrive cut off — valid JSON up to its
    /// closing brackets, which are missing — as when a proxy drops the connection mid-answer.
    /// The answer's content (update texts and names, the sent message) is in the broken body.
    /// The method still takes effect: a cut-off `sendMessage` was sent, a cut-off
    /// `getUpdates` confirmed nothing (its updates come again).
    pub fn cut_off_answers(&self, method: &str, n: u32) {
        self.change(|w| {
            w.cut_off.insert(method.to_ascii_lowercase(), n);
        });
    }

    /// How many answers fault mode has cut off so far.
    pub fn cut_off_served(&self) -> u64 {
        self.shared.world().cut_off_served
    }

    /// Messages the bot sent to a chat, in order.
    pub fn sent(&self, chat_id: i64) -> Vec<SentMessage> {
        self.shared
            .world()
            .sent
            .get(&chat_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Messages the bot sent to all chats.
    pub fn sent_total(&self) -> u64 {
        self.shared.world().sent_total
    }

    /// Every message the bot sent, over all chats (unordered between chats).
    pub fn all_sent(&self) -> Vec<SentMessage> {
        self.shared
            .world()
            .sent
            .values()
            .flatten()
            .cloned()
            .collect()
    }

    /// How many requests were answered with 429.
    pub fn count_429(&self) -> u64 {
        self.shared.world().count_429
    }

    /// The command list registered for a `language_code` (`""` for the default list).
    pub fn commands(&self, language_code: &str) -> Vec<(String, String)> {
        self.shared
            .world()
            .commands
            .get(language_code)
            .cloned()
            .unwrap_or_default()
    }

    /// The registered webhook, if any.
    pub fn webhook(&self) -> Option<WebhookInfo> {
        self.shared.world().webhook.clone()
    }

    /// Sends webhook requests to this origin (`http://127.0.0.1:PORT`) instead of the
    /// registered URL's public origin, keeping its path: the emulator then stands in for
    /// Telegram and the TLS-terminating proxy in front of the server.
    pub fn route_webhooks_to(&self, origin: &str) {
        let origin = origin.trim_end_matches('/').to_owned();
        self.change(|w| w.webhook_route = Some(origin));
    }

    /// Callback query ids the bot answered.
    pub fn answered_callbacks(&self) -> Vec<String> {
        self.shared.world().callbacks_answered.clone()
    }

    /// `getUpdates` calls currently waiting in a long poll.
    pub fn polls_waiting(&self) -> usize {
        *self.shared.polls.borrow()
    }

    /// Waits until a `getUpdates` call waits in a long poll.
    ///
    /// # Errors
    /// [`TimedOut`] after `deadline`.
    pub async fn wait_for_waiting_poll(&self, deadline: Duration) -> Result<(), TimedOut> {
        let mut polls = self.shared.polls.subscribe();
        tokio::time::timeout(deadline, polls.wait_for(|n| *n > 0))
            .await
            .map_err(|_| TimedOut("a waiting getUpdates".to_owned()))?
            .map(|_| ())
            .map_err(|_| TimedOut("a waiting getUpdates (emulator stopped)".to_owned()))
    }

    /// Updates not yet confirmed (polling) or not yet accepted by the webhook.
    pub fn pending_updates(&self) -> usize {
        let w = self.shared.world();
        w.queue.len() + w.again.len()
    }

    /// Waits until `probe` returns something, re-checking on every change of the emulator.
    ///
    /// # Errors
    /// [`TimedOut`] after `deadline`, naming `what`.
    pub async fn wait_until<T>(
        &self,
        what: &str,
        deadline: Duration,
        mut probe: impl FnMut(&Emulator) -> Option<T>,
    ) -> Result<T, TimedOut> {
        let until = tokio::time::Instant::now() + deadline;
        let mut changes = self.shared.changed.subscribe();
        loop {
            changes.mark_unchanged();
            if let Some(t) = probe(self) {
                return Ok(t);
            }
            if tokio::time::timeout_at(until, changes.changed())
                .await
                .is_err()
            {
                return probe(self).ok_or_else(|| TimedOut(what.to_owned()));
            }
        }
    }

    /// Waits for a message to `chat_id` that satisfies `predicate`, and returns it.
    ///
    /// # Errors
    /// [`TimedOut`] after `deadline`.
    pub async fn wait_for_sent(
        &self,
        chat_id: i64,
        deadline: Duration,
        predicate: impl Fn(&SentMessage) -> bool,
    ) -> Result<SentMessage, TimedOut> {
        self.wait_until(
            &format!("a matching message to chat {chat_id}"),
            deadline,
            |e| e.sent(chat_id).into_iter().find(|m| predicate(m)),
        )
        .await
        .map_err(|TimedOut(what)| {
            let sent: Vec<String> = self.sent(chat_id).into_iter().map(|m| m.text).collect();
            TimedOut(format!("{what}; sent so far: {sent:?}"))
        })
    }

    /// Waits until `n` messages were sent to `chat_id`, and returns them all.
    ///
    /// # Errors
    /// [`TimedOut`] after `deadline`.
    pub async fn wait_for_count(
        &self,
        chat_id: i64,
        n: usize,
        deadline: Duration,
    ) -> Result<Vec<SentMessage>, TimedOut> {
        self.wait_until(&format!("{n} messages to chat {chat_id}"), deadline, |e| {
            let sent = e.sent(chat_id);
            (sent.len() >= n).then_some(sent)
        })
        .await
    }
}

/// Pushes queued updates to the webhook, oldest first, each until it is answered with 200.
async fn push_webhooks(shared: Arc<Shared>) {
    let http = reqwest::Client::new();
    let mut changes = shared.changed.subscribe();
    loop {
        changes.mark_unchanged();
        let job = {
            let w = shared.world();
            match (&w.webhook, w.next_for_webhook()) {
                (Some(hook), Some((id, update))) => Some((
                    id,
                    update,
                    target(&hook.url, w.webhook_route.as_deref()),
                    hook.secret_token.clone(),
                )),
                _ => None,
            }
        };
        let Some((id, update, url, secret)) = job else {
            if changes.changed().await.is_err() {
                return;
            }
            continue;
        };
        let mut request = http
            .post(&url)
            .timeout(Duration::from_secs(10))
            .json(&update);
        if let Some(secret) = &secret {
            request = request.header(SECRET_HEADER, secret);
        }
        let outcome = match request.send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("Wrong response from the webhook: {}", r.status())),
            Err(_) => Err("Connection refused".to_owned()),
        };
        match outcome {
            Ok(()) => {
                {
                    let mut w = shared.world();
                    w.webhook_delivered(id);
                    w.webhook_last_error = None;
                }
                shared.bump();
            }
            Err(e) => {
                shared.world().webhook_last_error = Some(e);
                shared.bump();
                // Telegram backs off for longer; tests want it soon.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

fn target(url: &str, route: Option<&str>) -> String {
    let Some(origin) = route else {
        return url.to_owned();
    };
    match reqwest::Url::parse(url) {
        Ok(u) => {
            let query = u.query().map(|q| format!("?{q}")).unwrap_or_default();
            format!("{origin}{}{query}", u.path())
        }
        Err(_) => url.to_owned(),
    }
}

/// A plain JSON value, for tests that build requests by hand.
pub fn update_value(emulator: &Emulator, update_id: i64) -> Option<Value> {
    emulator.shared.world().history.get(&update_id).cloned()
}
