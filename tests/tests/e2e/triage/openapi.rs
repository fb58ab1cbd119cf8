//! The OpenAPI document (`GET /api/v1/openapi.json`) is generated from the route table: it
//! must be OpenAPI 3 shaped, give every operation its statuses, list the queue's query
//! parameters, and its body schemas must agree with what the server really accepts.

use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use sprechstunde_core::Role;

use super::{bearer, start};

/// Whether `value` has the JSON schema type `kind` (a name or a list of names).
fn has_type(value: &Value, kind: &Value) -> bool {
    let one = |k: &str| match k {
        "string" => value.is_string(),
        "integer" => value.is_u64() || value.is_i64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => false,
    };
    match kind {
        Value::String(k) => one(k),
        Value::Array(ks) => ks.iter().any(|k| k.as_str().is_some_and(one)),
        _ => true,
    }
}

/// Problems of `body` against the (flat) object `schema`: missing required fields, unknown
/// fields, wrong types.
fn problems(schema: &Value, body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let properties = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for field in schema["required"].as_array().into_iter().flatten() {
        let field = field.as_str().unwrap();
        if body.get(field).is_none() {
            out.push(format!("missing {field}"));
        }
    }
    for (key, value) in body.as_object().unwrap() {
        match properties.get(key) {
            None => out.push(format!("unknown {key}")),
            Some(p) if !has_type(value, &p["type"]) => out.push(format!("{key}: wrong type")),
            Some(_) => {}
        }
    }
    out
}

/// A body with only the required fields, each a value of its schema type.
fn minimal(schema: &Value) -> Value {
    let mut body = Map::new();
    for field in schema["required"].as_array().into_iter().flatten() {
        let field = field.as_str().unwrap();
        let p = &schema["properties"][field];
        let value = if let Some(first) = p["enum"].get(0) {
            first.clone()
        } else {
            let kind = match &p["type"] {
                Value::Array(ks) => ks[0].as_str().unwrap_or("string").to_owned(),
                k => k.as_str().unwrap_or("string").to_owned(),
            };
            match kind.as_str() {
                "integer" => json!(1),
                "boolean" => json!(true),
                "array" => json!([]),
                "object" => json!({}),
                "null" => Value::Null,
                _ => json!("Probe"),
            }
        };
        body.insert(field.to_owned(), value);
    }
    Value::Object(body)
}

/// Sends `body` as an admin; returns the status and whether the answer is the API's own JSON
/// error (not a plain-text rejection of the JSON extractor).
async fn send(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    method: &Method,
    path: &str,
    body: &Value,
) -> (StatusCode, String, bool) {
    let response = client
        .request(method.clone(), format!("{base}{path}"))
        .header("authorization", format!("Bearer {token}"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let ours = serde_json::from_str::<Value>(&text).is_ok_and(|v| v.get("error").is_some());
    (status, text, ours)
}

#[tokio::test]
async fn the_openapi_document_describes_parameters_bodies_and_statuses_the_server_really_uses() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path()).await;
    let mut citizen = app.citizen().await.unwrap();
    citizen.ask("Ein Schlagloch vor dem Haus").await.unwrap();
    let admin = bearer(&app, "admin", &[Role::Admin], None).await;
    let client = reqwest::Client::new();
    let doc: Value = client
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // Assert: OpenAPI 3 shape and the bearer scheme.
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["type"],
        "http"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    // Every operation: a success status, and the statuses its access implies.
    let (mut operations, mut bodies, mut requests) = (0, 0, 0);
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let what = format!("{method} {path}");
            let responses = op["responses"].as_object().expect(&what);
            assert!(
                responses.keys().any(|c| c.starts_with('2')),
                "{what}: no success"
            );
            for (code, response) in responses {
                assert!(code.parse::<u16>().is_ok(), "{what}: {code}");
                assert!(response["description"].is_string(), "{what} {code}");
            }
            let security = op["security"].as_array().unwrap();
            if !security.is_empty() {
                assert!(responses.contains_key("401"), "{what}");
                assert!(responses.contains_key("503"), "{what}");
            }
            if security.iter().any(|s| {
                s.as_object()
                    .unwrap()
                    .values()
                    .any(|v| !v.as_array().unwrap().is_empty())
            }) {
                assert!(responses.contains_key("403"), "{what}");
            }
            // Body schemas: the server requires exactly the required fields, and accepts
            // a body of only those with the documented types.
            let Some(schema) = op["requestBody"]["content"]["application/json"].get("schema")
            else {
                continue;
            };
            bodies += 1;
            assert_eq!(schema["type"], "object", "{what}");
            for code in ["400", "413", "415", "422"] {
                assert!(responses.contains_key(code), "{what}: {code}");
            }
            let method: Method = method.to_uppercase().parse().unwrap();
            let concrete = path
                .replace("{reference}", "A-1001")
                .replace("{id}", "1")
                .replace("{slug}", "tiefbau");
            let required = schema["required"].as_array().unwrap();
            if path.ends_with("/login") {
                continue; // keeps the address's failure count clean; checked below
            }
            let (status, text, ours) =
                send(&client, &app.base, &admin, &method, &concrete, &json!({})).await;
            requests += 1;
            assert!(
                responses.contains_key(status.as_str()),
                "{what} {{}}: {status}"
            );
            if required.is_empty() {
                assert!(ours || status.is_success(), "{what} {{}}: {status} {text}");
            } else {
                assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {text}");
                assert!(!ours, "{what}: {{}} passed the extractor: {text}");
                assert!(
                    required
                        .iter()
                        .any(|f| text.contains(&format!("`{}`", f.as_str().unwrap()))),
                    "{what}: {text}"
                );
                let body = minimal(schema);
                let (status, text, ours) =
                    send(&client, &app.base, &admin, &method, &concrete, &body).await;
                requests += 1;
                assert!(
                    responses.contains_key(status.as_str()),
                    "{what} {body}: {status}"
                );
                assert!(
                    ours || status.is_success(),
                    "{what}: {body} refused by the extractor: {status} {text}"
                );
            }
        }
    }

    // The queue's filters and pagination are documented.
    let list = &doc["paths"]["/api/v1/questions"]["get"];
    let params: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "status",
        "department",
        "channel",
        "session",
        "overdue",
        "assignee",
        "q",
        "draft",
        "limit",
        "offset",
    ] {
        assert!(params.contains(&name), "{name} in {params:?}");
    }
    // Statuses of their own.
    let responses = |path: &str, method: &str| -> Vec<String> {
        doc["paths"][path][method]["responses"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    for (path, method, code) in [
        ("/api/v1/sessions", "post", "201"),
        ("/api/v1/sessions/series", "post", "201"),
        ("/api/v1/logout", "post", "204"),
        ("/api/v1/login", "post", "429"),
        ("/api/v1/login", "post", "413"),
        ("/api/v1/questions/{reference}/answer", "post", "409"),
        ("/api/v1/questions/{reference}/approve", "post", "409"),
    ] {
        assert!(
            responses(path, method).iter().any(|c| c == code),
            "{method} {path}: {code}"
        );
    }
    assert!(!responses("/api/v1/sessions", "post").contains(&"200".to_owned()));

    // Bodies the server accepts (as other tests send them) match their schemas.
    let schema = |path: &str, method: &str| {
        doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"].clone()
    };
    for (path, method, body) in [
        (
            "/api/v1/login",
            "post",
            json!({"login": "erika", "password": "geheim"}),
        ),
        (
            "/api/v1/sessions",
            "post",
            json!({"title": "Bürgersprechstunde", "host": "OB", "starts_at": "2026-12-01T17:00",
                   "ends_at": "2026-12-01T18:00", "question_cap": 3, "channels": ["web"]}),
        ),
        (
            "/api/v1/questions/{reference}/route",
            "post",
            json!({"department": null}),
        ),
        (
            "/api/v1/questions/{reference}/approve",
            "post",
            json!({"text": "Ihr Bauantrag wurde genehmigt."}),
        ),
        (
            "/api/v1/questions/{reference}/merge",
            "post",
            json!({"duplicates": ["A-1002"]}),
        ),
    ] {
        let found = problems(&schema(path, method), &body);
        assert!(found.is_empty(), "{method} {path}: {found:?}");
    }
    let created = send(
        &client,
        &app.base,
        &admin,
        &Method::POST,
        "/api/v1/sessions",
        &json!({"title": "Bürgersprechstunde", "host": "OB", "starts_at": "2027-12-01T17:00",
               "ends_at": "2027-12-01T18:00", "question_cap": 3, "channels": ["web"]}),
    )
    .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    println!(
        "openapi: {operations} operations, {bodies} body schemas, {requests} requests against them"
    );
    citizen.close().await;
    app.stop().await.unwrap();
}
