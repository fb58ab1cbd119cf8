//! Pure translation between Bot API objects and the core: updates to citizen messages,
//! choices to inline keyboards, long texts to message-sized chunks, Bot API errors to
//! delivery errors. No I/O here; unit-tested against Bot API JSON.

use sprechstunde_core::{
    ChannelIdentity, ChannelKind, Choice, CitizenMessage, DeliveryError, Input, Lang,
};
use sprechstunde_runtime::Pseudonymizer;
use teloxide::types::{
    BotCommand, CallbackQueryId, ChatKind, InlineKeyboardButton, InlineKeyboardMarkup, Update,
    UpdateKind, User,
};
use teloxide::{ApiError, RequestError};

/// Longest message text the Bot API accepts, in UTF-16 code units (as Telegram counts).
pub(crate) const MAX_MESSAGE_UNITS: usize = 4096;

/// What an update means for the office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Inbound {
    /// A citizen wrote (or pressed a button) in a private chat.
    Citizen {
        chat_id: i64,
        lang: Option<Lang>,
        text: String,
        /// The callback query to answer, for a button press.
        callback: Option<CallbackQueryId>,
    },
    /// Somebody wrote in a group, supergroup or channel.
    Public { chat_id: i64 },
    /// Nothing to do (edits, reactions, stickers without caption, …).
    Ignored,
    /// An update teloxide could not read (a kind it does not know, or a known kind with a
    /// field missing, such as a button press without `chat_instance`). It is skipped; its
    /// content (which may hold a citizen's text and chat id) is never logged.
    Unreadable,
}

fn lang_of(user: Option<&User>) -> Option<Lang> {
    user.and_then(|u| u.language_code.as_deref())
        .map(Lang::from_tag)
}

/// Classifies an update.
pub(crate) fn inbound(update: &Update) -> Inbound {
    match &update.kind {
        UpdateKind::Message(m) => {
            if !matches!(m.chat.kind, ChatKind::Private(_)) {
                return Inbound::Public {
                    chat_id: m.chat.id.0,
                };
            }
            match m.text().or(m.caption()) {
                Some(text) if !text.trim().is_empty() => Inbound::Citizen {
                    chat_id: m.chat.id.0,
                    lang: lang_of(m.from.as_ref()),
                    text: text.to_owned(),
                    callback: None,
                },
                _ => Inbound::Ignored,
            }
        }
        UpdateKind::ChannelPost(m) => Inbound::Public {
            chat_id: m.chat.id.0,
        },
        UpdateKind::CallbackQuery(q) => {
            let Some(data) = q.data.as_deref().filter(|d| !d.trim().is_empty()) else {
                return Inbound::Ignored;
            };
            // In a private chat the chat id is the user id.
            let (chat_id, private) = match &q.message {
                Some(m) => (m.chat().id.0, m.chat().is_private()),
                None => (i64::try_from(q.from.id.0).unwrap_or(0), true),
            };
            if !private {
                return Inbound::Public { chat_id };
            }
            Inbound::Citizen {
                chat_id,
                lang: lang_of(Some(&q.from)),
                text: data.to_owned(),
                callback: Some(q.id.clone()),
            }
        }
        UpdateKind::Error(_) => Inbound::Unreadable,
        _ => Inbound::Ignored,
    }
}

/// The engine input for a citizen's message; the chat id becomes a keyed pseudonym, and the
/// update id the intake key that makes a redelivered update count once.
pub(crate) fn citizen_input(
    pseudonyms: &Pseudonymizer,
    update_id: u32,
    chat_id: i64,
    lang: Option<Lang>,
    text: String,
) -> Input {
    let address = chat_id.to_string();
    Input::Citizen(CitizenMessage {
        identity: ChannelIdentity {
            channel: ChannelKind::Telegram,
            pseudonym: pseudonyms.pseudonym(ChannelKind::Telegram, &address),
            address,
        },
        lang,
        text,
        intake_key: Some(format!("tg:{update_id}")),
        inline_errors: false,
        encrypted: Some(false),
    })
}

/// One button per row: labels are sentences, and rows keep them readable on phones.
pub(crate) fn keyboard(choices: &[Choice]) -> Option<InlineKeyboardMarkup> {
    if choices.is_empty() {
        return None;
    }
    Some(InlineKeyboardMarkup::new(choices.iter().map(|c| {
        vec![InlineKeyboardButton::callback(
            c.label.clone(),
            c.command.clone(),
        )]
    })))
}

/// The command list for `setMyCommands`: German (also the default list) and English.
pub(crate) fn commands(lang: Lang) -> Vec<BotCommand> {
    let list: &[(&str, &str)] = match lang {
        Lang::De => &[
            ("start", "Begrüßung und nächste Sprechstunde"),
            ("hilfe", "So funktioniert die Bürgersprechstunde"),
            ("status", "Stand meiner Anliegen"),
            ("zurueckziehen", "Mein offenes Anliegen zurückziehen"),
            ("abonnieren", "Ankündigungen der Sprechstunden abonnieren"),
            ("abbestellen", "Ankündigungen abbestellen"),
            ("meinedaten", "Alle über mich gespeicherten Daten"),
            ("loeschen", "Alle meine Daten löschen"),
        ],
        Lang::En => &[
            ("start", "Welcome and the next office hours"),
            ("help", "How the office hours work"),
            ("status", "Where my questions stand"),
            ("withdraw", "Withdraw my open question"),
            ("subscribe", "Subscribe to announcements of office hours"),
            ("unsubscribe", "Unsubscribe from announcements"),
            ("mydata", "All data stored about me"),
            ("erase", "Delete all my data"),
        ],
    };
    list.iter().map(|(c, d)| BotCommand::new(*c, *d)).collect()
}

fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Splits a text into chunks of at most `max` UTF-16 units, preferring to break between
/// paragraphs, then lines, then words; a single overlong word is cut.
pub(crate) fn split(text: &str, max: usize) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut rest = text.trim();
    while units(rest) > max {
        // The longest prefix that fits, on a char boundary.
        let mut used = 0;
        let mut fit = 0;
        for (i, c) in rest.char_indices() {
            used += c.len_utf16();
            if used > max {
                break;
            }
            fit = i + c.len_utf8();
        }
        let window = &rest[..fit];
        let cut = ["\n\n", "\n", " "]
            .iter()
            .find_map(|sep| window.rfind(sep).filter(|&at| at > 0))
            .unwrap_or(fit);
        let (head, tail) = rest.split_at(cut);
        let head = head.trim_end();
        if !head.is_empty() {
            chunks.push(head.to_owned());
        }
        rest = tail.trim_start();
    }
    if !rest.is_empty() {
        chunks.push(rest.to_owned());
    }
    chunks
}

/// Removes the bot token from text that may contain a request URL (`/bot<TOKEN>/method`).
#[derive(Clone)]
pub(crate) struct Scrubber {
    token: String,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scrubber(..)")
    }
}

impl Scrubber {
    pub(crate) fn new(token: &str) -> Scrubber {
        Scrubber {
            token: token.to_owned(),
        }
    }

    /// The text with every occurrence of the token (and of its secret half) replaced.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.replace(&self.token, "<token>");
        if let Some((_, secret)) = self.token.split_once(':')
            && secret.len() >= 8
        {
            out = out.replace(secret, "<token>");
        }
        out
    }

    /// A request error as text, without the token and without any response body.
    ///
    /// teloxide's `InvalidJson` shows the raw answer (`raw: "…"`), and its JSON error can
    /// quote values from it: for a broken `getUpdates` answer that is citizens' texts, names
    /// and chat ids, for a broken `sendMessage` answer the message sent. Only the kind of
    /// the parse error and its position are kept.
    pub(crate) fn error(&self, error: &RequestError) -> String {
        match error {
            RequestError::InvalidJson { source, .. } => invalid_json(source),
            other => self.scrub(&other.to_string()),
        }
    }
}

/// A fixed description of an unparseable Bot API answer: the category and position of the
/// parse error, nothing of the answer itself.
fn invalid_json(error: &serde_json::Error) -> String {
    let kind = match error.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not valid JSON",
        serde_json::error::Category::Data => "not a Bot API response",
        serde_json::error::Category::Eof => "cut off",
    };
    format!(
        "the Bot API answer was {kind} (line {}, column {}; the answer is not logged)",
        error.line(),
        error.column()
    )
}

/// What a failed send means for the outbox. 429s are handled before this is called.
pub(crate) fn delivery_error(error: &RequestError, scrubber: &Scrubber) -> DeliveryError {
    match error {
        RequestError::RetryAfter(s) => DeliveryError::RetryAfter(s.duration()),
        RequestError::Api(
            e @ (ApiError::BotBlocked
            | ApiError::ChatNotFound
            | ApiError::UserDeactivated
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel
            | ApiError::CantInitiateConversation
            | ApiError::CantTalkWithBots),
        ) => DeliveryError::Permanent(scrubber.scrub(&e.to_string())),
        RequestError::MigrateToChatId(_) => {
            DeliveryError::Permanent("the chat became a supergroup".to_owned())
        }
        other => DeliveryError::Transient(scrubber.error(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(json: &str) -> Update {
        serde_json::from_str(json).expect("a Bot API update")
    }

    fn pseudonyms() -> Pseudonymizer {
        Pseudonymizer::new(vec![7; 32]).expect("key")
    }

    #[test]
    fn a_private_text_message_becomes_a_citizen_message_with_pseudonym_and_intake_key() {
        let u = update(
            r#"{"update_id": 100001, "message": {"message_id": 5, "date": 1764230400,
                "from": {"id": 424242, "is_bot": false, "first_name": "Anna", "language_code": "en-GB"},
                "chat": {"id": 424242, "type": "private", "first_name": "Anna"},
                "text": "Wann wird die Straße saniert?"}}"#,
        );

        let inbound = inbound(&u);

        let Inbound::Citizen {
            chat_id,
            lang,
            text,
            callback,
        } = inbound
        else {
            panic!("not a citizen message: {inbound:?}");
        };
        assert_eq!((chat_id, lang, callback), (424242, Some(Lang::En), None));
        let Input::Citizen(m) = citizen_input(&pseudonyms(), u.id.0, chat_id, lang, text) else {
            panic!("not a citizen input");
        };
        assert_eq!(m.intake_key.as_deref(), Some("tg:100001"));
        assert_eq!(m.identity.address, "424242");
        assert!(!m.identity.pseudonym.contains("424242"));
        assert_eq!(m.identity.pseudonym.len(), 64);
        assert_eq!(m.text, "Wann wird die Straße saniert?");
    }

    #[test]
    fn group_and_channel_messages_are_public() {
        let group = update(
            r#"{"update_id": 7, "message": {"message_id": 1, "date": 1764230400,
                "from": {"id": 1, "is_bot": false, "first_name": "B"},
                "chat": {"id": -100123, "type": "group", "title": "Stammtisch"},
                "text": "/start"}}"#,
        );
        let channel = update(
            r#"{"update_id": 8, "channel_post": {"message_id": 1, "date": 1764230400,
                "chat": {"id": -100999, "type": "channel", "title": "Amtsblatt"},
                "text": "Hallo"}}"#,
        );
        assert_eq!(inbound(&group), Inbound::Public { chat_id: -100123 });
        assert_eq!(inbound(&channel), Inbound::Public { chat_id: -100999 });
    }

    #[test]
    fn a_button_press_becomes_its_command_with_the_query_to_answer() {
        let u = update(
            r#"{"update_id": 9, "callback_query": {"id": "77001", "chat_instance": "ci",
                "from": {"id": 55, "is_bot": false, "first_name": "C", "language_code": "de"},
                "message": {"message_id": 3, "date": 1764230400,
                    "from": {"id": 7000, "is_bot": true, "first_name": "Bot"},
                    "chat": {"id": 55, "type": "private", "first_name": "C"}, "text": "…"},
                "data": "/zurueckziehen A-1001"}}"#,
        );
        assert_eq!(
            inbound(&u),
            Inbound::Citizen {
                chat_id: 55,
                lang: Some(Lang::De),
                text: "/zurueckziehen A-1001".to_owned(),
                callback: Some(CallbackQueryId("77001".to_owned())),
            }
        );
    }

    #[test]
    fn edits_and_stickers_are_ignored() {
        let edit = update(
            r#"{"update_id": 10, "edited_message": {"message_id": 1, "date": 1764230400,
                "edit_date": 1764230401,
                "chat": {"id": 5, "type": "private", "first_name": "D"}, "text": "x"}}"#,
        );
        assert_eq!(inbound(&edit), Inbound::Ignored);
    }

    #[test]
    fn a_button_press_without_chat_instance_is_unreadable() {
        // Telegram always sends `chat_instance`; teloxide cannot read a query without it.
        let u = update(
            r#"{"update_id": 11, "callback_query": {"id": "77002",
                "from": {"id": 56, "is_bot": false, "first_name": "E"},
                "message": {"message_id": 3, "date": 1764230400,
                    "from": {"id": 7000, "is_bot": true, "first_name": "Bot"},
                    "chat": {"id": 56, "type": "private", "first_name": "E"}, "text": "…"},
                "data": "/status"}}"#,
        );

        let inbound = inbound(&u);

        assert_eq!(inbound, Inbound::Unreadable);
    }

    #[test]
    fn choices_become_one_inline_button_per_row() {
        let markup = keyboard(&[
            Choice {
                label: "Status".into(),
                command: "/status".into(),
            },
            Choice {
                label: "Zurückziehen".into(),
                command: "/zurueckziehen A-1001".into(),
            },
        ])
        .expect("markup");
        let json = serde_json::to_value(&markup).expect("json");
        assert_eq!(
            json["inline_keyboard"][1][0]["callback_data"],
            "/zurueckziehen A-1001"
        );
        assert_eq!(json["inline_keyboard"][0][0]["text"], "Status");
        assert!(keyboard(&[]).is_none());
    }

    #[test]
    fn the_command_menu_lists_every_command_of_the_other_channels() {
        for lang in [Lang::De, Lang::En] {
            let menu: Vec<String> = commands(lang).into_iter().map(|c| c.command).collect();
            for name in sprechstunde_core::Command::names(lang) {
                assert!(menu.iter().any(|c| c == name), "{lang}: {name} in {menu:?}");
            }
        }
    }

    #[test]
    fn short_texts_stay_whole() {
        assert_eq!(split("  Hallo  ", 4096), vec!["Hallo".to_owned()]);
    }

    #[test]
    fn long_texts_split_at_paragraphs_then_lines_then_words() {
        let para = "a".repeat(30);
        let text = format!("{para}\n\n{para}\n\n{para}");
        assert_eq!(
            split(&text, 70),
            vec![format!("{para}\n\n{para}"), para.clone()]
        );

        let lines = format!("{para}\n{para}\n{para}");
        assert_eq!(
            split(&lines, 40),
            vec![para.clone(), para.clone(), para.clone()]
        );

        let words = "Wort ".repeat(20);
        let chunks = split(&words, 22);
        assert!(chunks.iter().all(|c| units(c) <= 22), "{chunks:?}");
        assert!(
            chunks
                .iter()
                .all(|c| !c.starts_with(' ') && !c.ends_with(' '))
        );
        assert_eq!(chunks.join(" "), words.trim());

        let word = "x".repeat(50);
        assert_eq!(split(&word, 20).concat(), word);
    }

    #[test]
    fn splitting_counts_utf16_units_and_never_cuts_a_character() {
        let text = "🙂".repeat(3000); // 2 units each
        let chunks = split(&text, MAX_MESSAGE_UNITS);
        assert_eq!(chunks.len(), 2);
        assert!(chunks.iter().all(|c| units(c) <= MAX_MESSAGE_UNITS));
        assert_eq!(chunks.concat(), text);
    }

    #[test]
    fn a_blocked_chat_is_permanent_and_other_errors_are_transient() {
        let scrubber = Scrubber::new("123:SECRETSECRET");
        assert!(matches!(
            delivery_error(&RequestError::Api(ApiError::BotBlocked), &scrubber),
            DeliveryError::Permanent(reason) if reason.contains("blocked")
        ));
        assert!(matches!(
            delivery_error(&RequestError::Api(ApiError::ChatNotFound), &scrubber),
            DeliveryError::Permanent(_)
        ));
        assert!(matches!(
            delivery_error(
                &RequestError::Api(ApiError::Unknown("Bad Gateway".into())),
                &scrubber
            ),
            DeliveryError::Transient(_)
        ));
    }

    #[test]
    fn an_unparseable_answer_is_described_without_its_body() {
        let scrubber = Scrubber::new("123:SECRETSECRET");
        let raw = r#"{"ok":true,"result":[{"update_id":7,"message":{"text":"Geheimnis 4711"#;
        let Err(source) = serde_json::from_str::<serde_json::Value>(raw) else {
            panic!("the answer parsed");
        };
        // A type error quotes the value it could not use.
        let typed = r#""Geheimnis 4711""#;
        let Err(data) = serde_json::from_str::<i64>(typed) else {
            panic!("the answer parsed");
        };
        let errors = [
            RequestError::InvalidJson {
                source: std::sync::Arc::new(source),
                raw: raw.into(),
            },
            RequestError::InvalidJson {
                source: std::sync::Arc::new(data),
                raw: typed.into(),
            },
        ];

        let texts: Vec<String> = errors.iter().map(|e| scrubber.error(e)).collect();
        let delivery = delivery_error(&errors[0], &scrubber);

        assert!(texts[0].contains("cut off"), "{}", texts[0]);
        assert!(texts[1].contains("not a Bot API response"), "{}", texts[1]);
        for text in &texts {
            assert!(
                !text.contains("Geheimnis") && !text.contains("4711"),
                "{text}"
            );
        }
        assert!(
            matches!(&delivery, DeliveryError::Transient(t) if !t.contains("Geheimnis")),
            "{delivery:?}"
        );
    }

    #[test]
    fn the_scrubber_removes_the_token_and_its_secret_half() {
        let scrubber = Scrubber::new("123:SECRETSECRET");
        let text = "error sending request for url (http://h/bot123:SECRETSECRET/sendMessage) \
                    and SECRETSECRET";
        let clean = scrubber.scrub(text);
        assert!(!clean.contains("SECRETSECRET"), "{clean}");
        assert!(clean.contains("/bot<token>/sendMessage"), "{clean}");
    }
}
