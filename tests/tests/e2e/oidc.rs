//! Single sign-on against a real OpenID provider (`oidc-provider` on 127.0.0.1): sign-in in
//! headless Chromium through the provider's own form, role mapping, refusal of a user without
//! a mapped role, RP-initiated logout, and ID tokens refused for a forged signature, expiry,
//! audience, issuer or nonce — checked against the provider's published keys.

use std::collections::BTreeSet;

use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    Audience, EmptyAdditionalClaims, IssuerUrl, JsonWebKeyId, Nonce, StandardClaims,
    SubjectIdentifier,
};
use reqwest::StatusCode;
use sprechstunde::settings::DepartmentSettings;
use sprechstunde_console::oidc::OidcSettings;
use sprechstunde_console::oidc::roles::RoleMapping;
use sprechstunde_console::oidc::verify::{Expected, TokenRefused, verify_id_token};
use sprechstunde_core::{ExternalIdentity, Role, StaffId, StaffMember};
use sprechstunde_runtime::SystemClock;
use sprechstunde_tests::app::{TestApp, test_settings};
use sprechstunde_tests::browser::Browser;
use sprechstunde_tests::oidc::{self, Provider};

fn mapping() -> Vec<RoleMapping> {
    vec![
        RoleMapping {
            value: "/sprechstunde/buergerreferat".into(),
            roles: vec![Role::CitizensOffice],
            department: String::new(),
        },
        RoleMapping {
            value: "/sprechstunde/tiefbau".into(),
            roles: vec![Role::Department],
            department: "tiefbau".into(),
        },
    ]
}

async fn start_app(dir: &std::path::Path, provider: &Provider, password_login: bool) -> TestApp {
    let mut settings = test_settings(dir);
    settings.departments = vec![DepartmentSettings {
        id: 7,
        slug: "tiefbau".into(),
        name: "Tiefbauamt".into(),
        keywords: Vec::new(),
        patterns: Vec::new(),
        requires_approval: false,
        text_modules: Vec::new(),
    }];
    settings.oidc = OidcSettings {
        issuer: provider.issuer.clone(),
        client_id: oidc::CLIENT_ID.into(),
        client_secret: Some(oidc::CLIENT_SECRET.into()),
        password_login,
        mapping: mapping(),
        ..OidcSettings::default()
    };
    assert_eq!(settings.oidc.problem(), None);
    TestApp::start_with(settings, std::sync::Arc::new(SystemClock))
        .await
        .unwrap()
}

/// Signs in at the provider's form (dev interactions: any password), then its consent page.
async fn sign_in_at_provider(browser: &Browser, login: &str) {
    browser.wait_for("#sso-login").await.unwrap();
    browser.click("#sso-login").await.unwrap();
    browser
        .wait_for("input[name='login']")
        .await
        .unwrap()
        .send_keys(login)
        .await
        .unwrap();
    browser
        .type_into("input[name='password']", "beliebig")
        .await
        .unwrap();
    browser.click("button.login-submit").await.unwrap();
    // The consent page of the provider ("Continue"), once per client and account.
    browser
        .wait_for("input[name='prompt'][value='consent']")
        .await
        .unwrap();
    browser.click("button.login-submit").await.unwrap();
}

async fn member(app: &TestApp, login: &str) -> Option<StaffMember> {
    app.office().store().staff_by_login(login).await.unwrap()
}

#[tokio::test]
async fn staff_sign_in_at_the_identity_provider_get_the_mapped_roles_and_logout_ends_both_sessions()
{
    let Some(provider) = Provider::start().await.unwrap() else {
        return;
    };
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path(), &provider, false).await;
    // Anna was admin before; the provider now grants only the citizens' office.
    app.office()
        .store()
        .put_staff(&StaffMember {
            id: StaffId(1),
            login: "anna".into(),
            name: "Anna (alt)".into(),
            roles: BTreeSet::from([Role::Admin, Role::CitizensOffice]),
            department: None,
            password_hash: String::new(),
            disabled: false,
            created_at: jiff::Timestamp::now(),
            external: Some(ExternalIdentity {
                issuer: provider.issuer.clone(),
                subject: "anna".into(),
            }),
            email: None,
            notify: true,
        })
        .await
        .unwrap();
    let client = browser.client();

    client.goto(&format!("{}/staff/", app.base)).await.unwrap();
    browser.wait_for("#sso-login").await.unwrap();
    let form_shown = client
        .execute(
            "return !document.getElementById('login-form').hidden;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(form_shown, serde_json::json!(false), "password form hidden");
    sign_in_at_provider(&browser, "anna").await;
    browser
        .wait_for_text("#staff-name", "Anna Amtmann")
        .await
        .unwrap();

    let anna = member(&app, "anna").await.expect("anna's record");
    assert_eq!(anna.id, StaffId(1), "linked to the existing record");
    assert_eq!(anna.roles, BTreeSet::from([Role::CitizensOffice]));
    assert_eq!(anna.name, "Anna Amtmann");
    let cookie = client
        .get_named_cookie("__Host-sprechstunde_staff")
        .await
        .unwrap()
        .value()
        .to_owned();
    let me = |cookie: String| {
        let base = app.base.clone();
        async move {
            reqwest::Client::new()
                .get(format!("{base}/api/v1/me"))
                .header("cookie", format!("__Host-sprechstunde_staff={cookie}"))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(me(cookie.clone()).await, StatusCode::OK);
    // The password login is switched off: the API refuses it too.
    let refused = reqwest::Client::new()
        .post(format!("{}/api/v1/login", app.base))
        .json(&serde_json::json!({"login": "anna", "password": "irgendein-passwort"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // Logout: the console login ends, then the provider's session (its confirmation page),
    // and the browser is back at the console.
    browser.click("#logout").await.unwrap();
    browser.wait_for("button[name='logout']").await.unwrap();
    browser.click("button[name='logout']").await.unwrap();
    browser.wait_for("#sso-login").await.unwrap();
    assert_eq!(me(cookie).await, StatusCode::UNAUTHORIZED);
    // The provider forgot the session: signing in again asks for the login again.
    browser.click("#sso-login").await.unwrap();
    browser.wait_for("input[name='login']").await.unwrap();

    browser.close().await.unwrap();
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_new_user_is_created_with_role_and_department_and_one_without_a_mapped_role_is_refused() {
    let Some(provider) = Provider::start().await.unwrap() else {
        return;
    };
    let Some(browser) = Browser::start().await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path(), &provider, true).await;
    let client = browser.client();

    client.goto(&format!("{}/staff/", app.base)).await.unwrap();
    sign_in_at_provider(&browser, "olaf").await;
    browser
        .wait_for_text("#oidc-refusal", "Kein Zugang zur Sprechstunde")
        .await
        .unwrap();
    browser
        .wait_for_text("#oidc-refusal", "not assigned to any role")
        .await
        .unwrap();
    assert!(member(&app, "olaf").await.is_none(), "no record for olaf");
    assert!(
        client
            .get_named_cookie("__Host-sprechstunde_staff")
            .await
            .is_err(),
        "no login cookie"
    );

    // Tom is new: created at his first sign-in, in the department his group names.
    client.delete_all_cookies().await.unwrap();
    client.goto(&format!("{}/staff/", app.base)).await.unwrap();
    let form_shown = client
        .execute(
            "return !document.getElementById('login-form').hidden;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(form_shown, serde_json::json!(true), "password form kept");
    sign_in_at_provider(&browser, "tom").await;
    browser
        .wait_for_text("#staff-name", "Tom Tiefbau")
        .await
        .unwrap();
    let tom = member(&app, "tom").await.expect("tom's record");
    assert_eq!(tom.roles, BTreeSet::from([Role::Department]));
    assert_eq!(tom.department, Some(sprechstunde_core::DepartmentId(7)));
    assert_eq!(
        tom.external,
        Some(ExternalIdentity {
            issuer: provider.issuer.clone(),
            subject: "tom".into(),
        })
    );

    browser.close().await.unwrap();
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_callback_with_an_unknown_state_is_refused_with_a_clear_page() {
    let Some(provider) = Provider::start().await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(dir.path(), &provider, true).await;

    let response = reqwest::Client::new()
        .get(format!(
            "{}/staff/oidc/callback?code=abc&state=nicht-von-uns",
            app.base
        ))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("set-cookie").is_none_or(|c| {
        !c.to_str()
            .unwrap_or_default()
            .contains("sprechstunde_staff=")
    }));
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Anmeldung abgelaufen")
    );
    app.stop().await.unwrap();
}

/// The provider's published keys, as the server fetches them (discovery, then `jwks_uri`).
async fn provider_keys(provider: &Provider) -> CoreJsonWebKeySet {
    let http = reqwest::Client::new();
    let discovery: serde_json::Value = http
        .get(format!(
            "{}/.well-known/openid-configuration",
            provider.issuer
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let uri = discovery["jwks_uri"].as_str().unwrap();
    http.get(uri).send().await.unwrap().json().await.unwrap()
}

struct Token<'a> {
    pem: &'a str,
    issuer: &'a str,
    audience: &'a str,
    nonce: &'a str,
    expires_in: chrono::Duration,
}

fn sign(t: &Token<'_>) -> String {
    let key =
        CoreRsaPrivateSigningKey::from_pem(t.pem, Some(JsonWebKeyId::new(oidc::KEY_ID.into())))
            .unwrap();
    let now = chrono::Utc::now();
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(t.issuer.into()).unwrap(),
        vec![Audience::new(t.audience.into())],
        now + t.expires_in,
        now - chrono::Duration::minutes(10),
        StandardClaims::new(SubjectIdentifier::new("anna".into())),
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new(t.nonce.into())));
    CoreIdToken::new(
        claims,
        &key,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        None,
        None,
    )
    .unwrap()
    .to_string()
}

#[tokio::test]
async fn forged_expired_and_misaddressed_id_tokens_are_refused_against_the_providers_keys() {
    let Some(provider) = Provider::start().await.unwrap() else {
        return;
    };
    let jwks = provider_keys(&provider).await;
    let provider_pem = oidc::provider_key_pem().unwrap();
    let forger_pem = oidc::forger_key_pem().unwrap();
    let good = Token {
        pem: &provider_pem,
        issuer: &provider.issuer,
        audience: oidc::CLIENT_ID,
        nonce: "n-0S6_WzA2Mj",
        expires_in: chrono::Duration::minutes(5),
    };
    let expected = Expected {
        issuer: &provider.issuer,
        client_id: oidc::CLIENT_ID,
        jwks: &jwks,
        nonce: "n-0S6_WzA2Mj",
    };
    let check = |t: &Token<'_>| verify_id_token(&sign(t), &expected, jiff::Timestamp::now());

    // The control: signed with the provider's own key, everything right.
    let verified = check(&good).expect("a good token verifies");
    assert_eq!(verified.subject, "anna");

    assert!(matches!(
        check(&Token {
            pem: &forger_pem,
            ..good
        }),
        Err(TokenRefused::Signature(_))
    ));
    assert!(matches!(
        check(&Token {
            expires_in: chrono::Duration::minutes(-1),
            ..good
        }),
        Err(TokenRefused::Expired(_))
    ));
    assert!(matches!(
        check(&Token {
            audience: "another-client",
            ..good
        }),
        Err(TokenRefused::Claims(_))
    ));
    assert!(matches!(
        check(&Token {
            issuer: "http://127.0.0.1:1/elsewhere",
            ..good
        }),
        Err(TokenRefused::Claims(_))
    ));
    assert!(matches!(
        check(&Token {
            nonce: "replayed-nonce",
            ..good
        }),
        Err(TokenRefused::Claims(_))
    ));
    // A token cut and re-assembled with another payload fails the signature too.
    let token = sign(&good);
    let mut parts: Vec<&str> = token.split('.').collect();
    let other = sign(&Token {
        expires_in: chrono::Duration::minutes(7),
        ..good
    });
    parts[1] = other.split('.').nth(1).unwrap();
    let spliced = verify_id_token(&parts.join("."), &expected, jiff::Timestamp::now());
    assert!(spliced.is_err(), "{spliced:?}");
}
