//! Staff notifications: queueing a notice with the change that causes it, the daily digest of
//! overdue questions, and the mail queue's delivery reports. Nothing is queued unless the
//! policy has [`StaffMailPolicy`](crate::staff_mail::StaffMailPolicy) (mail configured).

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::{Engine, MailReport};
use crate::channel::DeliveryError;
use crate::ids::DepartmentId;
use crate::outbox::DeliveryState;
use crate::question::Queue;
use crate::staff_mail::{Notice, OverdueItem, StaffMail};
use crate::state::OfficeState;

/// Delivered or failed mails are kept this long (for the record), then forgotten by the
/// daily purge.
const KEEP_FINISHED: SignedDuration = SignedDuration::from_hours(7 * 24);

impl Engine {
    /// Queues `notice` in the staff mail queue, if mail is configured.
    pub(super) fn notify_staff(&self, state: &mut OfficeState, notice: Notice, now: Timestamp) {
        if self.policy.staff_mail.is_none() {
            return;
        }
        let id = state.alloc_mail();
        state.put_mail(StaffMail {
            id,
            notice,
            created_at: now,
            state: DeliveryState::new_pending(now),
        });
    }

    /// Queues the digests of the local day once its digest hour has come (working days
    /// only): one per department with overdue questions, and one for the citizens' office
    /// for overdue questions not routed anywhere. The day is recorded in the same commit, so
    /// a restart does not queue them again.
    pub(super) fn daily_digest(&self, state: &mut OfficeState, now: Timestamp) {
        let Some(mail) = &self.policy.staff_mail else {
            return;
        };
        let calendar = &self.policy.calendar;
        let local = calendar.local(now);
        let today = local.date();
        if local.hour() < mail.digest_hour
            || !calendar.is_working_day(today)
            || state.counters().last_digest.is_some_and(|d| d >= today)
        {
            return;
        }
        let mut overdue: BTreeMap<Option<DepartmentId>, Vec<OverdueItem>> = BTreeMap::new();
        for q in state.questions() {
            if q.queue != Queue::CitizensOffice || !q.is_overdue(today) || q.merged_into.is_some() {
                continue;
            }
            let Some(due) = q.due else { continue };
            overdue.entry(q.department).or_default().push(OverdueItem {
                reference: q.reference,
                due,
            });
        }
        state.set_last_digest(today);
        for (department, mut items) in overdue {
            items.sort_by_key(|i| (i.due, i.reference));
            self.notify_staff(
                state,
                Notice::Digest {
                    department,
                    date: today,
                    overdue: items,
                },
                now,
            );
        }
    }

    /// Records how sending staff mails went.
    pub(super) fn mail_sent(
        &self,
        state: &mut OfficeState,
        reports: Vec<MailReport>,
        now: Timestamp,
    ) {
        for report in reports {
            let Some(mail) = state.mail(report.id) else {
                continue;
            };
            let DeliveryState::Pending { attempts, .. } = mail.state else {
                // Already recorded: a repeated report changes nothing.
                continue;
            };
            // A mail server has no "recipient offline": wait and retry.
            let result = report.result.map_err(|e| match e {
                DeliveryError::Deferred => DeliveryError::Transient(e.to_string()),
                other => other,
            });
            let next = self.next_delivery_state(attempts, result, now);
            if let Some(m) = state.mail_mut(report.id) {
                m.state = next;
            }
        }
    }

    /// Forgets delivered and failed mails older than a week.
    pub(super) fn purge_mails(&self, state: &mut OfficeState, now: Timestamp) {
        let old: Vec<_> = state
            .mails()
            .filter(|m| match &m.state {
                DeliveryState::Delivered { at } | DeliveryState::Failed { at, .. } => {
                    now.duration_since(*at) >= KEEP_FINISHED
                }
                DeliveryState::Pending { .. } => false,
            })
            .map(|m| m.id)
            .collect();
        for id in old {
            state.forget_mail(id);
        }
    }
}
