//! What the OpenAPI document says of each route beyond its method, path and access: query
//! parameters, request body schemas (hand-written JSON schema, kept next to each other so
//! they are easy to compare with the handlers' `Deserialize` types) and the statuses a route
//! answers of its own. Attached to the routes in the route table ([`crate::Console::router`])
//! with `.doc(…)`; the e2e test `triage::openapi::the_openapi_document_…` checks them against the
//! server's real answers.

use serde_json::{Value, json};

use crate::table::ParamType::{Boolean, Integer, OneOf, Text};
use crate::table::{Doc, QueryParam};

/// A JSON object schema with these required fields and properties.
fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "required": required, "properties": properties})
}

fn text(description: &str) -> Value {
    json!({"type": "string", "minLength": 1, "description": description})
}

/// `{field: text}`, required.
fn one_text(field: &str, description: &str) -> Value {
    object(&[field], json!({ field: text(description) }))
}

/// A route that changes a question: 409 when it is no longer open, 422 for refused input.
fn question_change(body: Value) -> Doc {
    Doc {
        body: Some(body),
        errors: &[409, 422],
        ..Doc::default()
    }
}

pub(crate) fn login() -> Doc {
    Doc {
        body: Some(object(
            &["login", "password"],
            json!({"login": {"type": "string"}, "password": {"type": "string"}}),
        )),
        errors: &[401, 429],
        ..Doc::default()
    }
}

pub(crate) fn logout() -> Doc {
    Doc {
        success: Some(204),
        ..Doc::default()
    }
}

/// The queue filters of `GET /questions`, with the pagination parameters.
pub(crate) const QUEUE_FILTERS: &[QueryParam] = &[
    QueryParam {
        name: "queue",
        kind: OneOf(&["live", "office", "all"]),
        description: "Session queues, the citizens' office, or both (default)",
    },
    QueryParam {
        name: "status",
        kind: OneOf(&["open", "answered", "rejected", "withdrawn", "all"]),
        description: "Default `open`",
    },
    QueryParam {
        name: "department",
        kind: Text,
        description: "Department slug, or `none` for unrouted questions",
    },
    QueryParam {
        name: "channel",
        kind: OneOf(&["web", "telegram", "matrix", "threema"]),
        description: "The channel the citizen wrote on",
    },
    QueryParam {
        name: "session",
        kind: Integer,
        description: "Session id",
    },
    QueryParam {
        name: "overdue",
        kind: Boolean,
        description: "`true`: only open questions past their due date",
    },
    QueryParam {
        name: "assignee",
        kind: Text,
        description: "Staff id, `me` or `none`",
    },
    QueryParam {
        name: "draft",
        kind: Boolean,
        description: "`true`: only questions whose answer draft awaits approval",
    },
    QueryParam {
        name: "q",
        kind: Text,
        description: "Full-text search over thread and reference: all words, case- and \
                      umlaut-insensitive",
    },
    QueryParam {
        name: "limit",
        kind: Integer,
        description: "Page size",
    },
    QueryParam {
        name: "offset",
        kind: Integer,
        description: "Questions skipped before the page",
    },
];

pub(crate) fn questions() -> Doc {
    Doc {
        query: QUEUE_FILTERS,
        ..Doc::default()
    }
}

pub(crate) fn answer() -> Doc {
    question_change(one_text(
        "text",
        "The answer; a draft where the department needs approval",
    ))
}

pub(crate) fn note() -> Doc {
    Doc {
        body: Some(one_text(
            "text",
            "Internal note, never shown to the citizen",
        )),
        ..Doc::default()
    }
}

pub(crate) fn reject() -> Doc {
    question_change(one_text("reason", "Told to the citizen"))
}

/// The fields of `SessionInput`.
fn session_properties() -> Value {
    let time = "RFC 3339 (`2026-12-01T17:00:00+01:00`) or local wall-clock time in the \
                office's time zone (`2026-12-01T17:00`)";
    json!({
        "title": text("Title"),
        "host": text("Who holds it"),
        "description": {"type": "string"},
        "starts_at": {"type": "string", "description": time},
        "ends_at": {"type": "string", "description": time},
        "question_cap": {"type": ["integer", "null"], "minimum": 0},
        "presubmission_minutes": {"type": ["integer", "null"]},
        "channels": {"type": "array", "items": {"enum": ["web", "telegram", "matrix", "threema"]},
                     "description": "Empty or missing: every channel"},
    })
}

const SESSION_REQUIRED: [&str; 4] = ["title", "host", "starts_at", "ends_at"];

pub(crate) fn create_session() -> Doc {
    Doc {
        body: Some(object(&SESSION_REQUIRED, session_properties())),
        success: Some(201),
        errors: &[422],
        ..Doc::default()
    }
}

pub(crate) fn update_session() -> Doc {
    Doc {
        body: Some(object(&SESSION_REQUIRED, session_properties())),
        errors: &[409, 422],
        ..Doc::default()
    }
}

pub(crate) fn cancel_session() -> Doc {
    Doc {
        errors: &[409],
        ..Doc::default()
    }
}

pub(crate) fn create_series() -> Doc {
    let mut properties = session_properties();
    properties["repeat"] = json!({"enum": ["weekly", "monthly"]});
    properties["count"] = json!({"type": ["integer", "null"], "minimum": 1,
                                 "description": "Sessions in all"});
    properties["until"] = json!({"type": ["string", "null"],
                                 "description": "Last local date, `2027-06-30`"});
    let mut required = SESSION_REQUIRED.to_vec();
    required.push("repeat");
    Doc {
        body: Some(object(&required, properties)),
        success: Some(201),
        errors: &[422],
        ..Doc::default()
    }
}

pub(crate) fn outbox() -> Doc {
    Doc {
        query: &[QueryParam {
            name: "state",
            kind: OneOf(&["pending", "failed", "delivered"]),
            description: "Default `pending`",
        }],
        ..Doc::default()
    }
}

pub(crate) fn events() -> Doc {
    Doc {
        media: Some("text/event-stream"),
        ..Doc::default()
    }
}

pub(crate) fn route() -> Doc {
    question_change(object(
        &[],
        json!({"department": {"type": ["string", "null"],
                              "description": "Department slug; null: the citizens' office"}}),
    ))
}

/// `PUT /me/notifications`: the caller's own switch.
pub(crate) fn notifications() -> Doc {
    Doc {
        body: Some(object(
            &["notify"],
            json!({"notify": {"type": "boolean",
                              "description": "false: no notification mails for the caller; \
                                              true: mails again (to the address an \
                                              administrator set)"}}),
        )),
        ..Doc::default()
    }
}

/// `PUT /staff/{id}/department`: 422 for an unknown slug, or `null` for a member with the
/// department role.
pub(crate) fn membership() -> Doc {
    Doc {
        body: Some(object(
            &["department"],
            json!({"department": {"type": ["string", "null"],
                                  "description": "Department slug; null: no department (not \
                                                  for members with the department role)"}}),
        )),
        errors: &[422],
        ..Doc::default()
    }
}

pub(crate) fn assign() -> Doc {
    question_change(object(
        &[],
        json!({"staff": {"type": ["integer", "null"], "description": "Staff id; null: nobody"}}),
    ))
}

pub(crate) fn return_to_office() -> Doc {
    question_change(one_text("note", "Why (internal)"))
}

pub(crate) fn approve() -> Doc {
    question_change(object(
        &[],
        json!({"text": {"type": "string", "minLength": 1,
                        "description": "Edited text; missing: the draft as it is"}}),
    ))
}

pub(crate) fn send_back() -> Doc {
    question_change(one_text("note", "What to change (internal)"))
}

pub(crate) fn department() -> Doc {
    Doc {
        body: Some(object(
            &["name", "slug"],
            json!({
                "name": text("Name"),
                "slug": {"type": "string", "pattern": "^[a-z0-9-]+$"},
                "keywords": {"type": "array", "items": {"type": "string"}},
                "patterns": {"type": "array", "items": {"type": "string"},
                             "description": "Regular expressions, case-insensitive"},
                "requires_approval": {"type": "boolean"},
                "text_modules": {"type": "array", "items": object(
                    &["key", "title", "text"],
                    json!({"key": {"type": "string"}, "title": {"type": "string"},
                           "text": {"type": "string"}}),
                )},
            }),
        )),
        errors: &[422],
        ..Doc::default()
    }
}

/// `from` and `to` of the statistics.
const PERIOD: &[QueryParam] = &[
    QueryParam {
        name: "from",
        kind: Text,
        description: "First day (`YYYY-MM-DD`, local time) of the questions counted; default: \
                      the first question",
    },
    QueryParam {
        name: "to",
        kind: Text,
        description: "Last day (`YYYY-MM-DD`, local time, inclusive); default: today",
    },
];

pub(crate) fn stats() -> Doc {
    Doc {
        query: PERIOD,
        ..Doc::default()
    }
}

pub(crate) fn stats_csv() -> Doc {
    Doc {
        media: Some("text/csv"),
        query: PERIOD,
        ..Doc::default()
    }
}

pub(crate) fn backup() -> Doc {
    Doc {
        media: Some("application/octet-stream"),
        errors: &[409],
        ..Doc::default()
    }
}

pub(crate) fn answering() -> Doc {
    Doc {
        body: Some(object(
            &[],
            json!({"reference": {"type": ["string", "null"],
                                 "description": "`A-1042`; null clears"}}),
        )),
        errors: &[409],
        ..Doc::default()
    }
}

pub(crate) fn merge() -> Doc {
    Doc {
        body: Some(object(
            &["duplicates"],
            json!({"duplicates": {"type": "array", "items": {"type": "string"},
                                  "description": "References of the duplicates"}}),
        )),
        errors: &[409, 422],
        ..Doc::default()
    }
}

/// Summary routes that change it: 409 before the session closed or once published.
pub(crate) fn summary_change() -> Doc {
    Doc {
        errors: &[409],
        ..Doc::default()
    }
}

pub(crate) fn edit_summary() -> Doc {
    Doc {
        body: Some(object(
            &["items"],
            json!({"items": {"type": "array", "items": object(
                &["question", "answer"],
                json!({"question": text("The question"), "answer": text("The answer"),
                       "asked_by": {"type": "integer", "minimum": 1, "default": 1}}),
            )}}),
        )),
        errors: &[409, 422],
        ..Doc::default()
    }
}

pub(crate) fn audit() -> Doc {
    Doc {
        query: &[
            QueryParam {
                name: "login",
                kind: Text,
                description: "Staff login",
            },
            QueryParam {
                name: "object",
                kind: Text,
                description: "Part of the object, e.g. `A-1042`",
            },
            QueryParam {
                name: "action",
                kind: Text,
                description: "Part of the action",
            },
            QueryParam {
                name: "from",
                kind: Text,
                description: "RFC 3339",
            },
            QueryParam {
                name: "until",
                kind: Text,
                description: "RFC 3339",
            },
            QueryParam {
                name: "limit",
                kind: Integer,
                description: "The newest N matches (default 200, at most 1000)",
            },
        ],
        ..Doc::default()
    }
}

/// Accept or dismiss a suggested duplicate (issue 18).
pub(crate) fn suggestion() -> Doc {
    Doc {
        body: Some(object(
            &["reference", "duplicate"],
            json!({"reference": {"type": "string",
                                 "description": "The question the suggestion is shown at"},
                   "duplicate": {"type": "string",
                                 "description": "The suggested duplicate"}}),
        )),
        errors: &[409],
        ..Doc::default()
    }
}

/// The host's stage text for the question answered now (issue 18).
pub(crate) fn stage_text() -> Doc {
    Doc {
        body: Some(object(
            &[],
            json!({"text": {"type": ["string", "null"],
                            "description": "At most 400 characters; null shows the question as asked"}}),
        )),
        errors: &[],
        ..Doc::default()
    }
}
