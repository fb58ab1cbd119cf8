//! Departments: admins create and edit them and their routing rules in the console and over
//! the API, and write multi-line text modules that fill in their placeholders.

use super::*;

#[tokio::test]
async fn admins_create_and_edit_departments_and_new_questions_follow_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path()).await;
    let admin = login(&app, "admin", &[Role::Admin], None).await;
    let created = admin
        .post(
            "/api/v1/departments",
            json!({"name": "Ordnungsamt", "slug": "ordnung", "keywords": ["Lärm"],
                   "text_modules": [{"key": "k", "title": "T", "text": "Zu {reference}"}]}),
        )
        .await
        .unwrap();
    assert_eq!(created["id"], 3);
    let (status, body) = admin
        .request(
            Method::PUT,
            "/api/v1/departments/ordnung",
            Some(json!({"name": "Ordnungsamt", "slug": "ordnung", "patterns": ["("]})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = admin
        .request(
            Method::POST,
            "/api/v1/departments",
            Some(json!({"name": "Doppelt", "slug": "tiefbau"})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    admin
        .request(
            Method::PUT,
            "/api/v1/departments/ordnung",
            Some(json!({"name": "Ordnungs- und Bürgeramt", "slug": "ordnung", "keywords": ["Lärm", "Parken"]})),
        )
        .await
        .unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Nachts ist es laut: LÄRM!").await.unwrap();
    let q = admin.get("/api/v1/questions/A-1001").await.unwrap();
    assert_eq!(
        q["suggestion"]["department"]["name"],
        "Ordnungs- und Bürgeramt"
    );
    let listed = admin.get("/api/v1/departments").await.unwrap();
    let slugs: Vec<&str> = listed["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["tiefbau", "bauamt", "ordnung"]);
    citizen.close().await;
    // Departments are durable: they survive a restart (and the configuration does not undo
    // the edit).
    app.stop().await.unwrap();
    let app = start(dir.path()).await;
    let names: Vec<String> = app
        .office()
        .read(|state, _, _| state.departments().map(|d| d.name.clone()).collect())
        .await;
    assert_eq!(
        names,
        ["Tiefbauamt", "Bauordnungsamt", "Ordnungs- und Bürgeramt"]
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn admins_write_multi_line_text_modules_and_inserting_one_fills_reference_session_and_due() {
    use fantoccini::Locator;
    use sprechstunde_tests::browser::Browser;
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    // Arrange: a question asked in a session that was then cancelled, so it has a session
    // and a due date; a second question outside any session.
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path()).await;
    let admin = login(&app, "admin", &[Role::Admin], None).await;
    let now = jiff::Timestamp::now();
    let session = admin
        .post(
            "/api/v1/sessions",
            json!({"title": "Sprechstunde am Markt", "host": "Bürgermeisterin",
                   "starts_at": (now - jiff::SignedDuration::from_mins(1)).to_string(),
                   "ends_at": (now + jiff::SignedDuration::from_hours(1)).to_string()}),
        )
        .await
        .unwrap();
    let id = session["id"].as_u64().unwrap();
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Nachts ist es am Markt laut").await.unwrap();
    admin
        .post(&format!("/api/v1/sessions/{id}/cancel"), json!({}))
        .await
        .unwrap();
    let mut other = app.citizen().await.unwrap();
    other.ask("Wann kommt die Müllabfuhr?").await.unwrap();
    let me = admin.get("/api/v1/me").await.unwrap();
    admin
        .post(
            "/api/v1/questions/A-1002/assign",
            json!({"staff": me["staff"]["id"]}),
        )
        .await
        .unwrap();
    let client = browser.client();
    browser
        .log_in_staff(&app.base, "admin", PASSWORD)
        .await
        .unwrap();
    browser
        .wait_for("#queue tr[data-reference='A-1002']")
        .await
        .unwrap();

    // The session filter narrows the queue to the session's question.
    browser
        .wait_for(&format!("#filter-session option[value='{id}']"))
        .await
        .unwrap();
    client
        .find(Locator::Css("#filter-session"))
        .await
        .unwrap()
        .select_by_value(&id.to_string())
        .await
        .unwrap();
    browser
        .wait_for_text("#queue-caption", "(1)")
        .await
        .unwrap();
    browser
        .wait_for("#queue tr[data-reference='A-1001']")
        .await
        .unwrap();
    assert_accessible(&browser, "queue with the new filters").await;
    // The assignee filter: back to every session, only the questions assigned to me.
    client
        .find(Locator::Css("#filter-session"))
        .await
        .unwrap()
        .select_by_value("")
        .await
        .unwrap();
    browser
        .wait_for_text("#queue-caption", "(2)")
        .await
        .unwrap();
    client
        .find(Locator::Css("#filter-assignee"))
        .await
        .unwrap()
        .select_by_value("me")
        .await
        .unwrap();
    browser
        .wait_for_text("#queue-caption", "(1)")
        .await
        .unwrap();
    let shown = client
        .execute(
            "return [...document.querySelectorAll('#queue-body tr[data-reference]')]\
             .map((tr) => tr.dataset.reference)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(shown, json!(["A-1002"]));

    // Act: add a module whose text has two lines to the road works office.
    client
        .goto(&format!("{}/staff#/departments", app.base))
        .await
        .unwrap();
    browser
        .wait_for("button.department-edit[data-slug='tiefbau']")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for("#d-module-list .module-item .module-key")
        .await
        .unwrap();
    browser.click("#d-module-add").await.unwrap();
    let block = "#d-module-list .module-item:last-child";
    browser
        .wait_for(&format!("{block} .module-key"))
        .await
        .unwrap()
        .send_keys("laerm")
        .await
        .unwrap();
    browser
        .type_into(&format!("{block} .module-title"), "Lärm")
        .await
        .unwrap();
    browser
        .type_into(
            &format!("{block} .module-text"),
            "Zu Ihrem Anliegen {reference} aus der {session}:\nWir melden uns bis {due}.",
        )
        .await
        .unwrap();
    assert_accessible(&browser, "department editor with text modules").await;
    browser.click("#department-submit").await.unwrap();
    browser
        .wait_for_text("#departments-status", "gespeichert")
        .await
        .unwrap();
    let listed = admin.get("/api/v1/departments").await.unwrap();
    let modules = listed["departments"][0]["text_modules"].clone();
    assert_eq!(modules.as_array().unwrap().len(), 2, "{modules}");
    assert_eq!(
        modules[1]["text"],
        "Zu Ihrem Anliegen {reference} aus der {session}:\nWir melden uns bis {due}.",
        "{modules}"
    );

    // Insert it into the answer box of the session's question, routed there.
    admin
        .post(
            "/api/v1/questions/A-1001/route",
            json!({"department": "tiefbau"}),
        )
        .await
        .unwrap();
    client
        .goto(&format!("{}/staff#/questions/A-1001", app.base))
        .await
        .unwrap();
    browser
        .wait_for("#text-module option[value='laerm']")
        .await
        .unwrap();
    client
        .find(Locator::Css("#text-module"))
        .await
        .unwrap()
        .select_by_value("laerm")
        .await
        .unwrap();
    let inserted = client
        .execute(
            "return document.getElementById('answer-text').value",
            vec![],
        )
        .await
        .unwrap();

    // Assert: the placeholders are filled as the server renders them, line break kept.
    let rendered = admin
        .get("/api/v1/questions/A-1001/text-modules")
        .await
        .unwrap();
    let expected = rendered["text_modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "laerm")
        .unwrap()["text"]
        .clone();
    assert_eq!(inserted, expected);
    let inserted = inserted.as_str().unwrap();
    assert!(
        inserted.starts_with(
            "Zu Ihrem Anliegen A-1001 aus der Sprechstunde am Markt:\nWir melden uns bis "
        ),
        "{inserted}"
    );
    assert!(!inserted.contains('{'), "{inserted}");
    let due = admin.get("/api/v1/questions/A-1001").await.unwrap()["due"].clone();
    let year = &due.as_str().unwrap()[..4];
    assert!(inserted.contains(year), "{inserted} / due {due}");

    citizen.close().await;
    other.close().await;
    browser.close().await.unwrap();
    app.stop().await.unwrap();
}
