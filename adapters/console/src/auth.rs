//! Who is calling: a console login (cookie + CSRF header) or an API bearer token, found
//! once per request by [`identify`] and read by every later layer and handler as [`Staff`].

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use sprechstunde_core::{Permission, StaffMember, StaffRef, TenantId};

use crate::Console;
use crate::accounts::{parse_token, sha256_hex};
use crate::error::ApiError;

/// Name of the console login cookie when cookies are not `Secure` (plain HTTP; discouraged).
pub const COOKIE: &str = "sprechstunde_staff";
/// Name of the console login cookie (default): `__Host-` binds it to this host, `Secure`,
/// `Path=/`, without `Domain`.
pub const HOST_COOKIE: &str = "__Host-sprechstunde_staff";
/// Header that carries the CSRF token of a cookie login.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Name of the device cookie (a browser that logged in as a member before; see
/// `throttle.rs`) when cookies are `Secure` (default).
pub const HOST_DEVICE_COOKIE: &str = "__Host-sprechstunde_device";
/// Name of the device cookie when cookies are not `Secure`.
pub const DEVICE_COOKIE: &str = "sprechstunde_device";
/// A token's last use is written at most this often (not once per request).
const TOKEN_USE_EVERY: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

/// How the caller authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// Console login; the CSRF token of the login.
    Cookie {
        /// CSRF token.
        csrf: String,
        /// SHA-256 of the login's secret: which login this is.
        login: String,
    },
    /// API bearer token with this id.
    Bearer {
        /// Token id.
        token: String,
    },
}

/// An authenticated staff member: the caller of a request, as [`identify`] found it.
#[derive(Debug, Clone)]
pub struct Staff {
    /// The municipality the request acts in (one today: [`TenantId::DEFAULT`]).
    pub tenant: TenantId,
    /// The member.
    pub member: StaffMember,
    /// How.
    pub via: Via,
}

impl Staff {
    /// Refuses unless the member holds `permission`.
    ///
    /// # Errors
    /// [`ApiError::Forbidden`].
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.member.may(permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden("your role does not allow this"))
        }
    }

    /// Refuses unless the member holds at least one of `any`.
    ///
    /// # Errors
    /// [`ApiError::Forbidden`].
    pub fn require_any(&self, any: &[Permission]) -> Result<(), ApiError> {
        if any.iter().any(|p| self.member.may(*p)) {
            Ok(())
        } else {
            Err(ApiError::Forbidden("your role does not allow this"))
        }
    }

    /// The member as recorded in threads.
    pub fn as_ref(&self) -> StaffRef {
        StaffRef {
            id: self.member.id,
            name: self.member.name.clone(),
        }
    }
}

impl FromRequestParts<Console> for Staff {
    type Rejection = ApiError;

    /// The caller [`identify`] found; 401 without one. No look-up happens here.
    async fn from_request_parts(parts: &mut Parts, _: &Console) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Staff>()
            .cloned()
            .ok_or(ApiError::Unauthorized)
    }
}

/// Middleware on the whole API (applied in [`Console::router`], outermost): authenticates
/// the request once — bearer token or login cookie — and puts the [`Staff`] it found into
/// the request's extensions. The audit layer, the CSRF guard, the route table's access
/// guard and the handlers read it from there and look nothing up again.
///
/// A request without valid credentials goes on without a caller (the access guard answers
/// 401 where a route needs one); only a failing store ends it here, with 503.
pub(crate) async fn identify(
    State(console): State<Console>,
    mut request: Request,
    next: Next,
) -> Response {
    match authenticate(&console, request.headers()).await {
        Ok(Some(staff)) => {
            request.extensions_mut().insert(staff);
        }
        Ok(None) => {}
        Err(error) => return error.into_response(),
    }
    next.run(request).await
}

/// The caller the headers name: an `Authorization: Bearer` token if the header is there
/// (and only then), else the login cookie. `None` for missing, unknown, revoked or expired
/// credentials and for disabled members.
///
/// # Errors
/// [`ApiError::Unavailable`] when the store fails.
async fn authenticate(console: &Console, headers: &HeaderMap) -> Result<Option<Staff>, ApiError> {
    let store = console.office.store();
    let tenant = TenantId::DEFAULT;
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let Some((id, secret)) = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|presented| parse_token(presented.trim()))
        else {
            return Ok(None);
        };
        let Some(token) = store.token(id).await? else {
            return Ok(None);
        };
        if token.revoked_at.is_some() || token.secret_hash != sha256_hex(secret) {
            return Ok(None);
        }
        let Some(member) = active_member(console, token.staff).await? else {
            return Ok(None);
        };
        note_use(console, &token.id).await;
        return Ok(Some(Staff {
            tenant,
            member,
            via: Via::Bearer { token: token.id },
        }));
    }
    let jar = CookieJar::from_headers(headers);
    let Some(cookie) = jar.get(console.cookie_name()) else {
        return Ok(None);
    };
    let Some(login) = store
        .login(&sha256_hex(cookie.value()))
        .await?
        .filter(|l| l.expires_at > console.office.now())
    else {
        return Ok(None);
    };
    let Some(member) = active_member(console, login.staff).await? else {
        return Ok(None);
    };
    Ok(Some(Staff {
        tenant,
        member,
        via: Via::Cookie {
            csrf: login.csrf,
            login: login.secret_hash,
        },
    }))
}

async fn active_member(
    console: &Console,
    id: sprechstunde_core::StaffId,
) -> Result<Option<StaffMember>, ApiError> {
    Ok(console
        .office
        .store()
        .staff_member(id)
        .await?
        .filter(|m| !m.disabled))
}

/// Records the use of a token (for `token list` and `GET /api/v1/tokens`), at most once per
/// [`TOKEN_USE_EVERY`]. A failure to record it does not refuse the request: the use is
/// information for admins, not a permission.
async fn note_use(console: &Console, id: &str) {
    let store = console.office.store();
    let now = console.office.now();
    let due = match store.token_last_used(id).await {
        Ok(last) => last.is_none_or(|l| now.duration_since(l) >= TOKEN_USE_EVERY),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read a token's last use");
            false
        }
    };
    if due && let Err(e) = store.put_token_use(id, now).await {
        tracing::warn!(error = %e, "cannot record a token's use");
    }
}
