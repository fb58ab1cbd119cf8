//! Triage over HTTP: the route table's access control (walked from the OpenAPI document),
//! department scoping on every question route, four-eyes approval, assignment, hand-back,
//! filters, text modules and statistics; what approvers and moderators see ([`scopes`]); the
//! OpenAPI document against the server's real answers ([`openapi`]).

mod openapi;
mod scopes;

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sprechstunde::settings::DepartmentSettings;
use sprechstunde_core::triage::TextModule;
use sprechstunde_core::{DepartmentId, Permission, Role, StaffId, StaffMember};
use sprechstunde_runtime::SystemClock;
use sprechstunde_tests::app::{TestApp, test_settings};
use sprechstunde_tests::staff::{PASSWORD, StaffClient};

/// A server with two departments: road works (1, no approval) and building (2, approval).
async fn start(dir: &std::path::Path) -> TestApp {
    let mut settings = test_settings(dir);
    settings.departments = vec![
        DepartmentSettings {
            id: 1,
            slug: "tiefbau".into(),
            name: "Tiefbauamt".into(),
            keywords: vec!["Schlagloch".into()],
            patterns: vec![r"\bstra(ß|ss)e\b".into()],
            requires_approval: false,
            text_modules: vec![TextModule {
                key: "eingang".into(),
                title: "Eingang".into(),
                text: "Ihr Anliegen {reference} ist bei uns. Antwort bis {due}.".into(),
            }],
        },
        DepartmentSettings {
            id: 2,
            slug: "bauamt".into(),
            name: "Bauordnungsamt".into(),
            keywords: vec!["Bauantrag".into()],
            patterns: Vec::new(),
            requires_approval: true,
            text_modules: Vec::new(),
        },
    ];
    TestApp::start_with(settings, Arc::new(SystemClock))
        .await
        .unwrap()
}

/// Creates a member with these roles and department directly in the store.
async fn member(app: &TestApp, login: &str, roles: &[Role], department: Option<u64>) -> StaffId {
    let store = app.office().store();
    let id = StaffId(
        store
            .staff()
            .await
            .unwrap()
            .iter()
            .map(|m| m.id.0)
            .max()
            .unwrap_or(0)
            + 1,
    );
    store
        .put_staff(&StaffMember {
            id,
            login: login.into(),
            name: format!("{login} (Test)"),
            roles: roles.iter().copied().collect(),
            department: department.map(DepartmentId),
            password_hash: sprechstunde_console::accounts::hash_password(PASSWORD).unwrap(),
            disabled: false,
            created_at: jiff::Timestamp::now(),
        })
        .await
        .unwrap();
    id
}

async fn login(app: &TestApp, login_name: &str, roles: &[Role], dept: Option<u64>) -> StaffClient {
    member(app, login_name, roles, dept).await;
    StaffClient::login(&app.base, login_name, PASSWORD)
        .await
        .unwrap()
}

/// A bearer token for a new member with these roles.
async fn bearer(app: &TestApp, login: &str, roles: &[Role], department: Option<u64>) -> String {
    let staff = member(app, login, roles, department).await;
    let (id, secret) = sprechstunde_console::accounts::new_token().unwrap();
    app.office()
        .store()
        .put_token(&sprechstunde_core::ApiToken {
            id: id.clone(),
            name: login.into(),
            staff,
            secret_hash: sprechstunde_console::accounts::sha256_hex(&secret),
            created_at: jiff::Timestamp::now(),
            revoked_at: None,
        })
        .await
        .unwrap();
    sprechstunde_console::accounts::format_token(&id, &secret)
}

/// Every operation of the OpenAPI document: (method, path template, permission scopes or
/// `None` for public routes).
fn operations(doc: &Value) -> Vec<(Method, String, Option<BTreeSet<String>>)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let method: Method = method.to_uppercase().parse().expect("method");
            let security = op["security"].as_array().expect("security");
            let scopes = if security.is_empty() {
                None
            } else {
                Some(
                    security
                        .iter()
                        .flat_map(|alt| alt.as_object().expect("alternative").values())
                        .flat_map(|s| s.as_array().expect("scopes").iter())
                        .map(|s| s.as_str().expect("scope").to_owned())
                        .collect(),
                )
            };
            out.push((method, path.clone(), scopes));
        }
    }
    out
}

fn concrete(path: &str, reference: &str) -> String {
    path.replace("{reference}", reference)
        .replace("{id}", "1")
        .replace("{slug}", "tiefbau")
}

async fn call(
    client: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    auth: Option<&str>,
) -> StatusCode {
    let mut request = client.request(method.clone(), format!("{base}{path}"));
    if let Some(token) = auth {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if method != Method::GET {
        request = request.json(&json!({}));
    }
    // Only the status matters; the event stream's body is never read.
    request.send().await.unwrap().status()
}

/// References of the outbox messages a staff member may list (pending, then delivered).
async fn outbox_refs(client: &StaffClient) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    for state in ["pending", "delivered"] {
        let list = client
            .get(&format!("/api/v1/outbox?state={state}"))
            .await
            .unwrap();
        for m in list["messages"].as_array().unwrap() {
            refs.insert(m["reference"].as_str().unwrap_or("-").to_owned());
        }
    }
    refs
}

#[tokio::test]
async fn every_staff_route_refuses_anonymous_callers_and_roles_without_the_permission() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path()).await;
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Ein Schlagloch vor dem Haus").await.unwrap();
    let client = reqwest::Client::new();
    let doc: Value = client
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Every role alone, and department staff who also host (the union of both roles'
    // permissions, within the department scope).
    let mut combinations: Vec<Vec<Role>> = Role::ALL.into_iter().map(|r| vec![r]).collect();
    combinations.push(vec![Role::Department, Role::Host]);
    let mut tokens = Vec::new();
    for roles in combinations {
        let dept = roles.contains(&Role::Department).then_some(1);
        let label = roles
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("+");
        let token = bearer(&app, &format!("role-{label}"), &roles, dept).await;
        let may: BTreeSet<String> = Permission::ALL
            .into_iter()
            .filter(|p| {
                StaffMember {
                    id: StaffId(0),
                    login: String::new(),
                    name: String::new(),
                    roles: roles.iter().copied().collect(),
                    department: None,
                    password_hash: String::new(),
                    disabled: false,
                    created_at: jiff::Timestamp::UNIX_EPOCH,
                }
                .may(*p)
            })
            .map(|p| p.as_str().to_owned())
            .collect();
        tokens.push((label, token, may));
    }

    let ops = operations(&doc);
    let (mut staff_routes, mut checks) = (0, 0);
    for (method, template, scopes) in &ops {
        let Some(scopes) = scopes else {
            continue;
        };
        staff_routes += 1;
        let path = concrete(template, "A-1001");
        // Every answer is one the document lists for the operation.
        let documented = &doc["paths"][template][method.as_str().to_lowercase()]["responses"];
        let anonymous = call(&client, &app.base, method.clone(), &path, None).await;
        assert_eq!(
            anonymous,
            StatusCode::UNAUTHORIZED,
            "{method} {path} anonymous"
        );
        checks += 1;
        for (role, token, may) in &tokens {
            let allowed = scopes.is_empty() || scopes.iter().any(|s| may.contains(s));
            let status = call(&client, &app.base, method.clone(), &path, Some(token)).await;
            assert!(
                documented.get(status.as_str()).is_some(),
                "{method} {path} as {role}: {status} is not documented: {documented}"
            );
            if allowed {
                assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{method} {path} as {role}: {status}"
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path} as {role}");
            }
            checks += 1;
        }
    }
    println!(
        "route table: {} routes, {staff_routes} staff routes, {} roles, {checks} checks",
        ops.len(),
        tokens.len()
    );
    // The table really is the router: it holds the routes of every feature.
    for expected in [
        "/api/v1/questions/{reference}/answer",
        "/api/v1/questions/{reference}/approve",
        "/api/v1/sessions/{id}",
        "/api/v1/stats.csv",
        "/api/v1/openapi.json",
    ] {
        assert!(doc["paths"].get(expected).is_some(), "{expected}");
    }
    assert!(staff_routes >= 24, "{staff_routes}");
    citizen.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn department_staff_see_and_act_only_on_their_departments_questions() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path()).await;
    let office = login(&app, "br", &[Role::CitizensOffice], None).await;
    let road = login(&app, "tiefbau", &[Role::Department], Some(1)).await;
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Schlagloch in der Hauptstrasse").await.unwrap();
    let mut builder = app.citizen().await.unwrap();
    builder.ask("Mein Bauantrag dauert").await.unwrap();
    // A second citizen with an unrouted question.
    let mut other = app.citizen().await.unwrap();
    other.ask("Wann hat das Bürgerbüro offen?").await.unwrap();

    // The suggestion and the matched rule are shown; nothing is routed yet.
    let a1 = office.get("/api/v1/questions/A-1001").await.unwrap();
    assert_eq!(a1["suggestion"]["department"]["slug"], "tiefbau");
    assert_eq!(a1["suggestion"]["rule"], "keyword \"Schlagloch\"");
    assert_eq!(a1["department"], Value::Null);
    let listed = road.get("/api/v1/questions").await.unwrap();
    assert_eq!(listed["questions"].as_array().unwrap().len(), 0);

    // The citizens' office confirms one suggestion and routes the other.
    for (reference, dept) in [("A-1001", "tiefbau"), ("A-1002", "bauamt")] {
        let routed = office
            .post(
                &format!("/api/v1/questions/{reference}/route"),
                json!({"department": dept}),
            )
            .await
            .unwrap();
        assert_eq!(routed["department"]["slug"], dept);
    }
    let (status, _) = road
        .request(
            Method::POST,
            "/api/v1/questions/A-1001/route",
            Some(json!({"department": "bauamt"})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::FORBIDDEN, "departments do not route");

    let listed = road.get("/api/v1/questions?status=all").await.unwrap();
    let refs: Vec<&str> = listed["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["reference"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["A-1001"]);
    road.get("/api/v1/questions/A-1001").await.unwrap();
    // The outbox list is scoped too.
    let seen_by_road = outbox_refs(&road).await;
    assert_eq!(seen_by_road, BTreeSet::from(["A-1001".to_owned()]));
    let seen_by_office = outbox_refs(&office).await;
    assert!(seen_by_office.contains("A-1002"), "{seen_by_office:?}");

    // Every question route of the table refuses the other department's question.
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut checked = 0;
    for (method, template, _) in operations(&doc) {
        if !template.contains("{reference}") {
            continue;
        }
        for reference in ["A-1002", "A-1003"] {
            let path = concrete(&template, reference);
            let (status, _) = road
                .request(
                    method.clone(),
                    &path,
                    Some(json!({"text": "x", "note": "x", "reason": "x"})),
                )
                .await
                .unwrap();
            assert!(
                status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
                "{method} {path}: {status}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 16, "{checked}");
    // Nothing changed on those questions.
    let a2 = office.get("/api/v1/questions/A-1002").await.unwrap();
    assert_eq!(a2["entries"].as_array().unwrap().len(), 2, "{a2}");
    assert_eq!(a2["draft"], Value::Null);

    // Assignment within the department; members of other departments are refused.
    let road_member = app
        .office()
        .store()
        .staff_by_login("tiefbau")
        .await
        .unwrap()
        .unwrap();
    let assigned = office
        .post(
            "/api/v1/questions/A-1001/assign",
            json!({"staff": road_member.id.0}),
        )
        .await
        .unwrap();
    assert_eq!(assigned["assignee"]["id"], road_member.id.0);
    let building = member(&app, "bau", &[Role::Department], Some(2)).await;
    let (status, _) = office
        .request(
            Method::POST,
            "/api/v1/questions/A-1001/assign",
            Some(json!({"staff": building.0})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let mine = road.get("/api/v1/questions?assignee=me").await.unwrap();
    assert_eq!(mine["questions"].as_array().unwrap().len(), 1);

    // Text modules with placeholders filled.
    let modules = road
        .get("/api/v1/questions/A-1001/text-modules")
        .await
        .unwrap();
    let text = modules["text_modules"][0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("Ihr Anliegen A-1001 ist bei uns. Antwort bis "),
        "{text}"
    );
    assert!(!text.contains('{'), "{text}");

    // Back to the citizens' office with a note: the department loses sight of it.
    let returned = road
        .post(
            "/api/v1/questions/A-1001/return",
            json!({"note": "Zuständig ist die Straßenverkehrsbehörde"}),
        )
        .await
        .unwrap();
    assert_eq!(returned["department"], Value::Null);
    assert_eq!(returned["assignee"], Value::Null);
    let (status, _) = road
        .request(Method::GET, "/api/v1/questions/A-1001", None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    let a1 = office.get("/api/v1/questions/A-1001").await.unwrap();
    let last = a1["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "note");
    assert_eq!(last["text"], "Zuständig ist die Straßenverkehrsbehörde");

    citizen.close().await;
    builder.close().await;
    other.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn four_eyes_the_citizen_receives_only_the_approved_text() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path()).await;
    let office = login(&app, "br", &[Role::CitizensOffice], None).await;
    let press = login(&app, "presse", &[Role::PressOffice], None).await;
    let building = login(&app, "bau", &[Role::Department], Some(2)).await;
    let mut citizen = app.citizen().await.unwrap();
    citizen
        .ask("Wie steht es um meinen Bauantrag?")
        .await
        .unwrap();
    office
        .post(
            "/api/v1/questions/A-1001/route",
            json!({"department": "bauamt"}),
        )
        .await
        .unwrap();

    // The department's answer becomes a draft; nothing is sent.
    let drafted = building
        .answer("A-1001", "ENTWURF: Der Antrag ist durch.")
        .await
        .unwrap();
    assert_eq!(drafted["status"], "open");
    assert_eq!(drafted["draft"]["text"], "ENTWURF: Der Antrag ist durch.");
    let pending = office.get("/api/v1/questions?draft=true").await.unwrap();
    assert_eq!(pending["questions"].as_array().unwrap().len(), 1);
    // The department cannot approve; the press office sends it back.
    let (status, _) = building
        .request(
            Method::POST,
            "/api/v1/questions/A-1001/approve",
            Some(json!({})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Nor can it reject: the reason would reach the citizen unapproved.
    let (status, problem) = building
        .request(
            Method::POST,
            "/api/v1/questions/A-1001/reject",
            Some(json!({"reason": "Nicht zuständig."})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("an das Bürgerreferat zurück"),
        "{problem}"
    );
    // The press office reads what it sends back.
    let seen = press.get("/api/v1/questions/A-1001").await.unwrap();
    assert_eq!(seen["draft"]["text"], "ENTWURF: Der Antrag ist durch.");
    let back = press
        .post(
            "/api/v1/questions/A-1001/send-back",
            json!({"note": "Bitte das Datum nennen"}),
        )
        .await
        .unwrap();
    assert_eq!(back["draft"], Value::Null);
    // A new draft, edited and approved by the citizens' office.
    building
        .answer("A-1001", "ENTWURF 2: genehmigt am 3.")
        .await
        .unwrap();
    let approved = office
        .post(
            "/api/v1/questions/A-1001/approve",
            json!({"text": "Ihr Bauantrag wurde am 3. Dezember genehmigt."}),
        )
        .await
        .unwrap();
    assert_eq!(approved["status"], "answered");
    let received = citizen
        .office_message_containing("3. Dezember genehmigt")
        .await
        .unwrap();
    assert!(received["text"].as_str().unwrap().contains("Ihr Bauantrag"));
    let sent: Vec<String> = app
        .office()
        .read(|state, _, _| state.outbox().map(|m| m.text.clone()).collect())
        .await;
    assert!(
        sent.iter().all(|t| !t.contains("ENTWURF")),
        "a draft reached the outbox: {sent:?}"
    );
    let detail = office.get("/api/v1/questions/A-1001").await.unwrap();
    let answer = detail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "answer")
        .unwrap()
        .clone();
    assert_eq!(answer["staff"], "bau (Test)");

    // Statistics: one of one answered.
    let stats = office.get("/api/v1/stats").await.unwrap();
    let total = &stats["stats"][0];
    assert_eq!(
        (&total["dimension"], &total["questions"], &total["answered"]),
        (&json!("total"), &json!(1), &json!(1))
    );
    assert_eq!(total["answer_rate"], 1.0);
    assert!(total["median_minutes"].is_number());
    let dept = stats["stats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["dimension"] == "department")
        .unwrap();
    assert_eq!(dept["key"], "bauamt");
    let csv = office
        .http()
        .get(format!("{}/api/v1/stats.csv", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("dimension,key,questions,answered,answer_rate,median_minutes,p90_minutes\ntotal,all,1,1,1,"), "{csv}");
    assert!(csv.contains("\nchannel,web,1,1,1,"), "{csv}");
    citizen.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn filters_and_search_find_questions_however_they_are_spelt() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path()).await;
    let office = login(&app, "br", &[Role::CitizensOffice], None).await;
    let mut one = app.citizen().await.unwrap();
    one.ask("Die Straßenlaterne in der Goethestraße ist aus")
        .await
        .unwrap();
    let mut two = app.citizen().await.unwrap();
    two.ask("Müllabfuhr am Feiertag?").await.unwrap();
    let refs = |v: Value| -> Vec<String> {
        v["questions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["reference"].as_str().unwrap().to_owned())
            .collect()
    };
    let cases = [
        ("q=GOETHESTRASSE", vec!["A-1001"]),
        ("q=muellabfuhr", vec!["A-1002"]),
        ("q=m%C3%BCll%20feiertag", vec!["A-1002"]),
        ("q=A-1002", vec!["A-1002"]),
        ("q=nichts", vec![]),
        ("channel=web", vec!["A-1001", "A-1002"]),
        ("channel=telegram", vec![]),
        ("department=none", vec!["A-1001", "A-1002"]),
        ("department=tiefbau", vec![]),
        ("overdue=true", vec![]),
        ("assignee=none", vec!["A-1001", "A-1002"]),
    ];
    for (query, expected) in cases {
        let got = refs(
            office
                .get(&format!("/api/v1/questions?{query}"))
                .await
                .unwrap(),
        );
        assert_eq!(got, expected, "{query}");
    }
    let (status, _) = office
        .request(Method::GET, "/api/v1/questions?channel=fax", None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    one.close().await;
    two.close().await;
    app.stop().await.unwrap();
}

/// One page of the queue over a bearer token: status, `X-Total-Count`, references (or the
/// error message).
async fn page(app: &TestApp, token: &str, query: &str) -> (StatusCode, Option<String>, Value) {
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/questions?{query}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let total = response
        .headers()
        .get("x-total-count")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.unwrap();
    let refs = match body["questions"].as_array() {
        Some(list) => list.iter().map(|q| q["reference"].clone()).collect(),
        None => body["message"].clone(),
    };
    (status, total, refs)
}

#[tokio::test]
async fn the_queue_pages_with_limit_and_offset_in_a_stable_order() {
    // Arrange: five open questions, A-1001 to A-1005.
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path()).await;
    let token = bearer(&app, "pager", &[Role::CitizensOffice], None).await;
    let mut citizens = Vec::new();
    for n in 1..=5 {
        let mut citizen = app.citizen().await.unwrap();
        citizen
            .ask(&format!("Frage {n} zur Straßenreinigung"))
            .await
            .unwrap();
        citizens.push(citizen);
    }
    let all = json!(["A-1001", "A-1002", "A-1003", "A-1004", "A-1005"]);
    let ok = StatusCode::OK;
    let cases = [
        ("", json!(all), "5"),
        ("limit=2", json!(["A-1001", "A-1002"]), "5"),
        ("limit=2&offset=2", json!(["A-1003", "A-1004"]), "5"),
        ("offset=4&limit=2", json!(["A-1005"]), "5"),
        ("offset=5", json!([]), "5"),
        ("offset=99&limit=3", json!([]), "5"),
        ("limit=1000", json!(all), "5"),
        (
            "q=STRASSENREINIGUNG&limit=1&offset=1",
            json!(["A-1002"]),
            "5",
        ),
        ("q=frage%203&limit=10", json!(["A-1003"]), "1"),
        ("status=answered&limit=10", json!([]), "0"),
    ];
    // Act and assert: every page is the right slice of the same order, with the total.
    for (query, expected, total) in cases {
        let got = page(&app, &token, query).await;
        assert_eq!(got, (ok, Some(total.to_owned()), expected), "{query}");
    }
    let mut pages = Vec::new();
    for offset in [0, 2, 4] {
        let (_, _, refs) = page(&app, &token, &format!("limit=2&offset={offset}")).await;
        pages.extend(refs.as_array().unwrap().clone());
    }
    assert_eq!(
        Value::Array(pages),
        all,
        "pages put together are the whole queue"
    );
    let bad = [
        ("limit=0", "limit must be a whole number from 1 to 1000"),
        ("limit=1001", "limit must be a whole number from 1 to 1000"),
        ("limit=-1", "limit must be a whole number from 1 to 1000"),
        ("limit=zehn", "limit must be a whole number from 1 to 1000"),
        ("offset=-1", "offset must be a whole number, 0 or more"),
        (
            "offset=x&limit=2",
            "offset must be a whole number, 0 or more",
        ),
    ];
    for (query, message) in bad {
        let (status, total, body) = page(&app, &token, query).await;
        assert_eq!((status, total), (StatusCode::BAD_REQUEST, None), "{query}");
        assert!(
            body.as_str().is_some_and(|m| m.contains(message)),
            "{query}: {body}"
        );
    }
    for citizen in citizens {
        citizen.close().await;
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_console_filters_routes_with_shortcuts_and_shows_statistics_accessibly() {
    use fantoccini::Locator;
    use sprechstunde_tests::browser::Browser;
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path()).await;
    member(&app, "erika", &[Role::CitizensOffice], None).await;
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Ein Schlagloch am Markt").await.unwrap();
    let mut second = app.citizen().await.unwrap();
    second.ask("Wo bleibt mein Bauantrag?").await.unwrap();
    let client = browser.client();
    client.goto(&format!("{}/staff", app.base)).await.unwrap();
    browser
        .wait_for("#login")
        .await
        .unwrap()
        .send_keys("erika")
        .await
        .unwrap();
    client
        .find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    client
        .find(Locator::Css("#login-form button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for("#queue tr[data-reference='A-1002']")
        .await
        .unwrap();
    browser
        .wait_for_text(
            "#queue tr[data-reference='A-1002'] td.department",
            "Bauordnungsamt",
        )
        .await
        .unwrap();

    // "/" jumps to the search; the queue narrows to the building application.
    client
        .active_element()
        .await
        .unwrap()
        .send_keys("/")
        .await
        .unwrap();
    client
        .active_element()
        .await
        .unwrap()
        .send_keys("BAUANTRAG\u{E007}")
        .await
        .unwrap();
    browser
        .wait_for_text("#queue-caption", "(1)")
        .await
        .unwrap();
    // "j" selects the first row and focuses its link; Enter opens it.
    client
        .find(Locator::Css("#view-title"))
        .await
        .unwrap()
        .send_keys("j")
        .await
        .unwrap();
    browser
        .wait_for("#queue tr.selected[data-reference='A-1002']")
        .await
        .unwrap();
    client
        .active_element()
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    browser
        .wait_for_text("#question-meta", "Regel: keyword \"Bauantrag\"")
        .await
        .unwrap();
    assert_accessible(&browser, "question with triage").await;
    // Route with the suggestion preselected.
    client
        .find(Locator::Css("#route-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("#action-status", "weitergeleitet")
        .await
        .unwrap();
    let routed = app
        .office()
        .read(|state, _, _| {
            state
                .question_by_reference(sprechstunde_core::Reference(1002))
                .and_then(|q| q.department)
        })
        .await;
    assert_eq!(routed, Some(DepartmentId(2)));

    // "r" on A-1001 focuses the department select (the road works office is suggested);
    // the arrow key picks the building office and Enter routes it there.
    client
        .goto(&format!("{}/staff#/questions/A-1001", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("#question-meta", "Regel: keyword \"Schlagloch\"")
        .await
        .unwrap();
    client
        .find(Locator::Css("#view-title"))
        .await
        .unwrap()
        .send_keys("r")
        .await
        .unwrap();
    let focused = client.active_element().await.unwrap();
    assert_eq!(
        focused.attr("id").await.unwrap().as_deref(),
        Some("route-department")
    );
    focused.send_keys("\u{E015}").await.unwrap();
    focused.send_keys("\u{E007}").await.unwrap();
    browser
        .wait_for_text("#action-status", "weitergeleitet")
        .await
        .unwrap();
    let api = StaffClient::login(&app.base, "erika", PASSWORD)
        .await
        .unwrap();
    let routed = api.get("/api/v1/questions/A-1001").await.unwrap();
    assert_eq!(routed["department"]["slug"], "bauamt", "{routed}");

    // From the queue, "n" opens the selected question with the focus in the note box.
    client
        .goto(&format!("{}/staff#/queue", app.base))
        .await
        .unwrap();
    browser
        .wait_for("#queue tr[data-reference='A-1002']")
        .await
        .unwrap();
    let title = client.find(Locator::Css("#view-title")).await.unwrap();
    title.send_keys("j").await.unwrap();
    browser
        .wait_for("#queue tr.selected[data-reference='A-1002']")
        .await
        .unwrap();
    client
        .active_element()
        .await
        .unwrap()
        .send_keys("n")
        .await
        .unwrap();
    browser
        .wait_for_text("#view-title", "Anliegen A-1002")
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + sprechstunde_tests::DEADLINE;
    loop {
        let focused = client
            .active_element()
            .await
            .unwrap()
            .attr("id")
            .await
            .unwrap();
        if focused.as_deref() == Some("note-text") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "focus on {focused:?}, not the note box"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    client
        .goto(&format!("{}/staff#/stats", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("#stats-body", "Gesamt")
        .await
        .unwrap();
    assert_accessible(&browser, "statistics").await;
    client
        .goto(&format!("{}/staff#/departments", app.base))
        .await
        .unwrap();
    browser
        .wait_for_text("#departments-body", "Bauordnungsamt")
        .await
        .unwrap();
    assert_accessible(&browser, "departments").await;

    citizen.close().await;
    second.close().await;
    browser.close().await.unwrap();
    app.stop().await.unwrap();
}

async fn assert_accessible(browser: &sprechstunde_tests::browser::Browser, view: &str) {
    let violations = browser.axe().await.unwrap();
    assert!(
        violations.is_empty(),
        "{view}: {}",
        sprechstunde_tests::browser::describe(&violations)
    );
}

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
    client.goto(&format!("{}/staff", app.base)).await.unwrap();
    browser
        .wait_for("#login")
        .await
        .unwrap()
        .send_keys("admin")
        .await
        .unwrap();
    client
        .find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    client
        .find(Locator::Css("#login-form button[type='submit']"))
        .await
        .unwrap()
        .click()
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
    client
        .find(Locator::Css("#d-module-add"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let block = "#d-module-list .module-item:last-child";
    browser
        .wait_for(&format!("{block} .module-key"))
        .await
        .unwrap()
        .send_keys("laerm")
        .await
        .unwrap();
    client
        .find(Locator::Css(&format!("{block} .module-title")))
        .await
        .unwrap()
        .send_keys("Lärm")
        .await
        .unwrap();
    client
        .find(Locator::Css(&format!("{block} .module-text")))
        .await
        .unwrap()
        .send_keys("Zu Ihrem Anliegen {reference} aus der {session}:\nWir melden uns bis {due}.")
        .await
        .unwrap();
    assert_accessible(&browser, "department editor with text modules").await;
    client
        .find(Locator::Css("#department-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
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
