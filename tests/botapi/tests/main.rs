//! The emulator against the published Bot API semantics, over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::{Value, json};
use sprechstunde_botapi_emulator::{Emulator, TestUser};

async fn call(emu: &Emulator, method: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/bot{}/{method}", emu.api_url(), emu.token()))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn get_me_returns_the_full_user_and_a_wrong_token_is_unauthorized() {
    let emu = Emulator::start().await;

    let (status, me) = call(&emu, "getMe", json!({})).await;
    let wrong = reqwest::get(format!("{}/bot123:wrong/getMe", emu.api_url()))
        .await
        .unwrap();
    let wrong_status = wrong.status().as_u16();
    let wrong_body: Value = wrong.json().await.unwrap();

    assert_eq!(status, 200);
    assert_eq!(me["ok"], true);
    assert_eq!(me["result"]["is_bot"], true);
    for field in [
        "id",
        "first_name",
        "username",
        "can_join_groups",
        "can_read_all_group_messages",
        "supports_inline_queries",
    ] {
        assert!(me["result"].get(field).is_some(), "{field} missing: {me}");
    }
    assert_eq!(wrong_status, 401);
    assert_eq!(
        wrong_body,
        json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
    );
}

#[tokio::test]
async fn get_updates_forgets_what_an_offset_confirms_and_honours_the_limit() {
    let emu = Emulator::start().await;
    let first = emu.user_says(1, &TestUser::de("Anna"), "eins");
    emu.user_says(2, &TestUser::de("Bert"), "zwei");
    emu.user_says(3, &TestUser::de("Cem"), "drei");

    let (_, limited) = call(&emu, "getUpdates", json!({"limit": 2})).await;
    let (_, again) = call(&emu, "getUpdates", json!({})).await;
    let (_, confirmed) = call(&emu, "getUpdates", json!({"offset": first + 2})).await;
    let (_, forgotten) = call(&emu, "getUpdates", json!({"offset": first})).await;

    let ids = |v: &Value| -> Vec<i64> {
        v["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["update_id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids(&limited), vec![first, first + 1]);
    assert_eq!(
        ids(&again),
        vec![first, first + 1, first + 2],
        "unconfirmed updates come again"
    );
    assert_eq!(ids(&confirmed), vec![first + 2]);
    assert_eq!(
        ids(&forgotten),
        vec![first + 2],
        "confirmed updates are gone for good"
    );
    assert_eq!(confirmed["result"][0]["message"]["text"], "drei");
    assert_eq!(confirmed["result"][0]["message"]["chat"]["type"], "private");
}

#[tokio::test]
async fn a_long_poll_returns_as_soon_as_an_update_arrives() {
    let emu = std::sync::Arc::new(Emulator::start().await);
    let started = std::time::Instant::now();
    let poll = {
        let emu = emu.clone();
        tokio::spawn(async move { call(&emu, "getUpdates", json!({"timeout": 20})).await })
    };
    emu.wait_for_waiting_poll(Duration::from_secs(5))
        .await
        .unwrap();

    emu.user_says(5, &TestUser::en("Eve"), "hello");
    let (status, body) = poll.await.unwrap();

    assert_eq!(status, 200);
    assert_eq!(body["result"].as_array().unwrap().len(), 1);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_long_poll_without_updates_answers_empty_after_its_timeout() {
    let emu = Emulator::start().await;
    let started = std::time::Instant::now();

    let (status, body) = call(&emu, "getUpdates", json!({"timeout": 1})).await;

    assert_eq!(status, 200);
    assert_eq!(body["result"], json!([]));
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn send_message_enforces_one_per_second_per_chat_with_retry_after() {
    let emu = Emulator::start().await;
    emu.user_says(7, &TestUser::de("Anna"), "Hallo");

    let (s1, first) = call(&emu, "sendMessage", json!({"chat_id": 7, "text": "eins"})).await;
    let (s2, second) = call(&emu, "sendMessage", json!({"chat_id": 7, "text": "zwei"})).await;
    let (s3, unknown) = call(&emu, "sendMessage", json!({"chat_id": 8, "text": "wer?"})).await;
    let (s4, empty) = call(&emu, "sendMessage", json!({"chat_id": 7, "text": ""})).await;

    assert_eq!(s1, 200);
    assert_eq!(first["result"]["text"], "eins");
    assert_eq!(first["result"]["chat"]["id"], 7);
    assert_eq!(first["result"]["from"]["is_bot"], true);
    assert_eq!(s2, 429);
    assert_eq!(second["error_code"], 429);
    assert_eq!(second["parameters"]["retry_after"], 1);
    assert_eq!(s3, 400);
    assert_eq!(unknown["description"], "Bad Request: chat not found");
    assert_eq!(s4, 400);
    assert_eq!(empty["ok"], false);
    assert_eq!(emu.count_429(), 1);
    assert_eq!(emu.sent(7).len(), 1);
}

#[tokio::test]
async fn send_message_allows_thirty_per_second_overall() {
    let emu = Emulator::start().await;
    for chat in 1..=31 {
        emu.user_says(chat, &TestUser::de("X"), "Hallo");
    }

    let mut statuses = Vec::new();
    for chat in 1..=31 {
        statuses.push(
            call(
                &emu,
                "sendMessage",
                json!({"chat_id": chat, "text": "Antwort"}),
            )
            .await
            .0,
        );
    }

    assert!(statuses[..30].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(statuses[30], 429);
}

#[tokio::test]
async fn a_blocked_chat_answers_403_and_form_bodies_work() {
    let emu = Emulator::start().await;
    emu.user_says(9, &TestUser::de("Anna"), "Hallo");
    emu.block(9);

    let response = reqwest::Client::new()
        .post(format!("{}/bot{}/sendMessage", emu.api_url(), emu.token()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("chat_id=9&text=Hallo+Welt")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status().as_u16(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["description"],
        "Forbidden: bot was blocked by the user"
    );
}

#[tokio::test]
async fn commands_are_kept_per_language_code() {
    let emu = Emulator::start().await;

    call(
        &emu,
        "setMyCommands",
        json!({"commands": [{"command": "hilfe", "description": "So geht es"}]}),
    )
    .await;
    call(&emu, "setMyCommands", json!({"commands": [{"command": "help", "description": "How it works"}], "language_code": "en"})).await;
    let (_, en) = call(&emu, "getMyCommands", json!({"language_code": "en"})).await;
    let (bad, _) = call(
        &emu,
        "setMyCommands",
        json!({"commands": [{"command": "Hilfe!", "description": "x"}]}),
    )
    .await;

    assert_eq!(
        emu.commands(""),
        vec![("hilfe".to_owned(), "So geht es".to_owned())]
    );
    assert_eq!(en["result"][0]["command"], "help");
    assert_eq!(bad, 400);
}

#[tokio::test]
async fn a_webhook_receives_updates_with_the_secret_until_it_answers_200() {
    use axum::http::{HeaderMap, StatusCode};
    let emu = Emulator::start().await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let refusals = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(1));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::Json<Value>| {
            let tx = tx.clone();
            let refusals = refusals.clone();
            async move {
                if refusals.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) > 0 {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                let secret = headers
                    .get(sprechstunde_botapi_emulator::SECRET_HEADER)
                    .map(|v| v.to_str().unwrap().to_owned());
                tx.send((secret, body.0)).unwrap();
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let (plain, _) = call(
        &emu,
        "setWebhook",
        json!({"url": "http://example.org/hook"}),
    )
    .await;
    let (status, _) = call(
        &emu,
        "setWebhook",
        json!({"url": "https://bot.example.org/hook", "secret_token": "s3cret-token"}),
    )
    .await;
    emu.route_webhooks_to(&origin);
    let (conflict, _) = call(&emu, "getUpdates", json!({})).await;
    let id = emu.user_says(11, &TestUser::de("Anna"), "per Webhook");
    let (secret, update) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    emu.wait_until("queue drained", Duration::from_secs(5), |e| {
        (e.pending_updates() == 0).then_some(())
    })
    .await
    .unwrap();

    assert_eq!(plain, 400, "webhooks need https");
    assert_eq!(status, 200);
    assert_eq!(conflict, 409);
    assert_eq!(secret.as_deref(), Some("s3cret-token"));
    assert_eq!(update["update_id"], id);
}

#[tokio::test]
async fn a_cut_off_answer_is_broken_json_and_the_next_answer_is_whole_again() {
    let emu = Emulator::start().await;
    let update = emu.user_says(9, &TestUser::de("Anna"), "Frage zum Parkausweis");
    emu.cut_off_answers("getUpdates", 1);
    emu.cut_off_answers("sendMessage", 1);
    let raw = |method: &'static str, body: Value| {
        let url = format!("{}/bot{}/{method}", emu.api_url(), emu.token());
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };

    let (updates_status, cut_updates) = raw("getUpdates", json!({})).await;
    let (_, again) = call(&emu, "getUpdates", json!({})).await;
    let (sent_status, cut_sent) =
        raw("sendMessage", json!({"chat_id": 9, "text": "Antwort"})).await;
    let sent_after_cut = emu.sent(9).len();

    assert_eq!(updates_status, 200);
    assert!(
        serde_json::from_str::<Value>(&cut_updates).is_err(),
        "{cut_updates}"
    );
    assert!(
        cut_updates.contains("Frage zum Parkausweis"),
        "{cut_updates}"
    );
    assert_eq!(
        again["result"][0]["update_id"], update,
        "a cut-off getUpdates confirmed nothing"
    );
    assert_eq!(sent_status, 200);
    assert!(
        serde_json::from_str::<Value>(&cut_sent).is_err(),
        "{cut_sent}"
    );
    assert!(cut_sent.contains("Antwort"), "{cut_sent}");
    assert_eq!(sent_after_cut, 1, "the message was sent all the same");
    assert_eq!(emu.cut_off_served(), 2);
}
