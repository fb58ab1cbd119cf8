//! The route table of `/api/v1`: every route is declared once, with its method, path,
//! handler, summary and the access it requires. The table builds the axum router, enforces
//! the access in a layer in front of the handler (401 without a login, 403 without the
//! permission), and is published as the OpenAPI document `/api/v1/openapi.json`, whose
//! `security` scopes carry the permission names. Tests walk that document.
//!
//! Adding a route is one line in [`crate::Console::router`]:
//! `.add(GET, "/things/{id}", Access::Staff(&[Permission::ReadQueue]), "Read a thing", things::get)`,
//! followed by `.doc(apidoc::things())` when the route has query parameters, a body, another
//! success status or errors of its own ([`Doc`]). The status codes every route can answer for
//! its access, path and body (401, 403, 404, 400/413/415/422, 503) are derived here.

use axum::Router;
use axum::extract::{Request, State};
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

/// The type of a query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// Free text.
    Text,
    /// A non-negative integer.
    Integer,
    /// `true` or `false`.
    Boolean,
    /// One of these words.
    OneOf(&'static [&'static str]),
}

/// A query parameter of a route.
#[derive(Debug, Clone, Copy)]
pub struct QueryParam {
    /// Name.
    pub name: &'static str,
    /// Type.
    pub kind: ParamType,
    /// What it does.
    pub description: &'static str,
}

/// What the OpenAPI document says of a route beyond method, path and access.
#[derive(Debug, Clone, Default)]
pub struct Doc {
    /// Query parameters.
    pub query: &'static [QueryParam],
    /// JSON schema of the request body (`application/json`); `None` for routes without one.
    pub body: Option<Value>,
    /// Success status; 200 when `None`.
    pub success: Option<u16>,
    /// Media type of the success answer; `application/json` when `None`.
    pub media: Option<&'static str>,
    /// Error statuses of the route's own (409 for state conflicts, 422 for refused input,
    /// 429, …); those of its access, path and body are derived.
    pub errors: &'static [u16],
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
    /// Parameters, body and statuses for the OpenAPI document.
    pub doc: Doc,
}

/// Builds the API router and the list of its routes together.
pub(crate) struct ApiTable {
    router: Router<Console>,
    routes: Vec<RouteSpec>,
    body_limits: Vec<(&'static str, usize)>,
}

impl ApiTable {
    pub(crate) fn new() -> Self {
        ApiTable {
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
        let mut guarded =
            on(filter, handler).route_layer(middleware::from_fn_with_state(access, guard));
        if let Some((_, bytes)) = self.body_limits.iter().find(|(p, _)| *p == path) {
            guarded = guarded.layer(tower_http::limit::RequestBodyLimitLayer::new(*bytes));
        }
        self.router = self.router.route(path, guarded);
        self.routes.push(RouteSpec {
            method,
            path,
            access,
            summary,
            doc: Doc::default(),
        });
        self
    }

    /// Documents the route declared last: query parameters, body, statuses.
    pub(crate) fn doc(mut self, doc: Doc) -> Self {
        if let Some(last) = self.routes.last_mut() {
            last.doc = doc;
        }
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
            doc: Doc::default(),
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
async fn guard(State(access): State<Access>, request: Request, next: Next) -> Response {
    if access == Access::Public {
        return next.run(request).await;
    }
    // The caller was found once, by `auth::identify`, before any route layer ran.
    let Some(staff) = request.extensions().get::<Staff>() else {
        return ApiError::Unauthorized.into_response();
    };
    if !access.allows(&staff.member) {
        return ApiError::Forbidden("your role does not allow this").into_response();
    }
    next.run(request).await
}

/// What each status means, for every route that can answer it.
fn status_text(code: u16) -> &'static str {
    match code {
        200 => "Success",
        201 => "Created",
        204 => "Done; no content",
        400 => "Bad request: malformed JSON, reference, id or query parameter",
        401 => "Login or bearer token missing or invalid",
        403 => {
            "The caller's role lacks the permission; or, for a console login, a missing \
                X-CSRF-Token header or a cross-site request"
        }
        404 => {
            "Not found, or not visible to the caller (department scoping, approval and \
                moderation scopes; see docs/api.md)"
        }
        409 => "Conflict with the current state (e.g. the question is no longer open)",
        413 => "Request body too large",
        415 => "The body is not `application/json`",
        422 => {
            "Invalid input: a required field is missing or of the wrong type (plain-text \
                answer), or the input was refused (JSON error)"
        }
        429 => "Too many attempts; see `Retry-After`",
        503 => "Storage or the audit trail failed; nothing was changed",
        _ => "See docs/api.md",
    }
}

/// The statuses a route can answer: its success, what its access, path and body imply, and
/// its own errors.
pub fn statuses(r: &RouteSpec) -> std::collections::BTreeSet<u16> {
    let mut codes = std::collections::BTreeSet::from([r.doc.success.unwrap_or(200)]);
    let changes = !matches!(r.method, Method::GET | Method::HEAD | Method::OPTIONS);
    match r.access {
        Access::Public => {}
        Access::Login => {
            codes.insert(401);
        }
        Access::Staff(_) => {
            codes.extend([401, 403]);
        }
    }
    if changes {
        codes.insert(403);
    }
    if r.path.contains('{') {
        codes.extend([400, 404]);
    }
    if r.doc.body.is_some() {
        codes.extend([400, 413, 415, 422]);
    }
    if !r.doc.query.is_empty() {
        codes.insert(400);
    }
    codes.extend(r.doc.errors.iter().copied());
    if r.path != "/openapi.json" {
        codes.insert(503);
    }
    codes
}

fn query_param(p: &QueryParam) -> Value {
    let schema = match p.kind {
        ParamType::Text => json!({"type": "string"}),
        ParamType::Integer => json!({"type": "integer", "minimum": 0}),
        ParamType::Boolean => json!({"type": "boolean"}),
        ParamType::OneOf(values) => json!({"type": "string", "enum": values}),
    };
    json!({"name": p.name, "in": "query", "required": false, "description": p.description,
           "schema": schema})
}

/// The OpenAPI 3.1 document of `routes`.
pub fn openapi(routes: &[RouteSpec]) -> Value {
    let mut paths = Map::new();
    for r in routes {
        let mut params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| {
                let schema = if name == "id" {
                    json!({"type": "integer", "minimum": 0})
                } else {
                    json!({"type": "string"})
                };
                json!({"name": name, "in": "path", "required": true, "schema": schema})
            })
            .collect();
        params.extend(r.doc.query.iter().map(query_param));
        let success = r.doc.success.unwrap_or(200);
        let mut responses = Map::new();
        for code in statuses(r) {
            let mut response = json!({"description": status_text(code)});
            if code == success && code != 204 {
                let media = r.doc.media.unwrap_or("application/json");
                response["content"] = json!({ media: {} });
            } else if code >= 400 && !(code == 415 || (code == 422 && r.doc.body.is_some())) {
                response["content"] = json!({"application/json":
                    {"schema": {"$ref": "#/components/schemas/Error"}}});
            }
            if code == 429 {
                response["headers"] = json!({"Retry-After":
                    {"description": "Seconds to wait", "schema": {"type": "integer"}}});
            }
            responses.insert(code.to_string(), response);
        }
        let mut op = json!({
            "summary": r.summary,
            "operationId": operation_id(&r.method, r.path),
            "tags": [r.path.split('/').nth(1).unwrap_or("api")],
            "parameters": params,
            "responses": responses,
        });
        if let Some(schema) = &r.doc.body {
            op["requestBody"] = json!({
                "required": true,
                "content": {"application/json": {"schema": schema}},
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
                lists the permissions (as role names of the scheme) of which the caller needs \
                one; see docs/api.md for roles and which questions each role sees.",
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "spst_…",
                    "description": "API token from `sprechstunde token create`; acts with the \
                        roles of its staff member."},
                "cookie": {"type": "apiKey", "in": "cookie", "name": crate::auth::HOST_COOKIE,
                    "description": "Console login (`POST /api/v1/login`); state-changing \
                        requests also need the login's `X-CSRF-Token` header. Without TLS \
                        the cookie is named `sprechstunde_staff`."},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": {"type": "string", "description": "Machine-readable code, \
                            e.g. `not_found`, `conflict`, `too_many_requests`"},
                        "message": {"type": "string"},
                    },
                },
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
