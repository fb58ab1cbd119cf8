//! Conversation rules that hold on every channel: what is asked for before consent is done
//! once the citizen agrees, a plain "ja" answers a pending notice, the notice is sent once,
//! and `/meinedaten` is in the citizen's language and complete.

use super::*;

const CHANNELS: [ChannelKind; 3] = [ChannelKind::Web, ChannelKind::Telegram, ChannelKind::Matrix];

/// Citizen `n` on `channel` writes `text`.
fn on(channel: ChannelKind, n: u64, lang: Option<Lang>, text: &str) -> Input {
    Input::Citizen(CitizenMessage {
        identity: ChannelIdentity { channel, ..web(n) },
        lang,
        ..message(n, text)
    })
}

fn citizen_on(state: &OfficeState, channel: ChannelKind, n: u64) -> Citizen {
    state
        .citizen_by_pseudonym(channel, &web(n).pseudonym)
        .cloned()
        .unwrap_or_else(|| panic!("citizen {n} exists on {channel:?}"))
}

fn texts_to(state: &OfficeState, channel: ChannelKind, n: u64) -> Vec<String> {
    let id = citizen_on(state, channel, n).id;
    state.outbox_of(id).map(|m| m.text.clone()).collect()
}

#[test]
fn a_subscription_asked_for_before_consent_is_carried_out_once_the_citizen_agrees() {
    for channel in CHANNELS {
        for (agreement, subscribed) in [("/einverstanden", true), ("ja", true), ("nein", false)] {
            // Arrange: the notice is in front of the citizen (sent after /start, or shown by
            // the web page), and the citizen asks for announcements before answering it.
            let engine = engine_with_consent();
            let mut state = OfficeState::default();
            let case = format!("{channel:?}, {agreement:?}");
            engine.handle(&mut state, on(channel, 1, None, "/start"), at(FRIDAY));
            let asked = engine.handle(&mut state, on(channel, 1, None, "/abonnieren"), at(FRIDAY));
            let c = citizen_on(&state, channel, 1);
            assert!(!c.subscribed, "{case}: nothing before consent");
            assert_eq!(
                asked.result,
                Ok(Receipt::ConsentNeeded { citizen: c.id }),
                "{case}"
            );

            // Act
            engine.handle(&mut state, on(channel, 1, None, agreement), at(FRIDAY));

            // Assert
            let c = state
                .citizen_by_pseudonym(channel, &web(1).pseudonym)
                .cloned();
            assert_eq!(
                c.as_ref().is_some_and(|c| c.subscribed),
                subscribed,
                "{case}"
            );
            if subscribed {
                let texts = texts_to(&state, channel, 1);
                assert!(
                    texts
                        .last()
                        .is_some_and(|t| t.starts_with("Sie erhalten jetzt Ankündigungen")),
                    "{case}: {texts:?}"
                );
            }
        }
    }
}

#[test]
fn a_plain_yes_agrees_on_every_channel_while_the_notice_is_pending() {
    type Setup = (&'static str, &'static [&'static str], usize);
    let setups: [Setup; 3] = [
        ("after /start", &["/start"], 0),
        ("after a question", &["Wann ist Sperrmüll?"], 1),
        (
            "after /start and a question",
            &["/start", "Wann ist Sperrmüll?"],
            1,
        ),
    ];
    for channel in CHANNELS {
        for (setup, before, questions) in setups {
            for word in ["ja", "Ja.", "einverstanden", "Einverstanden!", "ok", "OK"] {
                // Arrange
                let engine = engine_with_consent();
                let mut state = OfficeState::default();
                let case = format!("{channel:?}, {setup}, {word:?}");
                for text in before {
                    engine.handle(&mut state, on(channel, 1, None, text), at(FRIDAY));
                }

                // Act
                engine.handle(&mut state, on(channel, 1, None, word), at(FRIDAY));

                // Assert
                assert!(citizen_on(&state, channel, 1).consent.is_some(), "{case}");
                assert_eq!(state.questions().count(), questions, "{case}");
            }
        }
    }
}

#[test]
fn the_notice_is_sent_once_however_often_the_citizen_writes_before_answering_it() {
    for channel in [ChannelKind::Telegram, ChannelKind::Matrix] {
        // Arrange
        let engine = engine_with_consent();
        let mut state = OfficeState::default();

        // Act: /start (greeting and notice), a question, a second /start, a subscription.
        for text in [
            "/start",
            "Wann ist Sperrmüll?",
            "/start",
            "/abonnieren",
            "Noch was",
        ] {
            engine.handle(&mut state, on(channel, 1, None, text), at(FRIDAY));
        }

        // Assert: one notice; the question got a short reminder with the buttons.
        let texts = texts_to(&state, channel, 1);
        let notices = texts
            .iter()
            .filter(|t| t.starts_with("Datenschutzhinweis"))
            .count();
        assert_eq!(notices, 1, "{channel:?}: {texts:#?}");
        let id = citizen_on(&state, channel, 1).id;
        let reminder = state
            .outbox_of(id)
            .find(|m| {
                m.text
                    .starts_with("Ihre Nachricht ist noch nicht gespeichert")
            })
            .unwrap_or_else(|| panic!("{channel:?}: a reminder in {texts:#?}"));
        let buttons: Vec<&str> = reminder
            .choices
            .iter()
            .map(|c| c.command.as_str())
            .collect();
        assert_eq!(buttons, ["/einverstanden", "/ablehnen"], "{channel:?}");
    }
}

#[test]
fn the_web_chat_gets_no_notice_message_because_the_page_shows_the_notice() {
    // Arrange
    let engine = engine_with_consent();
    let mut state = OfficeState::default();

    // Act
    engine.handle(&mut state, says(1, "Wann ist Sperrmüll?"), at(FRIDAY));
    engine.handle(&mut state, says(1, "/abonnieren"), at(FRIDAY));

    // Assert
    assert_eq!(outbox(&state, 1).len(), 0);
    assert!(state.held_message(citizen(&state, 1).id).is_some());
}

#[test]
fn the_web_notice_has_no_heading_no_command_to_type_and_no_messenger_id() {
    let engine = engine_with_consent();
    for lang in [Lang::De, Lang::En] {
        let web = engine.privacy_notice(lang, ChannelKind::Web, None);
        for unwanted in [
            "Datenschutzhinweis",
            "Privacy notice",
            "/einverstanden",
            "/agree",
            "/meinedaten",
            "/mydata",
            "Messenger",
            "messenger",
        ] {
            assert!(!web.contains(unwanted), "{lang}: {unwanted:?} in {web}");
        }
        let telegram = engine.privacy_notice(lang, ChannelKind::Telegram, None);
        let (heading, command) = match lang {
            Lang::De => ("Datenschutzhinweis: ", "/einverstanden"),
            Lang::En => ("Privacy notice: ", "/agree"),
        };
        assert!(telegram.starts_with(heading), "{telegram}");
        assert!(telegram.contains(command), "{telegram}");
    }
}

#[test]
fn my_data_is_in_the_citizens_language_and_shows_the_subscription_and_the_reply_address() {
    let cases = [
        (
            Lang::De,
            "/meinedaten",
            &[
                "Kanal: Telegram",
                "(offen)",
                "Antwortadresse: web-address-1",
                "Sprache: Deutsch",
                "Ankündigungen der Sprechstunden: abonniert",
            ][..],
            &["(open)", "telegram,"][..],
        ),
        (
            Lang::En,
            "/mydata",
            &[
                "channel: Telegram",
                "(open)",
                "Reply address: web-address-1",
                "Language: English",
                "Announcements of office hours: subscribed",
            ][..],
            &["(offen)"][..],
        ),
    ];
    for (lang, command, wanted, unwanted) in cases {
        // Arrange: a Telegram citizen who subscribed and asked.
        let engine = engine();
        let mut state = OfficeState::default();
        let t = ChannelKind::Telegram;
        for text in ["/abonnieren", "Wann ist Sperrmüll?"] {
            engine.handle(&mut state, on(t, 1, Some(lang), text), at(FRIDAY));
        }

        // Act
        engine.handle(&mut state, on(t, 1, Some(lang), command), at(FRIDAY));

        // Assert
        let texts = texts_to(&state, t, 1);
        let data = texts.last().expect("the data");
        for w in wanted {
            assert!(data.contains(w), "{lang}: {w:?} missing in {data}");
        }
        for u in unwanted {
            assert!(!data.contains(u), "{lang}: {u:?} in {data}");
        }
    }
}
