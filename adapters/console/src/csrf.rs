//! Cross-site request forgery protection for the whole `/api/v1` router, so every
//! state-changing route (also ones added later) is covered, whatever extractors it uses.
//!
//! For a request that is not GET/HEAD/OPTIONS and has no `Authorization` header (bearer-token
//! requests carry no ambient browser credentials and are exempt):
//! - `Sec-Fetch-Site`, when the browser sends it, must be `same-origin` (or `none`);
//! - with a live console login cookie (the caller `auth::identify` found), `X-CSRF-Token`
//!   must be the login's token.
//!
//! The login itself has no token yet: it is covered by the `Sec-Fetch-Site` check, the origin
//! guard of the server (`Origin` allow-list) and by accepting only `application/json`, which a
//! cross-site HTML form cannot send. The cookie is `SameSite=Strict` besides.

use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::{CSRF_HEADER, Staff, Via};
use crate::error::ApiError;

/// The middleware (applied in [`Console::router`](crate::Console::router), inside
/// [`identify`](crate::auth::identify)).
pub(crate) async fn guard(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let headers = request.headers();
    if safe || headers.contains_key(header::AUTHORIZATION) {
        return next.run(request).await;
    }
    let site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("same-origin");
    if !matches!(site, "same-origin" | "none") {
        return ApiError::Forbidden("cross-site request refused").into_response();
    }
    // The caller was found once, by `auth::identify`; a cookie login carries its token.
    if let Some(Staff {
        via: Via::Cookie { csrf, .. },
        ..
    }) = request.extensions().get::<Staff>()
    {
        let presented = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if presented != csrf {
            return ApiError::Forbidden("missing or wrong X-CSRF-Token header").into_response();
        }
    }
    next.run(request).await
}
