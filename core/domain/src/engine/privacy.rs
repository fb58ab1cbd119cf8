//! Data protection in the conversation: the privacy notice and consent, the export of a
//! citizen's data, erasure at the citizen's request, and the retention purge.
//!
//! Until a citizen agrees, the text of their messages is held in memory only
//! ([`OfficeState::held_message`]) and taken in as the question once they agree; what is
//! stored meanwhile is the pseudonymous citizen record with its reply address, needed to send
//! the notice. A citizen who declines is erased like one who asks for erasure: the last
//! notice is sent and then the record is forgotten, so nothing but that notice's delivery
//! remains, and only until it is delivered.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};

use super::Engine;
use crate::channel::ChannelKind;
use crate::citizen::Citizen;
use crate::ids::{CitizenId, OutboxId, QuestionId};
use crate::outbox::Choice;
use crate::privacy::{Consent, export};
use crate::state::OfficeState;
use crate::summary::Summary;
use crate::texts::Arg::{Num, Str};
use crate::texts::Lang;

/// An erased citizen whose last notice could not be delivered is forgotten after this long.
const ERASED_GRACE: SignedDuration = SignedDuration::from_hours(24);

impl Engine {
    /// Whether the citizen must still agree to the privacy notice.
    pub(super) fn needs_consent(&self, citizen: &Citizen) -> bool {
        self.policy.privacy.require_consent && citizen.consent.is_none()
    }

    /// Whether the privacy notice is in front of the citizen, awaiting an answer: consent is
    /// missing and the notice was sent, or the channel shows it by itself (the web chat shows
    /// the notice with its buttons on every visit until the citizen agrees).
    pub(super) fn notice_pending(&self, citizen: &Citizen) -> bool {
        self.needs_consent(citizen)
            && (citizen.notice_sent.is_some() || citizen.channel == ChannelKind::Web)
    }

    /// While the notice is pending, a bare "Einverstanden", "ja", "yes" (or "Ablehnen",
    /// "nein", "no") as the whole message counts as the answer.
    pub(super) fn bare_consent(&self, citizen: &Citizen, text: &str) -> Option<super::Command> {
        if !self.notice_pending(citizen) {
            return None;
        }
        consent_word(text)
    }

    /// The privacy notice for this citizen's channel. In a messenger it starts with its
    /// heading and ends by asking for an answer (`/einverstanden`, or just "ja"); the web page
    /// shows the heading and the buttons itself, so its text has neither, and points to the
    /// page's quick actions instead of commands. A municipality's own text
    /// (`[privacy] notice_de`/`notice_en`) replaces the body, heading included.
    pub fn privacy_notice(
        &self,
        lang: Lang,
        channel: ChannelKind,
        encrypted: Option<bool>,
    ) -> String {
        let own = self.policy.privacy.notice_override(lang).map(str::to_owned);
        let body = match own {
            Some(text) => text,
            None => {
                let r = self.policy.privacy.retention;
                let body = self.render(
                    lang,
                    "privacy-notice",
                    &[
                        ("channel", Str(channel.as_str())),
                        ("answered", Num(u64::from(r.answered_days))),
                        ("rejected", Num(u64::from(r.rejected_days))),
                        ("withdrawn", Num(u64::from(r.withdrawn_days))),
                    ],
                );
                if channel == ChannelKind::Web {
                    body
                } else {
                    let heading = self.render(lang, "privacy-heading", &[]);
                    format!("{heading}: {body}")
                }
            }
        };
        let key = match (channel, encrypted) {
            (ChannelKind::Telegram, _) => "privacy-channel-telegram",
            (ChannelKind::Matrix, Some(true)) => "privacy-channel-matrix-encrypted",
            (ChannelKind::Matrix, _) => "privacy-channel-matrix-plain",
            (ChannelKind::Threema, _) => "privacy-channel-threema",
            (ChannelKind::Web, _) => "privacy-channel-web",
        };
        let channel_note = self.render(lang, key, &[]);
        if channel == ChannelKind::Web {
            return format!("{body}\n\n{channel_note}");
        }
        let ask = self.render(lang, "privacy-ask", &[]);
        format!("{body}\n\n{channel_note}\n\n{ask}")
    }

    /// Puts the privacy notice in front of the citizen, unless it is there already: in a
    /// messenger it is sent once (with its buttons), and a later message before the answer
    /// gets a short reminder with the buttons instead of the notice again; the web page shows
    /// the notice itself, so nothing is sent there.
    pub(super) fn ask_consent(
        &self,
        state: &mut OfficeState,
        citizen: &Citizen,
        encrypted: Option<bool>,
        now: Timestamp,
    ) {
        if citizen.channel == ChannelKind::Web {
            return;
        }
        if !self.notice_pending(citizen) {
            self.send_notice(state, citizen, encrypted, now);
            return;
        }
        let text = self.render(citizen.lang, "privacy-held", &[]);
        let outbox = self.enqueue(state, citizen, None, text, now);
        self.offer_consent(state, outbox, citizen.lang);
        self.mark_ephemeral(state, outbox);
    }

    /// Sends the privacy notice with its buttons; from now on an agreement counts. The web
    /// page shows the notice by itself: there only the time is noted.
    pub(super) fn send_notice(
        &self,
        state: &mut OfficeState,
        citizen: &Citizen,
        encrypted: Option<bool>,
        now: Timestamp,
    ) {
        if let Some(c) = state.citizen_mut(citizen.id) {
            c.notice_sent = Some(now);
        }
        if citizen.channel == ChannelKind::Web {
            return;
        }
        let lang = citizen.lang;
        let text = self.privacy_notice(lang, citizen.channel, encrypted);
        let outbox = self.enqueue(state, citizen, None, text, now);
        self.offer_consent(state, outbox, lang);
    }

    /// The agree and decline buttons under a queued message.
    fn offer_consent(&self, state: &mut OfficeState, outbox: OutboxId, lang: Lang) {
        let (agree, decline) = match lang {
            Lang::De => ("/einverstanden", "/ablehnen"),
            Lang::En => ("/agree", "/decline"),
        };
        self.set_choices(
            state,
            outbox,
            vec![
                Choice {
                    label: self.render(lang, "button-agree", &[]),
                    command: agree.into(),
                },
                Choice {
                    label: self.render(lang, "button-decline", &[]),
                    command: decline.into(),
                },
            ],
        );
    }

    fn set_choices(&self, state: &mut OfficeState, outbox: OutboxId, choices: Vec<Choice>) {
        if let Some(mut message) = state.outbox_message(outbox).cloned() {
            message.choices = choices;
            state.put_outbox(message);
        }
    }

    pub(super) fn agree(
        &self,
        state: &mut OfficeState,
        citizen: &Citizen,
        encrypted: Option<bool>,
        now: Timestamp,
    ) {
        if !self.needs_consent(citizen) {
            let reply = self.render(citizen.lang, "privacy-already-agreed", &[]);
            self.enqueue(state, citizen, None, reply, now);
            return;
        }
        if !self.notice_pending(citizen) {
            // Nobody agrees to a text they have not seen: first the notice.
            self.send_notice(state, citizen, encrypted, now);
            return;
        }
        let mut agreed = citizen.clone();
        agreed.consent = Some(Consent {
            at: now,
            notice: self.policy.privacy.notice_version.clone(),
        });
        state.put_citizen(agreed.clone());
        let commands = state.take_held_commands(citizen.id);
        match state.take_held(citizen.id) {
            Some(text) => {
                // A refusal here (nothing can be refused for an accepted text) is not possible;
                // the question's acknowledgement goes out as usual.
                let _ = self.take_in(state, &agreed, &text, now);
            }
            // What was asked for before agreeing is carried out now; its reply says so.
            None if !commands.is_empty() => {}
            None => {
                // The thanks is not part of the conversation worth keeping.
                let reply = self.render(agreed.lang, "privacy-agreed", &[]);
                let outbox = self.enqueue(state, &agreed, None, reply, now);
                self.offer(state, outbox, agreed.lang, None);
                self.mark_ephemeral(state, outbox);
            }
        }
        for command in commands {
            let current = state.citizen(citizen.id).cloned().unwrap_or(agreed.clone());
            self.command(state, &current, &command, encrypted, now);
        }
    }

    pub(super) fn decline(&self, state: &mut OfficeState, citizen: &Citizen, now: Timestamp) {
        if !self.needs_consent(citizen) {
            let reply = self.render(citizen.lang, "privacy-decline-after-consent", &[]);
            self.enqueue(state, citizen, None, reply, now);
            return;
        }
        self.erase(state, citizen, "privacy-declined", now);
    }

    /// Sends the citizen everything stored about them, as a readable text. The message is
    /// forgotten once delivered, so the export leaves no copy behind.
    pub(super) fn send_export(&self, state: &mut OfficeState, citizen: &Citizen, now: Timestamp) {
        let lang = citizen.lang;
        let cal = &self.policy.calendar;
        let Some(data) = export(state, citizen.channel, &citizen.pseudonym) else {
            return;
        };
        let mut lines = Vec::new();
        let first = cal.format_datetime(data.first_seen, lang);
        let consent = data
            .consent
            .as_ref()
            .map(|c| cal.format_datetime(c.at, lang))
            .unwrap_or_else(|| "–".to_owned());
        lines.push(self.render(
            lang,
            "mydata-head",
            &[
                ("channel", Str(data.channel.as_str())),
                ("first", Str(&first)),
                ("consent", Str(&consent)),
            ],
        ));
        lines.push(self.render(
            lang,
            "mydata-contact",
            &[
                ("address", Str(&data.address)),
                ("lang", Str(data.lang.code())),
                (
                    "subscribed",
                    Str(if data.subscribed { "yes" } else { "no" }),
                ),
            ],
        ));
        if data.questions.is_empty() {
            lines.push(self.render(lang, "mydata-none", &[]));
        }
        for q in &data.questions {
            let when = cal.format_datetime(q.created_at, lang);
            lines.push(String::new());
            lines.push(self.render(
                lang,
                "mydata-question",
                &[
                    ("reference", Str(&q.reference)),
                    ("date", Str(&when)),
                    ("status", Str(q.status.as_str())),
                ],
            ));
            for m in &q.messages {
                let at = cal.format_datetime(m.at, lang);
                let who = self.render(lang, &format!("mydata-from-{}", m.from), &[]);
                lines.push(format!("{at} {who}: {}", m.text));
            }
        }
        lines.push(String::new());
        lines.push(self.render(lang, "mydata-foot", &[]));
        let outbox = self.enqueue(state, citizen, None, lines.join("\n"), now);
        self.mark_ephemeral(state, outbox);
    }

    fn mark_ephemeral(&self, state: &mut OfficeState, outbox: OutboxId) {
        if let Some(mut message) = state.outbox_message(outbox).cloned() {
            message.ephemeral = true;
            state.put_outbox(message);
        }
    }

    pub(super) fn ask_erase(&self, state: &mut OfficeState, citizen: &Citizen, now: Timestamp) {
        let lang = citizen.lang;
        let reply = self.render(lang, "erase-confirm", &[]);
        let outbox = self.enqueue(state, citizen, None, reply, now);
        let (confirm, cancel) = match lang {
            Lang::De => ("/loeschen bestaetigen", "/status"),
            Lang::En => ("/erase confirm", "/status"),
        };
        self.set_choices(
            state,
            outbox,
            vec![
                Choice {
                    label: self.render(lang, "button-erase-confirm", &[]),
                    command: confirm.into(),
                },
                Choice {
                    label: self.render(lang, "button-erase-cancel", &[]),
                    command: cancel.into(),
                },
            ],
        );
    }

    /// Erases everything about a citizen, including what session summaries (drafts and
    /// published ones) quote of their questions. What is left is a stub with the reply
    /// address and the last notice (`farewell`), both forgotten once the notice is delivered.
    pub(super) fn erase(
        &self,
        state: &mut OfficeState,
        citizen: &Citizen,
        farewell: &str,
        now: Timestamp,
    ) {
        let questions: BTreeSet<QuestionId> =
            state.questions_of(citizen.id).map(|q| q.id).collect();
        redact_summaries(state, &questions, Summary::redact, now);
        for q in &questions {
            state.forget_question(*q);
        }
        // Other citizens' duplicates of an erased question still wait for an answer.
        for q in questions {
            self.promote_duplicates(state, q, now);
        }
        let messages: Vec<OutboxId> = state.outbox_of(citizen.id).map(|m| m.id).collect();
        for m in messages {
            state.forget_outbox(m);
        }
        let _ = state.take_held(citizen.id);
        let _ = state.take_held_commands(citizen.id);
        state.unindex_citizen(citizen);
        // Built from a clone so that fields added later need no change here; everything but
        // the channel, the reply address and the language is cleared.
        let mut stub = citizen.clone();
        stub.pseudonym.clear();
        stub.first_seen = now;
        stub.recent_intake.clear();
        stub.consent = None;
        stub.last_seen = Some(now);
        stub.erased = true;
        stub.subscribed = false;
        stub.notice_sent = None;
        state.put_citizen(stub.clone());
        let text = self.render(stub.lang, farewell, &[]);
        let outbox = self.enqueue(state, &stub, None, text, now);
        self.mark_ephemeral(state, outbox);
    }

    /// After delivery reports: forgets delivered or failed ephemeral messages, and erased
    /// citizens with nothing left to deliver.
    pub(super) fn forget_delivered(&self, state: &mut OfficeState, ids: &[OutboxId]) {
        let mut citizens = Vec::new();
        for id in ids {
            let Some(m) = state.outbox_message(*id) else {
                continue;
            };
            if m.ephemeral && !m.is_pending() {
                citizens.push(m.citizen);
                state.forget_outbox(*id);
            }
        }
        for c in citizens {
            self.forget_if_erased(state, c);
        }
    }

    fn forget_if_erased(&self, state: &mut OfficeState, citizen: CitizenId) {
        let erased = state.citizen(citizen).is_some_and(|c| c.erased);
        if erased && state.outbox_of(citizen).next().is_none() {
            state.forget_citizen(citizen);
        }
    }

    /// The retention purge: forgets closed questions whose period has passed (counted from
    /// their last change), citizens without questions and without contact for
    /// `inactive_citizen_days`, and erased citizens whose last notice never went out. Draft
    /// summaries lose the items of forgotten questions; published ones keep them.
    pub(super) fn purge(&self, state: &mut OfficeState, now: Timestamp) {
        let retention = self.policy.privacy.retention;
        let days = |d: u32| SignedDuration::from_hours(i64::from(d) * 24);
        let expired: BTreeSet<QuestionId> = state
            .questions()
            .filter(|q| {
                retention
                    .days_for(q.status)
                    .is_some_and(|d| now.duration_since(q.updated_at) >= days(d))
            })
            .map(|q| q.id)
            .collect();
        redact_summaries(state, &expired, Summary::forget_purged, now);
        for q in &expired {
            state.forget_question(*q);
        }
        for q in expired {
            self.promote_duplicates(state, q, now);
        }
        let inactive = days(retention.inactive_citizen_days);
        let unconsented = days(retention.unconsented_days);
        let require_consent = self.policy.privacy.require_consent;
        let gone: Vec<CitizenId> = state
            .citizens()
            .filter(|c| {
                let last = c.last_seen.unwrap_or(c.first_seen);
                let idle = now.duration_since(last);
                let pending = state.outbox_of(c.id).any(|m| m.is_pending());
                let no_questions = state.questions_of(c.id).next().is_none();
                if c.erased {
                    idle >= ERASED_GRACE
                } else if require_consent && c.consent.is_none() {
                    // Never agreed: nothing of theirs is kept but the pseudonym and the
                    // reply address, and those not for long.
                    idle >= unconsented && no_questions && !pending
                } else {
                    idle >= inactive && no_questions && !pending
                }
            })
            .map(|c| c.id)
            .collect();
        for c in gone {
            state.forget_citizen(c);
        }
    }
}

/// Applies `redact` to every summary and stores those it changed (see [`Summary::redact`]
/// and [`Summary::forget_purged`]).
fn redact_summaries(
    state: &mut OfficeState,
    questions: &BTreeSet<QuestionId>,
    redact: fn(&mut Summary, &BTreeSet<QuestionId>) -> bool,
    now: Timestamp,
) {
    if questions.is_empty() {
        return;
    }
    let changed: Vec<Summary> = state
        .summaries()
        .filter_map(|s| {
            let mut s = s.clone();
            redact(&mut s, questions).then_some(s)
        })
        .collect();
    for mut summary in changed {
        summary.updated_at = now;
        state.put_summary(summary);
    }
}

/// The answer a bare word gives to the privacy notice, if it is one.
pub(super) fn consent_word(text: &str) -> Option<super::Command> {
    let word = text.trim().trim_end_matches(['.', '!']).to_lowercase();
    match word.as_str() {
        "einverstanden" | "zustimmen" | "agree" | "i agree" | "ja" | "yes" | "ok" => {
            Some(super::Command::Agree)
        }
        "ablehnen" | "decline" | "nein" | "no" => Some(super::Command::Decline),
        _ => None,
    }
}
