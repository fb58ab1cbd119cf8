//! What a returning citizen sees: the conversation so far and the session box.

use sprechstunde_core::{ChannelKind, Engine, EntryKind, Lang, OfficeState, OutboxId};

use crate::protocol::{From, HistoryItem, SessionInfo};

/// The conversation of the citizen with this pseudonym, and the ids of messages in it that
/// were still waiting for delivery.
pub(crate) fn of(state: &OfficeState, pseudonym: &str) -> (Vec<HistoryItem>, Vec<OutboxId>) {
    let Some(citizen) = state.citizen_by_pseudonym(ChannelKind::Web, pseudonym) else {
        return (Vec::new(), Vec::new());
    };
    let mut items: Vec<(jiff::Timestamp, u8, HistoryItem)> = Vec::new();
    for q in state.questions_of(citizen.id) {
        for (i, entry) in q.entries.iter().enumerate() {
            if entry.kind == EntryKind::Citizen {
                items.push((
                    entry.at,
                    0,
                    HistoryItem {
                        id: format!("c{}-{i}", q.id),
                        from: From::Citizen,
                        text: entry.text.clone(),
                        at: entry.at.to_string(),
                    },
                ));
            }
        }
    }
    let mut pending = Vec::new();
    for m in state.outbox_of(citizen.id) {
        if m.is_pending() {
            pending.push(m.id);
        }
        items.push((
            m.created_at,
            1,
            HistoryItem {
                id: format!("o{}", m.id),
                from: From::Office,
                text: m.text.clone(),
                at: m.created_at.to_string(),
            },
        ));
    }
    // Stable: the citizen's message before the office's reply of the same instant.
    items.sort_by_key(|item| (item.0, item.1));
    (items.into_iter().map(|(_, _, i)| i).collect(), pending)
}

/// The running session, or else the next one.
pub(crate) fn session_info(
    state: &OfficeState,
    engine: &Engine,
    lang: Lang,
    now: jiff::Timestamp,
) -> Option<SessionInfo> {
    let cal = &engine.policy().calendar;
    let (session, live) = match state.live_session_on(ChannelKind::Web) {
        Some(s) => (s, true),
        None => (state.next_session_on(now, ChannelKind::Web)?, false),
    };
    Some(SessionInfo {
        title: session.title.clone(),
        host: session.host.clone(),
        description: session.description.clone(),
        starts_at: session.starts_at.to_string(),
        ends_at: session.ends_at.to_string(),
        starts_local: cal.format_datetime(session.starts_at, lang),
        // "… 17:00 Uhr – 18:00 Uhr" when the session ends on the day it starts.
        ends_local: if cal.local(session.starts_at).date() == cal.local(session.ends_at).date() {
            cal.format_time(session.ends_at, lang)
        } else {
            cal.format_datetime(session.ends_at, lang)
        },
        live,
    })
}
