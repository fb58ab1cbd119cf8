//! Four-eyes approval: department drafts wait for the citizens' office or the press office;
//! the citizen only ever receives the approved text.

use super::*;

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
    // Text cells are quoted (a `;` stays in its cell in German spreadsheets), numbers not.
    assert!(
        csv.starts_with(
            "\"dimension\",\"key\",\"questions\",\"answered\",\"answer_rate\",\
             \"median_minutes\",\"p90_minutes\",\"messages_sent\"\n\"total\",\"all\",1,1,1,"
        ),
        "{csv}"
    );
    assert!(csv.contains("\n\"channel\",\"web\",1,1,1,"), "{csv}");
    // A period of local days: the question counts in a period around today, not before.
    let before = office.get("/api/v1/stats?to=2001-01-01").await.unwrap();
    assert_eq!(before["stats"][0]["questions"], 0, "{before}");
    let around = office
        .get("/api/v1/stats?from=2001-01-01&to=2099-12-31")
        .await
        .unwrap();
    assert_eq!(around["stats"][0]["questions"], 1, "{around}");
    let (status, problem) = office
        .request(Method::GET, "/api/v1/stats.csv?from=gestern", None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    citizen.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_question_that_needs_approval_cannot_be_merged_into_one_answered_without_it() {
    // Arrange: a road question and a building question (approval); a moderator tries to
    // merge the building one into the road one and answer that.
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path()).await;
    let office = login(&app, "br", &[Role::CitizensOffice], None).await;
    let mut road = app.citizen().await.unwrap();
    let mut building = app.citizen().await.unwrap();
    road.ask("Ein Schlagloch in meinem Bauantrag?")
        .await
        .unwrap();
    building
        .ask("Wie steht es um meinen Bauantrag?")
        .await
        .unwrap();
    for (reference, department) in [("A-1001", "tiefbau"), ("A-1002", "bauamt")] {
        office
            .post(
                &format!("/api/v1/questions/{reference}/route"),
                json!({ "department": department }),
            )
            .await
            .unwrap();
    }

    // Act
    let (merged, problem) = office
        .request(
            Method::POST,
            "/api/v1/questions/A-1001/merge",
            Some(json!({"duplicates": ["A-1002"]})),
        )
        .await
        .unwrap();
    office
        .answer("A-1001", "UNGEPRÜFT: Alles erledigt.")
        .await
        .unwrap();
    road.office_message_containing("UNGEPRÜFT").await.unwrap();

    // Assert: refused with a reason; the building question stays open and its citizen got
    // nothing unapproved.
    assert_eq!(merged, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("Freigabepflicht"),
        "{problem}"
    );
    let left = office.get("/api/v1/questions/A-1002").await.unwrap();
    assert_eq!(left["status"], "open", "{left}");
    let shown = office
        .get("/api/v1/questions/A-1002")
        .await
        .unwrap()
        .to_string();
    assert!(!shown.contains("UNGEPRÜFT"), "{shown}");
    road.close().await;
    building.close().await;
    app.stop().await.unwrap();
}
