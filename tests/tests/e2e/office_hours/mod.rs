//! Office hours as events, end to end with a manual clock: subscriptions on the web chat and
//! Telegram, announcements and reminders, the session clock, the cap, live moderation with a
//! merged question whose answer fans out to both channels, hand-over at the close, the
//! published summary, the iCal feed, and a weekly series across the end of summer time; the
//! same in the console ([`console`]).

mod board;
mod console;
mod stage;

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value, json};
use sprechstunde_botapi_emulator::{Emulator, TestUser};
use sprechstunde_runtime::ManualClock;
use sprechstunde_tests::app::{TestApp, test_settings};
use sprechstunde_tests::telegram::polling_settings;

use crate::telegram::{reference_in, wait_text};

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Outbox texts (all channels) containing `needle`.
async fn outbox_with(app: &TestApp, needle: &str) -> usize {
    let needle = needle.to_owned();
    app.office()
        .read(move |state, _, _| state.outbox().filter(|m| m.text.contains(&needle)).count())
        .await
}

async fn public_get(app: &TestApp, path: &str) -> (u16, String, String) {
    let response = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, kind, response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_hour_from_announcement_to_published_summary_across_web_chat_and_telegram() {
    // Arrange: Friday 27 November 2026, 10:00 Berlin; reminders 24 h and 15 min (default).
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::start().await;
    let clock = Arc::new(ManualClock::new(at("2026-11-27T09:00:00Z")));
    let app = TestApp::start_with(polling_settings(dir.path(), &emulator), clock.clone())
        .await
        .unwrap();
    let press = app.staff("presse", &["press_office"]).await.unwrap();
    let tg = TestUser::de("Tom");

    // Subscriptions: web citizen by command, Telegram citizen by command; a second Telegram
    // citizen subscribes and unsubscribes again.
    let mut web = app.citizen().await.unwrap();
    web.send("/abonnieren").await.unwrap();
    web.office_message_containing("Sie erhalten jetzt Ankündigungen")
        .await
        .unwrap();
    // A subscription keeps the reply address, so it needs the citizen's consent first.
    sprechstunde_tests::telegram::agree(&emulator, 7001, &tg).await;
    emulator.user_says(7001, &tg, "/abonnieren");
    wait_text(&emulator, 7001, "Sie erhalten jetzt Ankündigungen").await;
    sprechstunde_tests::telegram::agree(&emulator, 7002, &TestUser::de("Uta")).await;
    emulator.user_says(7002, &TestUser::de("Uta"), "/abonnieren");
    wait_text(&emulator, 7002, "Sie erhalten jetzt Ankündigungen").await;
    emulator.user_says(7002, &TestUser::de("Uta"), "/abbestellen");
    wait_text(&emulator, 7002, "keine Ankündigungen").await;

    // Act 1: the press office schedules Tuesday 1 December, 17:00–18:00, cap 3.
    let session = press
        .post(
            "/api/v1/sessions",
            json!({"title": "Bürgersprechstunde", "host": "Oberbürgermeisterin",
                   "starts_at": "2026-12-01T17:00", "ends_at": "2026-12-01T18:00",
                   "question_cap": 3}),
        )
        .await
        .unwrap();
    let id = session["id"].as_u64().unwrap();

    // Assert 1: subscribers hear of it on their channel; the unsubscribed one does not.
    web.office_message_containing("Neue Sprechstunde: „Bürgersprechstunde“")
        .await
        .unwrap();
    let tg_announce = wait_text(&emulator, 7001, "Neue Sprechstunde").await;
    assert!(
        tg_announce
            .text
            .contains("Dienstag, 1. Dezember 2026, 17:00 Uhr"),
        "{}",
        tg_announce.text
    );
    assert_eq!(outbox_with(&app, "Neue Sprechstunde").await, 2);

    // The public page and the iCal feed list it.
    let (status, kind, ics) = public_get(&app, "/sessions.ics").await;
    assert_eq!(
        (status, kind.as_str()),
        (200, "text/calendar; charset=utf-8")
    );
    assert!(ics.contains("DTSTART:20261201T160000Z\r\n"), "{ics}");
    assert!(ics.contains("SUMMARY:Bürgersprechstunde\r\n"), "{ics}");
    let (status, _, page) = public_get(&app, "/sprechstunden").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Dienstag, 1. Dezember 2026, 17:00 Uhr"),
        "{page}"
    );
    assert!(
        !page.contains("<script") && !page.contains("style="),
        "{page}"
    );
    // It names the channels this server runs (web chat and Telegram, no Matrix here) and
    // links to the English page, which the browser's language also selects.
    assert!(page.contains("per Web-Chat und Telegram."), "{page}");
    assert!(page.contains("href=\"/sprechstunden?lang=en\""), "{page}");
    let (status, _, english) = public_get(&app, "/sprechstunden?lang=en").await;
    assert_eq!(status, 200);
    assert!(english.contains("<html lang=\"en\">"), "{english}");
    assert!(
        english.contains("Tuesday, 1 December 2026")
            && english.contains("by web chat and Telegram."),
        "{english}"
    );
    let preferred = reqwest::Client::new()
        .get(format!("{}/sprechstunden", app.base))
        .header("accept-language", "en-GB,en;q=0.8")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(preferred.contains("Upcoming sessions"), "{preferred}");

    // Act 2: the session clock: 24 hours before, a reminder goes out, once.
    clock.set(at("2026-11-30T16:00:00Z"));
    app.office().tick().await.unwrap();
    app.office().tick().await.unwrap();
    web.office_message_containing("Erinnerung: Die Sprechstunde")
        .await
        .unwrap();
    wait_text(&emulator, 7001, "Erinnerung").await;
    assert_eq!(outbox_with(&app, "Erinnerung: ").await, 2);

    // Act 3: the session opens; the web citizen, the Telegram citizen and a third citizen ask
    // (cap 3), a fourth overflows to the citizens' office.
    clock.set(at("2026-12-01T16:00:00Z"));
    app.office().tick().await.unwrap();
    // Logins last hours, not days: staff log in on the day.
    let host = app.staff("ob", &["host"]).await.unwrap();
    let (_, ack) = web.ask("Wann wird die Brücke saniert?").await.unwrap();
    let web_ref = reference_in(&ack);
    emulator.user_says(7001, &tg, "Wann ist die Brücke fertig saniert?");
    let tg_ack = wait_text(&emulator, 7001, "eingegangen").await;
    let tg_ref = reference_in(&tg_ack.text);
    let mut third = app.citizen().await.unwrap();
    let (_, third_ack) = third.ask("Parkplätze am Markt?").await.unwrap();
    let third_ref = reference_in(&third_ack);
    let mut fourth = app.citizen().await.unwrap();
    let (_, overflow) = fourth.ask("Und der Radweg?").await.unwrap();
    assert!(overflow.contains("bereits ausgebucht"), "{overflow}");

    // Live moderation: merge the Telegram question into the web one, pick it, answer it.
    host.post(
        &format!("/api/v1/questions/{web_ref}/merge"),
        json!({"duplicates": [tg_ref]}),
    )
    .await
    .unwrap();
    wait_text(&emulator, 7001, "zusammengefasst").await;
    let live = host
        .post(
            &format!("/api/v1/sessions/{id}/answering"),
            json!({"reference": web_ref}),
        )
        .await
        .unwrap();
    assert_eq!(live["answering"], web_ref.as_str());
    let questions = live["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 2, "{live}");
    assert_eq!(questions[0]["reference"], web_ref.as_str());
    assert_eq!(questions[0]["me_too"], 1);
    assert_eq!(questions[0]["merged"], json!([tg_ref]));
    host.answer(&web_ref, "Die Sanierung beginnt im März 2027.")
        .await
        .unwrap();

    // Assert 3: one answer reaches both askers, each on their channel with their reference.
    let web_answer = web
        .office_message_containing("Die Sanierung beginnt im März 2027.")
        .await
        .unwrap();
    assert!(web_answer["text"].as_str().unwrap().contains(&web_ref));
    let tg_answer = wait_text(&emulator, 7001, "Die Sanierung beginnt im März 2027.").await;
    assert!(tg_answer.text.contains(&tg_ref), "{}", tg_answer.text);
    let detail = host
        .get(&format!("/api/v1/questions/{tg_ref}"))
        .await
        .unwrap();
    assert_eq!(detail["status"], "answered", "{detail}");

    // Act 4: the session closes; the open question goes to the citizens' office.
    clock.set(at("2026-12-01T17:00:00Z"));
    app.office().tick().await.unwrap();
    third
        .office_message_containing(&format!("Ihr Anliegen {third_ref} konnte dort nicht mehr"))
        .await
        .unwrap();

    // Act 5: the press office edits and publishes the draft summary.
    let press = app
        .staff("presse-dienstag", &["press_office"])
        .await
        .unwrap();
    let draft: Value = press
        .get(&format!("/api/v1/sessions/{id}/summary"))
        .await
        .unwrap();
    assert_eq!(draft["items"][0]["asked_by"], 2, "{draft}");
    assert_eq!(draft["published_at"], Value::Null);
    let (status, _, _) = public_get(&app, &format!("/zusammenfassungen/{id}")).await;
    assert_eq!(status, 404, "a draft is not public");
    let (status, _) = press
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/sessions/{id}/summary"),
            Some(json!({"items": [{
                "question": "Wann wird die Brücke saniert?",
                "answer": "Die Sanierung beginnt im März 2027 und dauert ein Jahr.",
                "asked_by": 2
            }]})),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    press
        .post(&format!("/api/v1/sessions/{id}/summary/publish"), json!({}))
        .await
        .unwrap();

    // Assert 5: public page, Markdown and JSON, without references or names.
    let (status, _, html) = public_get(&app, &format!("/zusammenfassungen/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("dauert ein Jahr"), "{html}");
    assert!(html.contains("2 Personen fragten dies."), "{html}");
    let (_, kind, md) = public_get(&app, &format!("/zusammenfassungen/{id}.md")).await;
    assert_eq!(kind, "text/markdown; charset=utf-8");
    assert!(md.starts_with("# Bürgersprechstunde\n"), "{md}");
    let (_, _, js) = public_get(&app, &format!("/zusammenfassungen/{id}.json")).await;
    let js: Value = serde_json::from_str(&js).unwrap();
    assert_eq!(js["items"][0]["question"], "Wann wird die Brücke saniert?");
    // The staff API's draft links its items to their questions; the public never sees that.
    let mut fields: Vec<&String> = js["items"][0].as_object().unwrap().keys().collect();
    fields.sort_unstable();
    assert_eq!(fields, ["answer", "asked_by", "question"], "{js}");
    for text in [&html, &md, &js.to_string()] {
        assert!(!text.contains("A-10") && !text.contains("Tom"), "{text}");
    }
    let (_, _, page) = public_get(&app, "/sprechstunden").await;
    assert!(page.contains(&format!("/zusammenfassungen/{id}")), "{page}");

    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribing_stops_announcements_of_rescheduling_and_cancellation() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(at("2026-11-27T09:00:00Z")));
    let app = TestApp::start_with(test_settings(dir.path()), clock)
        .await
        .unwrap();
    let press = app.staff("presse", &["press_office"]).await.unwrap();
    let mut stays = app.citizen().await.unwrap();
    let mut leaves = app.citizen().await.unwrap();
    for c in [&mut stays, &mut leaves] {
        c.send("/abonnieren").await.unwrap();
        c.office_message_containing("Sie erhalten jetzt")
            .await
            .unwrap();
    }
    leaves.send("/abbestellen").await.unwrap();
    leaves
        .office_message_containing("keine Ankündigungen")
        .await
        .unwrap();

    let session = press
        .create_session("Sprechstunde", "2026-12-01T17:00", "2026-12-01T18:00")
        .await
        .unwrap();
    let id = session["id"].as_u64().unwrap();
    let (status, _) = press
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/sessions/{id}"),
            Some(
                json!({"title": "Sprechstunde", "host": "Oberbürgermeisterin",
                        "starts_at": "2026-12-01T18:00", "ends_at": "2026-12-01T19:00"}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    // Calendar programs replace their copy only when the sequence grows.
    let (_, _, ics) = public_get(&app, "/sessions.ics").await;
    assert!(
        ics.contains("DTSTART:20261201T170000Z\r\nDTEND:20261201T180000Z\r\n")
            && ics.contains("SEQUENCE:1\r\n")
            && ics.contains("STATUS:CONFIRMED\r\n"),
        "{ics}"
    );
    press
        .post(&format!("/api/v1/sessions/{id}/cancel"), json!({}))
        .await
        .unwrap();
    let (_, _, ics) = public_get(&app, "/sessions.ics").await;
    assert!(
        ics.contains("SEQUENCE:2\r\n") && ics.contains("STATUS:CANCELLED\r\n"),
        "{ics}"
    );

    stays
        .office_message_containing("Neue Sprechstunde")
        .await
        .unwrap();
    stays
        .office_message_containing("Neuer Termin: Dienstag, 1. Dezember 2026, 18:00 Uhr")
        .await
        .unwrap();
    stays
        .office_message_containing("wurde abgesagt")
        .await
        .unwrap();
    // Each announcement went to exactly one citizen: the one who stayed subscribed.
    for needle in ["Neue Sprechstunde", "wurde verlegt", "wurde abgesagt"] {
        assert_eq!(outbox_with(&app, needle).await, 1, "{needle}");
    }
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weekly_series_stays_at_17_00_berlin_time_across_the_end_of_summer_time() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(at("2026-10-01T09:00:00Z")));
    let app = TestApp::start_with(test_settings(dir.path()), clock.clone())
        .await
        .unwrap();
    let press = app.staff("presse", &["press_office"]).await.unwrap();

    let created = press
        .post(
            "/api/v1/sessions/series",
            json!({"title": "Wöchentliche Sprechstunde", "host": "Bürgermeister",
                   "starts_at": "2026-10-20T17:00", "ends_at": "2026-10-20T18:00",
                   "repeat": "weekly", "count": 3}),
        )
        .await
        .unwrap();
    let starts: Vec<&str> = created["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap())
        .collect();
    // 17:00 CEST is 15:00 UTC; after 25 October 17:00 CET is 16:00 UTC.
    assert_eq!(
        starts,
        [
            "2026-10-20T15:00:00Z",
            "2026-10-27T16:00:00Z",
            "2026-11-03T16:00:00Z"
        ]
    );
    for s in created["sessions"].as_array().unwrap() {
        assert!(
            s["starts_local"].as_str().unwrap().ends_with("17:00 Uhr"),
            "{s}"
        );
    }
    // A series without an end is refused with a clear error.
    let (status, body) = press
        .request(
            reqwest::Method::POST,
            "/api/v1/sessions/series",
            Some(json!({"title": "Endlos", "host": "X",
                        "starts_at": "2026-11-03T17:00", "ends_at": "2026-11-03T18:00",
                        "repeat": "monthly"})),
        )
        .await
        .unwrap();
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("count or an end date"),
        "{body}"
    );
    let (_, _, ics) = public_get(&app, "/sessions.ics").await;
    assert!(ics.contains("DTSTART:20261027T160000Z\r\n"), "{ics}");

    // The clock opens the session after the change at 17:00 local time, not an hour early.
    let second = created["sessions"][1]["id"].as_u64().unwrap();
    clock.set(at("2026-10-27T15:30:00Z"));
    app.office().tick().await.unwrap();
    let status = |app: &TestApp| {
        let office = app.office().clone();
        async move {
            office
                .read(move |state, _, _| {
                    state
                        .session(sprechstunde_core::SessionId(second))
                        .map(|s| s.status)
                })
                .await
        }
    };
    assert_eq!(
        status(&app).await,
        Some(sprechstunde_core::SessionStatus::Scheduled)
    );
    clock.set(at("2026-10-27T16:00:00Z"));
    app.office().tick().await.unwrap();
    assert_eq!(
        status(&app).await,
        Some(sprechstunde_core::SessionStatus::Live)
    );

    app.stop().await.unwrap();
}
