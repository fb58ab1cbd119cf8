//! The route table of `/api/v1`: every route is declared once, with its method, path,
//! handler, summary and the access it requires. The table builds the axum router, enforces
//! the access in a layer in front of the handler (401 without a login, 403 without the
//! permission), and is published as the OpenAPI document `/api/v1/openapi.json`, whose
//! `security` scopes carry the permission names. Tests walk that document.
//!
//! Adding a route is one line in [`crate::Console::router`]:
//! `.add(GET, "/things/{id}", Access::Staff(&[Permission::ReadQueue]), "Read a thing", things::get)`.

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};
use serde_json::{Map, Value, json};
use sprechstunde_core::Permission;

use crate::Console;
use crate::auth::Staff;
use crate::error::ApiError;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anybody (login, the OpenAPI document).
    Public,
    /// Any logged-in staff member.
    Login,
    /// Staff holding at least one of these permissions.
    Staff(&'static [Permission]),
}

impl Access {
    /// Whether a member passes.
    pub fn allows(self, member: &sprechstunde_core::StaffMember) -> bool {
        match self {
            Access::Public | Access::Login => true,
            Access::Staff(any) => any.iter().any(|p| member.may(*p)),
        }
    }
}

/// One declared route.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    /// Method.
    pub method: Method,
    /// Path below `/api/v1`, with `{param}` placeholders.
    pub path: &'static str,
    /// Access.
    pub access: Access,
    /// One-line description.
    pub summary: &'static str,
}

/// Builds the API router and the list of its routes together.
pub(crate) struct ApiTable {
    console: Console,
    router: Router<Console>,
    routes: Vec<RouteSpec>,
    body_limits: Vec<(&'static str, usize)>,
}

impl ApiTable {
    pub(crate) fn new(console: Console) -> Self {
        ApiTable {
            console,
            router: Router::new(),
            routes: Vec::new(),
            body_limits: Vec::new(),
        }
    }

    /// Sets a smaller request body limit for the route at `path` (declare it before the
    /// route); the API-wide limit applies to all others.
    pub(crate) fn limit_body(mut self, path: &'static str, bytes: usize) -> Self {
        self.body_limits.push((path, bytes));
        self
    }

    /// Declares a route: method, path, access, summary and handler.
    pub(crate) fn add<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        access: Access,
        summary: &'static str,
        handler: H,
    ) -> Self
    where
        H: Handler<T, Console>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
        let mut guarded = on(filter, handler).route_layer(middleware::from_fn_with_state(
            (self.console.clone(), access),
            guard,
        ));
        if let Some((_, bytes)) = self.body_limits.iter().find(|(p, _)| *p == path) {
            guarded = guarded.layer(tower_http::limit::RequestBodyLimitLayer::new(*bytes));
        }
        self.router = self.router.route(path, guarded);
        self.routes.push(RouteSpec {
            method,
            path,
            access,
            summary,
        });
        self
    }

    /// The router, with `GET /openapi.json` serving the document of every route (itself
    /// included).
    pub(crate) fn finish(mut self) -> Router<Console> {
        self.routes.push(RouteSpec {
            method: Method::GET,
            path: "/openapi.json",
            access: Access::Public,
            summary: "This OpenAPI document",
        });
        let doc = std::sync::Arc::new(openapi(&self.routes));
        self.router.route(
            "/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { axum::Json((*doc).clone()) }
            }),
        )
    }
}

/// Enforces a route's access before its handler runs.
async fn guard(
    State((console, access)): State<(Console, Access)>,
    request: Request,
    next: Next,
) -> Response {
    if access == Access::Public {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let staff = match Staff::from_request_parts(&mut parts, &console).await {
        Ok(staff) => staff,
        Err(e) => return e.into_response(),
    };
    if !access.allows(&staff.member) {
        return ApiError::Forbidden("your role does not allow this").into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

/// The OpenAPI 3.1 document of `routes`.
pub fn openapi(routes: &[RouteSpec]) -> Value {
    let mut paths = Map::new();
    for r in routes {
        let params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| {
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
            })
            .collect();
        let mut op = json!({
            "summary": r.summary,
            "operationId": operation_id(&r.method, r.path),
            "tags": [r.path.split('/').nth(1).unwrap_or("api")],
            "parameters": params,
            "responses": {
                "200": {"description": "Success (JSON)"},
                "400": {"description": "Bad request"},
                "401": {"description": "Login or bearer token missing or invalid"},
                "403": {"description": "The caller's role lacks the permission"},
                "404": {"description": "Not found (or not visible to the caller's department)"},
                "409": {"description": "Conflict with the question's state"},
                "422": {"description": "Invalid input"},
            },
        });
        if matches!(r.method, Method::POST | Method::PUT | Method::PATCH) {
            op["requestBody"] = json!({
                "required": false,
                "content": {"application/json": {"schema": {"type": "object"}}},
            });
        }
        op["security"] = match r.access {
            Access::Public => json!([]),
            Access::Login => json!([{"bearer": []}, {"cookie": []}]),
            Access::Staff(any) => Value::Array(
                any.iter()
                    .flat_map(|p| {
                        [
                            json!({"bearer": [p.as_str()]}),
                            json!({"cookie": [p.as_str()]}),
                        ]
                    })
                    .collect(),
            ),
        };
        let path = format!("/api/v1{}", r.path);
        let entry = paths.entry(path).or_insert_with(|| json!({}));
        entry[r.method.as_str().to_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "sprechstunde API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Staff console and integration API. Every operation's `security` \
                lists the permission (scope) it needs; see docs/api.md for roles.",
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": crate::auth::COOKIE},
            },
        },
        "paths": paths,
    })
}

fn operation_id(method: &Method, path: &str) -> String {
    let mut id = method.as_str().to_lowercase();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        id.push('_');
        id.extend(
            seg.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .map(|c| c.to_ascii_lowercase()),
        );
    }
    id
}
