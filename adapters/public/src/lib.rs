//! Public pages: upcoming office hours (`/sprechstunden`), their iCal feed (`/sessions.ics`),
//! published summaries (`/zusammenfassungen/{id}`, with `.md` and `.json` exports) and the
//! accessibility statement (`/barrierefreiheit`), which every page links to.
//!
//! No login, no scripts, no inline styles: plain HTML that works with a strict content
//! security policy and with screen readers. German by default; English with `?lang=en` or
//! when the browser prefers English (`Accept-Language`), and every page links to the other
//! language.

pub mod accessibility;
pub mod ical;
mod pages;

pub use accessibility::AccessibilityStatement;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sprechstunde_core::{ChannelKind, Lang, Session, SessionId, SessionStatus};
use sprechstunde_runtime::Office;

/// The public pages of one office.
#[derive(Clone, Debug)]
pub struct Public {
    office: Office,
    name: String,
    channels: Vec<ChannelKind>,
    accessibility: std::sync::Arc<AccessibilityStatement>,
}

impl Public {
    /// Public pages for `office`, titled with the municipality's `name`, naming the web chat
    /// as the only channel until [`Public::with_channels`] says otherwise.
    pub fn new(office: Office, name: impl Into<String>) -> Self {
        Public {
            office,
            name: name.into(),
            channels: vec![ChannelKind::Web],
            accessibility: std::sync::Arc::default(),
        }
    }

    /// The installation's accessibility statement (the built-in defaults until then).
    #[must_use]
    pub fn with_accessibility(mut self, statement: AccessibilityStatement) -> Self {
        self.accessibility = std::sync::Arc::new(statement);
        self
    }

    /// The channels this installation runs, as the pages name them to citizens.
    #[must_use]
    pub fn with_channels(mut self, channels: Vec<ChannelKind>) -> Self {
        self.channels = channels;
        self
    }

    /// The routes.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/sessions.ics", get(calendar))
            .route("/sprechstunden", get(upcoming))
            .route("/zusammenfassungen/{file}", get(summary))
            .route(accessibility::PATH, get(accessibility_statement))
            .route("/oeffentlich/public.css", get(style))
            .with_state(self.clone())
    }
}

/// Sessions the public should see: not ended, and cancelled ones only while still ahead.
fn upcoming_sessions(
    sessions: impl Iterator<Item = Session>,
    now: jiff::Timestamp,
) -> Vec<Session> {
    let mut list: Vec<Session> = sessions
        .filter(|s| match s.status {
            SessionStatus::Scheduled | SessionStatus::Live => s.ends_at > now,
            SessionStatus::Cancelled => s.starts_at > now,
            SessionStatus::Closed => false,
        })
        .collect();
    list.sort_by_key(|s| (s.starts_at, s.id));
    list
}

/// `?lang=de|en`.
#[derive(Debug, Default, serde::Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

/// The page language: `?lang=` first, then the first language the browser names in
/// `Accept-Language` that we have, German otherwise.
fn language(query: &LangQuery, headers: &HeaderMap) -> Lang {
    let pick = |tag: &str| {
        let primary = tag.split(['-', '_']).next().unwrap_or("").trim();
        if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else if primary.eq_ignore_ascii_case("de") {
            Some(Lang::De)
        } else {
            None
        }
    };
    if let Some(lang) = query.lang.as_deref().and_then(pick) {
        return lang;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .filter_map(|part| pick(part.split(';').next().unwrap_or("")))
                .next()
        })
        .unwrap_or(Lang::De)
}

async fn calendar(
    State(public): State<Public>,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(&query, &headers);
    let body = public
        .office
        .read(|state, _, now| {
            let sessions = upcoming_sessions(state.sessions().cloned(), now);
            let refs: Vec<&Session> = sessions.iter().collect();
            ical::feed(&public.name, "sprechstunde", &refs, now, lang)
        })
        .await;
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"sessions.ics\"",
            ),
        ],
        body,
    )
        .into_response()
}

async fn upcoming(
    State(public): State<Public>,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(&query, &headers);
    let body = public
        .office
        .read(|state, engine, now| {
            let sessions = upcoming_sessions(state.sessions().cloned(), now);
            let published: Vec<_> = state
                .summaries()
                .rev()
                .filter(|s| s.is_published())
                .cloned()
                .collect();
            let view = pages::Upcoming {
                name: &public.name,
                channels: &public.channels,
                sessions: &sessions,
                published: &published,
            };
            pages::upcoming(&view, engine, now, lang)
        })
        .await;
    html(body)
}

async fn summary(
    State(public): State<Public>,
    Path(file): Path<String>,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(&query, &headers);
    let (id, format) = match file.rsplit_once('.') {
        Some((id, "md")) => (id, Format::Markdown),
        Some((id, "json")) => (id, Format::Json),
        Some(_) => return not_found(lang),
        None => (file.as_str(), Format::Html),
    };
    let Ok(id) = id.parse::<u64>() else {
        return not_found(lang);
    };
    let found = public
        .office
        .read(|state, engine, _| {
            state
                .summary(SessionId(id))
                .filter(|s| s.is_published())
                .map(|s| {
                    let when = engine.policy().calendar.format_datetime(s.starts_at, lang);
                    (s.clone(), when)
                })
        })
        .await;
    let Some((summary, when)) = found else {
        return not_found(lang);
    };
    match format {
        Format::Html => html(pages::summary(&public.name, &summary, &when, lang)),
        Format::Markdown => (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            summary.to_markdown(&when),
        )
            .into_response(),
        Format::Json => axum::Json(pages::summary_json(&summary)).into_response(),
    }
}

async fn accessibility_statement(
    State(public): State<Public>,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = language(&query, &headers);
    html(accessibility::statement(
        &public.accessibility,
        &public.name,
        lang,
    ))
}

enum Format {
    Html,
    Markdown,
    Json,
}

async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../assets/public.css"),
    )
}

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn not_found(lang: Lang) -> Response {
    (StatusCode::NOT_FOUND, html(pages::not_found(lang))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_LANGUAGE,
            value.parse().expect("a valid header value"),
        );
        headers
    }

    #[test]
    fn the_language_comes_from_the_query_then_the_browser_then_german() {
        let none = LangQuery::default();
        let en = LangQuery {
            lang: Some("en".into()),
        };
        let de = LangQuery {
            lang: Some("de".into()),
        };
        let odd = LangQuery {
            lang: Some("fr".into()),
        };
        let cases = [
            (&none, HeaderMap::new(), Lang::De),
            (&en, HeaderMap::new(), Lang::En),
            (&de, accept("en-GB,en;q=0.9"), Lang::De),
            (&none, accept("en-GB,en;q=0.9"), Lang::En),
            (&none, accept("fr-FR, en;q=0.5"), Lang::En),
            (&none, accept("fr-FR, de;q=0.8, en;q=0.5"), Lang::De),
            (&odd, accept("fr"), Lang::De),
        ];
        for (query, headers, want) in cases {
            assert_eq!(language(query, &headers), want, "{query:?} {headers:?}");
        }
    }
}
