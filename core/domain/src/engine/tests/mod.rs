//! Table-driven unit tests of the conversation engine.
//!
//! Every test drives the engine only through [`Engine::handle`] with fixed timestamps and
//! reads the result through the public readers of [`OfficeState`]. Times are in November and
//! December 2026, when Berlin is at UTC+1: `09:00Z` reads as `10:00 Uhr`.

mod clock;
mod commands;
mod consent;
mod conversation_rules;
mod deliverable;
mod delivery;
mod flood;
mod follow_ups;
mod four_eyes;
mod intake;
mod merge_promotion;
mod office_hours;
mod persistence;
mod privacy;
mod refusals;
mod session_limits;
mod sessions;
mod staff;
mod staff_mail;
mod summaries;
mod triage;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};

use super::{
    CitizenMessage, Engine, Input, Intake, OfficeHoursAction, Policy, QuestionAction, Receipt,
    SessionAction, StaffAction, TriageAction,
};
use crate::channel::{ChannelIdentity, ChannelKind};
use crate::citizen::Citizen;
use crate::ids::{CitizenId, OutboxId, QuestionId, Reference, SessionId, StaffId};
use crate::outbox::OutboxMessage;
use crate::question::{Question, StaffRef};
use crate::session::SessionDraft;
use crate::state::{Change, OfficeState, Snapshot};
use crate::texts::{Lang, Texts};

// ----- fixed times ---------------------------------------------------------------------------

/// Friday, 27 November 2026, 10:00 in Berlin: out of hours. Five working days later is
/// Friday, 4 December 2026.
pub(super) const FRIDAY: &str = "2026-11-27T09:00:00Z";
/// The fixture session starts Tuesday, 1 December 2026, 17:00 Uhr Berlin time …
pub(super) const SESSION_START: &str = "2026-12-01T16:00:00Z";
/// … and ends at 18:00 Uhr.
pub(super) const SESSION_END: &str = "2026-12-01T17:00:00Z";
/// Ten minutes into the fixture session.
pub(super) const DURING_SESSION: &str = "2026-12-01T16:10:00Z";
/// Monday evening, inside a 24-hour pre-submission window of the fixture session.
pub(super) const IN_PRESUBMISSION: &str = "2026-11-30T18:00:00Z";

/// The fixture session's title, as citizens read it.
pub(super) const TITLE: &str = "Bürgersprechstunde";
/// The fixture session's host.
pub(super) const HOST: &str = "Oberbürgermeisterin";

pub(super) fn at(s: &str) -> Timestamp {
    s.parse().expect("fixture timestamp")
}

pub(super) fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

pub(super) fn day(year: i16, month: i8, day: i8) -> Date {
    jiff::civil::date(year, month, day)
}

// ----- engine and inputs ---------------------------------------------------------------------

pub(super) fn engine() -> Engine {
    engine_with(Policy::default())
}

/// An engine with this policy. Consent is switched off: the tests of other behaviour start
/// with a question; `privacy.rs` tests consent with [`engine_with_consent`].
pub(super) fn engine_with(mut policy: Policy) -> Engine {
    policy.privacy.require_consent = false;
    Engine::new(policy, Texts::builtin().expect("built-in texts load"))
}

/// An engine with the default policy, consent required.
pub(super) fn engine_with_consent() -> Engine {
    Engine::new(
        Policy::default(),
        Texts::builtin().expect("built-in texts load"),
    )
}

/// The web chat identity of citizen `n`.
pub(super) fn web(n: u64) -> ChannelIdentity {
    ChannelIdentity {
        channel: ChannelKind::Web,
        pseudonym: format!("web-pseudonym-{n}"),
        address: format!("web-address-{n}"),
    }
}

/// A plain message of citizen `n`: no language, no intake key, refusals as chat replies.
pub(super) fn message(n: u64, text: &str) -> CitizenMessage {
    CitizenMessage {
        identity: web(n),
        lang: None,
        text: text.to_owned(),
        intake_key: None,
        inline_errors: false,
        encrypted: None,
    }
}

pub(super) fn says(n: u64, text: &str) -> Input {
    Input::Citizen(message(n, text))
}

pub(super) fn says_in(n: u64, lang: Lang, text: &str) -> Input {
    Input::Citizen(CitizenMessage {
        lang: Some(lang),
        ..message(n, text)
    })
}

pub(super) fn clerk() -> StaffRef {
    StaffRef {
        id: StaffId(7),
        name: "Erika Mustermann".to_owned(),
    }
}

pub(super) fn by_staff(action: StaffAction) -> Input {
    Input::Staff {
        actor: clerk(),
        action,
    }
}

pub(super) fn answer(question: QuestionId, text: &str) -> Input {
    by_staff(StaffAction::Question(QuestionAction::Answer {
        question,
        text: text.to_owned(),
    }))
}

pub(super) fn reject(question: QuestionId, reason: &str) -> Input {
    by_staff(StaffAction::Question(QuestionAction::Reject {
        question,
        reason: reason.to_owned(),
    }))
}

/// The fixture session: Tuesday 17:00–18:00 Uhr, no cap, no pre-submission.
pub(super) fn draft() -> SessionDraft {
    SessionDraft {
        channels: Vec::new(),
        title: TITLE.to_owned(),
        host: HOST.to_owned(),
        description: String::new(),
        starts_at: at(SESSION_START),
        ends_at: at(SESSION_END),
        question_cap: None,
        presubmission: None,
    }
}

// ----- acting --------------------------------------------------------------------------------

/// Creates a session at `now` and returns its id.
pub(super) fn add_session(
    engine: &Engine,
    state: &mut OfficeState,
    draft: SessionDraft,
    now: &str,
) -> SessionId {
    let outcome = engine.handle(
        state,
        by_staff(StaffAction::Session(SessionAction::Create(draft))),
        at(now),
    );
    match outcome.result {
        Ok(Receipt::Session(id)) => id,
        other => panic!("creating the fixture session: {other:?}"),
    }
}

/// What a citizen message became.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Asked {
    pub(super) citizen: CitizenId,
    pub(super) question: QuestionId,
    pub(super) reference: Reference,
    pub(super) intake: Intake,
}

/// Citizen `n` writes `text` at `now`; the message must become or extend a question.
pub(super) fn ask(
    engine: &Engine,
    state: &mut OfficeState,
    n: u64,
    text: &str,
    now: &str,
) -> Asked {
    ask_input(engine, state, says(n, text), at(now))
}

pub(super) fn ask_input(
    engine: &Engine,
    state: &mut OfficeState,
    input: Input,
    now: Timestamp,
) -> Asked {
    match engine.handle(state, input, now).result {
        Ok(Receipt::Question {
            citizen,
            question,
            reference,
            intake,
        }) => Asked {
            citizen,
            question,
            reference,
            intake,
        },
        other => panic!("expected a question receipt, got {other:?}"),
    }
}

/// Runs an input that must succeed.
pub(super) fn run(engine: &Engine, state: &mut OfficeState, input: Input, now: &str) {
    let outcome = engine.handle(state, input, at(now));
    assert!(
        outcome.result.is_ok(),
        "fixture input refused: {:?}",
        outcome.result
    );
}

// ----- reading -------------------------------------------------------------------------------

pub(super) fn citizen(state: &OfficeState, n: u64) -> &Citizen {
    state
        .citizen_by_pseudonym(ChannelKind::Web, &web(n).pseudonym)
        .unwrap_or_else(|| panic!("citizen {n} exists"))
}

pub(super) fn question(state: &OfficeState, id: QuestionId) -> &Question {
    state
        .question(id)
        .unwrap_or_else(|| panic!("question {id} exists"))
}

/// Everything sent to citizen `n`, oldest first.
pub(super) fn outbox(state: &OfficeState, n: u64) -> Vec<&OutboxMessage> {
    state.outbox_of(citizen(state, n).id).collect()
}

/// The latest message to citizen `n`.
pub(super) fn last_sent(state: &OfficeState, n: u64) -> &OutboxMessage {
    outbox(state, n)
        .last()
        .copied()
        .unwrap_or_else(|| panic!("citizen {n} got a message"))
}

/// The whole state as a store would hold it, read through the public readers.
pub(super) fn dump(state: &OfficeState) -> Snapshot {
    let counters = state.counters();
    Snapshot {
        sessions: state.sessions().cloned().collect(),
        questions: state.questions().cloned().collect(),
        citizens: (1..counters.next_citizen)
            .filter_map(|id| state.citizen(CitizenId(id)).cloned())
            .collect(),
        outbox: (1..counters.next_outbox)
            .filter_map(|id| state.outbox_message(OutboxId(id)).cloned())
            .collect(),
        counters: Some(counters),
        departments: state.departments().cloned().collect(),
        summaries: state.summaries().cloned().collect(),
        mails: state.mails().cloned().collect(),
    }
}

// ----- changes -------------------------------------------------------------------------------

/// Which entity a change is about, in the order the engine reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Key {
    Session(u64),
    Citizen(u64),
    Question(u64),
    Outbox(u64),
    Counters,
    Forgotten,
    Department(u64),
    Summary(u64),
    Mail(u64),
}

pub(super) fn keys(changes: &[Change]) -> Vec<Key> {
    changes
        .iter()
        .map(|c| match c {
            Change::Session(s) => Key::Session(s.id.0),
            Change::Citizen(c) => Key::Citizen(c.id.0),
            Change::Question(q) => Key::Question(q.id.0),
            Change::Outbox(m) => Key::Outbox(m.id.0),
            Change::Counters(_) => Key::Counters,
            Change::ForgetCitizen(_)
            | Change::ForgetQuestion(_)
            | Change::ForgetOutbox(_)
            | Change::ForgetMail(_) => Key::Forgotten,
            Change::Department(d) => Key::Department(d.id.0),
            Change::Summary(s) => Key::Summary(s.session.0),
            Change::Mail(m) => Key::Mail(m.id.0),
        })
        .collect()
}

/// The entities that differ between two dumps (nothing is ever deleted).
pub(super) fn differences(before: &Snapshot, after: &Snapshot) -> Vec<Key> {
    fn changed<T: PartialEq>(
        before: &[T],
        after: &[T],
        id: impl Fn(&T) -> u64,
        key: fn(u64) -> Key,
    ) -> Vec<Key> {
        after
            .iter()
            .filter(|new| !before.iter().any(|old| id(old) == id(new) && old == *new))
            .map(|new| key(id(new)))
            .collect()
    }
    let mut keys = Vec::new();
    keys.extend(changed(
        &before.sessions,
        &after.sessions,
        |s| s.id.0,
        Key::Session,
    ));
    keys.extend(changed(
        &before.citizens,
        &after.citizens,
        |c| c.id.0,
        Key::Citizen,
    ));
    keys.extend(changed(
        &before.questions,
        &after.questions,
        |q| q.id.0,
        Key::Question,
    ));
    keys.extend(changed(
        &before.outbox,
        &after.outbox,
        |m| m.id.0,
        Key::Outbox,
    ));
    if before.counters != after.counters {
        keys.push(Key::Counters);
    }
    keys.extend(changed(
        &before.departments,
        &after.departments,
        |d| d.id.0,
        Key::Department,
    ));
    keys.extend(changed(
        &before.summaries,
        &after.summaries,
        |s| s.session.0,
        Key::Summary,
    ));
    keys.extend(changed(&before.mails, &after.mails, |m| m.id.0, Key::Mail));
    keys
}
