//! The JSON shapes of the API (see `docs/api.md`).

use serde::Serialize;
use sprechstunde_core::{
    DeliveryState, Engine, EntryKind, Lang, OfficeState, Question, Queue, Session, StaffMember,
};

/// Length of the preview in queue lists, in characters.
const PREVIEW_CHARS: usize = 140;

/// A staff member without secrets.
#[derive(Debug, Serialize)]
pub struct StaffView {
    /// Id.
    pub id: u64,
    /// Login name.
    pub login: String,
    /// Display name.
    pub name: String,
    /// Roles.
    pub roles: Vec<String>,
}

impl From<&StaffMember> for StaffView {
    fn from(m: &StaffMember) -> Self {
        StaffView {
            id: m.id.0,
            login: m.login.clone(),
            name: m.name.clone(),
            roles: m.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        }
    }
}

/// A session in a list.
#[derive(Debug, Serialize)]
pub struct SessionRef {
    /// Id.
    pub id: u64,
    /// Title.
    pub title: String,
}

/// A question in the queue.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// `A-1042`.
    pub reference: String,
    /// Channel.
    pub channel: String,
    /// Status.
    pub status: String,
    /// `live` or `office`.
    pub queue: String,
    /// Session, if any.
    pub session: Option<SessionRef>,
    /// Position in the live queue.
    pub position: Option<u64>,
    /// Created.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// Due date.
    pub due: Option<String>,
    /// Start of the first message.
    pub preview: String,
    /// Delivery state of the latest message to the citizen.
    pub delivery: Option<String>,
    /// Department it is routed to (slug and name).
    pub department: Option<DepartmentRef>,
    /// What the routing rules suggested, and which rule matched.
    pub suggestion: Option<SuggestionView>,
    /// Who works on it.
    pub assignee: Option<AssigneeView>,
    /// Open and past its due date.
    pub overdue: bool,
    /// An answer draft waiting for four-eyes approval.
    pub draft: Option<DraftView>,
}

/// A department in a question.
#[derive(Debug, Serialize)]
pub struct DepartmentRef {
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
}

/// A routing suggestion.
#[derive(Debug, Serialize)]
pub struct SuggestionView {
    /// The suggested department.
    pub department: Option<DepartmentRef>,
    /// The rule that matched.
    pub rule: String,
}

/// The assignee of a question.
#[derive(Debug, Serialize)]
pub struct AssigneeView {
    /// Staff id.
    pub id: u64,
    /// Name.
    pub name: String,
}

/// A draft answer.
#[derive(Debug, Serialize)]
pub struct DraftView {
    /// Author.
    pub staff: String,
    /// Author's id.
    pub staff_id: u64,
    /// Proposed text.
    pub text: String,
    /// When.
    pub at: String,
}

fn department_ref(
    state: &OfficeState,
    id: sprechstunde_core::DepartmentId,
) -> Option<DepartmentRef> {
    state.department(id).map(|d| DepartmentRef {
        slug: d.slug.clone(),
        name: d.name.clone(),
    })
}

/// Delivery of an entry to the citizen.
#[derive(Debug, Serialize)]
pub struct DeliveryView {
    /// `pending`, `delivered`, `failed`.
    pub state: String,
    /// Failed attempts.
    pub attempts: u32,
    /// Last error or failure reason.
    pub last_error: Option<String>,
    /// When delivered or failed.
    pub at: Option<String>,
    /// What the citizen's app confirmed (`received`, `read`), on channels with receipts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<&'static str>,
    /// When that receipt arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_at: Option<String>,
}

impl DeliveryView {
    /// The view of an outbox message: its delivery state and any receipt.
    pub fn of(m: &sprechstunde_core::OutboxMessage) -> Self {
        let mut view = DeliveryView::from(&m.state);
        if let Some(c) = m.confirmed {
            view.receipt = Some(c.receipt.name());
            view.receipt_at = Some(c.at.to_string());
        }
        view
    }
}

impl From<&DeliveryState> for DeliveryView {
    fn from(s: &DeliveryState) -> Self {
        match s {
            DeliveryState::Pending {
                attempts,
                last_error,
                ..
            } => DeliveryView {
                state: s.name().into(),
                attempts: *attempts,
                last_error: last_error.clone(),
                at: None,
                receipt: None,
                receipt_at: None,
            },
            DeliveryState::Delivered { at } => DeliveryView {
                state: s.name().into(),
                attempts: 0,
                last_error: None,
                at: Some(at.to_string()),
                receipt: None,
                receipt_at: None,
            },
            DeliveryState::Failed { at, reason } => DeliveryView {
                state: s.name().into(),
                attempts: 0,
                last_error: Some(reason.clone()),
                at: Some(at.to_string()),
                receipt: None,
                receipt_at: None,
            },
        }
    }
}

/// One thread entry.
#[derive(Debug, Serialize)]
pub struct EntryView {
    /// When.
    pub at: String,
    /// `citizen`, `answer`, `note`, `system`.
    pub kind: String,
    /// Staff name for answers and notes.
    pub staff: Option<String>,
    /// Text.
    pub text: String,
    /// Delivery, for entries sent to the citizen.
    pub delivery: Option<DeliveryView>,
}

/// A question with its thread.
#[derive(Debug, Serialize)]
pub struct Detail {
    /// Summary fields.
    #[serde(flatten)]
    pub summary: Summary,
    /// Citizen's language.
    pub lang: String,
    /// Rejection reason.
    pub rejection: Option<String>,
    /// The thread.
    pub entries: Vec<EntryView>,
}

/// Builds the summary of a question; `today` is the local date (for `overdue`).
pub fn summary(state: &OfficeState, q: &Question, today: jiff::civil::Date) -> Summary {
    summary_at(state, q, today, state.queue_position(q.id))
}

/// [`summary`] with the queue position already known (lists compute the positions of a whole
/// session queue in one pass instead of counting for every row).
pub fn summary_at(
    state: &OfficeState,
    q: &Question,
    today: jiff::civil::Date,
    position: Option<u64>,
) -> Summary {
    let preview: String = q.first_text().chars().take(PREVIEW_CHARS).collect();
    let preview = crate::neutralise::neutralise(&preview).into_owned();
    let delivery = state
        .outbox_of_question(q.id)
        .last()
        .map(|m| m.state.name().to_owned());
    Summary {
        reference: q.reference.to_string(),
        channel: q.channel.as_str().into(),
        status: q.status.as_str().into(),
        queue: match q.queue {
            Queue::Session(_) => "live".into(),
            Queue::CitizensOffice => "office".into(),
        },
        session: q
            .session
            .and_then(|id| state.session(id))
            .map(|s| SessionRef {
                id: s.id.0,
                title: s.title.clone(),
            }),
        position,
        created_at: q.created_at.to_string(),
        updated_at: q.updated_at.to_string(),
        due: q.due.map(|d| d.to_string()),
        preview,
        delivery,
        department: q.department.and_then(|d| department_ref(state, d)),
        suggestion: q.suggestion.as_ref().map(|s| SuggestionView {
            department: department_ref(state, s.department),
            rule: s.rule.clone(),
        }),
        assignee: q.assignee.as_ref().map(|a| AssigneeView {
            id: a.id.0,
            name: a.name.clone(),
        }),
        overdue: q.is_overdue(today),
        draft: q.draft.as_ref().map(|d| DraftView {
            staff: d.staff.name.clone(),
            staff_id: d.staff.id.0,
            text: crate::neutralise::neutralise(&d.text).into_owned(),
            at: d.at.to_string(),
        }),
    }
}

/// Builds the detail view of a question.
pub fn detail(state: &OfficeState, q: &Question, today: jiff::civil::Date) -> Detail {
    let lang = state
        .citizen(q.citizen)
        .map_or(Lang::De, |c| c.lang)
        .code()
        .to_owned();
    let entries = q
        .entries
        .iter()
        .map(|e| {
            let (kind, staff) = match &e.kind {
                EntryKind::Citizen => ("citizen", None),
                EntryKind::Answer { staff } => ("answer", Some(staff.name.clone())),
                EntryKind::Note { staff } => ("note", Some(staff.name.clone())),
                EntryKind::System => ("system", None),
            };
            EntryView {
                at: e.at.to_string(),
                kind: kind.into(),
                staff,
                text: crate::neutralise::neutralise(&e.text).into_owned(),
                delivery: e
                    .outbox
                    .and_then(|id| state.outbox_message(id))
                    .map(DeliveryView::of),
            }
        })
        .collect();
    Detail {
        summary: summary(state, q, today),
        lang,
        rejection: q
            .rejection
            .as_deref()
            .map(|r| crate::neutralise::neutralise(r).into_owned()),
        entries,
    }
}

/// A session.
#[derive(Debug, Serialize)]
pub struct SessionView {
    /// Id.
    pub id: u64,
    /// Title.
    pub title: String,
    /// Host.
    pub host: String,
    /// Description.
    pub description: String,
    /// Start, RFC 3339.
    pub starts_at: String,
    /// End, RFC 3339.
    pub ends_at: String,
    /// Start, local German.
    pub starts_local: String,
    /// End, local German.
    pub ends_local: String,
    /// Status.
    pub status: String,
    /// Cap.
    pub question_cap: Option<u32>,
    /// Pre-submission window in minutes.
    pub presubmission_minutes: Option<i64>,
    /// Questions admitted to its queue.
    pub admitted: u32,
    /// Channels it is held on (`web`, `telegram`, `matrix`); empty for every channel.
    pub channels: Vec<String>,
}

/// Builds the view of a session.
pub fn session(engine: &Engine, s: &Session) -> SessionView {
    let cal = &engine.policy().calendar;
    SessionView {
        id: s.id.0,
        title: s.title.clone(),
        host: s.host.clone(),
        description: s.description.clone(),
        starts_at: s.starts_at.to_string(),
        ends_at: s.ends_at.to_string(),
        starts_local: cal.format_datetime(s.starts_at, Lang::De),
        ends_local: cal.format_datetime(s.ends_at, Lang::De),
        status: serde_json::to_value(s.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        question_cap: s.question_cap,
        presubmission_minutes: s.presubmission.map(|d| d.as_secs() / 60),
        admitted: s.admitted,
        channels: s.channels.iter().map(|c| c.as_str().to_owned()).collect(),
    }
}

/// A session summary as staff see it: invisible and bidi characters in its questions and
/// answers neutralised (the stored and published summary is unchanged).
pub fn summary_for_staff(s: &sprechstunde_core::Summary) -> sprechstunde_core::Summary {
    let mut s = s.clone();
    for item in &mut s.items {
        for text in [&mut item.question, &mut item.answer] {
            if let std::borrow::Cow::Owned(shown) = crate::neutralise::neutralise(text) {
                *text = shown;
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use sprechstunde_core::{Entry, Snapshot};

    #[test]
    fn drafts_and_citizen_texts_are_neutralised_in_the_detail_view() {
        // Arrange: a citizen text with a soft hyphen and a draft with a direction override.
        let mut q = crate::access::tests::question(false, true, None);
        q.entries.push(Entry {
            at: q.created_at,
            kind: EntryKind::Citizen,
            text: "Bau\u{00AD}antrag \u{2764}\u{FE0F}".into(),
            outbox: None,
        });
        if let Some(d) = q.draft.as_mut() {
            d.text = "genehmigt am 3.\u{202E}21".into();
        }
        let state = OfficeState::from_snapshot(Snapshot {
            questions: vec![q.clone()],
            ..Snapshot::default()
        });
        let today = jiff::civil::date(2026, 12, 1);

        // Act
        let view = detail(&state, &q, today);

        // Assert
        let draft = view.summary.draft.as_ref().map(|d| d.text.as_str());
        assert_eq!(draft, Some("genehmigt am 3.[U+202E]21"));
        assert_eq!(view.summary.preview, "Bau[U+00AD]antrag \u{2764}\u{FE0F}");
        assert_eq!(view.entries[0].text, "Bau[U+00AD]antrag \u{2764}\u{FE0F}");
    }

    #[test]
    fn summary_drafts_are_neutralised_for_staff() {
        let t = jiff::Timestamp::UNIX_EPOCH;
        let summary = sprechstunde_core::Summary {
            session: sprechstunde_core::SessionId(1),
            title: "Sprechstunde".into(),
            host: "OB".into(),
            starts_at: t,
            items: vec![sprechstunde_core::SummaryItem {
                question: "Wann\u{200B} kommt die Brücke?".into(),
                answer: "Im März\u{2066}.".into(),
                asked_by: 2,
                source: None,
            }],
            updated_at: t,
            published_at: None,
        };
        let shown = summary_for_staff(&summary);
        assert_eq!(shown.items[0].question, "Wann[U+200B] kommt die Brücke?");
        assert_eq!(shown.items[0].answer, "Im März[U+2066].");
        assert_eq!(shown.items[0].asked_by, 2);
        assert_eq!(summary.items[0].question, "Wann\u{200B} kommt die Brücke?");
    }
}
