//! Staff notifications by e-mail: what the engine queues when a question is routed or
//! assigned, when a draft waits for approval, and once a day for overdue questions; who gets
//! each; and what the mail says.
//!
//! A notice is queued in the same commit as the change that causes it, so it is durable with
//! it and never queued twice. The recipients are resolved when it is sent, from the staff
//! directory as it is then (a member who switched notifications off meanwhile gets nothing).
//! Mails leave the installation: they name the reference and a console link, never what the
//! citizen wrote, nor the citizen's name or address.

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::channel::DeliveryError;
use crate::ids::{DepartmentId, MailId, QuestionId, Reference, StaffId};
use crate::outbox::DeliveryState;
use crate::staff::{Permission, Role, StaffMember};
use crate::texts::{Arg, Lang, Texts};

/// How staff notifications work; `None` in the policy turns them off (nothing is queued).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMailPolicy {
    /// The console's public address, e.g. `https://sprechstunde.example.de/staff`; links
    /// point to `<console_url>#/questions/A-1042`.
    pub console_url: String,
    /// Local hour (0–23) from which the daily digest of overdue questions is sent, on
    /// working days.
    pub digest_hour: i8,
}

/// One overdue question in a digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverdueItem {
    /// Its reference.
    pub reference: Reference,
    /// When the answer was due.
    pub due: Date,
}

/// What staff are told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Notice {
    /// A question was routed to a department: its members are told.
    Routed {
        /// The question.
        question: QuestionId,
        /// Its reference.
        reference: Reference,
        /// The department.
        department: DepartmentId,
    },
    /// A question was assigned to a staff member (by somebody else): the member is told.
    Assigned {
        /// The question.
        question: QuestionId,
        /// Its reference.
        reference: Reference,
        /// The assignee.
        staff: StaffId,
    },
    /// A draft answer waits for four-eyes approval: the approvers (but its author) are told.
    DraftWaiting {
        /// The question.
        question: QuestionId,
        /// Its reference.
        reference: Reference,
        /// The author of the draft.
        author: StaffId,
    },
    /// The daily list of overdue questions of a department (`None`: of the citizens'
    /// office, questions not routed anywhere).
    Digest {
        /// The department.
        department: Option<DepartmentId>,
        /// The local day.
        date: Date,
        /// The overdue questions.
        overdue: Vec<OverdueItem>,
    },
}

/// Who a notice goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The department staff of a department.
    Department(DepartmentId),
    /// The citizens' office.
    CitizensOffice,
    /// One member.
    Member(StaffId),
    /// Everybody who may approve drafts, except the draft's author.
    Approvers {
        /// The draft's author.
        except: StaffId,
    },
}

impl Notice {
    /// Who it goes to.
    pub fn audience(&self) -> Audience {
        match self {
            Notice::Routed { department, .. } => Audience::Department(*department),
            Notice::Assigned { staff, .. } => Audience::Member(*staff),
            Notice::DraftWaiting { author, .. } => Audience::Approvers { except: *author },
            Notice::Digest {
                department: Some(d),
                ..
            } => Audience::Department(*d),
            Notice::Digest {
                department: None, ..
            } => Audience::CitizensOffice,
        }
    }

    /// Stable name: `routed`, `assigned`, `draft_waiting`, `digest`.
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::Routed { .. } => "routed",
            Notice::Assigned { .. } => "assigned",
            Notice::DraftWaiting { .. } => "draft_waiting",
            Notice::Digest { .. } => "digest",
        }
    }
}

/// One notification in the durable mail queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMail {
    /// Id, increasing in creation order.
    pub id: MailId,
    /// What it tells.
    pub notice: Notice,
    /// Queued.
    pub created_at: Timestamp,
    /// Delivery state (the same retry rules as the citizens' outbox).
    pub state: DeliveryState,
}

impl StaffMail {
    /// Whether it still waits for delivery.
    pub fn is_pending(&self) -> bool {
        matches!(self.state, DeliveryState::Pending { .. })
    }

    /// When it is due, if it is pending.
    pub fn due_at(&self) -> Option<Timestamp> {
        match &self.state {
            DeliveryState::Pending {
                next_attempt_at, ..
            } => Some(next_attempt_at.unwrap_or(self.created_at)),
            _ => None,
        }
    }
}

/// The addresses a notice goes to: active members of the audience with an address who have
/// not switched notifications off; sorted, without duplicates.
pub fn recipients(audience: Audience, staff: &[StaffMember]) -> Vec<String> {
    let mut out: Vec<String> = staff
        .iter()
        .filter(|m| !m.disabled && m.notify)
        .filter(|m| match audience {
            Audience::Department(d) => m.department == Some(d) && m.may(Permission::WorkQuestions),
            Audience::CitizensOffice => m.roles.contains(&Role::CitizensOffice),
            Audience::Member(id) => m.id == id,
            Audience::Approvers { except } => m.id != except && m.may(Permission::ApproveAnswers),
        })
        .filter_map(|m| m.email.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A rendered notification, ready for the mail adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Recipients (sent as one message with hidden recipients).
    pub to: Vec<String>,
    /// Subject line.
    pub subject: String,
    /// Plain-text body, German first, then English.
    pub body: String,
}

/// Renders a notice: German, then English. `department` is the department's name where the
/// notice concerns one.
pub fn render(
    texts: &Texts,
    notice: &Notice,
    console_url: &str,
    department: Option<&str>,
) -> (String, String) {
    let base = console_url.trim_end_matches('/');
    let link = |r: Reference| format!("{base}#/questions/{r}");
    let both = |key: &str, args: &[(&str, Arg<'_>)]| {
        (
            texts.render(Lang::De, key, args),
            texts.render(Lang::En, key, args),
        )
    };
    let office = department.unwrap_or("Bürgerreferat");
    let (key, body_args): (&str, Vec<(&str, String)>) = match notice {
        Notice::Routed { reference, .. } => (
            "mail-routed",
            vec![
                ("reference", reference.to_string()),
                ("department", office.to_owned()),
                ("link", link(*reference)),
            ],
        ),
        Notice::Assigned { reference, .. } => (
            "mail-assigned",
            vec![
                ("reference", reference.to_string()),
                ("link", link(*reference)),
            ],
        ),
        Notice::DraftWaiting { reference, .. } => (
            "mail-draft-waiting",
            vec![
                ("reference", reference.to_string()),
                ("link", link(*reference)),
            ],
        ),
        Notice::Digest { date, overdue, .. } => {
            let list = overdue
                .iter()
                .map(|i| format!("- {} ({}): {}", i.reference, i.due, link(i.reference)))
                .collect::<Vec<_>>()
                .join("\n");
            (
                "mail-digest",
                vec![
                    ("department", office.to_owned()),
                    ("date", date.to_string()),
                    ("count", overdue.len().to_string()),
                    ("list", list),
                ],
            )
        }
    };
    let args: Vec<(&str, Arg<'_>)> = body_args
        .iter()
        .map(|(k, v)| (*k, Arg::Str(v.as_str())))
        .collect();
    let (subject_de, subject_en) = both(&format!("{key}-subject"), &args);
    let (body_de, body_en) = both(key, &args);
    let footer = both("mail-footer", &[]);
    let subject = format!("{subject_de} / {subject_en}");
    let body = format!(
        "{body_de}\n\n{}\n\n-- English --\n\n{body_en}\n\n{}\n",
        footer.0, footer.1
    );
    (subject, body)
}

/// Whether `address` looks like an e-mail address (`local@domain`, no spaces): a mistyped
/// address is refused when it is entered, not when the first mail bounces.
pub fn is_valid_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && address.len() <= 254
        && !address.chars().any(|c| c.is_whitespace() || c.is_control())
        && !address.contains(['<', '>', ',', ';', '"'])
}

/// The outbound side of the mail adapter: hands a rendered notification to the mail server.
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends one message to all its recipients at once.
    ///
    /// # Errors
    /// [`DeliveryError::Transient`] when the server cannot be reached or answers with a
    /// temporary failure (retried), [`DeliveryError::Permanent`] when it refuses for good.
    async fn send(&self, mail: &OutgoingMail) -> Result<(), DeliveryError>;
}
