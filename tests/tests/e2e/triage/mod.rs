//! Triage over HTTP and in the console: access control walked from the route table
//! ([`authz`]), four-eyes approval ([`approval`]), filters, search and paging ([`queue`]), the
//! console in Chromium ([`console`]), departments and text modules ([`departments`]),
//! department membership ([`members`]), what approvers and moderators see ([`scopes`]), and
//! the OpenAPI document against the server's real answers ([`openapi`]). Shared set-up lives
//! here.

mod approval;
mod authz;
mod console;
mod departments;
mod members;
mod openapi;
mod queue;
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
            email: None,
            notify: true,
            external: None,
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

async fn assert_accessible(browser: &sprechstunde_tests::browser::Browser, view: &str) {
    let violations = browser.axe().await.unwrap();
    assert!(
        violations.is_empty(),
        "{view}: {}",
        sprechstunde_tests::browser::describe(&violations)
    );
}

/// The references in the list `key` of an answer (e.g. `questions`).
fn refs(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["reference"].as_str().unwrap().to_owned())
        .collect()
}
