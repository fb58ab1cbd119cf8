//! The emulated Telegram side: chats, the update queue, sent messages, commands and webhook.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use serde_json::Value;

use crate::limits::FloodControl;
use crate::objects::{ChatKind, TestUser};

/// A message the bot sent, as the emulator received it.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    /// The chat it went to.
    pub chat_id: i64,
    /// Its id in that chat.
    pub message_id: i64,
    /// The text.
    pub text: String,
    /// The `reply_markup` sent with it (an inline keyboard), if any.
    pub reply_markup: Option<Value>,
    /// When the emulator accepted it (in strict mode: when its request arrived).
    pub at: Instant,
}

impl SentMessage {
    /// The inline keyboard's buttons as `(text, callback_data)`, row by row.
    pub fn buttons(&self) -> Vec<(String, String)> {
        let Some(rows) = self
            .reply_markup
            .as_ref()
            .and_then(|m| m.get("inline_keyboard"))
            .and_then(Value::as_array)
        else {
            return Vec::new();
        };
        rows.iter()
            .filter_map(Value::as_array)
            .flatten()
            .map(|b| {
                let text = b.get("text").and_then(Value::as_str).unwrap_or_default();
                let data = b
                    .get("callback_data")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                (text.to_owned(), data.to_owned())
            })
            .collect()
    }
}

/// A registered webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookInfo {
    /// The URL given to `setWebhook`.
    pub url: String,
    /// The `secret_token` given to `setWebhook`.
    pub secret_token: Option<String>,
}

#[derive(Debug)]
pub(crate) struct ChatState {
    pub(crate) kind: ChatKind,
    pub(crate) next_message_id: i64,
    pub(crate) blocked: bool,
}

/// Everything the emulator knows, behind one lock.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) token: String,
    pub(crate) bot_id: i64,
    pub(crate) bot_username: String,
    pub(crate) next_update_id: i64,
    /// Updates not yet confirmed by an offset, oldest first.
    pub(crate) queue: VecDeque<(i64, Value)>,
    /// Updates to hand out once more, whatever the offset (a simulated redelivery).
    pub(crate) again: VecDeque<(i64, Value)>,
    /// Every update ever created, for redelivery.
    pub(crate) history: HashMap<i64, Value>,
    pub(crate) chats: HashMap<i64, ChatState>,
    pub(crate) sent: HashMap<i64, Vec<SentMessage>>,
    pub(crate) sent_total: u64,
    pub(crate) flood: FloodControl,
    /// Strict flood limits: sends count from their arrival, windows closed at both ends.
    pub(crate) strict_limits: bool,
    pub(crate) count_429: u64,
    /// `setMyCommands` by language code (`""` = default).
    pub(crate) commands: HashMap<String, Vec<(String, String)>>,
    pub(crate) webhook: Option<WebhookInfo>,
    /// Origin (`http://127.0.0.1:PORT`) that stands in for the webhook URL's public origin.
    pub(crate) webhook_route: Option<String>,
    pub(crate) webhook_last_error: Option<String>,
    pub(crate) callbacks_open: Vec<String>,
    pub(crate) callbacks_answered: Vec<String>,
    pub(crate) next_callback: u64,
    /// Fault mode: answers still to cut off, by lower-case method name.
    pub(crate) cut_off: HashMap<String, u32>,
    /// Answers cut off so far.
    pub(crate) cut_off_served: u64,
}

impl World {
    pub(crate) fn new(token: String, bot_id: i64) -> World {
        World {
            token,
            bot_id,
            bot_username: "sprechstunde_test_bot".to_owned(),
            next_update_id: 100_000,
            queue: VecDeque::new(),
            again: VecDeque::new(),
            history: HashMap::new(),
            chats: HashMap::new(),
            sent: HashMap::new(),
            sent_total: 0,
            flood: FloodControl::default(),
            strict_limits: false,
            count_429: 0,
            commands: HashMap::new(),
            webhook: None,
            webhook_route: None,
            webhook_last_error: None,
            callbacks_open: Vec::new(),
            callbacks_answered: Vec::new(),
            next_callback: 1,
            cut_off: HashMap::new(),
            cut_off_served: 0,
        }
    }

    pub(crate) fn chat(&mut self, id: i64, kind: ChatKind) -> &mut ChatState {
        let chat = self.chats.entry(id).or_insert_with(|| ChatState {
            kind: kind.clone(),
            next_message_id: 1,
            blocked: false,
        });
        chat.kind = kind;
        chat
    }

    pub(crate) fn next_message_id(&mut self, chat: i64) -> i64 {
        match self.chats.get_mut(&chat) {
            Some(c) => {
                let id = c.next_message_id;
                c.next_message_id += 1;
                id
            }
            None => 1,
        }
    }

    /// Queues a new update built from its id.
    pub(crate) fn push_update(&mut self, build: impl FnOnce(i64) -> Value) -> i64 {
        let id = self.next_update_id;
        self.next_update_id += 1;
        let update = build(id);
        self.history.insert(id, update.clone());
        self.queue.push_back((id, update));
        id
    }

    /// The user of a private chat (German by default).
    pub(crate) fn user_of(&self, chat: i64) -> TestUser {
        match self.chats.get(&chat).map(|c| &c.kind) {
            Some(ChatKind::Private(u)) => u.clone(),
            _ => TestUser::de("Bürgerin"),
        }
    }

    /// Forgets updates below `offset` (they are confirmed).
    pub(crate) fn confirm(&mut self, offset: i64) {
        self.queue.retain(|(id, _)| *id >= offset);
    }

    /// The next update to push to a webhook.
    pub(crate) fn next_for_webhook(&self) -> Option<(i64, Value)> {
        self.again.front().or_else(|| self.queue.front()).cloned()
    }

    /// Whether this successful answer of `method` is to be cut off (and counts it if so).
    pub(crate) fn take_cut_off(&mut self, method: &str) -> bool {
        match self.cut_off.get_mut(method) {
            Some(left) if *left > 0 => {
                *left -= 1;
                self.cut_off_served += 1;
                true
            }
            _ => false,
        }
    }

    /// Marks a pushed update as delivered.
    pub(crate) fn webhook_delivered(&mut self, id: i64) {
        if self.again.front().is_some_and(|(a, _)| *a == id) {
            self.again.pop_front();
        } else {
            self.queue.retain(|(q, _)| *q != id);
        }
    }
}
