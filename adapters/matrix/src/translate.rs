//! Pure translation between Matrix events and the core: which timeline events are new
//! citizen messages, the keys that make redelivery safe in both directions, and the texts the
//! adapter itself writes (greeting with the privacy note, refusal of group rooms).

use matrix_sdk::ruma::events::room::member::MembershipState;
use matrix_sdk::ruma::events::room::message::MessageType;
use matrix_sdk::ruma::events::{
    AnySyncMessageLikeEvent, AnySyncStateEvent, AnySyncTimelineEvent, SyncMessageLikeEvent,
    SyncStateEvent,
};
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{EventId, OwnedEventId, OwnedTransactionId, OwnedUserId, UserId};
use sprechstunde_core::OutboxId;
use sprechstunde_core::texts::{Arg, Lang, Texts, bilingual};

/// The transaction id of an outbox message: the same on every attempt, so the homeserver
/// turns a retried send into the event it already has instead of a second one.
pub(crate) fn transaction_id(outbox: OutboxId) -> OwnedTransactionId {
    format!("sprechstunde-{}", outbox.0).into()
}

/// The transaction id of a message the adapter writes on its own when it joins (greeting or
/// refusal): derived from the join event, so processing the join twice sends it once.
pub(crate) fn event_transaction_id(kind: &str, join: &EventId) -> OwnedTransactionId {
    format!(
        "sprechstunde-{kind}-{}",
        join.as_str().trim_start_matches('$')
    )
    .into()
}

/// The intake key of a citizen's event: the engine ignores a message it has seen.
pub(crate) fn intake_key(event: &EventId) -> String {
    format!("mx:{event}")
}

/// One timeline event, as far as the adapter cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seen {
    /// The bot's own membership became `join`.
    OwnJoin(OwnedEventId),
    /// A text message from somebody else.
    Text {
        /// Its id.
        event_id: OwnedEventId,
        /// Who wrote it.
        sender: OwnedUserId,
        /// The plain text body.
        body: String,
    },
    /// A message from somebody else that is not text (image, file, ...).
    NotText {
        /// Its id.
        event_id: OwnedEventId,
        /// Who sent it.
        sender: OwnedUserId,
    },
    /// An event that could not be decrypted.
    Undecryptable(OwnedEventId),
    /// Anything else (state changes, the bot's own messages, reactions, edits).
    Other,
}

/// Classifies one (decrypted, where possible) timeline event.
pub(crate) fn classify(raw: &Raw<AnySyncTimelineEvent>, own: &UserId) -> Seen {
    let Ok(event) = raw.deserialize() else {
        return Seen::Other;
    };
    match event {
        AnySyncTimelineEvent::State(AnySyncStateEvent::RoomMember(SyncStateEvent::Original(m)))
            if m.state_key == own && m.content.membership == MembershipState::Join =>
        {
            let was_joined = m
                .unsigned
                .prev_content
                .as_ref()
                .is_some_and(|p| p.membership == MembershipState::Join);
            if was_joined {
                // A display name change, not a join.
                Seen::Other
            } else {
                Seen::OwnJoin(m.event_id)
            }
        }
        AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
            SyncMessageLikeEvent::Original(m),
        )) if m.sender != own => {
            // Edits are not new questions.
            if matches!(
                m.content.relates_to,
                Some(matrix_sdk::ruma::events::room::message::Relation::Replacement(_))
            ) {
                return Seen::Other;
            }
            match m.content.msgtype {
                MessageType::Text(text) => Seen::Text {
                    event_id: m.event_id,
                    sender: m.sender,
                    body: strip_reply_fallback(&text.body),
                },
                _ => Seen::NotText {
                    event_id: m.event_id,
                    sender: m.sender,
                },
            }
        }
        AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomEncrypted(e))
            if e.sender() != own =>
        {
            Seen::Undecryptable(e.event_id().to_owned())
        }
        _ => Seen::Other,
    }
}

/// Older clients quote the message they reply to as `> ` lines before the text; that quote
/// is not part of the citizen's question.
fn strip_reply_fallback(body: &str) -> String {
    if !body.starts_with("> ") {
        return body.to_owned();
    }
    let mut lines = body.lines().skip_while(|l| l.starts_with('>'));
    // The quote is followed by one empty line.
    let rest: Vec<&str> = lines.by_ref().collect();
    let rest = rest.join("\n");
    rest.trim_start_matches('\n').to_owned()
}

/// Splits a room's timeline batch at the bot's own join: what came before is history the
/// citizen wrote before the bot was there, not a question to it. Returns the join (if the
/// batch has it) and the events after it (all of them when the bot had joined earlier).
pub(crate) fn after_own_join(events: Vec<Seen>) -> (Option<OwnedEventId>, Vec<Seen>) {
    match events.iter().rposition(|e| matches!(e, Seen::OwnJoin(_))) {
        Some(i) => {
            let mut rest = events;
            let tail = rest.split_off(i + 1);
            let join = match rest.pop() {
                Some(Seen::OwnJoin(id)) => Some(id),
                _ => None,
            };
            (join, tail)
        }
        None => (None, events),
    }
}

/// The greeting after joining: the current or next session and the privacy note (end-to-end
/// encrypted or not), German first, then English.
pub(crate) fn greeting(
    texts: &Texts,
    encrypted: bool,
    de_session: &str,
    en_session: &str,
) -> String {
    let privacy = if encrypted {
        "privacy-matrix-encrypted"
    } else {
        "privacy-matrix-plain"
    };
    let part = |lang: Lang, session: &str| {
        let privacy = texts.render(lang, privacy, &[]);
        texts.render(
            lang,
            "greeting-matrix",
            &[
                ("session", Arg::Str(session)),
                ("privacy", Arg::Str(&privacy)),
            ],
        )
    };
    bilingual(&part(Lang::De, de_session), &part(Lang::En, en_session))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOT: &str = "@bot:localhost";

    fn raw(json: serde_json::Value) -> Raw<AnySyncTimelineEvent> {
        Raw::from_json(serde_json::value::to_raw_value(&json).expect("raw"))
    }

    fn own() -> OwnedUserId {
        BOT.try_into().expect("user")
    }

    fn text(id: &str, sender: &str, body: &str) -> serde_json::Value {
        serde_json::json!({
            "type": "m.room.message", "event_id": id, "sender": sender,
            "origin_server_ts": 1_700_000_000_000u64,
            "content": {"msgtype": "m.text", "body": body}
        })
    }

    fn join(id: &str, prev: Option<&str>) -> serde_json::Value {
        let mut event = serde_json::json!({
            "type": "m.room.member", "event_id": id, "sender": BOT, "state_key": BOT,
            "origin_server_ts": 1_700_000_000_000u64,
            "content": {"membership": "join", "displayname": "Bürgersprechstunde"}
        });
        if let Some(prev) = prev {
            event["unsigned"] = serde_json::json!({"prev_content": {"membership": prev}});
        }
        event
    }

    #[test]
    fn a_citizens_text_message_is_a_question_and_the_bots_own_messages_are_not() {
        let seen = classify(
            &raw(text("$q1", "@anna:localhost", "Wann ist das Amt offen?")),
            &own(),
        );
        assert_eq!(
            seen,
            Seen::Text {
                event_id: "$q1".try_into().expect("id"),
                sender: "@anna:localhost".try_into().expect("user"),
                body: "Wann ist das Amt offen?".into(),
            }
        );
        assert_eq!(
            classify(&raw(text("$a1", BOT, "Danke")), &own()),
            Seen::Other
        );
    }

    #[test]
    fn history_before_the_bots_join_is_not_new() {
        let events = vec![
            classify(&raw(text("$old", "@anna:localhost", "alt")), &own()),
            classify(&raw(join("$join", Some("invite"))), &own()),
            classify(&raw(text("$new", "@anna:localhost", "neu")), &own()),
        ];
        let (joined, rest) = after_own_join(events);
        assert_eq!(joined.as_ref().map(|e| e.as_str()), Some("$join"));
        assert_eq!(rest.len(), 1);
        assert!(matches!(&rest[0], Seen::Text { body, .. } if body == "neu"));
    }

    #[test]
    fn a_display_name_change_is_not_a_join() {
        assert_eq!(
            classify(&raw(join("$n", Some("join"))), &own()),
            Seen::Other
        );
        let (joined, rest) = after_own_join(vec![Seen::Other, Seen::Other]);
        assert!(joined.is_none());
        assert_eq!(rest.len(), 2);
    }

    #[test]
    fn images_and_undecryptable_events_are_recognised() {
        let image = serde_json::json!({
            "type": "m.room.message", "event_id": "$img", "sender": "@anna:localhost",
            "origin_server_ts": 1u64,
            "content": {"msgtype": "m.image", "body": "foto.jpg", "url": "mxc://localhost/x"}
        });
        assert!(matches!(
            classify(&raw(image), &own()),
            Seen::NotText { .. }
        ));
        let encrypted = serde_json::json!({
            "type": "m.room.encrypted", "event_id": "$enc", "sender": "@anna:localhost",
            "origin_server_ts": 1u64,
            "content": {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgA",
                        "sender_key": "k", "device_id": "D", "session_id": "s"}
        });
        assert_eq!(
            classify(&raw(encrypted), &own()),
            Seen::Undecryptable("$enc".try_into().expect("id"))
        );
    }

    #[test]
    fn reply_fallbacks_are_removed_from_the_question() {
        assert_eq!(
            strip_reply_fallback("> <@bot:localhost> Ihre Frage A-1\n\nUnd noch etwas"),
            "Und noch etwas"
        );
        assert_eq!(strip_reply_fallback("Frage"), "Frage");
    }

    #[test]
    fn keys_are_stable() {
        assert_eq!(transaction_id(OutboxId(42)).as_str(), "sprechstunde-42");
        let event: OwnedEventId = "$abc".try_into().expect("id");
        assert_eq!(intake_key(&event), "mx:$abc");
        assert_eq!(
            event_transaction_id("greeting", &event).as_str(),
            "sprechstunde-greeting-abc"
        );
    }

    #[test]
    fn the_greeting_says_whether_the_chat_is_encrypted() {
        let texts = Texts::builtin().expect("texts");
        let greet = |encrypted| greeting(&texts, encrypted, "Willkommen!", "Welcome!");
        assert!(greet(true).contains("Ende-zu-Ende-verschlüsselt:"));
        assert!(greet(false).contains("nicht Ende-zu-Ende"));
        assert!(greet(false).contains("not end-to-end encrypted"));
        assert!(
            greet(true).starts_with("Willkommen!\n\n"),
            "{}",
            greet(true)
        );
    }

    #[test]
    fn the_greeting_lists_every_command_of_the_other_channels_with_the_bang_form() {
        // Element and other clients take an unknown `/word` as their own command, so the
        // `!` form is the one a Matrix citizen can type.
        let texts = Texts::builtin().expect("texts");
        let text = greeting(&texts, true, "Willkommen!", "Welcome!");
        let (de, en) = text.split_once("— English —").expect("both languages");
        for (lang, part) in [(Lang::De, de), (Lang::En, en)] {
            for name in sprechstunde_core::Command::names(lang) {
                assert!(
                    part.contains(&format!("!{name}")),
                    "{lang}: !{name} in {part}"
                );
            }
        }
    }
}
