//! Who is calling: a console login (cookie + CSRF header) or an API bearer token.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum_extra::extract::CookieJar;
use sprechstunde_core::{Permission, StaffMember, StaffRef};

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

/// An authenticated staff member.
#[derive(Debug, Clone)]
pub struct Staff {
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

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, ApiError> {
        let store = console.office.store();
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let presented = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or(ApiError::Unauthorized)?;
            let (id, secret) = parse_token(presented.trim()).ok_or(ApiError::Unauthorized)?;
            let token = store.token(id).await?.ok_or(ApiError::Unauthorized)?;
            if token.revoked_at.is_some() || token.secret_hash != sha256_hex(secret) {
                return Err(ApiError::Unauthorized);
            }
            let member = active_member(console, token.staff).await?;
            note_use(console, &token.id).await;
            return Ok(Staff {
                member,
                via: Via::Bearer { token: token.id },
            });
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let secret = jar
            .get(console.cookie_name())
            .ok_or(ApiError::Unauthorized)?
            .value();
        let login = store
            .login(&sha256_hex(secret))
            .await?
            .filter(|l| l.expires_at > console.office.now())
            .ok_or(ApiError::Unauthorized)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let presented = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if presented != login.csrf {
                return Err(ApiError::Forbidden("missing or wrong X-CSRF-Token header"));
            }
        }
        let member = active_member(console, login.staff).await?;
        Ok(Staff {
            member,
            via: Via::Cookie {
                csrf: login.csrf,
                login: login.secret_hash,
            },
        })
    }
}

async fn active_member(
    console: &Console,
    id: sprechstunde_core::StaffId,
) -> Result<StaffMember, ApiError> {
    console
        .office
        .store()
        .staff_member(id)
        .await?
        .filter(|m| !m.disabled)
        .ok_or(ApiError::Unauthorized)
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
