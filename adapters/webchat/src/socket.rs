//! One citizen's WebSocket connection: the read loop with its timeouts (hello, idle) and
//! per-connection limit, and the writer that sends frames, pings and the closing frame.

use std::net::IpAddr;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, close_code};
use futures_util::{SinkExt, StreamExt};
use sprechstunde_core::{ChannelKind, Lang};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite;

use crate::WebChat;
use crate::channel::CONNECTION_BUFFER;
use crate::conversation::{Conversation, bad_request, flooded, unavailable};
use crate::limits::Bucket;
use crate::protocol::{ClientFrame, ServerFrame};

/// What the reader asks the writer to do besides sending frames.
#[derive(Debug)]
enum Control {
    Ping,
    Close(u16, &'static str),
}

/// The close code for a read error (RFC 6455, 7.4.1): 1009 for a frame or message over the
/// limit, 1007 for text that is not UTF-8, 1002 for other protocol violations; `None` when the
/// connection itself failed and nothing can be sent.
fn close_code_for(error: axum::Error) -> Option<(u16, &'static str)> {
    let inner = error.into_inner();
    match inner.downcast_ref::<tungstenite::Error>()? {
        tungstenite::Error::Capacity(_) => Some((close_code::SIZE, "frame too large")),
        tungstenite::Error::Utf8(_) => Some((close_code::INVALID, "invalid UTF-8")),
        tungstenite::Error::Protocol(_) => Some((close_code::PROTOCOL, "protocol error")),
        _ => None,
    }
}

pub(crate) async fn serve(chat: WebChat, socket: WebSocket, client: IpAddr) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::channel::<ServerFrame>(CONNECTION_BUFFER);
    let (control, mut controls) = mpsc::channel::<Control>(4);
    let writer = tokio::spawn(async move {
        let mut close = None;
        let mut open = true;
        loop {
            // Frames first: whatever was queued before the close still goes out, and the
            // close comes only after the reader has dropped its senders.
            tokio::select! {
                biased;
                frame = rx.recv(), if open => {
                    let Some(frame) = frame else {
                        open = false;
                        continue;
                    };
                    let Ok(text) = serde_json::to_string(&frame) else {
                        continue;
                    };
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                c = controls.recv() => match c {
                    Some(Control::Ping) => {
                        if sink.send(Message::Ping(Default::default())).await.is_err() {
                            return;
                        }
                    }
                    Some(Control::Close(code, reason)) => {
                        close = Some((code, reason));
                        break;
                    }
                    None => break,
                },
            }
        }
        let frame = close.map(|(code, reason)| CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        });
        let _ = sink.send(Message::Close(frame)).await;
        let _ = sink.close().await;
    });

    let limits = chat.limiter.limits().clone();
    let opened = Instant::now();
    let mut last_seen = opened;
    let ping_every = (limits.idle_timeout / 3).max(std::time::Duration::from_millis(100));
    let mut pings = tokio::time::interval_at(opened + ping_every, ping_every);
    pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut budget = Bucket::full(limits.connection_messages_per_minute, opened);

    let mut conversation: Option<Conversation> = None;
    let close: Option<(u16, &'static str)> = loop {
        let (deadline, why) = match &conversation {
            None => (
                (opened + limits.hello_timeout).min(last_seen + limits.idle_timeout),
                "no hello",
            ),
            Some(_) => (last_seen + limits.idle_timeout, "idle"),
        };
        let next = tokio::select! {
            next = stream.next() => next,
            _ = pings.tick() => {
                let _ = control.try_send(Control::Ping);
                continue;
            }
            () = tokio::time::sleep_until(deadline) => break Some((close_code::POLICY, why)),
            () = chat.shutdown.cancelled() => break Some((close_code::AWAY, "server stopping")),
        };
        let message = match next {
            None => break None,
            Some(Err(error)) => break close_code_for(error),
            Some(Ok(message)) => message,
        };
        last_seen = Instant::now();
        let text = match message {
            Message::Text(text) => text,
            Message::Close(_) => break None,
            _ => continue,
        };
        let lang = conversation.as_ref().map_or(Lang::De, |c| c.lang);
        let frame = match serde_json::from_str::<ClientFrame>(&text) {
            Ok(frame) => frame,
            Err(_) => {
                let _ = tx.send(bad_request(chat.office(), lang, None)).await;
                continue;
            }
        };
        // Every frame from the client counts toward the connection's budget, whatever token
        // it says hello with.
        if let Err(wait) = budget.check(limits.connection_messages_per_minute, last_seen) {
            let client_id = match &frame {
                ClientFrame::Message { client_id, .. } => Some(client_id.clone()),
                _ => None,
            };
            let _ = tx.send(flooded(chat.office(), lang, client_id, wait)).await;
            continue;
        }
        budget.take(limits.connection_messages_per_minute);
        match frame {
            ClientFrame::Hello { token, lang } => {
                let lang = lang.as_deref().map_or(Lang::De, Lang::from_tag);
                // The old conversation's registration ends before the new one starts.
                conversation = None;
                match Conversation::start(&chat, token, lang, tx.clone()).await {
                    Some(c) => conversation = Some(c),
                    None => {
                        let _ = tx.send(unavailable(chat.office(), lang, None)).await;
                        break None;
                    }
                }
            }
            ClientFrame::Message { client_id, text } => {
                let Some(c) = conversation.as_mut() else {
                    let _ = tx
                        .send(bad_request(chat.office(), Lang::De, Some(client_id)))
                        .await;
                    continue;
                };
                if let Err(wait) = chat.limiter.admit(client, c.is_new()) {
                    let _ = tx
                        .send(flooded(chat.office(), c.lang, Some(client_id), wait))
                        .await;
                    continue;
                }
                let reply = c.message(chat.office(), client_id, text).await;
                if tx.send(reply).await.is_err() {
                    break None;
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
                    break None;
                }
            }
        }
    };
    drop(conversation);
    drop(tx);
    if let Some((code, reason)) = close {
        tracing::debug!(code, reason, "closing web chat socket");
        let _ = control.send(Control::Close(code, reason)).await;
    }
    drop(control);
    let _ = writer.await;
}
