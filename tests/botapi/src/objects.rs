//! Bot API objects as JSON, in the shapes of <https://core.telegram.org/bots/api#available-types>.

use serde_json::{Value, json};

/// A Telegram user who writes to the bot in a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestUser {
    /// First name.
    pub first_name: String,
    /// IETF language tag of the user's client (`de`, `en`), if the client reports one.
    pub language_code: Option<String>,
}

impl TestUser {
    /// A user whose Telegram client is set to German.
    pub fn de(first_name: &str) -> TestUser {
        TestUser {
            first_name: first_name.to_owned(),
            language_code: Some("de".to_owned()),
        }
    }

    /// A user whose Telegram client is set to English.
    pub fn en(first_name: &str) -> TestUser {
        TestUser {
            first_name: first_name.to_owned(),
            language_code: Some("en".to_owned()),
        }
    }
}

/// The bot's own `User` object, as `getMe` returns it.
pub(crate) fn bot_user(id: i64, username: &str) -> Value {
    json!({
        "id": id,
        "is_bot": true,
        "first_name": "Bürgersprechstunde",
        "username": username,
        "can_join_groups": true,
        "can_read_all_group_messages": false,
        "supports_inline_queries": false,
        "can_connect_to_business": false,
        "has_main_web_app": false,
    })
}

/// A human `User` object.
pub(crate) fn user(id: i64, user: &TestUser) -> Value {
    let mut v = json!({
        "id": id,
        "is_bot": false,
        "first_name": user.first_name,
    });
    if let Some(lang) = &user.language_code {
        v["language_code"] = json!(lang);
    }
    v
}

/// The kind of a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChatKind {
    Private(TestUser),
    Group(String),
}

/// A `Chat` object.
pub(crate) fn chat(id: i64, kind: &ChatKind) -> Value {
    match kind {
        ChatKind::Private(u) => json!({
            "id": id,
            "type": "private",
            "first_name": u.first_name,
        }),
        ChatKind::Group(title) => json!({
            "id": id,
            "type": "group",
            "title": title,
        }),
    }
}

/// A text `Message` object.
pub(crate) fn text_message(
    message_id: i64,
    from: Value,
    chat: Value,
    date: i64,
    text: &str,
    reply_markup: Option<&Value>,
) -> Value {
    let mut v = json!({
        "message_id": message_id,
        "from": from,
        "chat": chat,
        "date": date,
        "text": text,
    });
    if let Some(markup) = reply_markup {
        v["reply_markup"] = markup.clone();
    }
    v
}

/// A `CallbackQuery` object.
pub(crate) fn callback_query(
    id: &str,
    from: Value,
    message: Value,
    chat_instance: &str,
    data: &str,
) -> Value {
    json!({
        "id": id,
        "from": from,
        "message": message,
        "chat_instance": chat_instance,
        "data": data,
    })
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
