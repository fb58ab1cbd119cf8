//! A conversation bound to a token: the `welcome`, and each citizen message submitted to the
//! office and answered with `accepted`, `held` or `error`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use sprechstunde_core::{
    ChannelIdentity, ChannelKind, CitizenMessage, Command, Input, Lang, Receipt, Refusal,
};
use sprechstunde_runtime::Office;
use tokio::sync::mpsc;

use crate::WebChat;
use crate::history;
use crate::protocol::ServerFrame;

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

/// A conversation bound to a token.
pub(crate) struct Conversation {
    pub(crate) pseudonym: String,
    pub(crate) lang: Lang,
    /// Whether the office knows a citizen under this token. A first message under an unknown
    /// token starts a new conversation (and would create a citizen record).
    known: bool,
    /// Whether a message of this connection is held until the citizen agrees.
    held: bool,
    _registration: crate::channel::Registration,
}
impl Conversation {
    /// Whether the next message starts a new conversation.
    pub(crate) fn is_new(&self) -> bool {
        !self.known
    }

    pub(crate) async fn start(
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
        let (welcome, pending, known) = office
            .read(|state, engine, now| {
                let (history, pending) = history::of(state, &pseudonym);
                let citizen = state.citizen_by_pseudonym(ChannelKind::Web, &pseudonym);
                let known = citizen.is_some();
                let agreed = citizen.is_some_and(|c| c.consent.is_some());
                let subscribed = citizen.is_some_and(|c| c.subscribed);
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
                    subscribed,
                    time_zone: engine
                        .policy()
                        .calendar
                        .zone
                        .iana_name()
                        .unwrap_or("Europe/Berlin")
                        .to_owned(),
                };
                (welcome, pending, known)
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
            known,
            held: false,
            _registration: registration,
        })
    }

    pub(crate) async fn message(
        &mut self,
        office: &Office,
        client_id: String,
        text: String,
    ) -> ServerFrame {
        if client_id.is_empty() || client_id.chars().count() > MAX_CLIENT_ID {
            return bad_request(office, self.lang, None);
        }
        // From now on the office knows the citizen (or refused the message without a record;
        // the new-conversation allowance is spent either way).
        self.known = true;
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
                subscribed: None,
            },
            // Nothing is stored before consent: the text waits in memory (docs/privacy.md).
            Ok(Ok(Receipt::ConsentNeeded { .. })) => {
                self.held = true;
                ServerFrame::Held { client_id }
            }
            // Agreeing took the held text in as a question: its reference goes with the
            // agreement's acknowledgement, so the page can show where its message went.
            Ok(Ok(Receipt::Command { citizen, command })) => {
                let held = command == Command::Agree && std::mem::take(&mut self.held);
                let (reference, subscribed) = office
                    .read(move |state, _, _| {
                        let reference = state
                            .questions_of(citizen)
                            .max_by_key(|q| q.created_at)
                            .map(|q| q.reference.to_string());
                        let subscribed = state.citizen(citizen).map(|c| c.subscribed);
                        (reference, subscribed)
                    })
                    .await;
                ServerFrame::Accepted {
                    client_id,
                    reference: reference.filter(|_| held),
                    subscribed,
                }
            }
            Ok(Ok(_)) => ServerFrame::Accepted {
                client_id,
                reference: None,
                subscribed: None,
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
            Ok(Err(Refusal::Flooded { retry_after_secs })) => {
                flooded(office, self.lang, Some(client_id), retry_after_secs)
            }
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

pub(crate) fn bad_request(office: &Office, lang: Lang, client_id: Option<String>) -> ServerFrame {
    ServerFrame::Error {
        client_id,
        code: "bad_request".into(),
        message: office.engine().render(lang, "error-bad-request", &[]),
    }
}

pub(crate) fn unavailable(office: &Office, lang: Lang, client_id: Option<String>) -> ServerFrame {
    ServerFrame::Error {
        client_id,
        code: "unavailable".into(),
        message: office.engine().render(lang, "error-unavailable", &[]),
    }
}

/// The refusal of a message over a flood limit, with the seconds until it would be taken.
pub(crate) fn flooded(
    office: &Office,
    lang: Lang,
    client_id: Option<String>,
    retry_after_secs: u64,
) -> ServerFrame {
    ServerFrame::Error {
        message: office.engine().render(
            lang,
            "flood-limit",
            &[(
                "seconds",
                sprechstunde_core::texts::Arg::Num(retry_after_secs),
            )],
        ),
        client_id,
        code: "flooded".into(),
    }
}
