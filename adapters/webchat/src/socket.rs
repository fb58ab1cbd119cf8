//! One citizen's WebSocket connection.

use axum::extract::ws::{Message, WebSocket};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::{SinkExt, StreamExt};
use sha2::{Digest, Sha256};
use sprechstunde_core::{
    ChannelIdentity, ChannelKind, CitizenMessage, Input, Lang, Receipt, Refusal,
};
use sprechstunde_runtime::Office;
use tokio::sync::mpsc;

use crate::WebChat;
use crate::channel::CONNECTION_BUFFER;
use crate::history;
use crate::protocol::{ClientFrame, ServerFrame};

/// Bytes of randomness in a browser token.
const TOKEN_BYTES: usize = 32;
/// Longest accepted client message id.
const MAX_CLIENT_ID: usize = 64;

/// A new random token, or `None` if the system has no randomness (then we refuse service).
fn new_token() -> Option<String> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

fn valid_token(token: &str) -> bool {
    URL_SAFE_NO_PAD
        .decode(token)
        .is_ok_and(|b| b.len() == TOKEN_BYTES)
}

/// The citizen's pseudonym: a hash of the token. The token itself is never stored.
pub(crate) fn pseudonym(token: &str) -> String {
    let digest = Sha256::digest(format!("sprechstunde/web/{token}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) async fn serve(chat: WebChat, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::channel::<ServerFrame>(CONNECTION_BUFFER);
    let writer = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            let Ok(text) = serde_json::to_string(&frame) else {
                continue;
            };
            if sink.send(Message::Text(text.into())).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });

    let mut conversation: Option<Conversation> = None;
    loop {
        let next = tokio::select! {
            next = stream.next() => next,
            () = chat.shutdown.cancelled() => break,
        };
        let Some(Ok(message)) = next else {
            break;
        };
        let text = match message {
            Message::Text(text) => text,
            Message::Close(_) => break,
            _ => continue,
        };
        let frame = match serde_json::from_str::<ClientFrame>(&text) {
            Ok(frame) => frame,
            Err(_) => {
                let lang = conversation.as_ref().map_or(Lang::De, |c| c.lang);
                let _ = tx.send(bad_request(chat.office(), lang, None)).await;
                continue;
            }
        };
        match frame {
            ClientFrame::Hello { token, lang } => {
                let lang = lang.as_deref().map_or(Lang::De, Lang::from_tag);
                match Conversation::start(&chat, token, lang, tx.clone()).await {
                    Some(c) => conversation = Some(c),
                    None => {
                        let _ = tx.send(unavailable(chat.office(), lang, None)).await;
                        break;
                    }
                }
            }
            ClientFrame::Message { client_id, text } => {
                let Some(c) = conversation.as_ref() else {
                    let _ = tx
                        .send(bad_request(chat.office(), Lang::De, Some(client_id)))
                        .await;
                    continue;
                };
                let reply = c.message(chat.office(), client_id, text).await;
                if tx.send(reply).await.is_err() {
                    break;
                }
            }
            ClientFrame::Export => {
                let Some(c) = conversation.as_ref() else {
                    let _ = tx.send(bad_request(chat.office(), Lang::De, None)).await;
                    continue;
                };
                let pseudonym = c.pseudonym.clone();
                let data = chat
                    .office()
                    .read(|state, _, _| {
                        sprechstunde_core::privacy::export(state, ChannelKind::Web, &pseudonym)
                    })
                    .await;
                if tx.send(ServerFrame::Export { data }).await.is_err() {
                    break;
                }
            }
        }
    }
    drop(conversation);
    drop(tx);
    let _ = writer.await;
}

/// A conversation bound to a token.
struct Conversation {
    pseudonym: String,
    lang: Lang,
    _registration: crate::channel::Registration,
}

impl Conversation {
    async fn start(
        chat: &WebChat,
        token: Option<String>,
        lang: Lang,
        tx: mpsc::Sender<ServerFrame>,
    ) -> Option<Conversation> {
        let token = match token.filter(|t| valid_token(t)) {
            Some(t) => t,
            None => new_token()?,
        };
        let pseudonym = pseudonym(&token);
        // Register before reading the history: a message delivered in between then arrives
        // twice (the page ignores known ids) instead of never.
        let registration = chat.channel().register(&pseudonym, tx.clone());
        let office = chat.office();
        let max_chars = office.engine().policy().max_message_chars;
        let (welcome, pending) = office
            .read(|state, engine, now| {
                let (history, pending) = history::of(state, &pseudonym);
                let agreed = state
                    .citizen_by_pseudonym(ChannelKind::Web, &pseudonym)
                    .is_some_and(|c| c.consent.is_some());
                let privacy_notice = (engine.policy().privacy.require_consent && !agreed)
                    .then(|| engine.privacy_notice(lang, ChannelKind::Web, None));
                let welcome = ServerFrame::Welcome {
                    token: token.clone(),
                    lang: lang.code().to_owned(),
                    greeting: engine.greeting(state, ChannelKind::Web, lang, now),
                    session: history::session_info(state, engine, lang, now),
                    history,
                    max_chars,
                    privacy_notice,
                };
                (welcome, pending)
            })
            .await;
        if tx.send(welcome).await.is_err() {
            return None;
        }
        if let Err(error) = office.mark_delivered(pending).await {
            // They stay pending and are shown again on the next visit.
            tracing::warn!(%error, "could not record web chat history as delivered");
        }
        Some(Conversation {
            pseudonym,
            lang,
            _registration: registration,
        })
    }

    async fn message(&self, office: &Office, client_id: String, text: String) -> ServerFrame {
        if client_id.is_empty() || client_id.chars().count() > MAX_CLIENT_ID {
            return bad_request(office, self.lang, None);
        }
        let input = Input::Citizen(CitizenMessage {
            identity: ChannelIdentity {
                channel: ChannelKind::Web,
                pseudonym: self.pseudonym.clone(),
                address: self.pseudonym.clone(),
            },
            lang: Some(self.lang),
            text,
            intake_key: Some(format!("web:{client_id}")),
            inline_errors: true,
            encrypted: None,
        });
        match office.submit(input).await {
            Ok(Ok(Receipt::Question { reference, .. })) => ServerFrame::Accepted {
                client_id,
                reference: Some(reference.to_string()),
            },
            Ok(Ok(_)) => ServerFrame::Accepted {
                client_id,
                reference: None,
            },
            Ok(Err(Refusal::TooLong { max })) => ServerFrame::Error {
                message: office.engine().render(
                    self.lang,
                    "too-long",
                    &[("max", sprechstunde_core::texts::Arg::Num(max as u64))],
                ),
                client_id: Some(client_id),
                code: "too_long".into(),
            },
            Ok(Err(Refusal::Flooded { retry_after_secs })) => ServerFrame::Error {
                message: office.engine().render(
                    self.lang,
                    "flood-limit",
                    &[(
                        "seconds",
                        sprechstunde_core::texts::Arg::Num(retry_after_secs),
                    )],
                ),
                client_id: Some(client_id),
                code: "flooded".into(),
            },
            Ok(Err(_)) => ServerFrame::Error {
                message: office.engine().render(self.lang, "error-empty", &[]),
                client_id: Some(client_id),
                code: "empty".into(),
            },
            Err(error) => {
                tracing::error!(%error, "web chat message could not be stored");
                unavailable(office, self.lang, Some(client_id))
            }
        }
    }
}

fn bad_request(office: &Office, lang: Lang, client_id: Option<String>) -> ServerFrame {
    ServerFrame::Error {
        client_id,
        code: "bad_request".into(),
        message: office.engine().render(lang, "error-bad-request", &[]),
    }
}

fn unavailable(office: &Office, lang: Lang, client_id: Option<String>) -> ServerFrame {
    ServerFrame::Error {
        client_id,
        code: "unavailable".into(),
        message: office.engine().render(lang, "error-unavailable", &[]),
    }
}
