//! Finding things in the queue: filters, full-text search however it is spelt, and paging
//! with `limit` and `offset`.

use super::*;

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
            &office
                .get(&format!("/api/v1/questions?{query}"))
                .await
                .unwrap(),
            "questions",
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
