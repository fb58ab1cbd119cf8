//! The staff mail worker: sends the notifications the engine queued, one at a time, through
//! the registered [`Mailer`], and records each result durably before the next, so a restart
//! sends nothing twice that was recorded (delivery is at least once: a mail accepted by the
//! server just before a crash is sent again). Recipients are resolved from the staff
//! directory when the mail is sent.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use sprechstunde_core::staff_mail::{Audience, OutgoingMail, recipients, render};
use sprechstunde_core::{DeliveryError, Input, MailId, MailReport, Mailer, Notice, OfficeState};
use tokio::sync::watch;

use crate::office::Office;

/// A mail server that does not answer within this time counts as a transient failure.
const SEND_TIMEOUT: Duration = Duration::from_secs(60);
/// Re-check for due mails at least this often.
const IDLE_RECHECK: Duration = Duration::from_secs(60);
/// Most mails taken per round (the state lock is held while they are rendered).
const BATCH: usize = 32;

impl Office {
    /// Registers the mail adapter that sends staff notifications; queued mails start going.
    pub fn register_mailer(&self, mailer: Arc<dyn Mailer>) {
        *self.inner.mailer.write().unwrap_or_else(|e| e.into_inner()) = Some(mailer);
        self.inner.mail_wake.notify_one();
    }
}

/// A due mail, rendered.
struct Due {
    id: MailId,
    kind: &'static str,
    audience: Audience,
    subject: String,
    body: String,
}

pub(crate) async fn run(office: Office, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        let mailer = office
            .inner
            .mailer
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let durable = office.inner.durable_mail.load(Ordering::SeqCst);
        let (due, next_at, now) = office
            .read(|state, engine, now| {
                let console = engine
                    .policy()
                    .staff_mail
                    .as_ref()
                    .map_or("", |p| p.console_url.as_str());
                let due: Vec<Due> = state
                    .due_mails(now)
                    // Not on disk yet: its commit is still being flushed.
                    .filter(|m| m.id.0 <= durable)
                    .take(BATCH)
                    .map(|m| {
                        let department = department_name(state, &m.notice);
                        let (subject, body) =
                            render(engine.texts(), &m.notice, console, department.as_deref());
                        Due {
                            id: m.id,
                            kind: m.notice.kind(),
                            audience: m.notice.audience(),
                            subject,
                            body,
                        }
                    })
                    .collect();
                (due, state.next_mail_after(now), now)
            })
            .await;
        if let Some(mailer) = mailer
            && !due.is_empty()
            && send_round(&office, mailer.as_ref(), due, &stop).await
        {
            continue;
        }
        let wait = next_at
            .map(|t| Duration::try_from(t.duration_since(now)).unwrap_or(Duration::ZERO))
            .unwrap_or(IDLE_RECHECK)
            .min(IDLE_RECHECK);
        tokio::select! {
            _ = stop.changed() => return,
            () = office.inner.mail_wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Sends `due` one by one, recording each result before the next. Returns whether every
/// result was recorded (otherwise the worker waits before it tries again).
async fn send_round(
    office: &Office,
    mailer: &dyn Mailer,
    due: Vec<Due>,
    stop: &watch::Receiver<bool>,
) -> bool {
    let staff = match office.store().staff().await {
        Ok(staff) => staff,
        Err(error) => {
            tracing::error!(%error, "staff directory unreadable; staff mails wait");
            return false;
        }
    };
    for mail in due {
        if *stop.borrow() {
            return false;
        }
        let to = recipients(mail.audience, &staff);
        let result = if to.is_empty() {
            // Nobody to tell (no addresses, or everybody switched mails off): done.
            Ok(())
        } else {
            let outgoing = OutgoingMail {
                to,
                subject: mail.subject,
                body: mail.body,
            };
            match tokio::time::timeout(SEND_TIMEOUT, mailer.send(&outgoing)).await {
                Ok(result) => result,
                Err(_) => Err(DeliveryError::Transient("mail server timed out".into())),
            }
        };
        match &result {
            Ok(()) => tracing::info!(mail = mail.id.0, kind = mail.kind, "staff mail sent"),
            Err(error) => {
                tracing::warn!(mail = mail.id.0, kind = mail.kind, %error, "staff mail failed");
            }
        }
        let report = MailReport {
            id: mail.id,
            result,
        };
        // Durably, before the next: a restart must not send a recorded mail again.
        if let Err(error) = office.submit(Input::MailSent(vec![report])).await {
            tracing::error!(%error, "could not record a staff mail; it will be sent again");
            return false;
        }
    }
    true
}

/// The name of the department a notice concerns, for its text.
fn department_name(state: &OfficeState, notice: &Notice) -> Option<String> {
    let id = match notice {
        Notice::Routed { department, .. } => Some(*department),
        Notice::Digest { department, .. } => *department,
        Notice::Assigned { question, .. } | Notice::DraftWaiting { question, .. } => {
            state.question(*question).and_then(|q| q.department)
        }
    }?;
    state.department(id).map(|d| d.name.clone())
}
