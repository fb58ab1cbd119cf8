//! Per-citizen flood limits in the web chat and on Telegram: the excess is refused politely,
//! nothing of it is stored, and a chat gets one notice per flood.

use std::sync::Arc;

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use sprechstunde_botapi_emulator::{Emulator, TestUser};
use sprechstunde_runtime::{ManualClock, SystemClock};
use sprechstunde_tests::app::{TestApp, test_settings};
use sprechstunde_tests::telegram::polling_settings;

/// Long enough for the Telegram round trips.
const WAIT: Duration = Duration::from_secs(60);

/// The citizens' texts in the questions (not the office's).
async fn stored_texts(app: &TestApp) -> Vec<String> {
    app.office()
        .read(|state, _, _| {
            state
                .questions()
                .flat_map(|q| q.entries.iter())
                .filter(|e| e.kind == sprechstunde_core::EntryKind::Citizen)
                .map(|e| e.text.clone())
                .collect()
        })
        .await
}

#[tokio::test]
async fn a_flooding_web_citizen_is_refused_politely_and_nothing_of_the_excess_is_stored() {
    // Arrange: four messages a minute; agreeing to the privacy notice is the first of them.
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.limits.citizen_messages = 4;
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let app = TestApp::start_with(settings, clock.clone()).await.unwrap();
    let mut citizen = app.citizen().await.unwrap();
    for i in 0..3 {
        citizen
            .ask(&format!("Teil {i} meiner Frage"))
            .await
            .unwrap();
    }

    // Act
    let mut refusals = Vec::new();
    for i in 0..4 {
        let id = citizen.send(&format!("Überzählig {i}")).await.unwrap();
        refusals.push(
            citizen
                .wait_for(|f| f["client_id"] == id.as_str())
                .await
                .unwrap(),
        );
    }

    // Assert
    for frame in &refusals {
        assert_eq!(frame["type"], "error", "{frame}");
        assert_eq!(frame["code"], "flooded", "{frame}");
        assert!(
            frame["message"]
                .as_str()
                .unwrap()
                .starts_with("Sie haben in kurzer Zeit sehr viele Nachrichten geschickt."),
            "{frame}"
        );
    }
    let texts = stored_texts(&app).await;
    assert!(!texts.iter().any(|t| t.contains("Überzählig")), "{texts:?}");
    assert_eq!(texts.len(), 3);

    // A minute later the citizen is heard again.
    clock.advance(SignedDuration::from_secs(61));
    citizen.ask("Und noch ein Nachtrag").await.unwrap();
    assert_eq!(stored_texts(&app).await.len(), 4);
    println!(
        "flood limit (web chat): 3 admitted, {} refused, 0 of them stored",
        refusals.len()
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_flooding_telegram_chat_gets_exactly_one_notice_and_nothing_of_the_excess_is_stored() {
    // Arrange
    let emulator = Emulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = polling_settings(dir.path(), &emulator);
    // Five messages a minute; agreeing to the privacy notice takes the first two of them
    // (consent counts only once the notice is shown: the first `/einverstanden` brings it).
    settings.limits.citizen_messages = 5;
    let app = TestApp::start_with(settings, Arc::new(SystemClock))
        .await
        .unwrap();
    let user = TestUser::de("Flora");
    sprechstunde_tests::telegram::agree(&emulator, 4001, &user).await;

    // Act: ten messages at once.
    for i in 0..10 {
        emulator.user_says(4001, &user, &format!("Nachricht Nummer {i}"));
    }
    emulator
        .wait_for_sent(4001, WAIT, |m| m.text.contains("sehr viele Nachrichten"))
        .await
        .unwrap();
    // Every update is taken and the bot is back waiting for more: all ten are handled.
    emulator
        .wait_until("all updates handled", WAIT, |e| {
            (e.pending_updates() == 0 && e.polls_waiting() > 0).then_some(())
        })
        .await
        .unwrap();

    // Assert
    let texts = stored_texts(&app).await;
    assert_eq!(
        texts,
        [
            "Nachricht Nummer 0",
            "Nachricht Nummer 1",
            "Nachricht Nummer 2"
        ],
        "only the admitted messages are stored"
    );
    let sent = emulator.sent(4001);
    let notices = sent
        .iter()
        .filter(|m| m.text.contains("sehr viele Nachrichten"))
        .count();
    assert_eq!(notices, 1, "one notice for the whole flood");
    println!(
        "flood limit (Telegram): 10 sent, 3 stored, {} replies of which {notices} flood notice",
        sent.len()
    );
    app.stop().await.unwrap();
}

/// Questions and citizen records in the office.
async fn stored_counts(app: &TestApp) -> (usize, usize) {
    app.office()
        .read(|state, _, _| (state.questions().count(), state.citizens().count()))
        .await
}

fn loopback(last: u8) -> std::net::IpAddr {
    std::net::IpAddr::from([127, 0, 0, last])
}

/// One new conversation from `from`: hello without a token, a question, and agreeing to the
/// notice. The answer to the question (`held` or `error`).
async fn new_conversation(app: &TestApp, from: std::net::IpAddr, xff: Option<&str>) -> Value {
    let mut ws = sockets::open(app.addr, from, xff).await;
    assert_eq!(sockets::hello(&mut ws, None).await["type"], "welcome");
    let answer = sockets::message(&mut ws, "q", "Wann kommt der Bus?").await;
    if answer["type"] != "error" {
        sockets::message(&mut ws, "a", "/einverstanden").await;
    }
    let _ = ws.close(None).await;
    answer
}

use super::sockets;
use serde_json::Value;

#[tokio::test]
async fn one_socket_renewing_its_token_is_refused_as_flooded_and_its_excess_is_not_stored() {
    // Arrange: the default limits of one connection (every test client comes from
    // 127.0.0.1, so only the per-connection limit is on here).
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let mut ws = sockets::open(app.addr, loopback(1), None).await;

    // Act: the attack of issue 13: hello with a fresh token, a question, consent; 200 times.
    let mut held = 0;
    let mut refused = 0;
    for i in 0..200 {
        let welcome = sockets::hello(&mut ws, None).await;
        if welcome["type"] == "error" {
            assert_eq!(welcome["code"], "flooded", "{welcome}");
            refused += 1;
            continue;
        }
        let answer = sockets::message(&mut ws, &format!("q{i}"), &format!("Frage {i}")).await;
        match answer["type"].as_str() {
            Some("error") => {
                assert_eq!(answer["code"], "flooded", "{answer}");
                refused += 1;
                continue;
            }
            _ => held += 1,
        }
        let consent = sockets::message(&mut ws, &format!("a{i}"), "/einverstanden").await;
        if consent["type"] == "error" {
            assert_eq!(consent["code"], "flooded", "{consent}");
        }
    }

    // Assert: a minute's worth of one connection (30 frames = 10 rounds of three), not 200.
    let (questions, citizens) = stored_counts(&app).await;
    assert!(questions <= 10, "{questions} questions stored");
    assert!(citizens <= 10, "{citizens} citizen records");
    assert!(refused >= 180, "{refused} refused");
    println!(
        "token rotation on one socket: 200 rounds, {held} taken, {refused} refused, \
         {questions} questions and {citizens} citizen records stored"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn new_conversations_are_limited_per_client_address_and_other_addresses_go_on() {
    // Arrange: three new conversations a minute per address.
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.limits.address_new_conversations_per_minute = 3;
    let app = TestApp::start_with(settings, Arc::new(SystemClock))
        .await
        .unwrap();

    // Act: five fresh sockets from one address, then one from another.
    let mut answers = Vec::new();
    for _ in 0..5 {
        answers.push(new_conversation(&app, loopback(2), None).await);
    }
    let other = new_conversation(&app, loopback(3), None).await;

    // Assert
    let kinds: Vec<_> = answers.iter().map(|a| a["type"].clone()).collect();
    assert_eq!(
        kinds,
        ["held", "held", "held", "error", "error"],
        "{answers:?}"
    );
    assert_eq!(answers[3]["code"], "flooded");
    assert_eq!(other["type"], "held", "{other}");
    assert_eq!(
        stored_counts(&app).await,
        (4, 4),
        "nothing of the refused is stored"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_ceiling_on_new_conversations_holds_across_client_addresses() {
    // Arrange: per address unlimited, four new conversations a minute in total.
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.limits.new_conversations_per_minute = 4;
    let app = TestApp::start_with(settings, Arc::new(SystemClock))
        .await
        .unwrap();

    // Act: six addresses, one new conversation each.
    let mut answers = Vec::new();
    for last in 10..16 {
        answers.push(new_conversation(&app, loopback(last), None).await["type"].clone());
    }

    // Assert
    assert_eq!(answers, ["held", "held", "held", "held", "error", "error"]);
    assert_eq!(stored_counts(&app).await, (4, 4));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_forwarded_client_address_counts_only_when_a_trusted_proxy_sent_it() {
    // Arrange: two new conversations a minute per address, behind a proxy at 127.0.0.1
    // (trusted) and, on the second server, with a proxy elsewhere (so 127.0.0.1 is not one).
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.limits.address_new_conversations_per_minute = 2;
    settings.limits.client_address_header = "x-forwarded-for".into();
    settings.limits.trusted_proxies = vec!["127.0.0.1".into()];
    let behind_proxy = TestApp::start_with(settings.clone(), Arc::new(SystemClock))
        .await
        .unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    settings.server.data_dir = other_dir.path().to_owned();
    settings.limits.trusted_proxies = vec!["10.0.0.1".into()];
    let direct = TestApp::start_with(settings, Arc::new(SystemClock))
        .await
        .unwrap();

    // Act: through the trusted proxy, three clients of one address and one of another; to
    // the other server, a client that claims a new address every time.
    let mut proxied = Vec::new();
    for xff in ["203.0.113.1", "203.0.113.1", "203.0.113.1", "203.0.113.2"] {
        proxied.push(new_conversation(&behind_proxy, loopback(1), Some(xff)).await["type"].clone());
    }
    let mut spoofed = Vec::new();
    for xff in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        spoofed.push(new_conversation(&direct, loopback(1), Some(xff)).await["type"].clone());
    }

    // Assert
    assert_eq!(proxied, ["held", "held", "error", "held"]);
    assert_eq!(
        spoofed,
        ["held", "held", "error"],
        "the header of an untrusted peer is ignored"
    );
    direct.stop().await.unwrap();
    behind_proxy.stop().await.unwrap();
}
