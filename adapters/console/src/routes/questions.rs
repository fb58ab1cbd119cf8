//! The queue and single questions: list, read, answer, note, reject.

use std::collections::{BTreeSet, HashMap};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderName;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use sprechstunde_core::triage::fold;
use sprechstunde_core::{
    DepartmentId, Input, OfficeState, Permission, Question, QuestionAction, QuestionId,
    QuestionStatus, Queue, SessionId, StaffAction, StaffMember,
};

use crate::Console;
use crate::auth::Staff;
use crate::error::ApiError;
use crate::views::{self, Detail};

/// Most questions one page may hold.
pub(crate) const MAX_LIMIT: usize = 1000;

/// Questions summarised per hold of the state lock: long lists are built in slices so that
/// citizens' messages get the lock in between.
const SLICE: usize = 200;

/// Queue filters and paging (all optional; see docs/api.md).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filter {
    #[serde(default)]
    queue: Option<String>,
    #[serde(default)]
    status: Option<String>,
    /// Department slug, or `none` for unrouted questions.
    #[serde(default)]
    department: Option<String>,
    /// `web`, `telegram`, `matrix`.
    #[serde(default)]
    channel: Option<String>,
    /// Session id.
    #[serde(default)]
    session: Option<u64>,
    /// Only overdue questions.
    #[serde(default)]
    overdue: Option<bool>,
    /// Staff id, `me` or `none`.
    #[serde(default)]
    assignee: Option<String>,
    /// Only questions with a draft awaiting approval.
    #[serde(default)]
    draft: Option<bool>,
    /// Full-text search over the thread (case- and umlaut-insensitive, all words).
    #[serde(default)]
    q: Option<String>,
    /// Page size, 1 to [`MAX_LIMIT`]; every matching question when omitted. Text, so that a
    /// bad value gets our own message.
    #[serde(default)]
    limit: Option<String>,
    /// Matching questions skipped before the page; 0 when omitted.
    #[serde(default)]
    offset: Option<String>,
}

/// Which queue a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Live,
    Office,
    All,
}

/// The checks of a filter, resolved once per request and applied to each question (again
/// in every slice, since the state may have changed in between).
#[derive(Debug)]
struct Criteria {
    which: Which,
    status: Option<QuestionStatus>,
    /// `Some(None)`: unrouted questions only.
    department: Option<Option<DepartmentId>>,
    channel: Option<String>,
    session: Option<u64>,
    overdue: bool,
    draft: bool,
    /// `Some(None)`: unassigned questions only.
    assignee: Option<Option<u64>>,
    member: StaffMember,
}

impl Criteria {
    fn parse(filter: &Filter, staff: &Staff) -> Result<Criteria, ApiError> {
        let which = match filter.queue.as_deref().unwrap_or("all") {
            "live" => Which::Live,
            "office" => Which::Office,
            "all" => Which::All,
            _ => {
                return Err(ApiError::BadRequest(
                    "queue must be live, office or all".into(),
                ));
            }
        };
        let status = match filter.status.as_deref().unwrap_or("open") {
            "all" => None,
            "open" => Some(QuestionStatus::Open),
            "answered" => Some(QuestionStatus::Answered),
            "rejected" => Some(QuestionStatus::Rejected),
            "withdrawn" => Some(QuestionStatus::Withdrawn),
            _ => {
                return Err(ApiError::BadRequest(
                    "status must be open, answered, rejected, withdrawn or all".into(),
                ));
            }
        };
        if let Some(c) = filter.channel.as_deref()
            && !matches!(c, "web" | "telegram" | "matrix")
        {
            return Err(ApiError::BadRequest(
                "channel must be web, telegram or matrix".into(),
            ));
        }
        let assignee = match filter.assignee.as_deref() {
            None => None,
            Some("me") => Some(Some(staff.member.id.0)),
            Some("none") => Some(None),
            Some(id) => Some(Some(id.parse::<u64>().map_err(|_| {
                ApiError::BadRequest("assignee must be a staff id, me or none".into())
            })?)),
        };
        Ok(Criteria {
            which,
            status,
            // Resolved against the state (slugs can change).
            department: None,
            channel: filter.channel.clone(),
            session: filter.session,
            overdue: filter.overdue == Some(true),
            draft: filter.draft == Some(true),
            assignee,
            member: staff.member.clone(),
        })
    }

    /// Every check but the full-text search.
    fn admits(&self, q: &Question, today: jiff::civil::Date) -> bool {
        let queue = match self.which {
            Which::Live => matches!(q.queue, Queue::Session(_)),
            Which::Office => q.queue == Queue::CitizensOffice,
            Which::All => true,
        };
        queue
            && self.status.is_none_or(|s| q.status == s)
            && crate::access::visible(&self.member, q)
            && self.department.is_none_or(|d| q.department == d)
            && self
                .channel
                .as_deref()
                .is_none_or(|c| q.channel.as_str() == c)
            && self
                .session
                .is_none_or(|s| q.session.map(|x| x.0) == Some(s))
            && (!self.overdue || q.is_overdue(today))
            && (!self.draft || q.draft.is_some())
            && self
                .assignee
                .is_none_or(|a| q.assignee.as_ref().map(|x| x.id.0) == a)
    }
}

/// `limit` and `offset`, checked.
fn paging(filter: &Filter) -> Result<(usize, usize), ApiError> {
    let limit = match filter.limit.as_deref() {
        None => usize::MAX,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "limit must be a whole number from 1 to {MAX_LIMIT} (omit it for all questions)"
                ))
            })?,
    };
    let offset = match filter.offset.as_deref() {
        None => 0,
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| ApiError::BadRequest("offset must be a whole number, 0 or more".into()))?,
    };
    Ok((limit, offset))
}

/// The page of the queue.
#[derive(Debug, Serialize)]
struct List {
    questions: Vec<views::Summary>,
}

/// The queue: the matching questions oldest first, a page of them if asked; the header
/// `X-Total-Count` says how many match in all.
///
/// Built in three steps so the state lock, which citizen intake needs too, is held only
/// briefly: the ids passing the cheap checks in one pass; the full-text search outside the
/// lock on the folded texts the runtime keeps; the summaries of the page in slices.
pub(crate) async fn list(
    State(console): State<Console>,
    staff: Staff,
    Query(filter): Query<Filter>,
) -> Result<impl IntoResponse, ApiError> {
    staff.require_any(crate::access::READERS)?;
    let mut criteria = Criteria::parse(&filter, &staff)?;
    let (limit, offset) = paging(&filter)?;
    let words: Vec<String> = filter
        .q
        .as_deref()
        .map(fold)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let ids = console
        .office
        .read(|state, engine, now| {
            let department = match filter.department.as_deref() {
                None => None,
                Some("none") => Some(None),
                Some(slug) => Some(Some(
                    state
                        .department_by_slug(slug)
                        .ok_or_else(|| ApiError::BadRequest(format!("no department {slug:?}")))?
                        .id,
                )),
            };
            criteria.department = department;
            let today = crate::access::today(engine, now);
            let ids: Vec<QuestionId> = state
                .questions()
                .filter(|q| criteria.admits(q, today))
                .map(|q| q.id)
                .collect();
            Ok::<_, ApiError>(ids)
        })
        .await?;
    let ids = if words.is_empty() {
        ids
    } else {
        let texts = console.office.search_texts(&ids);
        ids.into_iter()
            .zip(texts)
            .filter(|(_, text)| {
                text.as_deref()
                    .is_some_and(|t| words.iter().all(|w| t.contains(w.as_str())))
            })
            .map(|(id, _)| id)
            .collect()
    };
    let total = ids.len();
    let page: Vec<QuestionId> = ids.into_iter().skip(offset).take(limit).collect();
    let questions = console
        .office
        .read_in_slices(&page, SLICE, |state, engine, now, part| {
            let today = crate::access::today(engine, now);
            let positions = positions(state, part);
            part.iter()
                .filter_map(|id| state.question(*id))
                // Checked again: the question may have changed since the first step; a
                // question routed away from a department's staff must not show.
                .filter(|q| criteria.admits(q, today))
                .map(|q| views::summary_at(state, q, today, positions.get(&q.id).copied()))
                .collect()
        })
        .await;
    Ok((
        [(HeaderName::from_static("x-total-count"), total.to_string())],
        Json(List { questions }),
    ))
}

/// Queue positions of the open questions in the session queues that `ids` are in: one pass
/// over each such queue instead of counting for every row.
fn positions(state: &OfficeState, ids: &[QuestionId]) -> HashMap<QuestionId, u64> {
    let sessions: BTreeSet<SessionId> = ids
        .iter()
        .filter_map(|id| state.question(*id))
        .filter_map(|q| match q.queue {
            Queue::Session(s) if q.is_open() => Some(s),
            _ => None,
        })
        .collect();
    let mut out = HashMap::new();
    for s in sessions {
        out.extend(
            state
                .session_queue(s)
                .zip(1u64..)
                .map(|(q, position)| (q.id, position)),
        );
    }
    out
}

pub(crate) async fn detail_of(console: &Console, id: QuestionId) -> Result<Json<Detail>, ApiError> {
    console
        .office
        .read(|state, engine, now| {
            let today = crate::access::today(engine, now);
            state.question(id).map(|q| views::detail(state, q, today))
        })
        .await
        .map(Json)
        .ok_or(ApiError::NotFound)
}

pub(crate) async fn detail(
    State(console): State<Console>,
    staff: Staff,
    Path(reference): Path<String>,
) -> Result<Json<Detail>, ApiError> {
    staff.require_any(crate::access::READERS)?;
    let id = crate::access::question(&console, &staff, &reference).await?;
    detail_of(&console, id).await
}

/// A text body.
#[derive(Debug, Deserialize)]
pub(crate) struct TextBody {
    text: String,
}

/// A reason body.
#[derive(Debug, Deserialize)]
pub(crate) struct ReasonBody {
    reason: String,
}

pub(crate) async fn act(
    console: &Console,
    staff: &Staff,
    reference: &str,
    action: impl FnOnce(QuestionId) -> StaffAction,
) -> Result<Json<Detail>, ApiError> {
    staff.require(Permission::WorkQuestions)?;
    let id = crate::access::question(console, staff, reference).await?;
    console
        .office
        .submit(Input::Staff {
            actor: staff.as_ref(),
            action: action(id),
        })
        .await??;
    detail_of(console, id).await
}

pub(crate) async fn answer(
    State(console): State<Console>,
    staff: Staff,
    Path(reference): Path<String>,
    Json(body): Json<TextBody>,
) -> Result<Json<Detail>, ApiError> {
    act(&console, &staff, &reference, |question| {
        StaffAction::Question(QuestionAction::Answer {
            question,
            text: body.text,
        })
    })
    .await
}

pub(crate) async fn note(
    State(console): State<Console>,
    staff: Staff,
    Path(reference): Path<String>,
    Json(body): Json<TextBody>,
) -> Result<Json<Detail>, ApiError> {
    act(&console, &staff, &reference, |question| {
        StaffAction::Question(QuestionAction::Note {
            question,
            text: body.text,
        })
    })
    .await
}

pub(crate) async fn reject(
    State(console): State<Console>,
    staff: Staff,
    Path(reference): Path<String>,
    Json(body): Json<ReasonBody>,
) -> Result<Json<Detail>, ApiError> {
    act(&console, &staff, &reference, |question| {
        StaffAction::Question(QuestionAction::Reject {
            question,
            reason: body.reason,
        })
    })
    .await
}
