//! The gauges: figures of the office's state as it is when Prometheus scrapes. Counted in
//! one short hold of the state lock ([`Gauges::read`]); encoded afterwards.

use std::collections::BTreeMap;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use sprechstunde_core::{ChannelKind, DeliveryState, OfficeState, Queue, SessionStatus};
use sprechstunde_runtime::Office;

/// The labels of open questions: where they wait.
#[derive(Debug, Clone, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
pub struct Place {
    /// `citizens_office`, or `session_<id>` for a session's queue.
    pub queue: String,
    /// The department's slug (its configured short name), or `none`.
    pub department: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByChannel {
    channel: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByDepartment {
    department: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByState {
    state: &'static str,
}

/// What a session state is called in the label.
fn state_name(status: SessionStatus) -> &'static str {
    match status {
        SessionStatus::Scheduled => "scheduled",
        SessionStatus::Live => "live",
        SessionStatus::Closed => "closed",
        SessionStatus::Cancelled => "cancelled",
    }
}

/// Every session state, so that each appears in every scrape.
const STATES: [SessionStatus; 4] = [
    SessionStatus::Scheduled,
    SessionStatus::Live,
    SessionStatus::Closed,
    SessionStatus::Cancelled,
];

/// The gauges' values at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gauges {
    /// Open questions (not merged into another) by queue and department.
    pub open: BTreeMap<Place, i64>,
    /// Open questions of the citizens' office past their due date, by department.
    pub overdue: BTreeMap<String, i64>,
    /// Outbox messages not delivered yet, by channel.
    pub outbox_pending: BTreeMap<&'static str, i64>,
    /// Outbox messages given up, by channel.
    pub outbox_failed: BTreeMap<&'static str, i64>,
    /// Sessions by state.
    pub sessions: BTreeMap<&'static str, i64>,
}

impl Gauges {
    /// Counts the figures in the office's state now.
    pub async fn read(office: &Office) -> Gauges {
        office
            .read(|state, engine, now| {
                let today = engine.policy().calendar.local(now).date();
                Gauges::collect(state, today)
            })
            .await
    }

    /// Counts the figures in `state`; `today` is the office's local date (for overdue).
    pub fn collect(state: &OfficeState, today: jiff::civil::Date) -> Gauges {
        let mut gauges = Gauges::default();
        for channel in ChannelKind::ALL {
            gauges.outbox_pending.insert(channel.as_str(), 0);
            gauges.outbox_failed.insert(channel.as_str(), 0);
        }
        for status in STATES {
            gauges.sessions.insert(state_name(status), 0);
        }
        let department = |id: Option<sprechstunde_core::DepartmentId>| {
            id.and_then(|id| state.department(id))
                .map_or_else(|| "none".to_owned(), |d| d.slug.clone())
        };
        // Every department (and none) in the citizens' office from zero, so that sums and
        // alerts see a 0 rather than no series.
        let slugs = state
            .departments()
            .map(|d| d.slug.clone())
            .chain(["none".to_owned()]);
        for slug in slugs {
            gauges.open.insert(
                Place {
                    queue: "citizens_office".to_owned(),
                    department: slug.clone(),
                },
                0,
            );
            gauges.overdue.insert(slug, 0);
        }
        for q in state.questions() {
            if !q.is_open() || q.merged_into.is_some() {
                continue;
            }
            let queue = match q.queue {
                Queue::CitizensOffice => "citizens_office".to_owned(),
                Queue::Session(id) => format!("session_{}", id.0),
            };
            let place = Place {
                queue,
                department: department(q.department),
            };
            *gauges.open.entry(place).or_default() += 1;
            // As the daily digest counts them: the citizens' office's questions with a due date.
            if q.queue == Queue::CitizensOffice && q.is_overdue(today) {
                *gauges.overdue.entry(department(q.department)).or_default() += 1;
            }
        }
        for m in state.outbox() {
            let channel = m.channel.as_str();
            match m.state {
                DeliveryState::Pending { .. } => {
                    *gauges.outbox_pending.entry(channel).or_default() += 1;
                }
                DeliveryState::Failed { .. } => {
                    *gauges.outbox_failed.entry(channel).or_default() += 1;
                }
                DeliveryState::Delivered { .. } => {}
            }
        }
        for s in state.sessions() {
            *gauges.sessions.entry(state_name(s.status)).or_default() += 1;
        }
        gauges
    }

    /// A registry holding these values as gauges (built per scrape, so a queue or
    /// department without open questions any more disappears).
    pub(crate) fn registry(&self) -> Registry {
        let mut registry = Registry::with_prefix("sprechstunde");
        let open = Family::<Place, Gauge>::default();
        for (place, n) in &self.open {
            open.get_or_create(place).set(*n);
        }
        registry.register(
            "open_questions",
            "Open questions by queue (citizens_office or session_<id>) and department slug",
            open,
        );
        let overdue = Family::<ByDepartment, Gauge>::default();
        for (department, n) in &self.overdue {
            overdue
                .get_or_create(&ByDepartment {
                    department: department.clone(),
                })
                .set(*n);
        }
        registry.register(
            "overdue_questions",
            "Open questions of the citizens' office past their due date, by department slug",
            overdue,
        );
        for (name, help, values) in [
            (
                "outbox_pending",
                "Messages to citizens not delivered yet, by channel",
                &self.outbox_pending,
            ),
            (
                "outbox_failed",
                "Messages to citizens given up (citizen unreachable), by channel",
                &self.outbox_failed,
            ),
        ] {
            let family = Family::<ByChannel, Gauge>::default();
            for (channel, n) in values {
                family.get_or_create(&ByChannel { channel }).set(*n);
            }
            registry.register(name, help, family);
        }
        let sessions = Family::<ByState, Gauge>::default();
        for (state, n) in &self.sessions {
            sessions.get_or_create(&ByState { state }).set(*n);
        }
        registry.register("sessions", "Office-hour sessions by state", sessions);
        registry
    }
}
