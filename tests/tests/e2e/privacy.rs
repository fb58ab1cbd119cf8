//! Data protection end to end: consent before anything is kept, erasure on request and the
//! retention purge leave none of a citizen's texts or channel ids in the raw files of the data
//! directory, while a kept citizen's data stays readable through the API.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use sprechstunde_botapi_emulator::{Emulator, TestUser};
use sprechstunde_runtime::{ManualClock, SystemClock};
use sprechstunde_tests::app::{TestApp, test_settings};
use sprechstunde_tests::citizen::Citizen;
use sprechstunde_tests::disk::{found, scan, unique};
use sprechstunde_tests::staff::{PASSWORD, StaffClient};
use sprechstunde_tests::telegram::{agree, polling_settings};

const WAIT: Duration = Duration::from_secs(60);
/// A staff login, stored in clear: the scan must find it.
const CONTROL: &str = "buergerreferat";

/// Asserts that none of `seeded` is anywhere in the data directory; prints the figures.
/// As a control, the staff login (stored in clear) must be found, so the scan does read the
/// store's data.
fn assert_no_trace(dir: &Path, seeded: &[String], what: &str) {
    let (files, bytes) = scan(dir);
    assert!(
        found(&bytes, CONTROL),
        "the scan finds the clear-text control"
    );
    let left: Vec<&String> = seeded.iter().filter(|s| found(&bytes, s)).collect();
    println!(
        "{what}: scanned {files} files, {} bytes, for {} seeded strings; found {}",
        bytes.len(),
        seeded.len(),
        left.len()
    );
    assert!(files > 3, "the scan saw the store's files");
    assert!(left.is_empty(), "{what}: still on disk: {left:?}");
}

async fn office_count(app: &TestApp) -> (usize, usize) {
    app.office()
        .read(|s, _, _| (s.citizens().count(), s.questions().count()))
        .await
}

/// Waits until the office holds exactly `citizens` citizens and `questions` questions (the
/// forgetting after a last notice's delivery is asynchronous).
async fn wait_counts(app: &TestApp, citizens: usize, questions: usize) {
    let mut events = app.office().subscribe();
    let until = tokio::time::Instant::now() + WAIT;
    loop {
        let now = office_count(app).await;
        if now == (citizens, questions) {
            return;
        }
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        assert!(
            !left.is_zero(),
            "office holds {now:?}, want ({citizens}, {questions})"
        );
        let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), events.recv()).await;
    }
}

#[tokio::test]
async fn erasure_and_retention_leave_no_trace_in_the_data_directory() {
    // Arrange
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(
        "2026-11-27T09:00:00Z".parse::<Timestamp>().unwrap(),
    ));
    let settings = polling_settings(dir.path(), &emulator);
    let app = TestApp::start_with(settings.clone(), clock.clone())
        .await
        .unwrap();
    let staff = app.staff(CONTROL, &["citizens_office"]).await.unwrap();

    // Telegram citizen who asks for erasure: chat id, question, answer.
    let (tg_erased, tg_kept) = (7_345_987_601_i64, 7_345_987_699_i64);
    let tg_question = unique("TG-ERASE-QUESTION");
    let tg_answer = unique("TG-ERASE-ANSWER");
    let user = TestUser::de("Greta");
    agree(&emulator, tg_erased, &user).await;
    emulator.user_says(tg_erased, &user, &tg_question);
    let ack = emulator
        .wait_for_sent(tg_erased, WAIT, |m| m.text.contains("eingegangen"))
        .await
        .unwrap();
    let tg_ref = reference(&ack.text);
    staff.answer(&tg_ref, &tg_answer).await.unwrap();
    emulator
        .wait_for_sent(tg_erased, WAIT, |m| m.text.contains(&tg_answer))
        .await
        .unwrap();

    // Telegram citizen whose data is kept.
    let kept_question = unique("TG-KEPT-QUESTION");
    agree(&emulator, tg_kept, &TestUser::de("Karl")).await;
    emulator.user_says(tg_kept, &TestUser::de("Karl"), &kept_question);
    let kept_ack = emulator
        .wait_for_sent(tg_kept, WAIT, |m| m.text.contains("eingegangen"))
        .await
        .unwrap();
    let kept_ref = reference(&kept_ack.text);

    // Web chat citizen who asks for erasure.
    let web_question = unique("WEB-ERASE-QUESTION");
    let mut web = app.citizen().await.unwrap();
    web.ask(&web_question).await.unwrap();

    // Web chat citizen whose answered question expires.
    let purged_question = unique("WEB-PURGE-QUESTION");
    let purged_answer = unique("WEB-PURGE-ANSWER");
    let mut purged = app.citizen().await.unwrap();
    let (accepted, _) = purged.ask(&purged_question).await.unwrap();
    let purged_ref = accepted["reference"].as_str().unwrap().to_owned();
    staff.answer(&purged_ref, &purged_answer).await.unwrap();
    purged
        .office_message_containing(&purged_answer)
        .await
        .unwrap();
    purged.close().await;
    assert_eq!(office_count(&app).await, (4, 4));

    // Both get their data first: in the chat, and in the web chat also as JSON.
    emulator.user_says(tg_erased, &user, "/meinedaten");
    let export = emulator
        .wait_for_sent(tg_erased, WAIT, |m| {
            m.text.contains("Ihre bei uns gespeicherten Daten")
        })
        .await
        .unwrap();
    assert!(
        export.text.contains(&tg_question) && export.text.contains(&tg_answer),
        "{}",
        export.text
    );
    web.send_raw(r#"{"type":"export"}"#).await.unwrap();
    let json = web.wait_for(|f| f["type"] == "export").await.unwrap();
    assert_eq!(json["data"]["channel"], "web");
    assert_eq!(
        json["data"]["questions"][0]["messages"][0]["text"],
        web_question.as_str()
    );
    assert!(json["data"]["consent"]["at"].is_string(), "{json}");

    // Act 1: both erase their data through the chat command, with confirmation.
    emulator.user_says(tg_erased, &user, "/loeschen");
    let prompt = emulator
        .wait_for_sent(tg_erased, WAIT, |m| m.text.contains("wirklich"))
        .await
        .unwrap();
    let (_, confirm) = prompt
        .buttons()
        .into_iter()
        .find(|(_, data)| data == "/loeschen bestaetigen")
        .expect("a confirmation button");
    emulator.user_presses(tg_erased, &confirm);
    emulator
        .wait_for_sent(tg_erased, WAIT, |m| {
            m.text.contains("Alle Ihre Daten wurden gelöscht")
        })
        .await
        .unwrap();
    web.send("/loeschen").await.unwrap();
    let prompt = web.office_message_containing("wirklich").await.unwrap();
    let confirm = prompt["choices"][0]["command"].as_str().unwrap().to_owned();
    assert_eq!(confirm, "/loeschen bestaetigen");
    web.send(&confirm).await.unwrap();
    web.office_message_containing("Alle Ihre Daten wurden gelöscht")
        .await
        .unwrap();
    wait_counts(&app, 2, 2).await;
    let (status, _) = staff
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/questions/{tg_ref}"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);

    // Act 2: 91 days later the daily purge forgets the answered question and its citizen.
    clock.advance(SignedDuration::from_hours(24 * 91));
    app.office().purge().await.unwrap();
    wait_counts(&app, 1, 1).await;
    web.close().await;
    app.stop().await.unwrap();

    // Assert: nothing of the erased and purged citizens in any file of the data directory.
    let seeded: Vec<String> = vec![
        tg_erased.to_string(),
        tg_question,
        tg_answer,
        web_question,
        purged_question,
        purged_answer,
    ];
    assert_no_trace(dir.path(), &seeded, "after erasure and purge");
    // The kept citizen is not in clear on disk either (sealed) …
    assert_no_trace(
        dir.path(),
        &[tg_kept.to_string(), kept_question.clone()],
        "kept citizen, sealed",
    );
    // … but readable through the API after a restart.
    let app = TestApp::start_with(settings, clock.clone()).await.unwrap();
    let staff = StaffClient::login(&app.base, CONTROL, PASSWORD)
        .await
        .unwrap();
    let detail: Value = staff
        .get(&format!("/api/v1/questions/{kept_ref}"))
        .await
        .unwrap();
    assert!(detail.to_string().contains(&kept_question), "{detail}");
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_takes_a_live_question_out_of_the_session_summary_and_leaves_no_trace() {
    // Arrange: a session on Tuesday 1 December, 17:00–18:00 (Berlin), on a manual clock.
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(
        "2026-11-27T09:00:00Z".parse::<Timestamp>().unwrap(),
    ));
    let app = TestApp::start_with(test_settings(dir.path()), clock.clone())
        .await
        .unwrap();
    let press = app.staff("presse", &["press_office"]).await.unwrap();
    let session = press
        .create_session("Bürgersprechstunde", "2026-12-01T17:00", "2026-12-01T18:00")
        .await
        .unwrap();
    let id = session["id"].as_u64().unwrap();
    clock.set("2026-12-01T16:00:00Z".parse().unwrap());
    app.office().tick().await.unwrap();
    // Logins last hours, not days: staff log in on the day.
    let staff = app.staff(CONTROL, &["citizens_office"]).await.unwrap();

    // Two citizens ask during the live session and get answers; the first will erase.
    let question = unique("LIVE-ERASE-QUESTION");
    let answer = unique("LIVE-ERASE-ANSWER");
    let kept_question = unique("LIVE-KEPT-QUESTION");
    let mut erasing = app.citizen().await.unwrap();
    let (accepted, _) = erasing.ask(&question).await.unwrap();
    let erasing_ref = accepted["reference"].as_str().unwrap().to_owned();
    let mut kept = app.citizen().await.unwrap();
    let (accepted, _) = kept.ask(&kept_question).await.unwrap();
    let kept_ref = accepted["reference"].as_str().unwrap().to_owned();
    staff.answer(&erasing_ref, &answer).await.unwrap();
    staff.answer(&kept_ref, "Ja, ab Montag.").await.unwrap();
    erasing.office_message_containing(&answer).await.unwrap();
    kept.office_message_containing("ab Montag").await.unwrap();

    // The session closes: the draft summary quotes both.
    clock.set("2026-12-01T17:00:00Z".parse().unwrap());
    app.office().tick().await.unwrap();
    let press = app
        .staff("presse-dienstag", &["press_office"])
        .await
        .unwrap();
    let path = format!("/api/v1/sessions/{id}/summary");
    let draft = press.get(&path).await.unwrap().to_string();
    for text in [&question, &answer, &kept_question] {
        assert!(draft.contains(text.as_str()), "{text} not in {draft}");
    }

    // Act: the first citizen erases their data, with confirmation.
    erasing.send("/loeschen").await.unwrap();
    let prompt = erasing.office_message_containing("wirklich").await.unwrap();
    let confirm = prompt["choices"][0]["command"].as_str().unwrap().to_owned();
    erasing.send(&confirm).await.unwrap();
    erasing
        .office_message_containing("Alle Ihre Daten wurden gelöscht")
        .await
        .unwrap();
    wait_counts(&app, 1, 1).await;

    // Assert: the draft keeps only the other item …
    let redacted = press.get(&path).await.unwrap();
    let items = redacted["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{redacted}");
    assert_eq!(items[0]["question"], kept_question.as_str());
    erasing.close().await;
    kept.close().await;
    app.stop().await.unwrap();
    // … and no file of the data directory holds what the erased citizen asked or was told,
    // not even an older version of the summary.
    assert_no_trace(dir.path(), &[question, answer], "summary after erasure");
    assert_no_trace(dir.path(), &[kept_question], "kept summary item, sealed");
}

#[tokio::test]
async fn without_agreement_nothing_of_the_text_is_stored() {
    // Arrange
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start_with(
        polling_settings(dir.path(), &emulator),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    app.staff(CONTROL, &["citizens_office"]).await.unwrap();
    let web_text = unique("NO-CONSENT-WEB");
    let tg_text = unique("NO-CONSENT-TG");
    let tg_chat = 7_345_987_655_i64;

    // Act: a web citizen sees the notice, asks anyway, and declines; a Telegram citizen asks
    // and never answers the notice.
    let mut web = Citizen::connect_without_consent(app.addr, None, "de")
        .await
        .unwrap();
    let notice = web.privacy_notice().unwrap().to_owned();
    web.send(&web_text).await.unwrap();
    // The page shows the notice itself: the question is only held.
    web.wait_for(|f| f["type"] == "held").await.unwrap();
    web.send("/ablehnen").await.unwrap();
    web.office_message_containing("nicht zugestimmt")
        .await
        .unwrap();
    emulator.user_says(tg_chat, &TestUser::de("Nils"), &tg_text);
    let tg_notice = emulator
        .wait_for_sent(tg_chat, WAIT, |m| m.text.contains("Datenschutzhinweis"))
        .await
        .unwrap();
    wait_counts(&app, 1, 0).await;
    web.close().await;
    app.stop().await.unwrap();

    // Assert
    assert!(notice.contains("Transportweg"), "{notice}");
    assert!(
        tg_notice.text.contains("nicht Ende-zu-Ende-verschlüsselt"),
        "{}",
        tg_notice.text
    );
    let buttons: Vec<String> = tg_notice.buttons().into_iter().map(|(_, d)| d).collect();
    assert_eq!(buttons, ["/einverstanden", "/ablehnen"]);
    assert_no_trace(
        dir.path(),
        &[web_text, tg_text, tg_chat.to_string()],
        "without agreement",
    );
}

fn reference(text: &str) -> String {
    let at = text.find("A-").expect("a reference");
    text[at..]
        .chars()
        .take_while(|c| *c == 'A' || *c == '-' || c.is_ascii_digit())
        .collect()
}
