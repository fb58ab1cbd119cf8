//! Delivery reports: the outbox's state machine.

use jiff::{SignedDuration, Timestamp};

use super::{DeliveryReport, Engine, ReceiptReport};
use crate::channel::DeliveryError;
use crate::outbox::{Confirmation, DeliveryState};
use crate::state::OfficeState;

impl Engine {
    pub(super) fn delivered(
        &self,
        state: &mut OfficeState,
        reports: Vec<DeliveryReport>,
        now: Timestamp,
    ) {
        let ids: Vec<_> = reports.iter().map(|r| r.id).collect();
        for report in reports {
            let Some(message) = state.outbox_message(report.id) else {
                continue;
            };
            let DeliveryState::Pending { attempts, .. } = message.state else {
                // Already delivered or failed: a late or repeated report changes nothing.
                continue;
            };
            let next = self.next_delivery_state(attempts, report.result, now);
            state.set_delivery_state(report.id, next);
        }
        self.forget_delivered(state, &ids);
    }

    /// Delivery receipts from citizens' apps. A receipt proves the message arrived, so one
    /// that overtakes the dispatcher's own report marks the message delivered as well; for
    /// a message that is gone (erased, forgotten) it changes nothing.
    pub(super) fn receipts(
        &self,
        state: &mut OfficeState,
        reports: Vec<ReceiptReport>,
        now: Timestamp,
    ) {
        for report in reports {
            let Some(message) = state.outbox_message(report.id) else {
                continue;
            };
            if message.is_pending() {
                state.set_delivery_state(report.id, DeliveryState::Delivered { at: now });
            }
            state.confirm_outbox(
                report.id,
                Confirmation {
                    receipt: report.receipt,
                    at: now,
                },
            );
        }
    }

    /// The delivery state after an attempt with `result`, given `attempts` failures before:
    /// the retry rules shared by the citizens' outbox and the staff mail queue.
    pub(super) fn next_delivery_state(
        &self,
        attempts: u32,
        result: Result<(), DeliveryError>,
        now: Timestamp,
    ) -> DeliveryState {
        let retry = self.policy.retry;
        let later = |d: std::time::Duration| {
            SignedDuration::try_from(d)
                .ok()
                .and_then(|d| now.checked_add(d).ok())
                .unwrap_or(now)
        };
        match result {
            Ok(()) => DeliveryState::Delivered { at: now },
            Err(DeliveryError::Deferred) => DeliveryState::Pending {
                attempts,
                next_attempt_at: None,
                last_error: Some(DeliveryError::Deferred.to_string()),
            },
            Err(DeliveryError::RetryAfter(wait)) => DeliveryState::Pending {
                attempts,
                next_attempt_at: Some(later(wait)),
                last_error: Some(DeliveryError::RetryAfter(wait).to_string()),
            },
            Err(DeliveryError::Transient(e)) => {
                let attempts = attempts + 1;
                if attempts >= retry.max_attempts {
                    DeliveryState::Failed {
                        at: now,
                        reason: format!("gave up after {attempts} attempts: {e}"),
                    }
                } else {
                    DeliveryState::Pending {
                        attempts,
                        next_attempt_at: Some(later(retry.delay(attempts))),
                        last_error: Some(e),
                    }
                }
            }
            Err(DeliveryError::Permanent(reason)) => DeliveryState::Failed { at: now, reason },
        }
    }
}
