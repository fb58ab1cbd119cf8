//! Consent counts only while the privacy notice is pending: nobody agrees to a text they
//! were never shown.

use super::*;

/// A Telegram message of citizen `n`: a channel where the engine itself sends the notice.
fn on_telegram(n: u64, text: &str) -> Input {
    Input::Citizen(CitizenMessage {
        identity: ChannelIdentity {
            channel: ChannelKind::Telegram,
            ..web(n)
        },
        ..message(n, text)
    })
}

fn telegram_citizen(state: &OfficeState, n: u64) -> &Citizen {
    state
        .citizen_by_pseudonym(ChannelKind::Telegram, &web(n).pseudonym)
        .unwrap_or_else(|| panic!("citizen {n} exists"))
}

fn last_text(state: &OfficeState, n: u64) -> String {
    let id = telegram_citizen(state, n).id;
    state
        .outbox_of(id)
        .last()
        .map(|m| m.text.clone())
        .unwrap_or_default()
}

#[test]
fn agreement_before_any_notice_brings_the_notice_and_the_next_one_counts() {
    let engine = engine_with_consent();
    for (n, first) in (1u64..).zip(["ok", "ja", "Yes.", "/einverstanden", "/agree", "nein"]) {
        // Arrange
        let mut state = OfficeState::default();

        // Act: the first message ever, without /start.
        let outcome = engine.handle(&mut state, on_telegram(n, first), at(FRIDAY));

        // Assert: no consent, the notice went out, and the word is not kept as a question.
        let c = telegram_citizen(&state, n).clone();
        assert_eq!(c.consent, None, "{first:?}");
        assert!(!c.erased, "{first:?}");
        assert_eq!(c.notice_sent, Some(at(FRIDAY)), "{first:?}");
        assert!(
            last_text(&state, n).starts_with("Datenschutzhinweis"),
            "{first:?}: {}",
            last_text(&state, n)
        );
        assert_eq!(state.held_message(c.id), None, "{first:?}");
        assert_eq!(
            outcome.result,
            Ok(if first.starts_with('/') {
                Receipt::Command {
                    citizen: c.id,
                    command: crate::engine::Command::Agree,
                }
            } else {
                Receipt::ConsentNeeded { citizen: c.id }
            }),
            "{first:?}"
        );

        // Act: now the notice is pending, and "ok" answers it.
        engine.handle(&mut state, on_telegram(n, "ok"), at(FRIDAY));

        // Assert
        let c = telegram_citizen(&state, n);
        assert!(c.consent.is_some(), "{first:?}");
        assert!(
            last_text(&state, n).contains("Schreiben Sie uns jetzt Ihre Frage"),
            "{first:?}: {}",
            last_text(&state, n)
        );
        assert_eq!(state.questions().count(), 0, "{first:?}");
    }
}

#[test]
fn the_notice_is_pending_after_start_subscribe_a_question_and_a_restart() {
    type Setup = fn(&Engine, &mut OfficeState);
    let cases: [(&str, Setup, usize); 4] = [
        (
            "/start",
            |e, s| {
                e.handle(s, on_telegram(1, "/start"), at(FRIDAY));
            },
            0,
        ),
        (
            "/abonnieren",
            |e, s| {
                e.handle(s, on_telegram(1, "/abonnieren"), at(FRIDAY));
            },
            0,
        ),
        (
            "a question",
            |e, s| {
                e.handle(s, on_telegram(1, "Wann ist Sperrmüll?"), at(FRIDAY));
            },
            1,
        ),
        (
            "a question, then a restart (the held text is lost, the notice is not)",
            |e, s| {
                e.handle(s, on_telegram(1, "Wann ist Sperrmüll?"), at(FRIDAY));
                *s = OfficeState::from_snapshot(dump(s));
            },
            0,
        ),
    ];
    for (name, setup, questions) in cases {
        // Arrange
        let engine = engine_with_consent();
        let mut state = OfficeState::default();
        setup(&engine, &mut state);

        // Act
        engine.handle(&mut state, on_telegram(1, "ja"), at(FRIDAY));

        // Assert
        assert!(telegram_citizen(&state, 1).consent.is_some(), "{name}");
        assert_eq!(state.questions().count(), questions, "{name}");
    }
}

#[test]
fn the_web_chat_shows_the_notice_itself_so_a_first_ok_agrees() {
    // The page shows the notice with its buttons on every visit until the citizen agrees.
    let engine = engine_with_consent();
    let mut state = OfficeState::default();

    engine.handle(&mut state, says(1, "ok"), at(FRIDAY));

    assert!(citizen(&state, 1).consent.is_some());
    assert!(
        last_sent(&state, 1)
            .text
            .contains("Schreiben Sie uns jetzt Ihre Frage")
    );
}

#[test]
fn citizens_who_never_agree_are_forgotten_after_the_short_unconsented_period() {
    // Arrange: citizen 1 asks and never answers the notice (the question is held, not
    // stored), citizen 2 agrees and asks nothing; every notice is delivered (nothing pending
    // keeps a citizen). A declining citizen is erased at once (privacy.rs).
    let engine = engine_with_consent();
    let mut state = OfficeState::default();
    engine.handle(
        &mut state,
        on_telegram(1, "Wann kommt der Bus?"),
        at(FRIDAY),
    );
    engine.handle(&mut state, on_telegram(2, "/start"), at(FRIDAY));
    engine.handle(&mut state, on_telegram(2, "ok"), at(FRIDAY));
    super::privacy::deliver_all(&engine, &mut state, FRIDAY);
    let ids: Vec<_> = (1..=2).map(|n| telegram_citizen(&state, n).id).collect();
    let kept = |state: &OfficeState| -> Vec<bool> {
        ids.iter().map(|id| state.citizen(*id).is_some()).collect()
    };

    // Act and assert: (days after the last contact, which citizens are still known)
    let days = |d: i64| at(FRIDAY) + hours(24 * d);
    for (day, want) in [(6, [true, true]), (7, [false, true]), (90, [false, false])] {
        let outcome = engine.handle(&mut state, Input::Purge, days(day));
        assert_eq!(outcome.result, Ok(Receipt::Done));
        assert_eq!(kept(&state), want.to_vec(), "day {day}");
    }
}
