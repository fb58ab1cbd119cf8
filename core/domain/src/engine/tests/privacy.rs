//! Consent, export, erasure and the retention purge.

use super::*;
use crate::DeliveryReport;
use crate::privacy::Retention;
use crate::question::QuestionStatus;

const SECRET: &str = "Mein Nachbar Herr Geheimnis-4711 parkt falsch.";

/// Everything an outcome would persist, as text (what a store would write, before sealing).
fn persisted(changes: &[Change]) -> String {
    serde_json::to_string(changes).expect("changes encode")
}

pub(super) fn deliver_all(engine: &Engine, state: &mut OfficeState, now: &str) -> Vec<Change> {
    let reports = state
        .pending_outbox()
        .map(|m| DeliveryReport {
            id: m.id,
            result: Ok(()),
        })
        .collect();
    engine
        .handle(state, Input::Delivered(reports), at(now))
        .changes
}

#[test]
fn the_first_message_is_held_in_memory_until_the_citizen_agrees() {
    let engine = engine_with_consent();
    let mut state = OfficeState::default();

    let first = engine.handle(&mut state, says(1, SECRET), at(FRIDAY));

    let citizen_id = citizen(&state, 1).id;
    assert_eq!(
        first.result,
        Ok(Receipt::ConsentNeeded {
            citizen: citizen_id
        })
    );
    assert!(!persisted(&first.changes).contains("Geheimnis-4711"));
    assert_eq!(state.questions().count(), 0);
    assert_eq!(state.held_message(citizen_id), Some(SECRET));
    // The web page shows the notice with its buttons itself: nothing is sent.
    assert_eq!(outbox(&state, 1).len(), 0);

    let agreed = engine.handle(&mut state, says(1, "/einverstanden"), at(FRIDAY));

    assert!(matches!(agreed.result, Ok(Receipt::Command { .. })));
    let consent = citizen(&state, 1)
        .consent
        .clone()
        .expect("consent recorded");
    assert_eq!((consent.at, consent.notice.as_str()), (at(FRIDAY), "1"));
    let q = state
        .questions()
        .next()
        .expect("the held message became the question");
    assert_eq!(q.first_text(), SECRET);
    assert!(last_sent(&state, 1).text.contains("A-1001"));
    assert_eq!(state.held_message(citizen_id), None);
}

#[test]
fn agreement_words_and_the_notice_fit_the_channel() {
    let engine = engine_with_consent();
    let cases: &[(ChannelKind, Option<bool>, &str, &str)] = &[
        (
            ChannelKind::Telegram,
            Some(false),
            "ja",
            "Telegram-Chats sind nicht Ende-zu-Ende",
        ),
        (
            ChannelKind::Matrix,
            Some(true),
            "Yes.",
            "Matrix-Chat ist Ende-zu-Ende-verschlüsselt",
        ),
        (
            ChannelKind::Matrix,
            Some(false),
            "Einverstanden",
            "nicht Ende-zu-Ende-verschlüsselt: Die Betreiber",
        ),
        (ChannelKind::Web, None, "/agree", "Transportweg"),
    ];
    for (n, (channel, encrypted, word, note)) in (1u64..).zip(cases) {
        let mut state = OfficeState::default();
        let identity = ChannelIdentity {
            channel: *channel,
            ..web(n)
        };
        let first = Input::Citizen(CitizenMessage {
            identity: identity.clone(),
            encrypted: *encrypted,
            ..message(n, "Wann ist Sperrmüll?")
        });
        engine.handle(&mut state, first, at(FRIDAY));
        let c = state
            .citizen_by_pseudonym(*channel, &identity.pseudonym)
            .expect("citizen");
        let notice = match channel {
            // The page shows the notice (the welcome frame carries it).
            ChannelKind::Web => engine.privacy_notice(Lang::De, *channel, *encrypted),
            _ => state.outbox_of(c.id).last().expect("notice").text.clone(),
        };
        assert!(notice.contains(note), "{channel}: {notice}");

        let reply = Input::Citizen(CitizenMessage {
            identity: identity.clone(),
            ..message(n, word)
        });
        engine.handle(&mut state, reply, at(FRIDAY));
        assert_eq!(state.questions().count(), 1, "{channel} {word:?} agrees");
    }
}

#[test]
fn a_configured_notice_replaces_the_built_in_text() {
    let mut policy = Policy::default();
    policy.privacy.notice_de = Some("Musterstadt speichert Ihre Frage 30 Tage.".into());
    policy.privacy.notice_version = "2026-11".into();
    let engine = Engine::new(policy, Texts::builtin().expect("texts"));
    let mut state = OfficeState::default();

    engine.handle(&mut state, says(1, "Frage"), at(FRIDAY));
    engine.handle(&mut state, says(1, "/einverstanden"), at(FRIDAY));

    for channel in [ChannelKind::Web, ChannelKind::Telegram] {
        let notice = engine.privacy_notice(Lang::De, channel, None);
        assert!(
            notice.starts_with("Musterstadt speichert Ihre Frage 30 Tage."),
            "{notice}"
        );
    }
    assert!(
        engine
            .privacy_notice(Lang::De, ChannelKind::Web, None)
            .contains("Transportweg")
    );
    assert_eq!(
        citizen(&state, 1)
            .consent
            .as_ref()
            .map(|c| c.notice.as_str()),
        Some("2026-11")
    );
}

#[test]
fn a_citizen_who_declines_is_forgotten_once_told() {
    let engine = engine_with_consent();
    let mut state = OfficeState::default();
    engine.handle(&mut state, says(1, SECRET), at(FRIDAY));
    deliver_all(&engine, &mut state, FRIDAY);

    let declined = engine.handle(&mut state, says(1, "/ablehnen"), at(FRIDAY));

    assert!(!persisted(&declined.changes).contains("Geheimnis-4711"));
    assert!(
        state
            .citizen_by_pseudonym(ChannelKind::Web, &web(1).pseudonym)
            .is_none()
    );
    let farewell = state.pending_outbox().next().expect("the refusal is sent");
    assert!(
        farewell.text.contains("nicht zugestimmt"),
        "{}",
        farewell.text
    );
    let citizen_id = farewell.citizen;

    let delivered = deliver_all(&engine, &mut state, FRIDAY);

    assert!(
        delivered.contains(&Change::ForgetCitizen(citizen_id)),
        "{delivered:?}"
    );
    assert!(state.citizen(citizen_id).is_none());
    assert_eq!(state.outbox().count(), 0);
    assert_eq!(state.held_message(citizen_id), None);
}

#[test]
fn my_data_lists_questions_and_answers_and_is_not_kept_after_delivery() {
    let engine = engine();
    let mut state = OfficeState::default();
    let asked = ask(&engine, &mut state, 1, SECRET, FRIDAY);
    run(
        &engine,
        &mut state,
        answer(asked.question, "Wir prüfen das."),
        FRIDAY,
    );
    run(&engine, &mut state, internal_note(asked.question), FRIDAY);
    deliver_all(&engine, &mut state, FRIDAY);

    engine.handle(&mut state, says(1, "/meinedaten"), at(FRIDAY));

    let export = last_sent(&state, 1).clone();
    assert!(export.ephemeral);
    for needle in ["A-1001", SECRET, "Antwort: Wir prüfen das.", "web"] {
        assert!(
            export.text.contains(needle),
            "{needle:?} in {}",
            export.text
        );
    }
    assert!(
        !export.text.contains("Interne Notiz"),
        "notes stay internal"
    );
    let data = crate::privacy::export(&state, ChannelKind::Web, &web(1).pseudonym).expect("export");
    assert_eq!(data.questions.len(), 1);
    assert_eq!(data.questions[0].messages[0].text, SECRET);

    let changes = deliver_all(&engine, &mut state, FRIDAY);

    assert!(
        changes.contains(&Change::ForgetOutbox(export.id)),
        "{changes:?}"
    );
    assert!(state.outbox_message(export.id).is_none());
}

fn internal_note(question: QuestionId) -> Input {
    by_staff(StaffAction::Question(QuestionAction::Note {
        question,
        text: "Interne Notiz".into(),
    }))
}

#[test]
fn erasure_asks_for_confirmation_then_forgets_everything() {
    let engine = engine();
    let mut state = OfficeState::default();
    let asked = ask(&engine, &mut state, 1, SECRET, FRIDAY);
    ask(&engine, &mut state, 2, "Andere Frage", FRIDAY);
    deliver_all(&engine, &mut state, FRIDAY);

    engine.handle(&mut state, says(1, "/loeschen"), at(FRIDAY));

    let prompt = last_sent(&state, 1);
    assert!(prompt.text.contains("wirklich"), "{}", prompt.text);
    assert_eq!(prompt.choices[0].command, "/loeschen bestaetigen");
    assert!(
        state.question(asked.question).is_some(),
        "nothing erased yet"
    );

    let erased = engine.handle(&mut state, says(1, "/loeschen bestaetigen"), at(FRIDAY));

    assert!(
        erased
            .changes
            .contains(&Change::ForgetQuestion(asked.question))
    );
    assert!(!persisted(&erased.changes).contains("Geheimnis-4711"));
    assert!(state.question(asked.question).is_none());
    assert!(state.question_by_reference(asked.reference).is_none());
    assert!(
        state
            .citizen_by_pseudonym(ChannelKind::Web, &web(1).pseudonym)
            .is_none()
    );
    let stub = state
        .citizen(asked.citizen)
        .expect("stub until the notice is out");
    assert!(stub.erased && stub.pseudonym.is_empty());
    let farewell: Vec<_> = state.outbox_of(asked.citizen).collect();
    assert_eq!(farewell.len(), 1);
    assert!(farewell[0].text.contains("gelöscht"));

    let delivered = deliver_all(&engine, &mut state, FRIDAY);

    assert!(delivered.contains(&Change::ForgetCitizen(asked.citizen)));
    assert!(state.citizen(asked.citizen).is_none());
    assert_eq!(state.questions().count(), 1, "citizen 2 keeps theirs");

    // Writing again starts afresh.
    let again = ask(&engine, &mut state, 1, "Neu", FRIDAY);
    assert_ne!(again.citizen, asked.citizen);
}

#[test]
fn the_purge_forgets_closed_questions_and_inactive_citizens_after_their_periods() {
    let mut policy = Policy::default();
    policy.privacy.retention = Retention {
        answered_days: 30,
        rejected_days: 20,
        withdrawn_days: 10,
        inactive_citizen_days: 60,
        unconsented_days: 7,
    };
    let engine = engine_with(policy);
    let mut state = OfficeState::default();
    let answered = ask(&engine, &mut state, 1, "beantwortet", FRIDAY);
    run(
        &engine,
        &mut state,
        answer(answered.question, "Ja."),
        FRIDAY,
    );
    let rejected = ask(&engine, &mut state, 2, "abgelehnt", FRIDAY);
    run(
        &engine,
        &mut state,
        reject(rejected.question, "Nein."),
        FRIDAY,
    );
    let withdrawn = ask(&engine, &mut state, 3, "zurückgezogen", FRIDAY);
    run(&engine, &mut state, says(3, "/zurueckziehen"), FRIDAY);
    let open = ask(&engine, &mut state, 4, "offen", FRIDAY);
    deliver_all(&engine, &mut state, FRIDAY);
    assert_eq!(
        question(&state, withdrawn.question).status,
        QuestionStatus::Withdrawn
    );

    let days = |d: i64| at(FRIDAY) + hours(24 * d);
    let alive = |state: &OfficeState| -> Vec<bool> {
        [answered, rejected, withdrawn, open]
            .iter()
            .map(|a| state.question(a.question).is_some())
            .collect()
    };
    let cases: &[(i64, [bool; 4], usize)] = &[
        (9, [true, true, true, true], 4),
        (10, [true, true, false, true], 4),
        (20, [true, false, false, true], 4),
        (30, [false, false, false, true], 4),
        // 60 days after the last contact, the citizens without questions go; 4 keeps its open one.
        (60, [false, false, false, true], 1),
    ];
    for (day, questions, citizens) in cases {
        let outcome = engine.handle(&mut state, Input::Purge, days(*day));
        assert_eq!(outcome.result, Ok(Receipt::Done));
        assert_eq!(alive(&state), questions.to_vec(), "day {day}");
        assert_eq!(state.citizens().count(), *citizens, "day {day}");
    }
    assert_eq!(
        state
            .outbox()
            .filter(|m| m.citizen == answered.citizen)
            .count(),
        0
    );
}

#[test]
fn an_erased_citizen_whose_notice_never_goes_out_is_forgotten_by_the_purge() {
    let engine = engine();
    let mut state = OfficeState::default();
    let asked = ask(&engine, &mut state, 1, SECRET, FRIDAY);
    engine.handle(&mut state, says(1, "/erase confirm"), at(FRIDAY));
    assert!(state.citizen(asked.citizen).is_some());

    engine.handle(&mut state, Input::Purge, at(FRIDAY) + hours(23));
    assert!(state.citizen(asked.citizen).is_some());
    let purged = engine.handle(&mut state, Input::Purge, at(FRIDAY) + hours(24));

    assert!(
        purged
            .changes
            .contains(&Change::ForgetCitizen(asked.citizen))
    );
    assert_eq!(state.outbox().count(), 0);
}

#[test]
fn several_messages_before_agreeing_become_one_question_and_the_notice_goes_once() {
    let engine = engine_with_consent();
    let mut state = OfficeState::default();

    let telegram = |text: &str| {
        Input::Citizen(CitizenMessage {
            identity: ChannelIdentity {
                channel: ChannelKind::Telegram,
                ..web(1)
            },
            ..message(1, text)
        })
    };

    engine.handle(&mut state, telegram("Erster Teil."), at(FRIDAY));
    engine.handle(&mut state, telegram("Zweiter Teil."), at(FRIDAY));
    let notices = state.outbox().count();
    engine.handle(&mut state, telegram("ja"), at(FRIDAY));

    assert_eq!(notices, 1);
    let q = state.questions().next().expect("one question");
    assert_eq!(q.first_text(), "Erster Teil.\n\nZweiter Teil.");
    assert_eq!(state.questions().count(), 1);
}

#[test]
fn agreeing_without_a_held_message_asks_for_the_question() {
    let engine = engine_with_consent();
    let mut state = OfficeState::default();

    engine.handle(&mut state, says(1, "/einverstanden"), at(FRIDAY));
    let thanks = last_sent(&state, 1).clone();
    engine.handle(&mut state, says(1, "/einverstanden"), at(FRIDAY));

    assert!(
        thanks.text.contains("Schreiben Sie uns jetzt Ihre Frage"),
        "{}",
        thanks.text
    );
    assert!(thanks.ephemeral, "the thanks is not kept");
    assert!(last_sent(&state, 1).text.contains("bereits zugestimmt"));
    assert_eq!(state.questions().count(), 0);
    let q = ask(&engine, &mut state, 1, "Jetzt die Frage", FRIDAY);
    assert_eq!(question(&state, q.question).first_text(), "Jetzt die Frage");
}

#[test]
fn bare_words_answer_the_notice_only_while_it_is_pending() {
    let engine = engine();
    let mut state = OfficeState::default();
    let asked = ask(&engine, &mut state, 1, "Darf ich den Baum fällen?", FRIDAY);
    run(
        &engine,
        &mut state,
        answer(asked.question, "Ja, mit Genehmigung."),
        FRIDAY,
    );

    // A reply to the answer, not a consent command: it follows up the question.
    let reply = engine.handle(&mut state, says(1, "Einverstanden"), at(FRIDAY));

    assert!(
        matches!(
            reply.result,
            Ok(Receipt::Question {
                intake: Intake::FollowUp,
                ..
            })
        ),
        "{:?}",
        reply.result
    );
    let declined = engine_with_consent();
    let mut fresh = OfficeState::default();
    declined.handle(&mut fresh, says(2, "Frage"), at(FRIDAY));
    declined.handle(&mut fresh, says(2, "Nein."), at(FRIDAY));
    assert!(
        fresh
            .citizen_by_pseudonym(ChannelKind::Web, &web(2).pseudonym)
            .is_none()
    );
    assert_eq!(fresh.questions().count(), 0);
}
