//! Department membership while the server runs: admins list the staff and move members
//! between departments over the API and in the console; the moved member's next request is
//! scoped to the new department.

use super::*;

#[tokio::test]
async fn an_admin_moves_a_department_member_and_their_next_request_sees_only_the_new_departments_questions()
 {
    // Arrange: a road works member; one question routed to each department.
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path()).await;
    let admin = login(&app, "admin", &[Role::Admin], None).await;
    let office = login(&app, "br", &[Role::CitizensOffice], None).await;
    let mover = login(&app, "mover", &[Role::Department], Some(1)).await;
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Schlagloch in der Hauptstrasse").await.unwrap();
    let mut builder = app.citizen().await.unwrap();
    builder.ask("Mein Bauantrag dauert").await.unwrap();
    for (reference, dept) in [("A-1001", "tiefbau"), ("A-1002", "bauamt")] {
        office
            .post(
                &format!("/api/v1/questions/{reference}/route"),
                json!({"department": dept}),
            )
            .await
            .unwrap();
    }
    assert_eq!(
        refs(&mover.get("/api/v1/questions").await.unwrap(), "questions"),
        ["A-1001"]
    );
    let staff = admin.get("/api/v1/staff").await.unwrap();
    let listed = staff["staff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["login"] == "mover")
        .unwrap()
        .clone();
    let id = listed["id"].as_u64().unwrap();
    assert_eq!(
        listed,
        json!({"id": id, "login": "mover", "name": "mover (Test)", "roles": ["department"],
               "department": {"slug": "tiefbau", "name": "Tiefbauamt"}, "disabled": false})
    );

    // The road works question is assigned to the member.
    office
        .post("/api/v1/questions/A-1001/assign", json!({"staff": id}))
        .await
        .unwrap();
    let assigned = office.get("/api/v1/questions/A-1001").await.unwrap();
    assert_eq!(assigned["assignee"]["id"], id, "{assigned}");

    // Act
    let (status, moved) = admin
        .request(
            Method::PUT,
            &format!("/api/v1/staff/{id}/department"),
            Some(json!({"department": "bauamt"})),
        )
        .await
        .unwrap();

    // Assert: the answer, then the member's next requests (list, detail, departments).
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["department"]["slug"], "bauamt");
    assert_eq!(
        refs(&mover.get("/api/v1/questions").await.unwrap(), "questions"),
        ["A-1002"]
    );
    let (status, _) = mover
        .request(Method::GET, "/api/v1/questions/A-1001", None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    mover.get("/api/v1/questions/A-1002").await.unwrap();
    // The question the member can no longer open waits on nobody now.
    let stranded = office.get("/api/v1/questions/A-1001").await.unwrap();
    assert!(stranded["assignee"].is_null(), "{stranded}");
    let departments = admin.get("/api/v1/departments").await.unwrap();
    let members = |slug: &str| -> Vec<String> {
        departments["departments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["slug"] == slug)
            .unwrap()["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["login"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(members("bauamt"), ["mover"]);
    assert!(members("tiefbau").is_empty());
    // The change is in the audit trail (route and member; never the body).
    let audit = admin.get("/api/v1/audit?action=department").await.unwrap();
    let entry = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "PUT /api/v1/staff/{id}/department")
        .cloned()
        .unwrap_or_else(|| panic!("no audit entry: {audit}"));
    assert_eq!(entry["object"], format!("id={id}"));
    assert_eq!(entry["login"], "admin");
    assert_eq!(entry["outcome"], "200");
    citizen.close().await;
    builder.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_event_stream_opened_before_a_move_names_the_new_departments_questions() {
    // Arrange: a road works member listens; then the admin moves them to building.
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path()).await;
    let admin = login(&app, "admin", &[Role::Admin], None).await;
    let office = login(&app, "br", &[Role::CitizensOffice], None).await;
    let mover = login(&app, "mover", &[Role::Department], Some(1)).await;
    let id = app
        .office()
        .store()
        .staff_by_login("mover")
        .await
        .unwrap()
        .unwrap()
        .id;
    let mut events = mover
        .http()
        .get(format!("{}/api/v1/events", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    let (status, body) = put(&admin, id.0, json!({"department": "bauamt"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Act: a question is routed to the new department.
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Mein Bauantrag dauert").await.unwrap();
    office
        .post(
            "/api/v1/questions/A-1001/route",
            json!({"department": "bauamt"}),
        )
        .await
        .unwrap();

    // Assert: the open stream names it.
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + sprechstunde_tests::DEADLINE;
    while !seen.contains("A-1001") {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .unwrap_or_else(|_| panic!("no event naming A-1001 before the deadline: {seen}"))
            .unwrap()
            .expect("stream open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    citizen.close().await;
    drop(events);
    app.stop().await.unwrap();
}

/// `PUT /staff/{id}/department` with `body`: the status and the answer.
async fn put(who: &StaffClient, id: u64, body: Value) -> (StatusCode, Value) {
    who.request(
        Method::PUT,
        &format!("/api/v1/staff/{id}/department"),
        Some(body),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn membership_changes_refuse_unknown_slugs_unknown_members_no_department_for_department_staff_and_non_admins()
 {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path()).await;
    let admin = login(&app, "admin", &[Role::Admin], None).await;
    let office = login(&app, "br", &[Role::CitizensOffice], None).await;
    let road = member(&app, "tiefbau", &[Role::Department], Some(1)).await;
    let host = member(&app, "host", &[Role::Host], Some(1)).await;
    // Act and assert: an unknown slug, in German and English.
    let (status, body) = put(&admin, road.0, json!({"department": "gibtsnicht"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("kein Fachamt"), "{message}");
    assert!(message.contains("no department"), "{message}");
    assert!(message.contains("gibtsnicht"), "{message}");
    // Department staff without a department would see nothing.
    let (status, body) = put(&admin, road.0, json!({"department": null})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("department role"),
        "{body}"
    );
    // An empty body does not silently take anybody out of their department.
    let (status, _) = put(&admin, host.0, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = put(&admin, 999, json!({"department": "bauamt"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Non-admins may neither list nor move.
    let (status, _) = office
        .request(Method::GET, "/api/v1/staff", None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = put(&office, host.0, json!({"department": "bauamt"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Nothing above changed anything; a member without the department role may leave.
    let stored = |id: StaffId| {
        let app = &app;
        async move {
            app.office()
                .store()
                .staff_member(id)
                .await
                .unwrap()
                .unwrap()
                .department
        }
    };
    assert_eq!(stored(road).await, Some(DepartmentId(1)));
    assert_eq!(stored(host).await, Some(DepartmentId(1)));
    let (status, body) = put(&admin, host.0, json!({"department": null})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["department"], Value::Null);
    assert_eq!(stored(host).await, None);
    // The list never carries secrets.
    let staff = admin.get("/api/v1/staff").await.unwrap();
    let text = staff.to_string();
    assert!(
        !text.contains("password") && !text.contains("argon2"),
        "{text}"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn admins_add_and_remove_department_members_in_the_console() {
    use fantoccini::Locator;
    use sprechstunde_tests::browser::Browser;
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    // Arrange: a host without a department, a department member of road works.
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path()).await;
    let admin = login(&app, "admin", &[Role::Admin], None).await;
    let host = member(&app, "gastgeberin", &[Role::Host], None).await;
    let road = member(&app, "strasse", &[Role::Department], Some(1)).await;
    let client = browser.client();
    browser
        .log_in_staff(&app.base, "admin", PASSWORD)
        .await
        .unwrap();
    client
        .goto(&format!("{}/staff#/departments", app.base))
        .await
        .unwrap();
    browser
        .wait_for(&format!("#member-add-bauamt option[value='{}']", host.0))
        .await
        .unwrap();
    // Department staff can be moved, not removed.
    browser
        .wait_for(&format!(
            ".members-group[data-slug='tiefbau'] li[data-id='{}']",
            road.0
        ))
        .await
        .unwrap();
    let removable = client
        .find_all(Locator::Css(&format!(
            "button.member-remove[data-id='{}']",
            road.0
        )))
        .await
        .unwrap();
    assert!(removable.is_empty());
    assert_accessible(&browser, "departments with members").await;

    // Act: add the host to the building office.
    client
        .find(Locator::Css("#member-add-bauamt"))
        .await
        .unwrap()
        .select_by_value(&host.0.to_string())
        .await
        .unwrap();
    browser
        .click("button.member-add[data-slug='bauamt']")
        .await
        .unwrap();
    browser
        .wait_for_text("#departments-status", "Bauordnungsamt")
        .await
        .unwrap();

    // Assert: over the API, then remove them again in the console.
    let department_of = |staff: &Value, id: StaffId| -> Value {
        staff["staff"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id.0)
            .unwrap()["department"]
            .clone()
    };
    let staff = admin.get("/api/v1/staff").await.unwrap();
    assert_eq!(department_of(&staff, host)["slug"], "bauamt");
    browser
        .wait_for(&format!("button.member-remove[data-id='{}']", host.0))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("#departments-status", "kein Mitglied")
        .await
        .unwrap();
    let staff = admin.get("/api/v1/staff").await.unwrap();
    assert_eq!(department_of(&staff, host), Value::Null);
    assert_accessible(&browser, "departments after removing a member").await;
    browser.close().await.unwrap();
    app.stop().await.unwrap();
}
