//! Office hours as events: subscriptions and announcements, reminders, recurring series,
//! live moderation, merged questions with one answer fanned out to every asker, and
//! session summaries.

use jiff::Timestamp;

use super::staff::non_empty;
use super::{Command, Engine, OfficeHoursAction, Receipt, Refusal};
use crate::citizen::Citizen;
use crate::ids::{OutboxId, QuestionId, SessionId};
use crate::outbox::Choice;
use crate::question::{Entry, EntryKind, QuestionStatus, Queue, StaffRef};
use crate::session::{Session, SessionStatus};
use crate::state::OfficeState;
use crate::summary::{ItemSource, Summary, SummaryItem, carry_sources};
use crate::texts::Arg::{Num, Str};
use crate::texts::Lang;

impl Engine {
    // ----- subscriptions ---------------------------------------------------------------------

    /// `/abonnieren` and `/abbestellen`.
    pub(super) fn subscription(
        &self,
        state: &mut OfficeState,
        citizen: &Citizen,
        command: &Command,
        now: Timestamp,
    ) {
        let subscribe = *command == Command::Subscribe;
        if let Some(c) = state.citizen_mut(citizen.id) {
            c.subscribed = subscribe;
        }
        let key = if subscribe {
            "subscribed"
        } else {
            "unsubscribed"
        };
        let reply = self.render(citizen.lang, key, &[]);
        let outbox = self.enqueue(state, citizen, None, reply, now);
        if let Some(c) = state.citizen(citizen.id).cloned() {
            self.offer_subscription(state, outbox, &c);
        }
    }

    /// Adds a subscribe or unsubscribe button (whichever applies) to a queued message.
    pub(super) fn offer_subscription(
        &self,
        state: &mut OfficeState,
        outbox: OutboxId,
        citizen: &Citizen,
    ) {
        let Some(mut message) = state.outbox_message(outbox).cloned() else {
            return;
        };
        let subscribed = state.citizen(citizen.id).is_some_and(|c| c.subscribed);
        let lang = citizen.lang;
        let choice = match (subscribed, lang) {
            (false, Lang::De) => ("button-subscribe", "/abonnieren"),
            (false, Lang::En) => ("button-subscribe", "/subscribe"),
            (true, Lang::De) => ("button-unsubscribe", "/abbestellen"),
            (true, Lang::En) => ("button-unsubscribe", "/unsubscribe"),
        };
        message.choices.push(Choice {
            label: self.render(lang, choice.0, &[]),
            command: choice.1.into(),
        });
        state.put_outbox(message);
    }

    // ----- announcements ---------------------------------------------------------------------

    /// Sends a text about `session` to every subscriber, each in their language.
    fn announce(&self, state: &mut OfficeState, session: &Session, key: &str, now: Timestamp) {
        self.announce_with(state, session, key, &[], now);
    }

    fn announce_with(
        &self,
        state: &mut OfficeState,
        session: &Session,
        key: &str,
        extra: &[(&str, u64)],
        now: Timestamp,
    ) {
        let cal = &self.policy.calendar;
        let subscribers: Vec<Citizen> = state
            .subscribers()
            .filter(|c| session.offered_on(c.channel))
            .cloned()
            .collect();
        for citizen in subscribers {
            let lang = citizen.lang;
            let start = cal.format_datetime(session.starts_at, lang);
            let end = cal.format_time(session.ends_at, lang);
            let mut args = vec![
                ("session", Str(&session.title)),
                ("host", Str(&session.host)),
                ("start", Str(&start)),
                ("end", Str(&end)),
            ];
            args.extend(extra.iter().map(|(k, v)| (*k, Num(*v))));
            let text = self.render(lang, key, &args);
            let outbox = self.enqueue(state, &citizen, None, text, now);
            self.offer_subscription(state, outbox, &citizen);
        }
    }

    /// After a session was created: older reminders count as sent (the announcement covers
    /// them), and subscribers are told.
    pub(super) fn after_create(&self, state: &mut OfficeState, id: SessionId, now: Timestamp) {
        self.skip_past_reminders(state, id, now);
        if let Some(session) = state.session(id).cloned() {
            self.announce(state, &session, "announce-new", now);
        }
    }

    /// After a session was edited: series and moderation stay; a changed start or end is
    /// announced as a rescheduling, and reminders are planned afresh.
    pub(super) fn after_update(&self, state: &mut OfficeState, previous: &Session, now: Timestamp) {
        let id = previous.id;
        let moved = state
            .session(id)
            .is_some_and(|s| s.starts_at != previous.starts_at || s.ends_at != previous.ends_at);
        if let Some(s) = state.session_mut(id) {
            s.series = previous.series;
            s.answering = previous.answering;
            s.reminded = if moved {
                Vec::new()
            } else {
                previous.reminded.clone()
            };
        }
        if moved {
            self.skip_past_reminders(state, id, now);
            if let Some(session) = state.session(id).cloned() {
                self.announce(state, &session, "announce-rescheduled", now);
            }
        }
    }

    /// Tells subscribers that a session is called off.
    pub(super) fn announce_cancelled(
        &self,
        state: &mut OfficeState,
        id: SessionId,
        now: Timestamp,
    ) {
        if let Some(session) = state.session(id).cloned() {
            self.announce(state, &session, "announce-cancelled", now);
        }
    }

    // ----- reminders -------------------------------------------------------------------------

    fn skip_past_reminders(&self, state: &mut OfficeState, id: SessionId, now: Timestamp) {
        let Some(session) = state.session(id) else {
            return;
        };
        let past: Vec<_> = self
            .policy
            .reminders
            .iter()
            .copied()
            .filter(|offset| {
                session.before_start(*offset) <= now && !session.reminded.contains(offset)
            })
            .collect();
        if past.is_empty() {
            return;
        }
        if let Some(s) = state.session_mut(id) {
            s.reminded.extend(past);
        }
    }

    /// Sends the reminders due at `now` to subscribers, at most one per session and tick;
    /// each offset is remembered on the session so it is never sent twice.
    pub(super) fn send_reminders(&self, state: &mut OfficeState, now: Timestamp) {
        if self.policy.reminders.is_empty() {
            return;
        }
        let due: Vec<(SessionId, Vec<jiff::SignedDuration>)> = state
            .sessions()
            .filter(|s| s.status == SessionStatus::Scheduled && now < s.starts_at)
            .filter_map(|s| {
                let offsets: Vec<_> = self
                    .policy
                    .reminders
                    .iter()
                    .copied()
                    .filter(|o| s.before_start(*o) <= now && !s.reminded.contains(o))
                    .collect();
                (!offsets.is_empty()).then_some((s.id, offsets))
            })
            .collect();
        for (id, offsets) in due {
            let Some(session) = state.session_mut(id) else {
                continue;
            };
            session.reminded.extend(offsets);
            let session = session.clone();
            self.announce(state, &session, "reminder", now);
        }
    }

    /// The next moment the clock changes something: a start, an end or a reminder.
    pub fn next_deadline(&self, state: &OfficeState) -> Option<Timestamp> {
        let reminders = state
            .sessions()
            .filter(|s| s.status == SessionStatus::Scheduled)
            .flat_map(|s| {
                self.policy
                    .reminders
                    .iter()
                    .filter(|o| !s.reminded.contains(o))
                    .map(|o| s.before_start(*o))
            })
            .min();
        match (state.next_clock_deadline(), reminders) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // ----- staff actions ---------------------------------------------------------------------

    pub(super) fn office_hours_action(
        &self,
        state: &mut OfficeState,
        action: OfficeHoursAction,
        now: Timestamp,
    ) -> Result<Receipt, Refusal> {
        match action {
            OfficeHoursAction::CreateSeries { draft, rule } => {
                self.create_series(state, draft, rule, now)
            }
            OfficeHoursAction::Merge {
                primary,
                duplicates,
            } => self.merge(state, primary, &duplicates, now),
            OfficeHoursAction::AnsweringNow { session, question } => {
                answering_now(state, session, question)
            }
            OfficeHoursAction::DraftSummary(session) => {
                let s = state.session(session).ok_or(Refusal::NotFound)?;
                if s.status != SessionStatus::Closed {
                    return Err(Refusal::SessionNotClosed);
                }
                if state.summary(session).is_some_and(Summary::is_published) {
                    return Err(Refusal::SummaryPublished);
                }
                let summary = draft_summary(state, session, now).ok_or(Refusal::NotFound)?;
                state.put_summary(summary);
                Ok(Receipt::Done)
            }
            OfficeHoursAction::EditSummary { session, items } => {
                let mut summary = state.summary(session).cloned().ok_or(Refusal::NotFound)?;
                let mut clean = Vec::with_capacity(items.len());
                for item in items {
                    clean.push(SummaryItem {
                        question: non_empty(&item.question)?,
                        answer: non_empty(&item.answer)?,
                        asked_by: item.asked_by.max(1),
                        source: item.source,
                    });
                }
                carry_sources(&summary.items, &mut clean);
                summary.items = clean;
                summary.updated_at = now;
                state.put_summary(summary);
                Ok(Receipt::Done)
            }
            OfficeHoursAction::PublishSummary(session) => {
                let mut summary = state.summary(session).cloned().ok_or(Refusal::NotFound)?;
                summary.published_at.get_or_insert(now);
                summary.updated_at = now;
                state.put_summary(summary);
                Ok(Receipt::Done)
            }
        }
    }

    fn create_series(
        &self,
        state: &mut OfficeState,
        draft: crate::session::SessionDraft,
        rule: crate::series::SeriesRule,
        now: Timestamp,
    ) -> Result<Receipt, Refusal> {
        let draft = draft.validate_at(now)?;
        let times = rule.occurrences(draft.starts_at, draft.ends_at, &self.policy.calendar.zone)?;
        let mut ids = Vec::with_capacity(times.len());
        for (starts_at, ends_at) in times {
            let id = state.alloc_session();
            let series = *ids.first().unwrap_or(&id);
            state.put_session(Session {
                id,
                title: draft.title.clone(),
                host: draft.host.clone(),
                description: draft.description.clone(),
                starts_at,
                ends_at,
                status: SessionStatus::Scheduled,
                question_cap: draft.question_cap,
                presubmission: draft.presubmission,
                admitted: 0,
                series: Some(series),
                channels: draft.channels.clone(),
                reminded: Vec::new(),
                revision: 0,
                answering: None,
            });
            self.skip_past_reminders(state, id, now);
            ids.push(id);
        }
        if let Some(first) = ids.first().and_then(|id| state.session(*id)).cloned() {
            let count = ids.len() as u64;
            self.announce_with(state, &first, "announce-series", &[("count", count)], now);
        }
        Ok(Receipt::Series(ids))
    }

    fn merge(
        &self,
        state: &mut OfficeState,
        primary: QuestionId,
        duplicates: &[QuestionId],
        now: Timestamp,
    ) -> Result<Receipt, Refusal> {
        let p = state.question(primary).ok_or(Refusal::NotFound)?;
        if !p.is_open() {
            return Err(Refusal::NotOpen(p.status));
        }
        if p.merged_into.is_some() || duplicates.is_empty() {
            return Err(Refusal::CannotMerge);
        }
        for d in duplicates {
            let q = state.question(*d).ok_or(Refusal::NotFound)?;
            if *d == primary {
                return Err(Refusal::CannotMerge);
            }
            if !q.is_open() {
                return Err(Refusal::NotOpen(q.status));
            }
        }
        // Four eyes: the primary's answer goes to every duplicate, so it must need approval
        // whenever one of them (or a duplicate merged into one of them) does.
        if !self.needs_approval(state, primary) {
            let needs = duplicates.iter().any(|d| {
                self.needs_approval(state, *d)
                    || state
                        .merged_into(*d)
                        .any(|child| self.needs_approval(state, child.id))
            });
            if needs {
                return Err(Refusal::MergeNeedsApproval);
            }
        }
        for d in duplicates {
            // Duplicates of a duplicate follow it to the primary.
            let children: Vec<QuestionId> = state.merged_into(*d).map(|q| q.id).collect();
            for child in children {
                state.update_question(child, |q| q.merged_into = Some(primary));
            }
            if state
                .question(*d)
                .is_some_and(|q| q.merged_into == Some(primary))
            {
                continue;
            }
            let Some(reference) = state.update_question(*d, |q| {
                q.merged_into = Some(primary);
                q.updated_at = now;
                q.reference
            }) else {
                continue;
            };
            let Some(citizen) = state
                .question(*d)
                .and_then(|q| state.citizen(q.citizen))
                .cloned()
            else {
                continue;
            };
            let reference = reference.to_string();
            let text = self.render(citizen.lang, "merged", &[("reference", Str(&reference))]);
            let _ = self.notify(state, &citizen, *d, text, now);
        }
        Ok(Receipt::Done)
    }

    /// Answers every open duplicate merged into `primary` with the primary's answer, each on
    /// its own channel with its own reference, and ends "answering now" for it. An answer
    /// that was not approved does not reach a duplicate that needs approval (it came to need
    /// it after the merge, e.g. routed to such a department): that one leaves the merge and
    /// gets the text as a draft awaiting approval.
    pub(super) fn fan_out(
        &self,
        state: &mut OfficeState,
        actor: &StaffRef,
        primary: QuestionId,
        text: &str,
        approval: super::staff::Approval,
        now: Timestamp,
    ) {
        let duplicates: Vec<QuestionId> = state
            .merged_into(primary)
            .filter(|q| q.is_open())
            .map(|q| q.id)
            .collect();
        for id in duplicates {
            if approval == super::staff::Approval::None && self.needs_approval(state, id) {
                state.update_question(id, |q| {
                    q.merged_into = None;
                    q.draft = Some(crate::triage::Draft {
                        staff: actor.clone(),
                        text: text.to_owned(),
                        at: now,
                    });
                    q.updated_at = now;
                });
                continue;
            }
            let Some(q) = state.question(id) else {
                continue;
            };
            let reference = q.reference.to_string();
            let Some(citizen) = state.citizen(q.citizen).cloned() else {
                continue;
            };
            let message = self.render(
                citizen.lang,
                "answer",
                &[("reference", Str(&reference)), ("text", Str(text))],
            );
            let outbox = self.enqueue(state, &citizen, Some(id), message, now);
            state.update_question(id, |q| {
                q.entries.push(Entry {
                    at: now,
                    kind: EntryKind::Answer {
                        staff: actor.clone(),
                    },
                    text: text.to_owned(),
                    outbox: Some(outbox),
                });
                q.status = QuestionStatus::Answered;
                q.due = None;
                q.updated_at = now;
            });
        }
        let session = state.question(primary).and_then(|q| q.session);
        if let Some(sid) = session
            && state
                .session(sid)
                .is_some_and(|s| s.answering == Some(primary))
            && let Some(s) = state.session_mut(sid)
        {
            s.answering = None;
        }
    }

    /// When a session closes with answered questions, the press office gets a draft summary.
    pub(super) fn summary_on_close(&self, state: &mut OfficeState, id: SessionId, now: Timestamp) {
        if state.summary(id).is_some() {
            return;
        }
        if let Some(summary) = draft_summary(state, id, now).filter(|s| !s.items.is_empty()) {
            state.put_summary(summary);
        }
    }
}

fn answering_now(
    state: &mut OfficeState,
    session: SessionId,
    question: Option<QuestionId>,
) -> Result<Receipt, Refusal> {
    let s = state.session(session).ok_or(Refusal::NotFound)?;
    if s.status != SessionStatus::Live {
        return Err(Refusal::SessionNotLive);
    }
    if let Some(qid) = question {
        let q = state.question(qid).ok_or(Refusal::NotFound)?;
        if !q.is_open() {
            return Err(Refusal::NotOpen(q.status));
        }
        if q.queue != Queue::Session(session) {
            return Err(Refusal::NotInSession);
        }
    }
    if let Some(s) = state.session_mut(session) {
        s.answering = question;
    }
    Ok(Receipt::Session(session))
}

/// A draft summary: the session's answered primary questions with their latest answer,
/// without names or references; each item keeps its source (internal) for erasure.
fn draft_summary(state: &OfficeState, id: SessionId, now: Timestamp) -> Option<Summary> {
    let session = state.session(id)?;
    let items = state
        .questions()
        .filter(|q| {
            q.session == Some(id) && q.status == QuestionStatus::Answered && q.merged_into.is_none()
        })
        .filter_map(|q| {
            let answer = q
                .entries
                .iter()
                .rev()
                .find(|e| matches!(e.kind, EntryKind::Answer { .. }))?;
            let duplicates: Vec<QuestionId> = state.merged_into(q.id).map(|d| d.id).collect();
            Some(SummaryItem {
                question: q.first_text().to_owned(),
                answer: answer.text.clone(),
                asked_by: u32::try_from(duplicates.len().saturating_add(1)).unwrap_or(u32::MAX),
                source: Some(ItemSource {
                    question: q.id,
                    duplicates,
                }),
            })
        })
        .collect();
    Some(Summary {
        session: id,
        title: session.title.clone(),
        host: session.host.clone(),
        starts_at: session.starts_at,
        items,
        updated_at: now,
        published_at: None,
    })
}
