//! A question typed before the citizen agreed to the privacy notice is only held in memory:
//! the protocol says `held`, never `accepted` (which means stored durably), and the page says
//! that it is not stored yet and what happens to it.

use sprechstunde_tests::app::TestApp;
use sprechstunde_tests::browser::Browser;
use sprechstunde_tests::citizen::Citizen;

#[tokio::test]
async fn a_question_before_consent_is_answered_held_and_stored_only_once_the_citizen_agrees() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let mut citizen = Citizen::connect_without_consent(app.addr, None, "de")
        .await
        .unwrap();

    // Act
    citizen
        .send_with_id("early", "Wann ist das Bürgerbüro geöffnet?")
        .await
        .unwrap();
    let answer = citizen
        .wait_for(|f| f["client_id"] == "early")
        .await
        .unwrap();
    let stored_before = app
        .office()
        .read(|state, _, _| state.questions().count())
        .await;
    citizen.send_with_id("yes", "/einverstanden").await.unwrap();
    let agreed = citizen.wait_for(|f| f["client_id"] == "yes").await.unwrap();

    // Assert
    assert_eq!(answer["type"], "held", "{answer}");
    assert_eq!(stored_before, 0, "nothing is stored before consent");
    assert_eq!(agreed["type"], "accepted", "{agreed}");
    let reference = agreed["reference"]
        .as_str()
        .expect("the held question's reference");
    let stored = app
        .office()
        .read(|state, _, _| {
            state
                .questions()
                .map(|q| q.reference.to_string())
                .collect::<Vec<_>>()
        })
        .await;
    assert_eq!(stored, [reference]);
    citizen.close().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_page_says_a_question_before_consent_is_not_stored_yet_and_then_shows_its_reference() {
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(dir.path()).await.unwrap();
    let client = browser.client();
    client.goto(&format!("{}/", app.base)).await.unwrap();
    browser
        .wait_for("#connection[data-state='connected']")
        .await
        .unwrap();

    // Act
    browser
        .type_into("#message", "Wo kann ich parken?")
        .await
        .unwrap();
    browser.click("#send").await.unwrap();

    // Assert: the bubble and the notice say it is not stored yet; agreeing stores it.
    browser
        .wait_for_text("#log .msg.citizen.held", "noch nicht gespeichert")
        .await
        .unwrap();
    browser
        .wait_for_text("#consent-held", "lehnen Sie ab, wird sie verworfen")
        .await
        .unwrap();
    browser.click("#consent-agree").await.unwrap();
    browser
        .wait_for_text("#log .msg.citizen", "Nr. A-1001")
        .await
        .unwrap();
    browser.close().await.unwrap();
    app.stop().await.unwrap();
}
