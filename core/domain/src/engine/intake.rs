//! Citizen messages: commands, new questions, additions and follow-ups.

use jiff::{SignedDuration, Timestamp};

use super::{CitizenMessage, Command, Engine, Intake, Receipt, Refusal};
use crate::channel::ChannelKind;
use crate::citizen::Citizen;
use crate::ids::{CitizenId, OutboxId, QuestionId};
use crate::question::{Entry, EntryKind, Question, QuestionStatus, Queue};
use crate::session::Session;
use crate::state::OfficeState;
use crate::texts::Arg::{Num, Str};
use crate::texts::Lang;

/// Where a new question goes, decided by the clock.
enum Placement {
    Live(Session),
    Presubmission(Session),
    Overflow(Session),
    Office,
}

impl Engine {
    pub(super) fn citizen_message(
        &self,
        state: &mut OfficeState,
        message: CitizenMessage,
        now: Timestamp,
    ) -> Result<Receipt, Refusal> {
        self.flood_gate(state, &message, now)?;
        let text = message.text.trim();
        if text.is_empty() {
            return Err(Refusal::Empty);
        }
        let max = self.policy.max_message_chars;
        let too_long = text.chars().count() > max;
        if too_long && message.inline_errors {
            // The adapter shows the refusal itself, so nothing is stored: no citizen, and no
            // intake key, which would make a resend of this message look accepted.
            return Err(Refusal::TooLong { max });
        }
        let citizen = self.citizen_for(state, &message, now);

        if let Some(key) = &message.intake_key
            && citizen.has_seen(key)
        {
            let latest = state
                .questions_of(citizen.id)
                .last()
                .map(|q| (q.id, q.reference));
            return Ok(match latest {
                Some((question, reference)) => Receipt::Question {
                    citizen: citizen.id,
                    question,
                    reference,
                    intake: Intake::Duplicate,
                },
                None => Receipt::Done,
            });
        }
        if let Some(key) = message.intake_key.clone()
            && let Some(c) = state.citizen_mut(citizen.id)
        {
            c.remember(key);
        }

        if too_long {
            let reply = self.render(citizen.lang, "too-long", &[("max", Num(max as u64))]);
            self.enqueue(state, &citizen, None, reply, now);
            return Err(Refusal::TooLong { max });
        }

        let command = Command::parse(text).or_else(|| self.bare_consent(&citizen, text));
        if let Some(command) = command {
            if command == Command::Subscribe && self.needs_consent(&citizen) {
                // A subscription keeps the reply address: only with consent. It is held
                // like a question and carried out once the citizen agrees.
                state.hold_command(citizen.id, command);
                self.ask_consent(state, &citizen, message.encrypted, now);
                return Ok(Receipt::ConsentNeeded {
                    citizen: citizen.id,
                });
            }
            self.command(state, &citizen, &command, message.encrypted, now);
            return Ok(Receipt::Command {
                citizen: citizen.id,
                command,
            });
        }

        if self.needs_consent(&citizen) && super::privacy::consent_word(text).is_some() {
            // "ok" or "ja" before any notice was shown: it answers nothing and asks nothing,
            // so it is not kept; the notice goes out, and the next "ok" counts.
            self.send_notice(state, &citizen, message.encrypted, now);
            return Ok(Receipt::ConsentNeeded {
                citizen: citizen.id,
            });
        }
        if self.needs_consent(&citizen) {
            // Several messages before agreeing become one question; the notice goes once.
            let first = state.held_message(citizen.id).is_none();
            state.hold(citizen.id, text);
            if first {
                self.ask_consent(state, &citizen, message.encrypted, now);
            }
            return Ok(Receipt::ConsentNeeded {
                citizen: citizen.id,
            });
        }
        self.take_in(state, &citizen, text, now)
    }

    /// Takes a message of a citizen who agreed to the notice in as a question.
    pub(super) fn take_in(
        &self,
        state: &mut OfficeState,
        citizen: &Citizen,
        text: &str,
        now: Timestamp,
    ) -> Result<Receipt, Refusal> {
        let latest = state
            .questions_of(citizen.id)
            .last()
            .map(|q| (q.id, q.status, q.updated_at));
        let (question, intake) = match latest {
            Some((id, QuestionStatus::Open, _)) => {
                self.extend(state, citizen, id, text, now);
                (id, Intake::Extended)
            }
            Some((id, QuestionStatus::Answered, answered_at))
                if now.duration_since(answered_at) <= self.policy.follow_up_window =>
            {
                self.follow_up(state, citizen, id, text, now);
                (id, Intake::FollowUp)
            }
            _ => self.new_question(state, citizen, text, now),
        };
        let reference = state
            .question(question)
            .map(|q| q.reference)
            .ok_or(Refusal::NotFound)?;
        Ok(Receipt::Question {
            citizen: citizen.id,
            question,
            reference,
            intake,
        })
    }

    /// Finds or creates the citizen, and follows a language change of the channel.
    fn citizen_for(&self, state: &mut OfficeState, m: &CitizenMessage, now: Timestamp) -> Citizen {
        let id = &m.identity;
        if let Some(existing) = state.citizen_by_pseudonym(id.channel, &id.pseudonym) {
            let mut citizen = existing.clone();
            let lang_changed = m.lang.is_some_and(|l| l != citizen.lang);
            let moved = citizen.address != id.address;
            // Last contact is kept to the day: enough for retention, and no write per message.
            let stale = citizen
                .last_seen
                .is_none_or(|seen| now.duration_since(seen) >= SignedDuration::from_hours(24));
            if lang_changed || moved || stale {
                citizen.lang = m.lang.unwrap_or(citizen.lang);
                citizen.address.clone_from(&id.address);
                citizen.last_seen = Some(now);
                state.put_citizen(citizen.clone());
            }
            return citizen;
        }
        let citizen = Citizen {
            id: state.alloc_citizen(),
            channel: id.channel,
            pseudonym: id.pseudonym.clone(),
            address: id.address.clone(),
            lang: m.lang.unwrap_or_default(),
            first_seen: now,
            recent_intake: Vec::new(),
            consent: (!self.policy.privacy.require_consent).then(|| crate::privacy::Consent {
                at: now,
                notice: "not required".to_owned(),
            }),
            last_seen: Some(now),
            erased: false,
            subscribed: false,
            notice_sent: None,
        };
        state.put_citizen(citizen.clone());
        citizen
    }

    fn placement(&self, state: &OfficeState, channel: ChannelKind, now: Timestamp) -> Placement {
        let has_room = |s: &Session| s.question_cap.is_none_or(|cap| s.admitted < cap);
        // A session held on other channels only does not take this channel's questions.
        if let Some(live) = state.live_session_on(channel) {
            return if has_room(live) {
                Placement::Live(live.clone())
            } else {
                Placement::Overflow(live.clone())
            };
        }
        if let Some(next) = state.presubmission_session_on(now, channel) {
            return if has_room(next) {
                Placement::Presubmission(next.clone())
            } else {
                Placement::Overflow(next.clone())
            };
        }
        Placement::Office
    }

    fn new_question(
        &self,
        state: &mut OfficeState,
        citizen: &Citizen,
        text: &str,
        now: Timestamp,
    ) -> (QuestionId, Intake) {
        let placement = self.placement(state, citizen.channel, now);
        let (id, reference) = state.alloc_question();
        let (session, queue, due) = match &placement {
            Placement::Live(s) | Placement::Presubmission(s) => {
                if let Some(s) = state.session_mut(s.id) {
                    s.admitted += 1;
                }
                (Some(s.id), Queue::Session(s.id), None)
            }
            Placement::Overflow(s) => (Some(s.id), Queue::CitizensOffice, Some(self.due_date(now))),
            Placement::Office => (None, Queue::CitizensOffice, Some(self.due_date(now))),
        };
        state.put_question(Question {
            id,
            reference,
            citizen: citizen.id,
            channel: citizen.channel,
            session,
            queue,
            status: QuestionStatus::Open,
            department: None,
            created_at: now,
            updated_at: now,
            due,
            rejection: None,
            suggestion: crate::triage::suggest(state.departments(), text),
            assignee: None,
            draft: None,
            entries: vec![Entry {
                at: now,
                kind: EntryKind::Citizen,
                text: text.to_owned(),
                outbox: None,
            }],
            merged_into: None,
        });
        let lang = citizen.lang;
        let reference = reference.to_string();
        let position = state.queue_position(id).unwrap_or(1);
        let ack = match &placement {
            Placement::Live(s) => self.render(
                lang,
                "ack-live",
                &[
                    ("reference", Str(&reference)),
                    ("session", Str(&s.title)),
                    ("position", Num(position)),
                ],
            ),
            Placement::Presubmission(s) => {
                let start = self.policy.calendar.format_datetime(s.starts_at, lang);
                self.render(
                    lang,
                    "ack-presubmit",
                    &[
                        ("reference", Str(&reference)),
                        ("session", Str(&s.title)),
                        ("start", Str(&start)),
                        ("position", Num(position)),
                    ],
                )
            }
            Placement::Overflow(s) => {
                let due = self.format_due(self.due_date(now), lang);
                self.render(
                    lang,
                    "ack-cap",
                    &[
                        ("reference", Str(&reference)),
                        ("session", Str(&s.title)),
                        ("due", Str(&due)),
                    ],
                )
            }
            Placement::Office => {
                let due = self.format_due(self.due_date(now), lang);
                self.render(
                    lang,
                    "ack-office",
                    &[("reference", Str(&reference)), ("due", Str(&due))],
                )
            }
        };
        let outbox = self.notify(state, citizen, id, ack, now);
        let withdraw = state.question(id).map(|q| q.reference);
        self.offer(state, outbox, lang, withdraw);
        (id, Intake::New(queue))
    }

    fn extend(
        &self,
        state: &mut OfficeState,
        citizen: &Citizen,
        id: QuestionId,
        text: &str,
        now: Timestamp,
    ) {
        let reference = state
            .update_question(id, |q| {
                q.entries.push(Entry {
                    at: now,
                    kind: EntryKind::Citizen,
                    text: text.to_owned(),
                    outbox: None,
                });
                q.updated_at = now;
                q.reference
            })
            .map(|r| r.to_string())
            .unwrap_or_default();
        let ack = self.render(
            citizen.lang,
            "ack-extended",
            &[("reference", Str(&reference))],
        );
        self.enqueue(state, citizen, Some(id), ack, now);
    }

    fn follow_up(
        &self,
        state: &mut OfficeState,
        citizen: &Citizen,
        id: QuestionId,
        text: &str,
        now: Timestamp,
    ) {
        let due = self.due_date(now);
        let reference = state
            .update_question(id, |q| {
                q.entries.push(Entry {
                    at: now,
                    kind: EntryKind::Citizen,
                    text: text.to_owned(),
                    outbox: None,
                });
                q.status = QuestionStatus::Open;
                q.queue = Queue::CitizensOffice;
                q.due = Some(due);
                // The follow-up is this citizen's own: another answer to the former primary
                // must not be fanned out to it.
                q.merged_into = None;
                q.updated_at = now;
                q.reference
            })
            .map(|r| r.to_string())
            .unwrap_or_default();
        let due = self.format_due(due, citizen.lang);
        let ack = self.render(
            citizen.lang,
            "ack-follow-up",
            &[("reference", Str(&reference)), ("due", Str(&due))],
        );
        let _ = self.notify(state, citizen, id, ack, now);
    }

    /// Sends a system notice about a question and records it in the thread.
    pub(super) fn notify(
        &self,
        state: &mut OfficeState,
        citizen: &Citizen,
        question: QuestionId,
        text: String,
        now: Timestamp,
    ) -> OutboxId {
        let outbox = self.enqueue(state, citizen, Some(question), text.clone(), now);
        state.update_question(question, |q| {
            q.entries.push(Entry {
                at: now,
                kind: EntryKind::System,
                text,
                outbox: Some(outbox),
            });
        });
        outbox
    }

    pub(super) fn command(
        &self,
        state: &mut OfficeState,
        citizen: &Citizen,
        command: &Command,
        encrypted: Option<bool>,
        now: Timestamp,
    ) {
        let lang = citizen.lang;
        let reply = match command {
            Command::Start(payload) => {
                let greeting =
                    self.greeting_for(state, citizen.channel, lang, now, payload.as_deref());
                let help = self.render(lang, "help", &[]);
                let outbox =
                    self.enqueue(state, citizen, None, format!("{greeting}\n\n{help}"), now);
                self.offer(state, outbox, lang, None);
                self.offer_subscription(state, outbox, citizen);
                // A second /start while the notice waits for its answer does not repeat it.
                if self.needs_consent(citizen) && !self.notice_pending(citizen) {
                    self.send_notice(state, citizen, encrypted, now);
                }
                return;
            }
            Command::Agree => return self.agree(state, citizen, encrypted, now),
            Command::Decline => return self.decline(state, citizen, now),
            Command::MyData => return self.send_export(state, citizen, now),
            Command::Erase(false) => return self.ask_erase(state, citizen, now),
            Command::Erase(true) => return self.erase(state, citizen, "erased", now),
            Command::Subscribe if self.needs_consent(citizen) => {
                // A subscription keeps the reply address: only with consent (held until the
                // citizen agrees; see `citizen_message`).
                state.hold_command(citizen.id, command.clone());
                return self.ask_consent(state, citizen, encrypted, now);
            }
            Command::Subscribe | Command::Unsubscribe => {
                return self.subscription(state, citizen, command, now);
            }
            Command::Help => self.render(lang, "help", &[]),
            Command::Status => self.status_text(state, citizen.id, lang),
            Command::Withdraw(reference) => {
                return self.withdraw(state, citizen, reference.as_deref(), now);
            }
        };
        self.enqueue(state, citizen, None, reply, now);
    }

    fn status_text(&self, state: &OfficeState, citizen: CitizenId, lang: Lang) -> String {
        let lines: Vec<String> = state
            .questions_of(citizen)
            .map(|q| {
                let reference = q.reference.to_string();
                match (q.status, q.queue) {
                    (QuestionStatus::Open, Queue::Session(s)) => {
                        let title = state.session(s).map_or("", |s| s.title.as_str());
                        let position = state.queue_position(q.id).unwrap_or(1);
                        self.render(
                            lang,
                            "status-open-live",
                            &[
                                ("reference", Str(&reference)),
                                ("session", Str(title)),
                                ("position", Num(position)),
                            ],
                        )
                    }
                    (QuestionStatus::Open, Queue::CitizensOffice) => {
                        let due = q.due.map(|d| self.format_due(d, lang)).unwrap_or_default();
                        self.render(
                            lang,
                            "status-open-office",
                            &[("reference", Str(&reference)), ("due", Str(&due))],
                        )
                    }
                    (QuestionStatus::Answered, _) => {
                        self.render(lang, "status-answered", &[("reference", Str(&reference))])
                    }
                    (QuestionStatus::Rejected, _) => {
                        self.render(lang, "status-rejected", &[("reference", Str(&reference))])
                    }
                    (QuestionStatus::Withdrawn, _) => {
                        self.render(lang, "status-withdrawn", &[("reference", Str(&reference))])
                    }
                }
            })
            .collect();
        if lines.is_empty() {
            self.render(lang, "status-none", &[])
        } else {
            self.render(lang, "status-list", &[("list", Str(&lines.join("\n")))])
        }
    }

    fn withdraw(
        &self,
        state: &mut OfficeState,
        citizen: &Citizen,
        reference: Option<&str>,
        now: Timestamp,
    ) {
        let lang = citizen.lang;
        let target = match reference {
            Some(r) => r
                .parse()
                .ok()
                .and_then(|r| state.question_by_reference(r))
                .filter(|q| q.citizen == citizen.id && q.is_open())
                .map(|q| q.id),
            None => state
                .questions_of(citizen.id)
                .filter(|q| q.is_open())
                .last()
                .map(|q| q.id),
        };
        let Some(id) = target else {
            let reply = match reference {
                Some(r) => self.render(lang, "withdraw-unknown", &[("reference", Str(r.trim()))]),
                None => self.render(lang, "withdraw-none", &[]),
            };
            self.enqueue(state, citizen, None, reply, now);
            return;
        };
        let reference = state
            .update_question(id, |q| {
                q.status = QuestionStatus::Withdrawn;
                q.updated_at = now;
                q.reference
            })
            .map(|r| r.to_string())
            .unwrap_or_default();
        let reply = self.render(lang, "withdrawn", &[("reference", Str(&reference))]);
        let _ = self.notify(state, citizen, id, reply, now);
        self.promote_duplicates(state, id, now);
    }
}
