//! The office's state: everything the engine decides on, with the indexes it needs, and the
//! record of what changed so the runtime can persist exactly that.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::channel::ChannelKind;
use crate::citizen::Citizen;
use crate::deliverable::DeliverableIndex;
use crate::ids::{CitizenId, DepartmentId, MailId, OutboxId, QuestionId, Reference, SessionId};
use crate::outbox::{DeliveryState, OutboxMessage};
use crate::question::{Question, Queue};
use crate::session::{Session, SessionStatus};
use crate::staff::Department;
use crate::staff_mail::StaffMail;

/// Most characters held in memory for a citizen who has not agreed yet.
pub const MAX_HELD_CHARS: usize = 8000;
use crate::summary::Summary;

/// Id counters; persisted so ids and references never repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Next session id.
    pub next_session: u64,
    /// Next question id.
    pub next_question: u64,
    /// Next human reference number (`A-1001` is the first).
    pub next_reference: u32,
    /// Next citizen id.
    pub next_citizen: u64,
    /// Next outbox id.
    pub next_outbox: u64,
    /// Next id in the staff mail queue.
    #[serde(default = "first_id")]
    pub next_mail: u64,
    /// The local day the last daily digest of overdue questions was queued for.
    #[serde(default)]
    pub last_digest: Option<jiff::civil::Date>,
}

fn first_id() -> u64 {
    1
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            next_session: 1,
            next_question: 1,
            next_reference: 1001,
            next_citizen: 1,
            next_outbox: 1,
            next_mail: 1,
            last_digest: None,
        }
    }
}

/// One persisted change. Every variant replaces the stored entity with the same id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// A session, created or updated.
    Session(Session),
    /// A question with its whole thread.
    Question(Question),
    /// A citizen.
    Citizen(Citizen),
    /// An outbox message.
    Outbox(OutboxMessage),
    /// The id counters.
    Counters(Counters),
    /// Forget a citizen: delete the record and destroy its encryption key.
    ForgetCitizen(CitizenId),
    /// Forget a question with its thread: delete the record and destroy its key.
    ForgetQuestion(QuestionId),
    /// Forget an outbox message.
    ForgetOutbox(OutboxId),
    /// A department, created or updated.
    Department(Department),
    /// A session summary, created or updated.
    Summary(Summary),
    /// A notification in the staff mail queue, created or updated.
    Mail(StaffMail),
    /// Forget a staff mail.
    ForgetMail(MailId),
}

/// Everything a store holds for the engine, as loaded at start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Sessions.
    pub sessions: Vec<Session>,
    /// Questions.
    pub questions: Vec<Question>,
    /// Citizens.
    pub citizens: Vec<Citizen>,
    /// Outbox messages.
    pub outbox: Vec<OutboxMessage>,
    /// Counters; `None` in a new store.
    pub counters: Option<Counters>,
    /// Departments.
    pub departments: Vec<Department>,
    /// Session summaries.
    pub summaries: Vec<Summary>,
    /// The staff mail queue.
    pub mails: Vec<StaffMail>,
}

#[derive(Debug, Default)]
struct Dirty {
    sessions: BTreeSet<SessionId>,
    questions: BTreeSet<QuestionId>,
    citizens: BTreeSet<CitizenId>,
    outbox: BTreeSet<OutboxId>,
    counters: bool,
    forget_citizens: BTreeSet<CitizenId>,
    forget_questions: BTreeSet<QuestionId>,
    forget_outbox: BTreeSet<OutboxId>,
    departments: BTreeSet<DepartmentId>,
    summaries: BTreeSet<SessionId>,
    mails: BTreeSet<MailId>,
    forget_mails: BTreeSet<MailId>,
}

/// The office's state. Mutated only by the [`Engine`](crate::Engine); read by everyone.
#[derive(Debug, Default)]
pub struct OfficeState {
    sessions: BTreeMap<SessionId, Session>,
    questions: BTreeMap<QuestionId, Question>,
    citizens: BTreeMap<CitizenId, Citizen>,
    outbox: BTreeMap<OutboxId, OutboxMessage>,
    counters: Counters,
    by_pseudonym: HashMap<(ChannelKind, String), CitizenId>,
    by_reference: HashMap<Reference, QuestionId>,
    by_citizen: HashMap<CitizenId, Vec<QuestionId>>,
    open_in_session: HashMap<SessionId, BTreeSet<QuestionId>>,
    outbox_by_citizen: HashMap<CitizenId, Vec<OutboxId>>,
    pending_outbox: BTreeSet<OutboxId>,
    /// What the dispatcher can hand over: memory only, follows every outbox change.
    deliverable: DeliverableIndex,
    /// First messages of citizens who have not agreed to the privacy notice yet: held in
    /// memory only, never persisted (lost on restart, then the citizen sends it again).
    held: HashMap<CitizenId, String>,
    /// Commands of citizens who have not agreed yet that need consent (`/abonnieren`),
    /// carried out once they agree; memory only, like `held`.
    held_commands: HashMap<CitizenId, Vec<crate::engine::Command>>,
    dirty: Dirty,
    departments: BTreeMap<DepartmentId, Department>,
    /// Per-citizen flood windows (web hardening); memory only, never persisted.
    flood: crate::engine::FloodWindows,
    summaries: BTreeMap<SessionId, Summary>,
    mails: BTreeMap<MailId, StaffMail>,
}

impl OfficeState {
    /// Rebuilds the state from a store snapshot.
    pub fn from_snapshot(snapshot: Snapshot) -> Self {
        let mut state = OfficeState {
            counters: snapshot.counters.unwrap_or_default(),
            ..OfficeState::default()
        };
        for s in snapshot.sessions {
            state.sessions.insert(s.id, s);
        }
        for c in snapshot.citizens {
            state.index_citizen(&c);
            state.citizens.insert(c.id, c);
        }
        for q in snapshot.questions {
            state.index_question(&q);
            state.questions.insert(q.id, q);
        }
        for m in snapshot.outbox {
            state.index_outbox(&m);
            state.outbox.insert(m.id, m);
        }
        let citizens: Vec<CitizenId> = state.outbox_by_citizen.keys().copied().collect();
        for c in citizens {
            state.deliverable.refresh(c, &state.outbox);
        }
        for d in snapshot.departments {
            state.departments.insert(d.id, d);
        }
        for s in snapshot.summaries {
            state.summaries.insert(s.session, s);
        }
        for m in snapshot.mails {
            state.mails.insert(m.id, m);
        }
        state
    }

    // ----- reading -------------------------------------------------------------------------

    /// All sessions by id.
    pub fn sessions(&self) -> impl DoubleEndedIterator<Item = &Session> {
        self.sessions.values()
    }

    /// One session.
    pub fn session(&self, id: SessionId) -> Option<&Session> {
        self.sessions.get(&id)
    }

    /// The running session, if any.
    pub fn live_session(&self) -> Option<&Session> {
        self.sessions
            .values()
            .find(|s| s.status == SessionStatus::Live)
    }

    /// The running session that takes questions from `channel`: when sessions on different
    /// channels run at the same time, each takes its own channel's questions; of several on
    /// the same channel, the one that started first.
    pub fn live_session_on(&self, channel: ChannelKind) -> Option<&Session> {
        self.sessions
            .values()
            .filter(|s| s.status == SessionStatus::Live && s.offered_on(channel))
            .min_by_key(|s| (s.starts_at, s.id))
    }

    /// The session accepting `channel`'s questions ahead of its start at `now`, the earliest
    /// if there are several.
    pub fn presubmission_session_on(
        &self,
        now: Timestamp,
        channel: ChannelKind,
    ) -> Option<&Session> {
        self.sessions
            .values()
            .filter(|s| s.accepts_presubmission(now) && s.offered_on(channel))
            .min_by_key(|s| (s.starts_at, s.id))
    }

    /// The next scheduled session held on `channel` starting after `now`.
    pub fn next_session_on(&self, now: Timestamp, channel: ChannelKind) -> Option<&Session> {
        self.sessions
            .values()
            .filter(|s| {
                s.status == SessionStatus::Scheduled && s.starts_at > now && s.offered_on(channel)
            })
            .min_by_key(|s| (s.starts_at, s.id))
    }

    /// The next scheduled session starting after `now`.
    pub fn next_session(&self, now: Timestamp) -> Option<&Session> {
        self.sessions
            .values()
            .filter(|s| s.status == SessionStatus::Scheduled && s.starts_at > now)
            .min_by_key(|s| (s.starts_at, s.id))
    }

    /// A session accepting questions ahead of its start at `now`.
    pub fn presubmission_session(&self, now: Timestamp) -> Option<&Session> {
        self.sessions
            .values()
            .filter(|s| s.accepts_presubmission(now))
            .min_by_key(|s| (s.starts_at, s.id))
    }

    /// All questions by id (creation order).
    pub fn questions(&self) -> impl DoubleEndedIterator<Item = &Question> {
        self.questions.values()
    }

    /// One question.
    pub fn question(&self, id: QuestionId) -> Option<&Question> {
        self.questions.get(&id)
    }

    /// A question by its reference.
    pub fn question_by_reference(&self, reference: Reference) -> Option<&Question> {
        self.by_reference
            .get(&reference)
            .and_then(|id| self.questions.get(id))
    }

    /// A citizen's questions, oldest first.
    pub fn questions_of(&self, citizen: CitizenId) -> impl Iterator<Item = &Question> {
        self.by_citizen
            .get(&citizen)
            .into_iter()
            .flatten()
            .filter_map(|id| self.questions.get(id))
    }

    /// Position (1-based) of an open question in its session queue.
    pub fn queue_position(&self, id: QuestionId) -> Option<u64> {
        let q = self.questions.get(&id)?;
        let Queue::Session(session) = q.queue else {
            return None;
        };
        let open = self.open_in_session.get(&session)?;
        open.contains(&id)
            .then(|| open.range(..id).count() as u64 + 1)
    }

    /// Open questions in a session's queue, in queue order.
    pub fn session_queue(&self, session: SessionId) -> impl Iterator<Item = &Question> {
        self.open_in_session
            .get(&session)
            .into_iter()
            .flatten()
            .filter_map(|id| self.questions.get(id))
    }

    /// One citizen.
    pub fn citizen(&self, id: CitizenId) -> Option<&Citizen> {
        self.citizens.get(&id)
    }

    /// A citizen by channel pseudonym.
    pub fn citizen_by_pseudonym(&self, channel: ChannelKind, pseudonym: &str) -> Option<&Citizen> {
        self.by_pseudonym
            .get(&(channel, pseudonym.to_owned()))
            .and_then(|id| self.citizens.get(id))
    }

    /// One outbox message.
    pub fn outbox_message(&self, id: OutboxId) -> Option<&OutboxMessage> {
        self.outbox.get(&id)
    }

    /// All outbox messages, oldest first.
    pub fn outbox(&self) -> impl DoubleEndedIterator<Item = &OutboxMessage> {
        self.outbox.values()
    }

    /// Outbox messages to a citizen, oldest first.
    pub fn outbox_of(&self, citizen: CitizenId) -> impl Iterator<Item = &OutboxMessage> {
        self.outbox_by_citizen
            .get(&citizen)
            .into_iter()
            .flatten()
            .filter_map(|id| self.outbox.get(id))
    }

    /// Outbox messages belonging to a question, oldest first.
    pub fn outbox_of_question(&self, question: QuestionId) -> Vec<&OutboxMessage> {
        let Some(q) = self.questions.get(&question) else {
            return Vec::new();
        };
        self.outbox_of(q.citizen)
            .filter(|m| m.question == Some(question))
            .collect()
    }

    /// Pending outbox messages in id order.
    pub fn pending_outbox(&self) -> impl Iterator<Item = &OutboxMessage> {
        self.pending_outbox
            .iter()
            .filter_map(|id| self.outbox.get(id))
    }

    /// The messages the dispatcher may hand to `channel` at `now`: of each citizen only the
    /// first pending message, and only when its next attempt is due; oldest due first.
    /// Messages deferred until their (web) citizen comes back are not among them, nor are
    /// the later messages of that citizen. Costs what it yields, not what waits.
    pub fn deliverable(
        &self,
        channel: ChannelKind,
        now: Timestamp,
    ) -> impl Iterator<Item = &OutboxMessage> {
        self.deliverable
            .due(channel, now)
            .filter_map(|id| self.outbox.get(&id))
    }

    /// The earliest time after `now` at which a citizen's first pending message becomes due
    /// (a retry or a rate-limit wait), over all channels.
    pub fn next_delivery_after(&self, now: Timestamp) -> Option<Timestamp> {
        self.deliverable.next_after(now)
    }

    /// The counters.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// All departments, by id (the order routing rules are tried in).
    pub fn departments(&self) -> impl DoubleEndedIterator<Item = &Department> {
        self.departments.values()
    }

    /// One department.
    pub fn department(&self, id: DepartmentId) -> Option<&Department> {
        self.departments.get(&id)
    }

    /// A department by slug.
    pub fn department_by_slug(&self, slug: &str) -> Option<&Department> {
        self.departments.values().find(|d| d.slug == slug)
    }

    /// The next moment at which the session clock changes something.
    pub fn next_clock_deadline(&self) -> Option<Timestamp> {
        self.sessions
            .values()
            .filter_map(|s| match s.status {
                SessionStatus::Scheduled => Some(s.starts_at),
                SessionStatus::Live => Some(s.ends_at),
                SessionStatus::Closed | SessionStatus::Cancelled => None,
            })
            .min()
    }

    /// The summary of a session, draft or published.
    pub fn summary(&self, session: SessionId) -> Option<&Summary> {
        self.summaries.get(&session)
    }

    /// All summaries by session id.
    pub fn summaries(&self) -> impl DoubleEndedIterator<Item = &Summary> {
        self.summaries.values()
    }

    /// Questions merged into `primary` as duplicates, oldest first.
    pub fn merged_into(&self, primary: QuestionId) -> impl Iterator<Item = &Question> {
        self.questions
            .values()
            .filter(move |q| q.merged_into == Some(primary))
    }

    /// Citizens who subscribed to announcements.
    pub fn subscribers(&self) -> impl Iterator<Item = &Citizen> {
        // Erased citizens are never announced to, whatever their record says.
        self.citizens.values().filter(|c| c.subscribed && !c.erased)
    }

    /// One staff mail.
    pub fn mail(&self, id: MailId) -> Option<&StaffMail> {
        self.mails.get(&id)
    }

    /// The staff mail queue, oldest first.
    pub fn mails(&self) -> impl DoubleEndedIterator<Item = &StaffMail> {
        self.mails.values()
    }

    /// Pending staff mails due at `now`, oldest first.
    pub fn due_mails(&self, now: Timestamp) -> impl Iterator<Item = &StaffMail> {
        self.mails
            .values()
            .filter(move |m| m.due_at().is_some_and(|t| t <= now))
    }

    /// The earliest time after `now` at which a pending staff mail becomes due.
    pub fn next_mail_after(&self, now: Timestamp) -> Option<Timestamp> {
        self.mails
            .values()
            .filter_map(StaffMail::due_at)
            .filter(|t| *t > now)
            .min()
    }

    // ----- writing (engine only) -------------------------------------------------------------

    pub(crate) fn alloc_mail(&mut self) -> MailId {
        self.dirty.counters = true;
        let id = MailId(self.counters.next_mail);
        self.counters.next_mail += 1;
        id
    }

    pub(crate) fn put_mail(&mut self, mail: StaffMail) {
        self.dirty.mails.insert(mail.id);
        self.mails.insert(mail.id, mail);
    }

    pub(crate) fn mail_mut(&mut self, id: MailId) -> Option<&mut StaffMail> {
        let m = self.mails.get_mut(&id)?;
        self.dirty.mails.insert(id);
        Some(m)
    }

    pub(crate) fn forget_mail(&mut self, id: MailId) {
        if self.mails.remove(&id).is_some() {
            self.dirty.mails.remove(&id);
            self.dirty.forget_mails.insert(id);
        }
    }

    pub(crate) fn set_last_digest(&mut self, date: jiff::civil::Date) {
        self.dirty.counters = true;
        self.counters.last_digest = Some(date);
    }

    /// The per-citizen flood windows (see `engine::flood`).
    pub(crate) fn flood_mut(&mut self) -> &mut crate::engine::FloodWindows {
        &mut self.flood
    }

    pub(crate) fn put_summary(&mut self, summary: Summary) {
        self.dirty.summaries.insert(summary.session);
        self.summaries.insert(summary.session, summary);
    }

    pub(crate) fn take_changes(&mut self) -> Vec<Change> {
        let dirty = std::mem::take(&mut self.dirty);
        let mut changes = Vec::new();
        changes.extend(
            dirty
                .sessions
                .iter()
                .filter_map(|id| self.sessions.get(id).cloned().map(Change::Session)),
        );
        changes.extend(
            dirty
                .citizens
                .iter()
                .filter_map(|id| self.citizens.get(id).cloned().map(Change::Citizen)),
        );
        changes.extend(
            dirty
                .questions
                .iter()
                .filter_map(|id| self.questions.get(id).cloned().map(Change::Question)),
        );
        changes.extend(
            dirty
                .outbox
                .iter()
                .filter_map(|id| self.outbox.get(id).cloned().map(Change::Outbox)),
        );
        if dirty.counters {
            changes.push(Change::Counters(self.counters));
        }
        changes.extend(dirty.forget_outbox.into_iter().map(Change::ForgetOutbox));
        changes.extend(
            dirty
                .forget_questions
                .into_iter()
                .map(Change::ForgetQuestion),
        );
        changes.extend(dirty.forget_citizens.into_iter().map(Change::ForgetCitizen));
        changes.extend(
            dirty
                .departments
                .iter()
                .filter_map(|id| self.departments.get(id).cloned().map(Change::Department)),
        );
        changes.extend(
            dirty
                .summaries
                .iter()
                .filter_map(|id| self.summaries.get(id).cloned().map(Change::Summary)),
        );
        changes.extend(
            dirty
                .mails
                .iter()
                .filter_map(|id| self.mails.get(id).cloned().map(Change::Mail)),
        );
        changes.extend(dirty.forget_mails.into_iter().map(Change::ForgetMail));
        changes
    }

    /// The message held for a citizen who has not agreed to the privacy notice yet.
    pub fn held_message(&self, citizen: CitizenId) -> Option<&str> {
        self.held.get(&citizen).map(String::as_str)
    }

    /// Holds a message until the citizen agrees; later ones are added as paragraphs, up to
    /// [`MAX_HELD_CHARS`] in all (beyond that they are dropped: nothing is kept unasked).
    pub(crate) fn hold(&mut self, citizen: CitizenId, text: &str) {
        let before = self.held.get(&citizen).map_or(0, |h| h.chars().count());
        let extra = if before == 0 { 0 } else { 2 };
        if before + extra + text.chars().count() > MAX_HELD_CHARS {
            return;
        }
        let held = self.held.entry(citizen).or_default();
        if !held.is_empty() {
            held.push_str("\n\n");
        }
        held.push_str(text);
    }

    pub(crate) fn take_held(&mut self, citizen: CitizenId) -> Option<String> {
        self.held.remove(&citizen)
    }

    /// The commands held for a citizen who has not agreed to the privacy notice yet.
    pub fn held_commands(&self, citizen: CitizenId) -> &[crate::engine::Command] {
        self.held_commands.get(&citizen).map_or(&[], Vec::as_slice)
    }

    /// Holds a command that needs consent until the citizen answers the notice; the same
    /// command twice is held once.
    pub(crate) fn hold_command(&mut self, citizen: CitizenId, command: crate::engine::Command) {
        let held = self.held_commands.entry(citizen).or_default();
        if !held.contains(&command) {
            held.push(command);
        }
    }

    pub(crate) fn take_held_commands(&mut self, citizen: CitizenId) -> Vec<crate::engine::Command> {
        self.held_commands.remove(&citizen).unwrap_or_default()
    }

    /// Removes an outbox message; the store deletes it.
    pub(crate) fn forget_outbox(&mut self, id: OutboxId) {
        let Some(m) = self.outbox.remove(&id) else {
            return;
        };
        self.pending_outbox.remove(&id);
        self.deliverable.forget(m.citizen, id);
        self.deliverable.refresh(m.citizen, &self.outbox);
        if let Some(mine) = self.outbox_by_citizen.get_mut(&m.citizen) {
            mine.retain(|o| *o != id);
        }
        self.dirty.outbox.remove(&id);
        self.dirty.forget_outbox.insert(id);
    }

    /// Removes a question with its outbox messages; the store deletes them and destroys the
    /// question's key.
    pub(crate) fn forget_question(&mut self, id: QuestionId) {
        let Some(q) = self.questions.remove(&id) else {
            return;
        };
        self.unindex_question(&q);
        self.by_reference.remove(&q.reference);
        if let Some(mine) = self.by_citizen.get_mut(&q.citizen) {
            mine.retain(|x| *x != id);
        }
        let messages: Vec<OutboxId> = self
            .outbox_of(q.citizen)
            .filter(|m| m.question == Some(id))
            .map(|m| m.id)
            .collect();
        for m in messages {
            self.forget_outbox(m);
        }
        self.dirty.questions.remove(&id);
        self.dirty.forget_questions.insert(id);
    }

    /// Removes a citizen with everything linked to it; the store deletes the records and
    /// destroys the keys.
    pub(crate) fn forget_citizen(&mut self, id: CitizenId) {
        let questions: Vec<QuestionId> = self.questions_of(id).map(|q| q.id).collect();
        for q in questions {
            self.forget_question(q);
        }
        let messages: Vec<OutboxId> = self.outbox_of(id).map(|m| m.id).collect();
        for m in messages {
            self.forget_outbox(m);
        }
        self.by_citizen.remove(&id);
        self.outbox_by_citizen.remove(&id);
        self.held.remove(&id);
        self.held_commands.remove(&id);
        if let Some(c) = self.citizens.remove(&id) {
            self.unindex_citizen(&c);
        }
        self.dirty.citizens.remove(&id);
        self.dirty.forget_citizens.insert(id);
    }

    /// Drops a citizen's pseudonym from the index (an erased citizen is not found again).
    pub(crate) fn unindex_citizen(&mut self, c: &Citizen) {
        let key = (c.channel, c.pseudonym.clone());
        if self.by_pseudonym.get(&key) == Some(&c.id) {
            self.by_pseudonym.remove(&key);
        }
    }

    /// All citizens by id.
    pub fn citizens(&self) -> impl DoubleEndedIterator<Item = &Citizen> {
        self.citizens.values()
    }

    pub(crate) fn alloc_session(&mut self) -> SessionId {
        self.dirty.counters = true;
        let id = SessionId(self.counters.next_session);
        self.counters.next_session += 1;
        id
    }

    pub(crate) fn alloc_question(&mut self) -> (QuestionId, Reference) {
        self.dirty.counters = true;
        let id = QuestionId(self.counters.next_question);
        let reference = Reference(self.counters.next_reference);
        self.counters.next_question += 1;
        self.counters.next_reference += 1;
        (id, reference)
    }

    pub(crate) fn alloc_citizen(&mut self) -> CitizenId {
        self.dirty.counters = true;
        let id = CitizenId(self.counters.next_citizen);
        self.counters.next_citizen += 1;
        id
    }

    pub(crate) fn alloc_outbox(&mut self) -> OutboxId {
        self.dirty.counters = true;
        let id = OutboxId(self.counters.next_outbox);
        self.counters.next_outbox += 1;
        id
    }

    pub(crate) fn put_session(&mut self, session: Session) {
        self.dirty.sessions.insert(session.id);
        self.sessions.insert(session.id, session);
    }

    pub(crate) fn session_mut(&mut self, id: SessionId) -> Option<&mut Session> {
        let s = self.sessions.get_mut(&id)?;
        self.dirty.sessions.insert(id);
        Some(s)
    }

    pub(crate) fn put_citizen(&mut self, citizen: Citizen) {
        self.index_citizen(&citizen);
        self.dirty.citizens.insert(citizen.id);
        self.citizens.insert(citizen.id, citizen);
    }

    pub(crate) fn citizen_mut(&mut self, id: CitizenId) -> Option<&mut Citizen> {
        let c = self.citizens.get_mut(&id)?;
        self.dirty.citizens.insert(id);
        Some(c)
    }

    pub(crate) fn put_question(&mut self, question: Question) {
        if let Some(old) = self.questions.remove(&question.id) {
            self.unindex_question(&old);
        }
        self.index_question(&question);
        self.dirty.questions.insert(question.id);
        self.questions.insert(question.id, question);
    }

    /// Changes a question through `f`, keeping the indexes right.
    pub(crate) fn update_question<R>(
        &mut self,
        id: QuestionId,
        f: impl FnOnce(&mut Question) -> R,
    ) -> Option<R> {
        let mut q = self.questions.remove(&id)?;
        self.unindex_question(&q);
        let r = f(&mut q);
        self.index_question(&q);
        self.dirty.questions.insert(id);
        self.questions.insert(id, q);
        Some(r)
    }

    pub(crate) fn put_department(&mut self, department: Department) {
        self.dirty.departments.insert(department.id);
        self.departments.insert(department.id, department);
    }

    pub(crate) fn put_outbox(&mut self, message: OutboxMessage) {
        self.index_outbox(&message);
        self.dirty.outbox.insert(message.id);
        let citizen = message.citizen;
        self.outbox.insert(message.id, message);
        self.deliverable.refresh(citizen, &self.outbox);
    }

    pub(crate) fn set_delivery_state(&mut self, id: OutboxId, state: DeliveryState) -> bool {
        let Some(m) = self.outbox.get_mut(&id) else {
            return false;
        };
        m.state = state;
        if m.is_pending() {
            self.pending_outbox.insert(id);
        } else {
            self.pending_outbox.remove(&id);
        }
        self.deliverable.set(m);
        let citizen = m.citizen;
        self.deliverable.refresh(citizen, &self.outbox);
        self.dirty.outbox.insert(id);
        true
    }

    /// Records a delivery receipt; a later receipt never moves it back (read stays read).
    /// Returns whether anything changed.
    pub(crate) fn confirm_outbox(
        &mut self,
        id: OutboxId,
        confirmation: crate::outbox::Confirmation,
    ) -> bool {
        let Some(m) = self.outbox.get_mut(&id) else {
            return false;
        };
        if m.confirmed
            .is_some_and(|c| c.receipt >= confirmation.receipt)
        {
            return false;
        }
        m.confirmed = Some(confirmation);
        self.dirty.outbox.insert(id);
        true
    }

    fn index_citizen(&mut self, c: &Citizen) {
        if !c.erased {
            self.by_pseudonym
                .insert((c.channel, c.pseudonym.clone()), c.id);
        }
    }

    fn index_question(&mut self, q: &Question) {
        self.by_reference.insert(q.reference, q.id);
        let mine = self.by_citizen.entry(q.citizen).or_default();
        if let Err(pos) = mine.binary_search(&q.id) {
            mine.insert(pos, q.id);
        }
        if let (Queue::Session(s), true) = (q.queue, q.is_open()) {
            self.open_in_session.entry(s).or_default().insert(q.id);
        }
    }

    fn unindex_question(&mut self, q: &Question) {
        if let Queue::Session(s) = q.queue
            && let Some(set) = self.open_in_session.get_mut(&s)
        {
            set.remove(&q.id);
        }
    }

    fn index_outbox(&mut self, m: &OutboxMessage) {
        let mine = self.outbox_by_citizen.entry(m.citizen).or_default();
        if let Err(pos) = mine.binary_search(&m.id) {
            mine.insert(pos, m.id);
        }
        if m.is_pending() {
            self.pending_outbox.insert(m.id);
        } else {
            self.pending_outbox.remove(&m.id);
        }
        self.deliverable.set(m);
    }
}
