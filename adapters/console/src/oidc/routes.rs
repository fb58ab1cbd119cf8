//! The browser's side of single sign-on: `/staff/oidc/login` sends it to the provider,
//! `/staff/oidc/callback` comes back with the code, `/staff/oidc/logout` ends the console
//! login and the provider's session (RP-initiated logout), `/staff/oidc/config` tells the
//! console page what to offer.

use std::time::Instant;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use openidconnect::core::{CoreAuthenticationFlow, CoreGenderClaim};
use openidconnect::{
    AuthorizationCode, ClientId, CsrfToken, LogoutRequest, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, Scope, SubjectIdentifier,
    TokenResponse, UserInfoClaims,
};
use serde::Deserialize;
use serde_json::{Value, json};
use sprechstunde_core::{AuditActor, AuditRecord, ExternalIdentity};

use super::members::{NotAdmitted, SignedIn, provision};
use super::pages::Refusal;
use super::verify::{Expected, ExtraClaims, TokenRefused, Verified, verify_id_token};
use super::{Oidc, roles};
use crate::Console;
use crate::accounts::{random_secret, sha256_hex};

/// The flow cookie (binds a sign-in to the browser that started it). `SameSite=Lax`: it must
/// come along on the provider's redirect back, a cross-site top-level navigation.
const FLOW_COOKIE: &str = "sprechstunde_oidc_flow";
/// Marks a console login that came through the provider, so logout ends the provider's
/// session too.
const SSO_COOKIE: &str = "sprechstunde_sso";

pub(super) fn router() -> axum::Router<Console> {
    axum::Router::new()
        .route("/staff/oidc/config", get(config))
        .route("/staff/oidc/login", get(login))
        .route("/staff/oidc/callback", get(callback))
        .route("/staff/oidc/logout", get(logout))
}

fn configured(console: &Console) -> Result<&Oidc, Refusal> {
    console.oidc.as_deref().ok_or(Refusal::NotConfigured)
}

/// What the console page offers: the sign-on button, the password form, or both.
async fn config(State(console): State<Console>) -> Json<Value> {
    Json(json!({
        "sso": console.oidc.is_some(),
        "password_login": console.password_login,
    }))
}

fn cookie(console: &Console, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(console.secure_cookies)
        .build()
}

async fn login(State(console): State<Console>, jar: CookieJar) -> Result<Response, Refusal> {
    let oidc = configured(&console)?;
    let metadata = oidc.metadata(false).await.map_err(|e| {
        tracing::warn!(error = %e, "single sign-on: provider unavailable");
        Refusal::Unavailable
    })?;
    let client = oidc.client(&metadata);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in oidc.settings.scopes.iter().filter(|s| s.trim() != "openid") {
        request = request.add_scope(Scope::new(scope.trim().to_owned()));
    }
    let (url, state, nonce) = request.url();
    let binding = random_secret(32).map_err(|_| Refusal::Unavailable)?;
    oidc.flows.insert(
        state.secret().clone(),
        super::flow::Pending {
            binding: sha256_hex(&binding),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        },
        Instant::now(),
    );
    let flow = Cookie::build((FLOW_COOKIE, binding))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(console.secure_cookies)
        .max_age(cookie::time::Duration::minutes(10))
        .build();
    Ok((jar.add(flow), Redirect::to(url.as_str())).into_response())
}

/// The provider's redirect back.
#[derive(Debug, Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(console): State<Console>,
    jar: CookieJar,
    Query(query): Query<Callback>,
) -> Result<Response, Refusal> {
    let oidc = configured(&console)?;
    // Taken out first, whatever follows: a state works once.
    let pending = query
        .state
        .as_deref()
        .and_then(|state| oidc.flows.take(state, Instant::now()));
    let binding = jar.get(FLOW_COOKIE).map(|c| sha256_hex(c.value()));
    let jar = jar.remove(Cookie::build(FLOW_COOKIE).path("/"));
    if query.error.is_some() {
        tracing::info!("single sign-on: the provider reported an error or the user cancelled");
        return Ok((jar, Refusal::Cancelled).into_response());
    }
    let (Some(pending), Some(code)) = (pending, query.code) else {
        tracing::info!("single sign-on refused: unknown, expired or used state");
        return Ok((jar, Refusal::StaleFlow).into_response());
    };
    if binding.as_deref() != Some(pending.binding.as_str()) {
        tracing::info!("single sign-on refused: the state belongs to another browser");
        return Ok((jar, Refusal::StaleFlow).into_response());
    }
    let verified = match exchange(oidc, &pending, code).await {
        Ok(verified) => verified,
        Err(refusal) => return Ok((jar, refusal).into_response()),
    };
    match admit(&console, oidc, verified).await {
        Ok(response) => Ok(finish(&console, jar, response).await),
        Err(refusal) => Ok((jar, refusal).into_response()),
    }
}

/// Code → tokens → verified ID token claims (with userinfo claims added).
async fn exchange(
    oidc: &Oidc,
    pending: &super::flow::Pending,
    code: String,
) -> Result<Verified, Refusal> {
    let unavailable = |e: super::OidcError| {
        tracing::warn!(error = %e, "single sign-on: provider unavailable");
        Refusal::Unavailable
    };
    let metadata = oidc.metadata(false).await.map_err(unavailable)?;
    let client = oidc.client(&metadata);
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| {
            tracing::warn!(error = %e, "single sign-on: the provider has no token endpoint");
            Refusal::Unavailable
        })?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
        .request_async(oidc.http())
        .await
        .map_err(|e| {
            tracing::info!(error = %e, "single sign-on refused: the code exchange failed");
            Refusal::Invalid
        })?;
    let Some(id_token) = tokens.id_token() else {
        tracing::info!("single sign-on refused: no ID token");
        return Err(Refusal::Invalid);
    };
    let raw = id_token.to_string();
    let issuer = metadata.issuer().as_str().to_owned();
    let check = |jwks| {
        verify_id_token(
            &raw,
            &Expected {
                issuer: &issuer,
                client_id: oidc.settings.client_id.trim(),
                jwks,
                nonce: &pending.nonce,
            },
            jiff::Timestamp::now(),
        )
    };
    let mut verified = match check(metadata.jwks()) {
        // The provider may have rotated its keys since the discovery document was fetched.
        Err(TokenRefused::UnknownKey) => {
            let fresh = oidc.metadata(true).await.map_err(unavailable)?;
            check(fresh.jwks())
        }
        other => other,
    }
    .map_err(|e| {
        tracing::info!(error = %e, "single sign-on refused: invalid ID token");
        Refusal::Invalid
    })?;
    let role_claim = oidc.settings.role_claim.trim();
    if roles::claim_values(&verified.claims, role_claim).is_empty()
        && let Ok(request) = client.user_info(
            tokens.access_token().clone(),
            Some(SubjectIdentifier::new(verified.subject.clone())),
        )
    {
        // Many providers put groups into the userinfo answer only.
        match request
            .request_async::<ExtraClaims, _, CoreGenderClaim>(oidc.http())
            .await
        {
            Ok(info) => merge_userinfo(&mut verified.claims, &info),
            Err(e) => tracing::warn!(error = %e, "single sign-on: userinfo request failed"),
        }
    }
    Ok(verified)
}

fn merge_userinfo(claims: &mut Value, info: &UserInfoClaims<ExtraClaims, CoreGenderClaim>) {
    if let (Some(claims), Ok(Value::Object(info))) =
        (claims.as_object_mut(), serde_json::to_value(info))
    {
        for (k, v) in info {
            claims.entry(k).or_insert(v);
        }
    }
}

/// The member for the verified claims, or why there is none.
async fn admit(
    console: &Console,
    oidc: &Oidc,
    verified: Verified,
) -> Result<sprechstunde_core::StaffMember, Refusal> {
    let values = roles::claim_values(&verified.claims, oidc.settings.role_claim.trim());
    let granted = roles::grant(&values, &oidc.settings.mapping);
    if granted.roles.is_empty() {
        tracing::info!("single sign-on refused: no mapped role");
        return Err(Refusal::NoRole);
    }
    let department = match &granted.department {
        Some(slug) => {
            let found = console
                .office
                .read(|state, _, _| state.department_by_slug(slug).map(|d| d.id))
                .await;
            if found.is_none() {
                tracing::warn!(department = %slug, "single sign-on: the mapped department does not exist");
            }
            found
        }
        None => None,
    };
    let text = |name: &str| {
        verified
            .claims
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let login = text("preferred_username")
        .or_else(|| text("email"))
        .unwrap_or_else(|| verified.subject.clone());
    let who = SignedIn {
        identity: ExternalIdentity {
            issuer: verified.issuer.clone(),
            subject: verified.subject.clone(),
        },
        name: text("name").unwrap_or_else(|| login.clone()),
        login,
    };
    let departments_from_claim = oidc
        .settings
        .mapping
        .iter()
        .any(|m| !m.department.trim().is_empty());
    let _one_at_a_time = oidc.provisioning.lock().await;
    provision(
        console.office.store().as_ref(),
        &who,
        &granted,
        department,
        departments_from_claim,
        console.office.now(),
    )
    .await
    .map_err(|e| match e {
        NotAdmitted::Disabled => Refusal::Disabled,
        NotAdmitted::LoginTaken => Refusal::LoginTaken,
        NotAdmitted::Store(e) => {
            tracing::error!(error = %e, "single sign-on: cannot store the staff member");
            Refusal::Unavailable
        }
    })
}

/// Starts the console login and sends the browser to the console.
async fn finish(
    console: &Console,
    jar: CookieJar,
    member: sprechstunde_core::StaffMember,
) -> Response {
    let device = jar
        .get(console.device_cookie_name())
        .map(|c| c.value().to_owned());
    let (jar, _csrf) = match crate::routes::login::start_login(console, jar, &member, device).await
    {
        Ok(started) => started,
        Err(e) => return e.into_response(),
    };
    let record = AuditRecord {
        actor: AuditActor {
            staff: Some(member.id),
            login: member.login.clone(),
            via: "sso".to_owned(),
        },
        action: "GET /staff/oidc/callback".to_owned(),
        object: String::new(),
        outcome: "303".to_owned(),
    };
    if let Err(error) = console.office.audit().record(record).await {
        tracing::error!(%error, "audit record of a sign-in failed");
    }
    tracing::info!(staff = member.id.0, "console login through single sign-on");
    let jar = jar.add(cookie(console, SSO_COOKIE, "1".to_owned()));
    (jar, Redirect::to("/staff/")).into_response()
}

/// Ends the console login (if this browser still has one) and, for a login that came
/// through the provider, sends the browser to the provider's end-session endpoint, which
/// returns it to the console. The login cookie is `SameSite=Strict`, so a cross-site link
/// here cannot end anybody's login.
async fn logout(State(console): State<Console>, jar: CookieJar) -> Response {
    if let Some(c) = jar.get(console.cookie_name()) {
        if let Err(e) = console
            .office
            .store()
            .delete_login(&sha256_hex(c.value()))
            .await
        {
            return crate::error::ApiError::from(e).into_response();
        }
        console.logins_ended();
    }
    let sso = jar.get(SSO_COOKIE).is_some();
    let jar = jar
        .remove(
            Cookie::build(console.cookie_name())
                .path("/")
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(console.secure_cookies),
        )
        .remove(Cookie::build(SSO_COOKIE).path("/"));
    let Some(oidc) = console.oidc.as_deref().filter(|_| sso) else {
        return (jar, Redirect::to("/staff/")).into_response();
    };
    let end_session = match oidc.metadata(false).await {
        Ok(m) => m.additional_metadata().end_session_endpoint.clone(),
        Err(e) => {
            tracing::warn!(error = %e, "single sign-on: provider unavailable at logout");
            None
        }
    };
    let Some(endpoint) = end_session else {
        return (jar, Redirect::to("/staff/")).into_response();
    };
    let mut request = LogoutRequest::from(endpoint)
        .set_client_id(ClientId::new(oidc.settings.client_id.trim().to_owned()));
    if let Ok(back) = PostLogoutRedirectUrl::new(oidc.after_logout.clone()) {
        request = request.set_post_logout_redirect_uri(back);
    }
    (jar, Redirect::to(request.http_get_url().as_str())).into_response()
}
