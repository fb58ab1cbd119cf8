//! The per-citizen flood limit: the excess is refused, stored nowhere, and the citizen is
//! told once per flood.

use super::*;
use crate::engine::{FloodPolicy, Refusal};

/// Three messages per minute.
fn limited() -> Engine {
    engine_with(Policy {
        flood: FloodPolicy {
            max_messages: 3,
            window: SignedDuration::from_secs(60),
        },
        ..Policy::default()
    })
}

fn seconds(s: i64) -> SignedDuration {
    SignedDuration::from_secs(s)
}

#[test]
fn messages_beyond_the_limit_are_refused_and_nothing_of_them_is_stored() {
    struct Case {
        name: &'static str,
        inline_errors: bool,
        /// Outbox messages the citizen gets for the whole flood (beyond the acknowledgements).
        notices: usize,
    }
    for case in [
        Case {
            name: "chat channel: one notice in the chat",
            inline_errors: false,
            notices: 1,
        },
        Case {
            name: "web chat: the page shows the refusal, no chat notice",
            inline_errors: true,
            notices: 0,
        },
    ] {
        // Arrange
        let engine = limited();
        let mut state = OfficeState::default();
        let input = |text: &str| {
            Input::Citizen(CitizenMessage {
                inline_errors: case.inline_errors,
                ..message(1, text)
            })
        };
        for i in 0..3 {
            ask_input(
                &engine,
                &mut state,
                input(&format!("Teil {i} meiner Frage")),
                at(FRIDAY) + seconds(i),
            );
        }
        let sent_before = outbox(&state, 1).len();
        let before = dump(&state);

        // Act: five more within the same minute.
        let mut refusals = Vec::new();
        let mut changed = Vec::new();
        for i in 0..5 {
            let outcome = engine.handle(
                &mut state,
                input(&format!("Überzählige Nachricht {i}")),
                at(FRIDAY) + seconds(10 + i),
            );
            refusals.push(outcome.result);
            changed.extend(outcome.changes);
        }

        // Assert
        for refusal in &refusals {
            assert!(
                matches!(refusal, Err(Refusal::Flooded { retry_after_secs }) if (46..=50).contains(retry_after_secs)),
                "{}: {refusal:?}",
                case.name
            );
        }
        let texts: Vec<&str> = state
            .questions()
            .flat_map(|q| q.entries.iter().map(|e| e.text.as_str()))
            .collect();
        assert!(
            !texts.iter().any(|t| t.contains("Überzählige")),
            "{}: the excess is not stored: {texts:?}",
            case.name
        );
        let notices: Vec<&OutboxMessage> = outbox(&state, 1)[sent_before..].to_vec();
        assert_eq!(notices.len(), case.notices, "{}", case.name);
        if case.notices == 0 {
            assert_eq!(dump(&state), before, "{}: nothing changed", case.name);
            assert!(changed.is_empty(), "{}: {changed:?}", case.name);
        } else {
            assert!(
                notices[0]
                    .text
                    .starts_with("Sie haben in kurzer Zeit sehr viele Nachrichten"),
                "{}: {}",
                case.name,
                notices[0].text
            );
            assert!(
                changed
                    .iter()
                    .all(|c| matches!(c, Change::Outbox(_) | Change::Counters(_))),
                "{}: only the notice is stored: {changed:?}",
                case.name
            );
        }
    }
}

#[test]
fn the_limit_is_a_sliding_window_per_citizen_and_a_new_flood_is_told_again() {
    // Arrange
    let engine = limited();
    let mut state = OfficeState::default();
    for i in 0..3 {
        ask(&engine, &mut state, 1, &format!("Frage Teil {i}"), FRIDAY);
    }
    let t0 = at(FRIDAY);

    // Act / Assert: another citizen is not affected by citizen 1's flood.
    assert!(matches!(
        engine.handle(&mut state, says(1, "zu viel"), t0).result,
        Err(Refusal::Flooded { .. })
    ));
    let other = ask_input(&engine, &mut state, says(2, "Eine andere Person"), t0);
    assert_eq!(other.reference, Reference(1002));

    // A minute after the first three, citizen 1 is admitted again.
    let again = ask_input(
        &engine,
        &mut state,
        says(1, "Nach einer Minute"),
        t0 + seconds(60),
    );
    assert_eq!(again.intake, Intake::Extended);

    // A second flood gets a second notice.
    let notices = |state: &OfficeState| {
        outbox(state, 1)
            .iter()
            .filter(|m| m.text.starts_with("Sie haben in kurzer Zeit"))
            .count()
    };
    assert_eq!(notices(&state), 1);
    for i in 0..3 {
        let _ = engine.handle(
            &mut state,
            says(1, &format!("zweite Flut {i}")),
            t0 + seconds(61 + i),
        );
    }
    assert_eq!(notices(&state), 2);
}

#[test]
fn without_a_limit_every_message_is_taken_in() {
    let engine = engine();
    let mut state = OfficeState::default();
    for i in 0..100 {
        let asked = ask(&engine, &mut state, 1, &format!("Nachricht {i}"), FRIDAY);
        assert_ne!(asked.intake, Intake::Duplicate);
    }
}

#[test]
fn a_stranger_flooding_from_the_first_message_creates_no_citizen() {
    // Arrange: a limit of zero admitted messages is "off", so use one and an empty first
    // message that is refused without creating the citizen.
    let engine = engine_with(Policy {
        flood: FloodPolicy {
            max_messages: 1,
            window: seconds(60),
        },
        ..Policy::default()
    });
    let mut state = OfficeState::default();
    let first = engine.handle(&mut state, says(9, "   "), at(FRIDAY));
    assert_eq!(first.result, Err(Refusal::Empty));

    // Act
    let second = engine.handle(&mut state, says(9, "Hallo?"), at(FRIDAY));

    // Assert
    assert!(matches!(second.result, Err(Refusal::Flooded { .. })));
    assert!(second.changes.is_empty());
    assert_eq!(state.counters().next_citizen, 1);
}
