//! Office hours as events: subscriptions, announcements, reminders, series, live moderation,
//! merged questions with fanned-out answers, and summaries.

use super::*;
use crate::engine::{Command, Refusal};
use crate::question::{EntryKind, QuestionStatus, Queue};
use crate::series::{Repeat, SeriesRule};
use crate::session::SessionStatus;
use crate::summary::{ItemSource, SummaryItem};

fn with_reminders() -> Engine {
    engine_with(Policy {
        reminders: vec![hours(24), SignedDuration::from_mins(15)],
        ..Policy::default()
    })
}

/// Texts sent to citizen `n` after the first `skip` messages.
fn texts_since(state: &OfficeState, n: u64, skip: usize) -> Vec<String> {
    outbox(state, n)
        .iter()
        .skip(skip)
        .map(|m| m.text.clone())
        .collect()
}

#[test]
fn subscribers_and_only_they_hear_of_new_rescheduled_and_cancelled_sessions() {
    // Arrange: 1 subscribes, 2 subscribes and unsubscribes again, 3 only asks.
    let engine = engine();
    let mut state = OfficeState::default();
    run(&engine, &mut state, says(1, "/abonnieren"), FRIDAY);
    run(&engine, &mut state, says(2, "!subscribe"), FRIDAY);
    run(&engine, &mut state, says(2, "/abbestellen"), FRIDAY);
    ask(&engine, &mut state, 3, "Wann kommt der Bus?", FRIDAY);
    assert!(citizen(&state, 1).subscribed);
    assert!(!citizen(&state, 2).subscribed);
    let before: Vec<usize> = (1..=3).map(|n| outbox(&state, n).len()).collect();

    // Act
    let id = add_session(&engine, &mut state, draft(), FRIDAY);
    let mut moved = draft();
    moved.title = "Sprechstunde".into();
    run(
        &engine,
        &mut state,
        by_staff(StaffAction::Session(SessionAction::Update {
            id,
            draft: moved.clone(),
        })),
        FRIDAY,
    );
    moved.starts_at = at("2026-12-01T17:00:00Z");
    moved.ends_at = at("2026-12-01T18:00:00Z");
    run(
        &engine,
        &mut state,
        by_staff(StaffAction::Session(SessionAction::Update {
            id,
            draft: moved,
        })),
        FRIDAY,
    );
    run(
        &engine,
        &mut state,
        by_staff(StaffAction::Session(SessionAction::Cancel(id))),
        FRIDAY,
    );

    // Assert: a title change alone is not announced.
    assert_eq!(
        texts_since(&state, 1, before[0]),
        [
            "Neue Sprechstunde: „Bürgersprechstunde“ mit Oberbürgermeisterin am Dienstag, \
             1. Dezember 2026, 17:00 Uhr (bis 18:00 Uhr). Sie können Ihre Frage dann einfach \
             hier schreiben.",
            "Die Sprechstunde „Sprechstunde“ wurde verlegt. Neuer Termin: Dienstag, \
             1. Dezember 2026, 18:00 Uhr (bis 19:00 Uhr).",
            "Die Sprechstunde „Sprechstunde“ am Dienstag, 1. Dezember 2026, 18:00 Uhr wurde \
             abgesagt.",
        ]
    );
    let last = last_sent(&state, 1);
    assert_eq!(last.question, None);
    assert_eq!(last.choices[0].command, "/abbestellen");
    assert_eq!(outbox(&state, 2).len(), before[1]);
    assert_eq!(outbox(&state, 3).len(), before[2]);
}

#[test]
fn subscription_commands_are_receipted_and_stored_on_the_citizen() {
    let engine = engine();
    let mut state = OfficeState::default();
    let outcome = engine.handle(&mut state, says_in(1, Lang::En, "/subscribe"), at(FRIDAY));
    assert_eq!(
        outcome.result,
        Ok(Receipt::Command {
            citizen: CitizenId(1),
            command: Command::Subscribe,
        })
    );
    assert!(keys(&outcome.changes).contains(&Key::Citizen(1)));
    assert!(
        last_sent(&state, 1)
            .text
            .starts_with("You will now receive")
    );
}

#[test]
fn reminders_go_out_once_per_offset_before_the_start() {
    struct Case {
        name: &'static str,
        now: &'static str,
        /// Reminders the subscriber has received so far.
        reminders: usize,
    }
    // Session: Tuesday 1 December 2026, 16:00Z; created on Friday.
    let cases = [
        Case {
            name: "a day and a minute before",
            now: "2026-11-30T15:59:00Z",
            reminders: 0,
        },
        Case {
            name: "a day before",
            now: "2026-11-30T16:00:00Z",
            reminders: 1,
        },
        Case {
            name: "again later that day",
            now: "2026-11-30T20:00:00Z",
            reminders: 1,
        },
        Case {
            name: "15 minutes before",
            now: "2026-12-01T15:45:00Z",
            reminders: 2,
        },
        Case {
            name: "at the start",
            now: SESSION_START,
            reminders: 2,
        },
    ];
    let engine = with_reminders();
    let mut state = OfficeState::default();
    run(&engine, &mut state, says(1, "/abonnieren"), FRIDAY);
    let id = add_session(&engine, &mut state, draft(), FRIDAY);
    let base = outbox(&state, 1).len();
    assert_eq!(
        engine.next_deadline(&state),
        Some(at("2026-11-30T16:00:00Z"))
    );
    for case in cases {
        // A restart between ticks must not send a reminder twice.
        state = OfficeState::from_snapshot(dump(&state));
        run(&engine, &mut state, Input::Tick, case.now);
        let sent = texts_since(&state, 1, base);
        assert_eq!(sent.len(), case.reminders, "{}", case.name);
        assert!(
            sent.iter()
                .all(|t| t.starts_with("Erinnerung: Die Sprechstunde")),
            "{}: {sent:?}",
            case.name
        );
    }
    assert_eq!(
        state.session(id).expect("session").reminded,
        [hours(24), SignedDuration::from_mins(15)]
    );
}

#[test]
fn a_session_created_late_counts_past_reminders_as_announced() {
    let engine = with_reminders();
    let mut state = OfficeState::default();
    run(&engine, &mut state, says(1, "/abonnieren"), FRIDAY);
    let base = outbox(&state, 1).len();
    // Created two hours before the start: the 24-hour reminder is past, the announcement
    // covers it; the 15-minute one still comes.
    add_session(&engine, &mut state, draft(), "2026-12-01T14:00:00Z");
    run(&engine, &mut state, Input::Tick, "2026-12-01T14:30:00Z");
    assert_eq!(texts_since(&state, 1, base).len(), 1);
    assert_eq!(
        engine.next_deadline(&state),
        Some(at("2026-12-01T15:45:00Z"))
    );
    run(&engine, &mut state, Input::Tick, "2026-12-01T15:45:00Z");
    let sent = texts_since(&state, 1, base);
    assert_eq!(sent.len(), 2);
    assert!(sent[1].starts_with("Erinnerung"));
}

#[test]
fn a_weekly_series_stays_at_local_time_across_the_dst_change() {
    // Tuesdays 17:00–18:00 Berlin from 20 October 2026 (UTC+2); from 27 October UTC+1.
    let engine = engine();
    let mut state = OfficeState::default();
    run(
        &engine,
        &mut state,
        says(1, "/abonnieren"),
        "2026-10-01T09:00:00Z",
    );
    let base = outbox(&state, 1).len();
    let mut first = draft();
    first.starts_at = at("2026-10-20T15:00:00Z");
    first.ends_at = at("2026-10-20T16:00:00Z");
    let outcome = engine.handle(
        &mut state,
        by_staff(StaffAction::OfficeHours(OfficeHoursAction::CreateSeries {
            draft: first,
            rule: SeriesRule {
                repeat: Repeat::Weekly,
                count: Some(3),
                until: None,
            },
        })),
        at("2026-10-01T09:00:00Z"),
    );
    assert_eq!(
        outcome.result,
        Ok(Receipt::Series(vec![
            SessionId(1),
            SessionId(2),
            SessionId(3)
        ]))
    );
    let starts: Vec<_> = state.sessions().map(|s| s.starts_at).collect();
    assert_eq!(
        starts,
        [
            at("2026-10-20T15:00:00Z"),
            at("2026-10-27T16:00:00Z"),
            at("2026-11-03T16:00:00Z")
        ]
    );
    assert!(state.sessions().all(|s| s.series == Some(SessionId(1))));
    assert_eq!(
        texts_since(&state, 1, base),
        [
            "Neue Sprechstunden-Reihe: „Bürgersprechstunde“ mit Oberbürgermeisterin, 3 Termine, \
          der erste am Dienstag, 20. Oktober 2026, 17:00 Uhr (bis 18:00 Uhr)."
        ]
    );
    // The series opens each session at 17:00 local time.
    run(&engine, &mut state, Input::Tick, "2026-10-27T16:00:00Z");
    assert_eq!(
        state.session(SessionId(2)).expect("session").status,
        SessionStatus::Live
    );
}

#[test]
fn a_series_without_an_end_is_refused() {
    let engine = engine();
    let mut state = OfficeState::default();
    let outcome = engine.handle(
        &mut state,
        by_staff(StaffAction::OfficeHours(OfficeHoursAction::CreateSeries {
            draft: draft(),
            rule: SeriesRule {
                repeat: Repeat::Monthly,
                count: None,
                until: None,
            },
        })),
        at(FRIDAY),
    );
    assert_eq!(
        outcome.result,
        Err(Refusal::InvalidSeries(
            crate::series::SeriesError::Unbounded
        ))
    );
    assert!(outcome.changes.is_empty());
}

/// A live session with questions from citizens 1, 2 and 3.
fn live_with_three() -> (Engine, OfficeState, SessionId, [Asked; 3]) {
    let engine = engine();
    let mut state = OfficeState::default();
    let id = add_session(&engine, &mut state, draft(), FRIDAY);
    let a = ask(
        &engine,
        &mut state,
        1,
        "Wann wird die Brücke saniert?",
        DURING_SESSION,
    );
    let b = ask(
        &engine,
        &mut state,
        2,
        "Brücke: wann saniert?",
        DURING_SESSION,
    );
    let c = ask(
        &engine,
        &mut state,
        3,
        "Parkplätze am Markt?",
        DURING_SESSION,
    );
    (engine, state, id, [a, b, c])
}

#[test]
fn one_answer_to_a_merged_question_reaches_every_asker_with_their_own_reference() {
    // Arrange
    let (engine, mut state, _, [a, b, c]) = live_with_three();

    // Act
    run(
        &engine,
        &mut state,
        by_staff(StaffAction::OfficeHours(OfficeHoursAction::Merge {
            primary: a.question,
            duplicates: vec![b.question],
        })),
        DURING_SESSION,
    );
    let merged_notice = last_sent(&state, 2).text.clone();
    run(
        &engine,
        &mut state,
        answer(a.question, "Im März."),
        DURING_SESSION,
    );

    // Assert
    assert_eq!(
        merged_notice,
        "Ihr Anliegen A-1002 wurde mit einer gleichen Frage zusammengefasst. Sie erhalten die \
         Antwort hier unter Ihrer Nummer A-1002."
    );
    for (n, asked) in [(1, a), (2, b)] {
        let q = question(&state, asked.question);
        assert_eq!(q.status, QuestionStatus::Answered, "citizen {n}");
        let sent = last_sent(&state, n);
        assert!(
            sent.text.contains(&asked.reference.to_string()) && sent.text.contains("Im März."),
            "citizen {n}: {}",
            sent.text
        );
        assert_eq!(sent.question, Some(asked.question));
        let entry = q.entries.last().expect("entry");
        assert!(
            matches!(entry.kind, EntryKind::Answer { .. }),
            "citizen {n}"
        );
        assert_eq!(entry.outbox, Some(sent.id));
    }
    assert_eq!(question(&state, b.question).merged_into, Some(a.question));
    assert!(question(&state, c.question).is_open());
    assert_eq!(state.merged_into(a.question).count(), 1);
}

#[test]
fn merges_that_make_no_sense_are_refused() {
    let (engine, mut state, _, [a, b, c]) = live_with_three();
    run(
        &engine,
        &mut state,
        answer(c.question, "Ja."),
        DURING_SESSION,
    );
    run(
        &engine,
        &mut state,
        by_staff(StaffAction::OfficeHours(OfficeHoursAction::Merge {
            primary: a.question,
            duplicates: vec![b.question],
        })),
        DURING_SESSION,
    );
    let cases = [
        (
            "into itself",
            a.question,
            vec![a.question],
            Refusal::CannotMerge,
        ),
        ("nothing", a.question, vec![], Refusal::CannotMerge),
        (
            "into a duplicate",
            b.question,
            vec![a.question],
            Refusal::CannotMerge,
        ),
        (
            "an answered one",
            a.question,
            vec![c.question],
            Refusal::NotOpen(QuestionStatus::Answered),
        ),
        (
            "unknown",
            a.question,
            vec![QuestionId(99)],
            Refusal::NotFound,
        ),
    ];
    for (name, primary, duplicates, want) in cases {
        let outcome = engine.handle(
            &mut state,
            by_staff(StaffAction::OfficeHours(OfficeHoursAction::Merge {
                primary,
                duplicates,
            })),
            at(DURING_SESSION),
        );
        assert_eq!(outcome.result, Err(want), "{name}");
        assert!(outcome.changes.is_empty(), "{name}");
    }
}

#[test]
fn answering_now_is_set_in_a_live_session_and_ends_with_the_answer() {
    let (engine, mut state, id, [a, _, _]) = live_with_three();
    run(
        &engine,
        &mut state,
        by_staff(StaffAction::OfficeHours(OfficeHoursAction::AnsweringNow {
            session: id,
            question: Some(a.question),
        })),
        DURING_SESSION,
    );
    assert_eq!(
        state.session(id).expect("session").answering,
        Some(a.question)
    );
    run(
        &engine,
        &mut state,
        answer(a.question, "Im März."),
        DURING_SESSION,
    );
    assert_eq!(state.session(id).expect("session").answering, None);

    // A question that leaves unanswered (here: withdrawn) ends "answering now" too.
    let (engine, mut state, id, [a, _, _]) = live_with_three();
    run(
        &engine,
        &mut state,
        by_staff(StaffAction::OfficeHours(OfficeHoursAction::AnsweringNow {
            session: id,
            question: Some(a.question),
        })),
        DURING_SESSION,
    );
    run(
        &engine,
        &mut state,
        says(1, "/zurueckziehen"),
        DURING_SESSION,
    );
    assert_eq!(
        state.question(a.question).map(|q| q.status),
        Some(crate::question::QuestionStatus::Withdrawn)
    );
    assert_eq!(state.session(id).expect("session").answering, None);

    // Not before the start, and not with a question of another queue.
    let mut other = OfficeState::default();
    let later = add_session(&engine, &mut other, draft(), FRIDAY);
    let office = ask(&engine, &mut other, 1, "Frage", FRIDAY);
    let outcome = engine.handle(
        &mut other,
        by_staff(StaffAction::OfficeHours(OfficeHoursAction::AnsweringNow {
            session: later,
            question: None,
        })),
        at(FRIDAY),
    );
    assert_eq!(outcome.result, Err(Refusal::SessionNotLive));
    let outcome = engine.handle(
        &mut other,
        by_staff(StaffAction::OfficeHours(OfficeHoursAction::AnsweringNow {
            session: later,
            question: Some(office.question),
        })),
        at(DURING_SESSION),
    );
    assert_eq!(outcome.result, Err(Refusal::NotInSession));
}

#[test]
fn a_closed_session_leaves_an_anonymous_draft_summary_to_edit_and_publish() {
    // Arrange
    let (engine, mut state, id, [a, b, _]) = live_with_three();
    run(
        &engine,
        &mut state,
        by_staff(StaffAction::OfficeHours(OfficeHoursAction::Merge {
            primary: a.question,
            duplicates: vec![b.question],
        })),
        DURING_SESSION,
    );
    run(
        &engine,
        &mut state,
        answer(a.question, "Im März."),
        DURING_SESSION,
    );
    let early = engine.handle(
        &mut state,
        by_staff(StaffAction::OfficeHours(OfficeHoursAction::DraftSummary(
            id,
        ))),
        at(DURING_SESSION),
    );
    assert_eq!(early.result, Err(Refusal::SessionNotClosed));

    // Act: the session closes.
    run(&engine, &mut state, Input::Tick, SESSION_END);

    // Assert: one item, asked by two, without references or names.
    let summary = state.summary(id).expect("draft").clone();
    assert!(!summary.is_published());
    assert_eq!(
        summary.items,
        [SummaryItem {
            question: "Wann wird die Brücke saniert?".into(),
            answer: "Im März.".into(),
            asked_by: 2,
            source: Some(ItemSource {
                question: a.question,
                duplicates: vec![b.question],
            }),
        }]
    );
    let json = format!("{summary:?}");
    assert!(!json.contains("A-100") && !json.contains("Erika"), "{json}");

    // Edit, then publish.
    let edited = vec![SummaryItem {
        question: "  Wann wird die Brücke saniert?  ".into(),
        answer: "Ab März 2027.".into(),
        asked_by: 2,
        source: None,
    }];
    run(
        &engine,
        &mut state,
        by_staff(StaffAction::OfficeHours(OfficeHoursAction::EditSummary {
            session: id,
            items: edited,
        })),
        "2026-12-02T09:00:00Z",
    );
    let empty = engine.handle(
        &mut state,
        by_staff(StaffAction::OfficeHours(OfficeHoursAction::EditSummary {
            session: id,
            items: vec![SummaryItem {
                question: " ".into(),
                answer: "x".into(),
                asked_by: 1,
                source: None,
            }],
        })),
        at("2026-12-02T09:00:00Z"),
    );
    assert_eq!(empty.result, Err(Refusal::EmptyText));
    let outcome = engine.handle(
        &mut state,
        by_staff(StaffAction::OfficeHours(OfficeHoursAction::PublishSummary(
            id,
        ))),
        at("2026-12-02T10:00:00Z"),
    );
    assert_eq!(outcome.result, Ok(Receipt::Done));
    assert_eq!(keys(&outcome.changes), [Key::Summary(id.0)]);
    let published = state.summary(id).expect("summary").clone();
    assert_eq!(published.published_at, Some(at("2026-12-02T10:00:00Z")));
    assert_eq!(published.items[0].question, "Wann wird die Brücke saniert?");
    assert_eq!(published.items[0].answer, "Ab März 2027.");
    assert_eq!(
        published.items[0].source.as_ref().map(|s| s.question),
        Some(a.question),
        "the edit keeps the link an erasure needs"
    );
    let again = engine.handle(
        &mut state,
        by_staff(StaffAction::OfficeHours(OfficeHoursAction::DraftSummary(
            id,
        ))),
        at("2026-12-02T11:00:00Z"),
    );
    assert_eq!(again.result, Err(Refusal::SummaryPublished));
    assert!(
        published
            .to_markdown("1. Dezember 2026")
            .contains("## Wann wird die Brücke")
    );
}

/// Citizen `n` on Telegram.
fn telegram_says(n: u64, text: &str) -> Input {
    let mut m = message(n, text);
    m.identity = crate::channel::ChannelIdentity {
        channel: ChannelKind::Telegram,
        pseudonym: format!("tg-pseudonym-{n}"),
        address: format!("{n}"),
    };
    Input::Citizen(m)
}

#[test]
fn a_session_held_on_some_channels_is_announced_and_takes_questions_only_there() {
    // Arrange: a web and a Telegram subscriber; the session is held on the web chat only.
    let engine = engine();
    let mut state = OfficeState::default();
    run(&engine, &mut state, says(1, "/abonnieren"), FRIDAY);
    run(&engine, &mut state, telegram_says(2, "/abonnieren"), FRIDAY);
    let telegram = |state: &OfficeState| -> Vec<String> {
        let id = state
            .citizen_by_pseudonym(ChannelKind::Telegram, "tg-pseudonym-2")
            .expect("the Telegram citizen")
            .id;
        state.outbox_of(id).map(|m| m.text.clone()).collect()
    };
    let telegram_before = telegram(&state).len();
    let mut web_only = draft();
    web_only.channels = vec![ChannelKind::Web, ChannelKind::Web];

    // Act
    let id = add_session(&engine, &mut state, web_only, FRIDAY);
    let web = ask(&engine, &mut state, 1, "Frage im Web-Chat", DURING_SESSION);
    let outcome = engine.handle(
        &mut state,
        telegram_says(2, "Frage über Telegram"),
        at(DURING_SESSION),
    );

    // Assert: duplicates are dropped; only the web subscriber heard of the session; the
    // Telegram question went to the citizens' office, the web question to the session.
    assert_eq!(
        state.session(id).map(|s| s.channels.clone()),
        Some(vec![ChannelKind::Web])
    );
    assert!(
        outbox(&state, 1)
            .iter()
            .any(|m| m.text.starts_with("Neue Sprechstunde"))
    );
    assert!(
        telegram(&state)[telegram_before..]
            .iter()
            .all(|t| !t.starts_with("Neue Sprechstunde"))
    );
    assert_eq!(web.intake, Intake::New(Queue::Session(id)));
    assert!(matches!(
        outcome.result,
        Ok(Receipt::Question {
            intake: Intake::New(Queue::CitizensOffice),
            ..
        })
    ));
}

#[test]
fn sessions_at_the_same_time_on_different_channels_each_take_their_own_channels_questions() {
    // Arrange: the mayor holds a web chat session while a department head holds one on
    // Telegram, at the same time.
    let engine = engine();
    let mut state = OfficeState::default();
    let mut web_only = draft();
    web_only.channels = vec![ChannelKind::Web];
    let mut telegram_only = draft();
    telegram_only.title = "Sprechstunde des Bauamts".into();
    telegram_only.channels = vec![ChannelKind::Telegram];
    let web_session = add_session(&engine, &mut state, web_only, FRIDAY);
    let telegram_session = add_session(&engine, &mut state, telegram_only, FRIDAY);

    // Act
    let web = ask(&engine, &mut state, 1, "Frage im Web-Chat", DURING_SESSION);
    let outcome = engine.handle(
        &mut state,
        telegram_says(2, "Frage über Telegram"),
        at(DURING_SESSION),
    );

    // Assert: neither question went to the citizens' office.
    assert_eq!(web.intake, Intake::New(Queue::Session(web_session)));
    assert!(
        matches!(
            outcome.result,
            Ok(Receipt::Question {
                intake: Intake::New(Queue::Session(id)),
                ..
            }) if id == telegram_session
        ),
        "{:?}",
        outcome.result
    );
}

#[test]
fn the_greeting_names_the_session_held_on_the_citizens_channel() {
    // Arrange: a web-only session now, a Telegram-only one later.
    let engine = engine();
    let mut state = OfficeState::default();
    let mut web_only = draft();
    web_only.channels = vec![ChannelKind::Web];
    add_session(&engine, &mut state, web_only, FRIDAY);
    let mut telegram_later = draft();
    telegram_later.title = "Sprechstunde des Bauamts".into();
    telegram_later.starts_at = at("2026-12-08T16:00:00Z");
    telegram_later.ends_at = at("2026-12-08T17:00:00Z");
    telegram_later.channels = vec![ChannelKind::Telegram];
    add_session(&engine, &mut state, telegram_later, FRIDAY);
    engine.handle(&mut state, Input::Tick, at(DURING_SESSION));

    // Act
    let web = engine.greeting(&state, ChannelKind::Web, Lang::De, at(DURING_SESSION));
    let telegram = engine.greeting(&state, ChannelKind::Telegram, Lang::De, at(DURING_SESSION));
    let matrix = engine.greeting(&state, ChannelKind::Matrix, Lang::De, at(DURING_SESSION));

    // Assert
    assert!(web.contains(TITLE) && !web.contains("Bauamts"), "{web}");
    assert!(
        telegram.contains("Sprechstunde des Bauamts") && telegram.contains("8. Dezember"),
        "{telegram}"
    );
    assert!(
        !matrix.contains("Bauamts") && !matrix.contains(TITLE),
        "{matrix}"
    );
}

#[test]
fn naming_every_channel_is_the_same_as_naming_none() {
    let mut every = draft();
    every.channels = ChannelKind::ALL.to_vec();
    assert_eq!(every.validate().map(|d| d.channels), Ok(Vec::new()));
}
