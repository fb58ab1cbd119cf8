//! Console login and logout.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use serde_json::{Value, json};
use sprechstunde_core::{LoginSession, StaffMember};

use crate::Console;
use crate::accounts::{random_secret, sha256_hex, verify_password};
use crate::auth::{Staff, Via};
use crate::error::ApiError;
use crate::throttle::{BUSY_RETRY_SECS, Caller, ClientAddress, Refused, VERIFICATION_WAIT};
use crate::views::StaffView;

/// Login form.
#[derive(Debug, Deserialize)]
pub(crate) struct Credentials {
    login: String,
    password: String,
}

pub(crate) async fn login(
    State(console): State<Console>,
    ClientAddress(address): ClientAddress,
    jar: CookieJar,
    Json(credentials): Json<Credentials>,
) -> Result<(CookieJar, Json<Value>), ApiError> {
    if !console.password_login {
        return Err(ApiError::Forbidden(
            "password login is switched off; sign in with your organisation account",
        ));
    }
    // Throttling first, before the password is looked at (docs/security.md): the attempt is
    // reserved, so parallel attempts cannot get more guesses verified than the limit. A
    // browser that logged in as this member before counts apart from its address.
    let caller = Caller {
        address,
        device: jar
            .get(console.device_cookie_name())
            .map(|c| c.value().to_owned()),
    };
    let attempt = match console.throttle.begin(
        &credentials.login,
        &caller,
        &console.limits,
        console.office.now(),
    ) {
        Ok(attempt) => attempt,
        Err(Refused::Locked(wait)) => {
            tracing::info!("console login refused: locked after too many failures");
            return Err(too_many(wait));
        }
        Err(Refused::Busy) => {
            tracing::info!("console login refused: other attempts are being verified");
            return Err(ApiError::Busy {
                retry_after_secs: BUSY_RETRY_SECS,
            });
        }
    };
    // At most a few argon2 runs (19 MiB each) at once; a flood waits briefly, then is refused
    // without costing memory or counting as a failure.
    let Ok(Ok(_permit)) =
        tokio::time::timeout(VERIFICATION_WAIT, console.verifications.acquire()).await
    else {
        tracing::info!("console login refused: too many logins at once");
        return Err(ApiError::Busy {
            retry_after_secs: BUSY_RETRY_SECS,
        });
    };
    let store = console.office.store();
    let member = store.staff_by_login(credentials.login.trim()).await?;
    let hash = member
        .as_ref()
        .map_or_else(|| console.decoy.to_string(), |m| m.password_hash.clone());
    let password = credentials.password;
    let verified = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let member = match member {
        Some(m) if verified && !m.disabled => m,
        _ => {
            let locked = attempt.failed(&console.limits, console.office.now());
            console.office.telemetry().login_failed();
            tracing::info!(locked, "console login refused");
            return Err(ApiError::Unauthorized);
        }
    };
    attempt.succeeded();
    let (jar, csrf) = start_login(&console, jar, &member, caller.device).await?;
    Ok((
        jar,
        Json(json!({
            "staff": StaffView::from(&member),
            "csrf": csrf,
            "notifications": crate::routes::notifications::view(&member),
        })),
    ))
}

/// Starts a console login for `member` (after a verified password or a verified OpenID
/// Connect sign-in): stores the login, sets the login cookie and the device cookie. Returns
/// the jar and the login's CSRF token.
///
/// # Errors
/// No randomness; the login cannot be stored.
pub(crate) async fn start_login(
    console: &Console,
    jar: CookieJar,
    member: &StaffMember,
    device: Option<String>,
) -> Result<(CookieJar, String), ApiError> {
    let store = console.office.store();
    let secret = random_secret(32).map_err(|_| ApiError::Unavailable)?;
    let csrf = random_secret(24).map_err(|_| ApiError::Unavailable)?;
    let now = console.office.now();
    let expires_at = now
        .checked_add(console.login_lifetime)
        .map_err(|_| ApiError::Unavailable)?;
    store
        .put_login(&LoginSession {
            secret_hash: sha256_hex(&secret),
            staff: member.id,
            csrf: csrf.clone(),
            created_at: now,
            expires_at,
        })
        .await?;
    tracing::info!(staff = member.id.0, "console login");
    let cookie = Cookie::build((console.cookie_name(), secret))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(console.secure_cookies)
        .build();
    // The device cookie: this browser logged in as this member, so lockouts caused from
    // elsewhere do not apply to it (throttle.rs). Kept while it is known, else a new one.
    let device = match device {
        Some(d) if console.throttle.knows_device(&member.login, &d) => d,
        _ => random_secret(32).map_err(|_| ApiError::Unavailable)?,
    };
    console
        .throttle
        .remember_device(&member.login, &device, now);
    let device_cookie = Cookie::build((console.device_cookie_name(), device))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(console.secure_cookies)
        .max_age(cookie::time::Duration::days(DEVICE_COOKIE_DAYS))
        .build();
    Ok((jar.add(cookie).add(device_cookie), csrf))
}

/// How long a browser keeps its device cookie (Chromium caps cookies at 400 days).
const DEVICE_COOKIE_DAYS: i64 = 400;

pub(crate) async fn logout(
    State(console): State<Console>,
    staff: Staff,
    jar: CookieJar,
) -> Result<(CookieJar, StatusCode), ApiError> {
    if let Some(cookie) = jar.get(console.cookie_name()) {
        console
            .office
            .store()
            .delete_login(&sha256_hex(cookie.value()))
            .await?;
        console.logins_ended();
    }
    tracing::info!(staff = staff.member.id.0, "console logout");
    Ok((
        jar.remove(
            Cookie::build(console.cookie_name())
                .path("/")
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(console.secure_cookies),
        ),
        StatusCode::NO_CONTENT,
    ))
}

pub(crate) async fn me(staff: Staff) -> Json<Value> {
    let csrf = match &staff.via {
        Via::Cookie { csrf, .. } => Some(csrf.clone()),
        Via::Bearer { .. } => None,
    };
    Json(json!({
        "staff": StaffView::from(&staff.member),
        "csrf": csrf,
        "notifications": crate::routes::notifications::view(&staff.member),
    }))
}

/// "Log out everywhere" for the caller: ends every other console login of theirs (a bearer
/// caller: all of them); API tokens stay valid (`GET /api/v1/tokens` shows their last use).
pub(crate) async fn logout_everywhere(
    State(console): State<Console>,
    staff: Staff,
) -> Result<Json<Value>, ApiError> {
    let keep = match &staff.via {
        Via::Cookie { login, .. } => Some(login.as_str()),
        Via::Bearer { .. } => None,
    };
    let ended = console
        .office
        .store()
        .end_logins_of(staff.member.id, keep)
        .await?;
    console.logins_ended();
    tracing::info!(
        staff = staff.member.id.0,
        ended,
        "console logout everywhere"
    );
    Ok(Json(json!({ "ended": ended })))
}

/// The polite refusal of a locked login, with whole minutes rounded up.
fn too_many(wait: jiff::SignedDuration) -> ApiError {
    let secs = u64::try_from(wait.as_secs()).unwrap_or(0).max(1);
    ApiError::TooManyRequests {
        minutes: secs.div_ceil(60),
        retry_after_secs: secs,
    }
}
