//! The dispatcher's index of deliverable messages ([`OfficeState::deliverable`]): the first
//! pending message of each citizen, once due, oldest due first; nothing of a citizen whose
//! first message waits for them to come back.

use std::time::Duration;

use super::*;
use crate::channel::DeliveryError;
use crate::engine::DeliveryReport;
use crate::outbox::DeliveryState;

fn report(id: OutboxId, result: Result<(), DeliveryError>) -> Input {
    Input::Delivered(vec![DeliveryReport { id, result }])
}

fn transient() -> Result<(), DeliveryError> {
    Err(DeliveryError::Transient("timeout".to_owned()))
}

fn deliverable(state: &OfficeState, channel: ChannelKind, now: Timestamp) -> Vec<OutboxId> {
    state.deliverable(channel, now).map(|m| m.id).collect()
}

/// The ids of citizen `n`'s outbox messages, oldest first.
fn ids_of(state: &OfficeState, n: u64) -> Vec<OutboxId> {
    outbox(state, n).iter().map(|m| m.id).collect()
}

fn telegram_says(n: u64, text: &str) -> Input {
    Input::Citizen(CitizenMessage {
        identity: ChannelIdentity {
            channel: ChannelKind::Telegram,
            pseudonym: format!("tg-pseudonym-{n}"),
            address: format!("{n}"),
        },
        ..message(n, text)
    })
}

#[test]
fn only_the_first_pending_message_of_each_citizen_is_deliverable() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    ask(&engine, &mut state, 1, "Wann kommt der Radweg?", FRIDAY);
    ask(&engine, &mut state, 1, "Und wer baut ihn?", FRIDAY);
    ask(&engine, &mut state, 2, "Wann öffnet das Freibad?", FRIDAY);
    let first = ids_of(&state, 1);
    let second = ids_of(&state, 2);

    // Act
    let due = deliverable(&state, ChannelKind::Web, at(FRIDAY));

    // Assert
    assert_eq!(first.len(), 2, "two acknowledgements to citizen 1");
    assert_eq!(due, vec![first[0], second[0]]);
    assert_eq!(state.pending_outbox().count(), 3);
}

#[test]
fn a_message_waiting_for_its_web_citizen_holds_back_that_citizens_later_messages_only() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    ask(&engine, &mut state, 1, "Wann kommt der Radweg?", FRIDAY);
    ask(&engine, &mut state, 2, "Wann öffnet das Freibad?", FRIDAY);
    let waiting = ids_of(&state, 1)[0];
    run(
        &engine,
        &mut state,
        report(waiting, Err(DeliveryError::Deferred)),
        FRIDAY,
    );
    ask(&engine, &mut state, 1, "Und wer baut ihn?", FRIDAY);
    let later = ids_of(&state, 1)[1];
    let other = ids_of(&state, 2)[0];

    // Act
    let while_away = deliverable(&state, ChannelKind::Web, at(FRIDAY));
    // The citizen comes back: the web chat hands over the conversation and reports it.
    run(&engine, &mut state, report(waiting, Ok(())), FRIDAY);
    let after_return = deliverable(&state, ChannelKind::Web, at(FRIDAY));

    // Assert
    assert_eq!(while_away, vec![other]);
    assert_eq!(after_return, vec![other, later]);
}

#[test]
fn a_failed_attempt_is_deliverable_again_when_its_retry_is_due() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    ask(&engine, &mut state, 1, "Wann kommt der Radweg?", FRIDAY);
    let message = ids_of(&state, 1)[0];
    run(&engine, &mut state, report(message, transient()), FRIDAY);
    let retry_at = at(FRIDAY) + SignedDuration::from_secs(2);

    // Act
    let before = deliverable(&state, ChannelKind::Web, at(FRIDAY));
    let next = state.next_delivery_after(at(FRIDAY));
    let then = deliverable(&state, ChannelKind::Web, retry_at);

    // Assert
    assert_eq!(before, Vec::<OutboxId>::new());
    assert_eq!(next, Some(retry_at));
    assert_eq!(then, vec![message]);
    assert_eq!(state.next_delivery_after(retry_at), None);
}

#[test]
fn deliverable_messages_come_per_channel_and_oldest_due_first() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    ask(&engine, &mut state, 1, "Wann kommt der Radweg?", FRIDAY);
    ask(&engine, &mut state, 2, "Wann öffnet das Freibad?", FRIDAY);
    ask_input(
        &engine,
        &mut state,
        telegram_says(3, "Wo ist das Bürgerbüro?"),
        at(FRIDAY),
    );
    let first = ids_of(&state, 1)[0];
    let second = ids_of(&state, 2)[0];
    let by_telegram: Vec<OutboxId> = state
        .pending_outbox()
        .filter(|m| m.channel == ChannelKind::Telegram)
        .map(|m| m.id)
        .collect();
    // Rate-limited: the first web message waits a second, so the second is older due.
    run(
        &engine,
        &mut state,
        report(
            first,
            Err(DeliveryError::RetryAfter(Duration::from_secs(1))),
        ),
        FRIDAY,
    );
    let later = at(FRIDAY) + SignedDuration::from_secs(5);

    // Act
    let web = deliverable(&state, ChannelKind::Web, later);
    let telegram = deliverable(&state, ChannelKind::Telegram, later);
    let matrix = deliverable(&state, ChannelKind::Matrix, later);

    // Assert
    assert_eq!(web, vec![second, first]);
    assert_eq!(telegram, by_telegram);
    assert_eq!(telegram.len(), 1);
    assert_eq!(matrix, Vec::<OutboxId>::new());
}

#[test]
fn the_index_is_rebuilt_from_a_snapshot() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    ask(&engine, &mut state, 1, "Wann kommt der Radweg?", FRIDAY);
    ask(&engine, &mut state, 2, "Wann öffnet das Freibad?", FRIDAY);
    ask(&engine, &mut state, 2, "Auch sonntags?", FRIDAY);
    let away = ids_of(&state, 1)[0];
    run(
        &engine,
        &mut state,
        report(away, Err(DeliveryError::Deferred)),
        FRIDAY,
    );
    let expected = deliverable(&state, ChannelKind::Web, at(FRIDAY));

    // Act
    let reloaded = OfficeState::from_snapshot(dump(&state));

    // Assert
    assert_eq!(expected, vec![ids_of(&state, 2)[0]]);
    assert_eq!(
        deliverable(&reloaded, ChannelKind::Web, at(FRIDAY)),
        expected
    );
}

/// What the index must say, computed the slow way: a walk over every pending message.
fn walked(state: &OfficeState, channel: ChannelKind, now: Timestamp) -> Vec<OutboxId> {
    let mut seen = std::collections::HashSet::new();
    let mut heads: Vec<(Timestamp, OutboxId)> = state
        .pending_outbox()
        .filter(|m| seen.insert(m.citizen))
        .filter(|m| m.channel == channel)
        .filter_map(|m| match m.state {
            DeliveryState::Pending {
                next_attempt_at: Some(t),
                ..
            } if t <= now => Some((t, m.id)),
            _ => None,
        })
        .collect();
    heads.sort();
    heads.into_iter().map(|(_, id)| id).collect()
}

fn walked_next(state: &OfficeState, now: Timestamp) -> Option<Timestamp> {
    let mut seen = std::collections::HashSet::new();
    state
        .pending_outbox()
        .filter(|m| seen.insert(m.citizen))
        .filter_map(|m| match m.state {
            DeliveryState::Pending {
                next_attempt_at: Some(t),
                ..
            } if t > now => Some(t),
            _ => None,
        })
        .min()
}

#[test]
fn the_index_agrees_with_a_walk_over_every_pending_message_through_a_long_mixed_run() {
    // Arrange: a fixed pseudo-random run of questions, follow-ups, withdrawals, erasures
    // and every kind of delivery report, on two channels.
    let engine = engine();
    let mut state = OfficeState::default();
    let mut now = at(FRIDAY);
    let mut seed: u64 = 0x5eed_1234_abcd_9876;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };

    for step in 0..2_000 {
        // Act
        let citizen = next(12) + 1;
        let input = match next(10) {
            0..=2 if citizen % 3 == 0 => telegram_says(citizen, "Frage per Telegram"),
            0..=2 => says(citizen, "Eine Frage zur Straßenreinigung"),
            3 if step % 97 == 0 => says(citizen, "/loeschen"),
            3 => says(citizen, "/zurueckziehen"),
            _ => {
                let pending: Vec<OutboxId> = state.pending_outbox().map(|m| m.id).collect();
                if pending.is_empty() {
                    continue;
                }
                let id = pending[usize::try_from(next(pending.len() as u64)).unwrap_or(0)];
                let result = match next(6) {
                    0 | 1 => Ok(()),
                    2 => Err(DeliveryError::Deferred),
                    3 => Err(DeliveryError::RetryAfter(Duration::from_secs(next(5)))),
                    4 => transient(),
                    _ => Err(DeliveryError::Permanent("blocked".to_owned())),
                };
                report(id, result)
            }
        };
        engine.handle(&mut state, input, now);
        now += SignedDuration::from_millis(i64::try_from(next(1500)).unwrap_or(0));

        // Assert
        for channel in ChannelKind::ALL {
            assert_eq!(
                deliverable(&state, channel, now),
                walked(&state, channel, now),
                "step {step}, {channel}"
            );
        }
        assert_eq!(
            state.next_delivery_after(now),
            walked_next(&state, now),
            "step {step}"
        );
    }
    assert!(
        state.pending_outbox().count() > 0,
        "the run keeps messages waiting"
    );
}
