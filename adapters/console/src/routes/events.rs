//! Server-Sent Events for live console views.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::StreamExt;
use serde_json::json;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use crate::Console;
use crate::auth::{Staff, Via};
use crate::error::ApiError;

pub(crate) async fn stream(
    State(console): State<Console>,
    staff: Staff,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    staff.require_any(crate::access::READERS)?;
    let shutdown = console.shutdown.clone().cancelled_owned();
    let logged_out = logged_out(console.clone(), staff.via.clone());
    let stop = async move {
        tokio::select! {
            () = shutdown => {}
            () = logged_out => {}
        }
    };
    let office = console.office.clone();
    let id = staff.member.id;
    let events = BroadcastStream::new(console.office.subscribe())
        .take_until(stop)
        .then(move |item| {
            let office = office.clone();
            async move {
                // The member as stored now, not as at the stream's start: a move to another
                // department (PUT /staff/{id}/department) applies to an open stream too. A
                // member disabled meanwhile (or unreadable storage) hears of no question.
                let member = office
                    .store()
                    .staff_member(id)
                    .await
                    .ok()
                    .flatten()
                    .filter(|m| !m.disabled);
                match (item, member) {
                    (Ok(mut e), None) => {
                        e.questions.clear();
                        Ok(e)
                    }
                    // Department staff only hear of their department's questions, approvers
                    // and moderators only of the questions they may see.
                    (Ok(mut e), Some(member)) if crate::access::partial(&member) => {
                        let refs = std::mem::take(&mut e.questions);
                        e.questions = office
                            .read(|state, _, _| {
                                refs.into_iter()
                                    .filter(|r| {
                                        state
                                            .question_by_reference(*r)
                                            .is_some_and(|q| crate::access::visible(&member, q))
                                    })
                                    .collect()
                            })
                            .await;
                        Ok(e)
                    }
                    (other, _) => other,
                }
            }
        })
        .map(|item| {
            let data = match item {
                // Forgotten questions (erasure, retention) have no reference any more.
                Ok(e) if e.forgotten => json!({"all": true}),
                Ok(e) => json!({
                    "questions": e.questions.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "sessions": e.sessions.iter().map(|s| s.0).collect::<Vec<_>>(),
                }),
                // Missed some: tell the page to reload everything.
                Err(BroadcastStreamRecvError::Lagged(_)) => json!({"all": true}),
            };
            Ok(Event::default().event("changed").data(data.to_string()))
        });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Completes when the stream's own credential ends: its console login is gone (logout, "log
/// out everywhere", a password change) or its token was revoked. Checked whenever logins end
/// in this server.
async fn logged_out(console: Console, via: Via) {
    let mut ended = console.logins_ended.subscribe();
    let store = console.office.store();
    loop {
        if ended.changed().await.is_err() {
            // The console is gone: nothing can end a login any more.
            std::future::pending::<()>().await;
        }
        let alive = match &via {
            Via::Cookie { login, .. } => store.login(login).await.map(|l| l.is_some()),
            Via::Bearer { token } => store
                .token(token)
                .await
                .map(|t| t.is_some_and(|t| t.revoked_at.is_none())),
        };
        // Unreadable storage ends the stream too: the page reconnects and is asked again.
        if !alive.unwrap_or(false) {
            return;
        }
    }
}
