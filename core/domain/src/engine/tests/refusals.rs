//! What is not taken in as a question: duplicates, empty and too long messages.

use super::*;
use crate::engine::Refusal;
use crate::question::Queue;

#[test]
fn a_redelivered_message_with_the_same_intake_key_is_taken_in_once() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let keyed = |text: &str, key: &str| {
        Input::Citizen(CitizenMessage {
            intake_key: Some(key.to_owned()),
            ..message(1, text)
        })
    };
    let first = ask_input(
        &engine,
        &mut state,
        keyed("Wann wird die Brücke saniert?", "m-1"),
        at(FRIDAY),
    );
    let before = dump(&state);

    // Act
    let outcome = engine.handle(
        &mut state,
        keyed("Wann wird die Brücke saniert?", "m-1"),
        at(FRIDAY) + hours(1),
    );

    // Assert
    assert_eq!(
        outcome.result,
        Ok(Receipt::Question {
            citizen: first.citizen,
            question: first.question,
            reference: Reference(1001),
            intake: Intake::Duplicate,
        })
    );
    assert_eq!(outcome.changes, []);
    assert_eq!(dump(&state), before);
    assert_eq!(citizen(&state, 1).recent_intake, ["m-1"]);

    // A new key is a new message again.
    let next = ask_input(
        &engine,
        &mut state,
        keyed("Es geht um die Lahnbrücke.", "m-2"),
        at(FRIDAY) + hours(1),
    );
    assert_eq!(next.intake, Intake::Extended);
    assert_eq!(citizen(&state, 1).recent_intake, ["m-1", "m-2"]);
}

#[test]
fn an_empty_message_is_refused_without_any_change() {
    for (name, text) in [("empty", ""), ("only whitespace", "  \n\t  ")] {
        // Arrange
        let engine = engine();
        let mut state = OfficeState::default();

        // Act
        let outcome = engine.handle(&mut state, says(1, text), at(FRIDAY));

        // Assert
        assert_eq!(outcome.result, Err(Refusal::Empty), "{name}");
        assert_eq!(outcome.changes, [], "{name}");
        assert_eq!(
            state.citizen_by_pseudonym(ChannelKind::Web, &web(1).pseudonym),
            None,
            "{name}"
        );
        assert_eq!(dump(&state), dump(&OfficeState::default()), "{name}");
    }
}

#[test]
fn a_message_of_exactly_the_maximum_length_is_accepted() {
    // Arrange: characters, not bytes, count.
    let engine = engine();
    let mut state = OfficeState::default();
    let text = "ä".repeat(2000);

    // Act
    let asked = ask_input(&engine, &mut state, says(1, &text), at(FRIDAY));

    // Assert
    assert_eq!(asked.intake, Intake::New(Queue::CitizensOffice));
    assert_eq!(question(&state, asked.question).first_text(), text);
}

#[test]
fn a_too_long_message_is_refused_politely_or_inline() {
    struct Case {
        name: &'static str,
        inline_errors: bool,
        changes: Vec<Key>,
        reply: Option<&'static str>,
    }
    let cases = [
        Case {
            name: "told in the chat",
            inline_errors: false,
            changes: vec![Key::Citizen(1), Key::Outbox(1), Key::Counters],
            reply: Some(
                "Ihre Nachricht ist zu lang. Bitte fassen Sie sich kürzer (höchstens 2000 \
                 Zeichen) oder teilen Sie sie auf mehrere Nachrichten auf.",
            ),
        },
        Case {
            // The adapter shows the refusal; nothing is stored (see the web chat protocol:
            // "Nothing was stored"), not even the citizen or the intake key.
            name: "shown inline by the adapter",
            inline_errors: true,
            changes: vec![],
            reply: None,
        },
    ];
    for case in cases {
        // Arrange
        let engine = engine();
        let mut state = OfficeState::default();
        let input = Input::Citizen(CitizenMessage {
            inline_errors: case.inline_errors,
            intake_key: Some("m-1".to_owned()),
            ..message(1, &"x".repeat(2001))
        });

        // Act
        let outcome = engine.handle(&mut state, input, at(FRIDAY));

        // Assert
        assert_eq!(
            outcome.result,
            Err(Refusal::TooLong { max: 2000 }),
            "{}",
            case.name
        );
        assert_eq!(keys(&outcome.changes), case.changes, "{}", case.name);
        assert_eq!(state.questions().count(), 0, "{}", case.name);
        let replies: Vec<&str> = state
            .citizen_by_pseudonym(ChannelKind::Web, &web(1).pseudonym)
            .map(|c| state.outbox_of(c.id).map(|m| m.text.as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            replies,
            case.reply.into_iter().collect::<Vec<_>>(),
            "{}",
            case.name
        );
        if let Some(m) = state.outbox_message(OutboxId(1)) {
            assert_eq!(m.question, None, "{}", case.name);
        }
    }
}

#[test]
fn a_too_long_message_is_answered_once_even_if_delivered_twice() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let input = Input::Citizen(CitizenMessage {
        intake_key: Some("update-17".to_owned()),
        ..message(1, &"x".repeat(2001))
    });
    let first = engine.handle(&mut state, input.clone(), at(FRIDAY));

    // Act
    let second = engine.handle(&mut state, input, at(FRIDAY));

    // Assert
    assert_eq!(first.result, Err(Refusal::TooLong { max: 2000 }));
    assert_eq!(second.changes, []);
    assert_eq!(outbox(&state, 1).len(), 1);
}

#[test]
fn a_resent_too_long_message_shown_inline_is_refused_again_not_reported_as_accepted() {
    // Arrange: the web chat resends unaccepted messages with their original client id.
    let engine = engine();
    let mut state = OfficeState::default();
    ask(
        &engine,
        &mut state,
        1,
        "Wann wird die Brücke saniert?",
        FRIDAY,
    );
    let too_long = Input::Citizen(CitizenMessage {
        intake_key: Some("m-2".to_owned()),
        inline_errors: true,
        ..message(1, &"x".repeat(2001))
    });
    let first = engine.handle(&mut state, too_long.clone(), at(FRIDAY));

    // Act
    let resent = engine.handle(&mut state, too_long, at(FRIDAY));

    // Assert
    assert_eq!(first.result, Err(Refusal::TooLong { max: 2000 }));
    assert_eq!(resent.result, Err(Refusal::TooLong { max: 2000 }));
    assert_eq!((first.changes, resent.changes), (vec![], vec![]));
    assert!(citizen(&state, 1).recent_intake.is_empty());
}
