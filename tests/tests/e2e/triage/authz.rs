//! Access control over HTTP: the route table walked from the OpenAPI document for every
//! role (and anonymously), and department scoping on every question route.

use super::*;

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
                    email: None,
                    notify: true,
                    external: None,
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
