//! The Threema channel against the Threema Gateway emulator: the real server receives the
//! Gateway's callbacks (MAC'd, end-to-end encrypted by the emulated citizen's app) and sends
//! through `send_e2e`; the emulator decrypts what the citizen receives. Staff work through the
//! console API.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};
use sprechstunde_runtime::{ManualClock, SystemClock};
use sprechstunde_tests::app::TestApp;
use sprechstunde_tests::disk::{found, scan, unique};
use sprechstunde_tests::staff::StaffClient;
use sprechstunde_tests::threema::{WAIT, agree, message_containing, says, settings, start};
use sprechstunde_threema_emulator::Gateway;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn reference_in(text: &str) -> String {
    let at = text.find("A-").expect("a reference in the text");
    text[at..]
        .chars()
        .take_while(|c| *c == 'A' || *c == '-' || c.is_ascii_digit())
        .collect()
}

/// Waits until `check` holds for the office state, waking on every office event.
async fn wait_for_state(
    app: &TestApp,
    what: &str,
    check: impl Fn(&sprechstunde_core::OfficeState) -> bool + Send + Sync + Clone + 'static,
) {
    let mut events = app.office().subscribe();
    let until = tokio::time::Instant::now() + WAIT;
    loop {
        let c = check.clone();
        if app.office().read(move |s, _, _| c(s)).await {
            return;
        }
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        assert!(!left.is_zero(), "timed out waiting for: {what}");
        let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), events.recv()).await;
    }
}

async fn question_count(app: &TestApp) -> usize {
    app.office().read(|s, _, _| s.questions().count()).await
}

async fn entries(staff: &StaffClient, reference: &str) -> Vec<Value> {
    staff
        .get(&format!("/api/v1/questions/{reference}"))
        .await
        .unwrap()["entries"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_threema_citizen_gets_through_a_whole_office_hour_like_the_other_channels() {
    // Arrange: Friday 27 November 2026, 10:00 Berlin.
    let gateway = Gateway::start().await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(at("2026-11-27T09:00:00Z")));
    let app = start(settings(dir.path(), &gateway), clock.clone(), &gateway).await;
    let press = app.staff("presse", &["press_office"]).await.unwrap();
    let anna = gateway.citizen("ANNA2026").await;

    // The privacy notice comes first and says what Threema means for the citizen.
    let notice = agree(&anna).await;
    assert!(
        notice
            .text
            .contains("Dieser Threema-Chat ist Ende-zu-Ende-verschlüsselt")
            && notice.text.contains("sieht nur Metadaten"),
        "{}",
        notice.text
    );
    says(&anna, "/abonnieren").await;
    message_containing(&anna, "Sie erhalten jetzt Ankündigungen").await;

    // Act 1: the press office schedules Tuesday 1 December, 17:00–18:00.
    press
        .post(
            "/api/v1/sessions",
            json!({"title": "Bürgersprechstunde", "host": "Oberbürgermeisterin",
                   "starts_at": "2026-12-01T17:00", "ends_at": "2026-12-01T18:00"}),
        )
        .await
        .unwrap();
    let announced = message_containing(&anna, "Neue Sprechstunde").await;
    assert!(
        announced
            .text
            .contains("Dienstag, 1. Dezember 2026, 17:00 Uhr"),
        "{}",
        announced.text
    );

    // Act 2: the session opens and the citizen asks live.
    clock.set(at("2026-12-01T16:00:00Z"));
    app.office().tick().await.unwrap();
    let question = unique("THREEMA-QUESTION");
    says(&anna, &question).await;
    let ack = message_containing(&anna, "eingegangen").await;
    assert!(
        ack.text
            .contains("Sie sind an Position 1 der Warteschlange"),
        "{}",
        ack.text
    );
    assert!(
        ack.text.contains("/status – "),
        "Threema has no buttons: the choices are written out: {}",
        ack.text
    );
    let reference = reference_in(&ack.text);
    let staff = app
        .staff("buergerreferat", &["citizens_office"])
        .await
        .unwrap();
    let detail = staff
        .get(&format!("/api/v1/questions/{reference}"))
        .await
        .unwrap();
    assert_eq!(detail["channel"], "threema", "{detail}");
    assert_eq!(detail["queue"], "live", "{detail}");

    // Act 3: staff answer; the answer arrives on Threema and the app reports it read.
    let answer = unique("THREEMA-ANSWER");
    staff.answer(&reference, &answer).await.unwrap();
    let answered = message_containing(&anna, &answer).await;
    assert!(answered.delivery_receipts_requested);
    let status = anna
        .send_delivery_receipt(2, std::slice::from_ref(&answered.message_id))
        .await;
    assert_eq!(status, 200);
    let answer_text = answer.clone();
    wait_for_state(&app, "the read receipt on the answer", move |s| {
        s.outbox().any(|m| {
            m.text.contains(&answer_text)
                && m.confirmed
                    .is_some_and(|c| c.receipt == sprechstunde_core::DeliveryReceipt::Read)
        })
    })
    .await;
    let shown = entries(&staff, &reference).await;
    let delivery = shown
        .iter()
        .find(|e| e["kind"] == "answer")
        .map(|e| e["delivery"].clone())
        .unwrap();
    assert_eq!(delivery["state"], "delivered", "{delivery}");
    assert_eq!(delivery["receipt"], "read", "{delivery}");
    // The statistics count the messages sent over Threema (each cost a credit) that are
    // still stored: the notice, the subscription reply, the announcement, the
    // acknowledgement, the answer — not the thanks for agreeing, forgotten once delivered.
    let stats = staff.get("/api/v1/stats").await.unwrap();
    let threema = stats["stats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["dimension"] == "channel" && f["key"] == "threema")
        .cloned()
        .unwrap();
    assert_eq!(threema["questions"], 1, "{threema}");
    assert_eq!(anna.inbox().len(), 6);
    assert_eq!(threema["messages_sent"], 5, "{threema}");

    // Act 4: the citizen gets their data, then erases it.
    says(&anna, "/meinedaten").await;
    let export = message_containing(&anna, "Ihre bei uns gespeicherten Daten").await;
    assert!(
        export.text.contains(&question) && export.text.contains(&answer),
        "{}",
        export.text
    );
    says(&anna, "/loeschen").await;
    let prompt = message_containing(&anna, "wirklich").await;
    assert!(
        prompt.text.contains("/loeschen bestaetigen"),
        "{}",
        prompt.text
    );
    says(&anna, "/loeschen bestaetigen").await;
    message_containing(&anna, "Alle Ihre Daten wurden gelöscht").await;
    wait_for_state(&app, "the citizen forgotten", |s| {
        s.citizens().count() == 0 && s.questions().count() == 0
    })
    .await;

    // Assert: nothing of the citizen is left in the data directory — not the question, not
    // the answer, not the Threema ID; the pseudonym key's control (a staff login) is found.
    app.stop().await.unwrap();
    let (files, bytes) = scan(dir.path());
    assert!(files > 3 && found(&bytes, "buergerreferat"));
    for seeded in [question.as_str(), answer.as_str(), "ANNA2026"] {
        assert!(!found(&bytes, seeded), "still on disk: {seeded}");
    }
    // The citizen's public key was looked up once for all these messages.
    assert_eq!(gateway.pubkey_lookups(), 1);
}

#[tokio::test]
async fn a_wrong_mac_a_replayed_callback_and_an_undecryptable_box_are_refused_and_stored_nowhere() {
    // Arrange: a citizen who agreed and asked once.
    let gateway = Gateway::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start(
        settings(dir.path(), &gateway),
        Arc::new(SystemClock),
        &gateway,
    )
    .await;
    let ben = gateway.citizen("BEN02026").await;
    agree(&ben).await;
    says(&ben, "Wann öffnet das Bürgerbüro?").await;
    message_containing(&ben, "eingegangen").await;
    let before = question_count(&app).await;
    let forged = unique("FORGED");
    let sends = gateway.accepted_sends();

    // Act
    let replayed = gateway.replay_last_callback().await;
    let wrong_mac = ben.send_text_with_mac(&forged, "not-the-secret").await;
    let garbage = gateway
        .post_callback_raw("from=BEN02026&to=*SPRECH1&box=00".to_owned())
        .await;
    let undecryptable = ben.send_undecryptable().await;
    let asked_again = message_containing(&ben, "konnte nicht entschlüsselt werden").await;
    let undecryptable_again = ben.send_undecryptable().await;

    // Assert
    assert_eq!(wrong_mac, 401, "a wrong MAC is refused");
    assert_eq!(garbage, 401, "a callback without a MAC is refused");
    assert_eq!(
        replayed, 200,
        "a replay is answered like the Gateway's retry"
    );
    assert_eq!(undecryptable, 400);
    assert_eq!(undecryptable_again, 400);
    assert!(
        asked_again.text.contains("noch einmal"),
        "{}",
        asked_again.text
    );
    assert_eq!(question_count(&app).await, before);
    let texts = app
        .office()
        .read(|s, _, _| {
            s.questions()
                .flat_map(|q| q.entries.iter().map(|e| e.text.clone()))
                .collect::<Vec<_>>()
        })
        .await;
    assert_eq!(
        texts.iter().filter(|t| t.contains("Bürgerbüro")).count(),
        1,
        "the replayed message counts once: {texts:?}"
    );
    // Only the one notice went out: the replay got no second acknowledgement, and the
    // second undecryptable box no second notice.
    assert_eq!(gateway.accepted_sends(), sends + 1);
    app.stop().await.unwrap();
    let (_, bytes) = scan(dir.path());
    assert!(
        !found(&bytes, &forged),
        "the forged text is nowhere on disk"
    );
}

#[tokio::test]
async fn an_outage_of_the_gateway_delays_the_answer_and_then_delivers_it_once() {
    // Arrange
    let gateway = Gateway::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = settings(dir.path(), &gateway);
    // Retries every second, so the test does not wait for minutes.
    config.outbox.retry_base_seconds = 1;
    config.outbox.retry_max_seconds = 1;
    let app = start(config, Arc::new(SystemClock), &gateway).await;
    let cem = gateway.citizen("CEM02026").await;
    agree(&cem).await;
    says(&cem, "Ist der Wertstoffhof samstags geöffnet?").await;
    let reference = reference_in(&message_containing(&cem, "eingegangen").await.text);
    let staff = app
        .staff("buergerreferat", &["citizens_office"])
        .await
        .unwrap();

    // Act: the Gateway fails while the answer is sent; it comes back after two failed tries.
    gateway.set_outage(true);
    let sends = gateway.accepted_sends();
    staff
        .answer(&reference, "Samstags von 9 bis 14 Uhr.")
        .await
        .unwrap();
    let reference_for_check = reference.clone();
    wait_for_state(&app, "two failed attempts", move |s| {
        s.outbox().any(|m| {
            m.text.contains("Samstags von 9")
                && matches!(
                    m.state,
                    sprechstunde_core::DeliveryState::Pending { attempts, .. } if attempts >= 2
                )
                && s.question(m.question.unwrap())
                    .is_some_and(|q| q.reference.to_string() == reference_for_check)
        })
    })
    .await;
    // The citizen asks back while the Gateway is down: taken in (their key is known), its
    // acknowledgement waits in the outbox behind the answer.
    says(&cem, "Und an Feiertagen?").await;
    let during = cem.inbox().len();
    gateway.set_outage(false);
    let answer = message_containing(&cem, "Samstags von 9 bis 14 Uhr.").await;
    let added = message_containing(&cem, "Ihre Rückfrage").await;

    // Assert: both arrive, in order, once each.
    assert!(added.text.contains(&reference), "{}", added.text);
    assert!(!answer.text.is_empty());
    wait_for_state(&app, "the outbox empty", |s| {
        s.pending_outbox().count() == 0
    })
    .await;
    let count = |needle: &str| {
        cem.inbox()
            .iter()
            .filter(|m| m.text.contains(needle))
            .count()
    };
    assert_eq!(count("Samstags von 9"), 1, "the answer once");
    assert_eq!(count("Ihre Rückfrage"), 1, "the acknowledgement once");
    assert_eq!(cem.inbox().len(), during + 2);
    assert_eq!(gateway.accepted_sends(), sends + 2);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn admins_see_the_remaining_credits_and_without_credits_messages_wait_in_the_outbox() {
    // Arrange: a Gateway with few credits, below the warning threshold.
    let gateway = Gateway::start().await;
    gateway.set_credits(120);
    let dir = tempfile::tempdir().unwrap();
    let mut config = settings(dir.path(), &gateway);
    config.threema.credits_warn_below = 200;
    config.metrics.token = Some("metrics-token-0123456789".to_owned());
    config.outbox.retry_base_seconds = 1;
    config.outbox.retry_max_seconds = 1;
    let app = start(config, Arc::new(SystemClock), &gateway).await;
    let admin = app.staff("admin", &["admin"]).await.unwrap();
    let clerk = app
        .staff("buergerreferat", &["citizens_office"])
        .await
        .unwrap();

    // Act 1: what administrators see.
    let channels = admin.get("/api/v1/channels").await.unwrap();
    let (refused, _) = clerk
        .request(reqwest::Method::GET, "/api/v1/channels", None)
        .await
        .unwrap();

    // Assert 1
    assert_eq!(
        channels["channels"][0],
        json!({"channel": "threema", "credits": 120, "credits_warn_below": 200,
               "credits_low": true}),
        "{channels}"
    );
    assert_eq!(refused, 403);
    let scraped = reqwest::Client::new()
        .get(format!("{}/metrics", app.base))
        .bearer_auth("metrics-token-0123456789")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        scraped.contains("\nsprechstunde_threema_credits 120\n"),
        "{scraped}"
    );

    // Act 2: the credits run out; a citizen's acknowledgement waits, then goes out once the
    // credits are topped up.
    gateway.set_credits(0);
    let dora = gateway.citizen("DORA2026").await;
    says(&dora, "/einverstanden").await;
    wait_for_state(&app, "a failed attempt for lack of credits", |s| {
        s.outbox().any(|m| {
            matches!(&m.state, sprechstunde_core::DeliveryState::Pending { last_error: Some(e), .. }
                if e.contains("no credits"))
        })
    })
    .await;
    assert!(dora.inbox().is_empty());
    gateway.set_credits(50);
    let notice = message_containing(&dora, "Sind Sie einverstanden?").await;

    // Assert 2
    assert!(!notice.text.is_empty());
    assert_eq!(gateway.credits(), 49, "one credit for one message");
    app.stop().await.unwrap();
}
