//! What the engine hands to the store: exactly the changed entities, the same for the same
//! inputs, and enough to rebuild an equal state.

use std::collections::BTreeMap;

use super::*;
use crate::channel::DeliveryError;
use crate::engine::{DeliveryReport, Outcome};

/// One step of a day at the office.
struct Step {
    name: &'static str,
    input: Input,
    now: &'static str,
    changes: Vec<Key>,
}

fn keyed(n: u64, text: &str, key: &str) -> Input {
    Input::Citizen(CitizenMessage {
        intake_key: Some(key.to_owned()),
        ..message(n, text)
    })
}

fn delivered(id: u64, result: Result<(), DeliveryError>) -> Input {
    Input::Delivered(vec![DeliveryReport {
        id: OutboxId(id),
        result,
    }])
}

/// A script touching every kind of transition, with the entities each step must report.
fn script() -> Vec<Step> {
    use Key::{Citizen as C, Counters, Outbox as O, Question as Q, Session as S};
    vec![
        Step {
            name: "staff create a session with a pre-submission window",
            input: by_staff(StaffAction::Session(SessionAction::Create(SessionDraft {
                presubmission: Some(hours(24)),
                question_cap: Some(15),
                ..draft()
            }))),
            now: FRIDAY,
            changes: vec![S(1), Counters],
        },
        Step {
            name: "citizen 1 asks out of hours",
            input: says(1, "Wann wird die Brücke saniert?"),
            now: FRIDAY,
            changes: vec![C(1), Q(1), O(1), Counters],
        },
        Step {
            name: "citizen 1 adds a detail",
            input: says(1, "Es geht um die Lahnbrücke."),
            now: FRIDAY,
            changes: vec![Q(1), O(2), Counters],
        },
        Step {
            name: "citizen 1 asks for the status",
            input: says(1, "/status"),
            now: FRIDAY,
            changes: vec![O(3), Counters],
        },
        Step {
            name: "the acknowledgement is delivered",
            input: delivered(1, Ok(())),
            now: FRIDAY,
            changes: vec![O(1)],
        },
        Step {
            name: "the same report again",
            input: delivered(1, Ok(())),
            now: FRIDAY,
            changes: vec![],
        },
        Step {
            name: "staff note on question 1",
            input: by_staff(StaffAction::Question(QuestionAction::Note {
                question: QuestionId(1),
                text: "Tiefbauamt.".into(),
            })),
            now: FRIDAY,
            changes: vec![Q(1)],
        },
        Step {
            name: "staff answer question 1",
            input: answer(QuestionId(1), "Im Frühjahr 2027."),
            now: FRIDAY,
            changes: vec![Q(1), O(4), Counters],
        },
        Step {
            name: "the answer fails transiently",
            input: delivered(4, Err(DeliveryError::Transient("timeout".into()))),
            now: FRIDAY,
            changes: vec![O(4)],
        },
        Step {
            name: "citizen 2 pre-submits in English",
            input: says_in(2, Lang::En, "Will there be a bike lane?"),
            now: IN_PRESUBMISSION,
            changes: vec![S(1), C(2), Q(2), O(5), Counters],
        },
        Step {
            name: "an empty message",
            input: says(2, "   "),
            now: IN_PRESUBMISSION,
            changes: vec![],
        },
        Step {
            name: "the session starts",
            input: Input::Tick,
            now: SESSION_START,
            changes: vec![S(1)],
        },
        Step {
            name: "citizen 3 asks live, with an intake key",
            input: keyed(3, "Was wird aus dem Freibad?", "u-1"),
            now: DURING_SESSION,
            changes: vec![S(1), C(3), Q(3), O(6), Counters],
        },
        Step {
            name: "the same message delivered twice",
            input: keyed(3, "Was wird aus dem Freibad?", "u-1"),
            now: DURING_SESSION,
            changes: vec![],
        },
        Step {
            name: "citizen 4 asks live",
            input: says(4, "Frage"),
            now: DURING_SESSION,
            changes: vec![S(1), C(4), Q(4), O(7), Counters],
        },
        Step {
            name: "citizen 4 withdraws",
            input: says(4, "/zurueckziehen A-1004"),
            now: DURING_SESSION,
            changes: vec![Q(4), O(8), Counters],
        },
        Step {
            name: "a nothing-due tick",
            input: Input::Tick,
            now: DURING_SESSION,
            changes: vec![],
        },
        Step {
            name: "the session ends",
            input: Input::Tick,
            now: SESSION_END,
            changes: vec![S(1), Q(2), Q(3), O(9), O(10), Counters],
        },
        Step {
            name: "citizen 1 follows up",
            input: says(1, "Und die Umleitung?"),
            now: "2026-12-01T17:30:00Z",
            // Days after the first contact: the citizen's last contact moves on.
            changes: vec![C(1), Q(1), O(11), Counters],
        },
        Step {
            name: "staff reject question 2",
            input: reject(QuestionId(2), "Zuständig ist der Landkreis."),
            now: "2026-12-01T17:30:00Z",
            changes: vec![Q(2), O(12), Counters],
        },
        Step {
            name: "citizen 2 is unreachable",
            input: delivered(12, Err(DeliveryError::Permanent("left".into()))),
            now: "2026-12-01T17:30:00Z",
            changes: vec![O(12)],
        },
        Step {
            name: "staff cannot create a session already over",
            input: by_staff(StaffAction::Session(SessionAction::Create(SessionDraft {
                starts_at: at(FRIDAY),
                ends_at: at(FRIDAY) + hours(1),
                ..draft()
            }))),
            now: "2026-12-01T17:30:00Z",
            changes: vec![],
        },
    ]
}

#[test]
fn every_outcome_reports_exactly_the_entities_that_changed() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();

    for step in script() {
        let before = dump(&state);

        // Act
        let outcome = engine.handle(&mut state, step.input, at(step.now));

        // Assert
        let after = dump(&state);
        assert_eq!(keys(&outcome.changes), step.changes, "{}", step.name);
        assert_eq!(
            differences(&before, &after),
            step.changes,
            "{}: the state agrees",
            step.name
        );
        for change in &outcome.changes {
            let current = match change {
                Change::Session(s) => state.session(s.id).cloned().map(Change::Session),
                Change::Citizen(c) => state.citizen(c.id).cloned().map(Change::Citizen),
                Change::Question(q) => state.question(q.id).cloned().map(Change::Question),
                Change::Outbox(m) => state.outbox_message(m.id).cloned().map(Change::Outbox),
                Change::Counters(_) => Some(Change::Counters(state.counters())),
                Change::Summary(s) => state.summary(s.session).cloned().map(Change::Summary),
                Change::Department(d) => state.department(d.id).cloned().map(Change::Department),
                Change::Mail(m) => state.mail(m.id).cloned().map(Change::Mail),
                forget => Some(forget.clone()),
            };
            assert_eq!(
                current.as_ref(),
                Some(change),
                "{}: a change carries the new value",
                step.name
            );
        }
    }
}

#[test]
fn the_same_inputs_on_two_fresh_states_yield_equal_outcomes() {
    // Arrange
    let engine = engine();
    let play = || -> (Vec<Outcome>, Snapshot) {
        let mut state = OfficeState::default();
        let outcomes = script()
            .into_iter()
            .map(|step| engine.handle(&mut state, step.input, at(step.now)))
            .collect();
        (outcomes, dump(&state))
    };

    // Act
    let (first, first_state) = play();
    let (second, second_state) = play();

    // Assert
    assert_eq!(first.len(), script().len());
    assert_eq!(first, second);
    assert_eq!(first_state, second_state);
}

/// What a store holds after applying changes: the latest version of each entity.
#[derive(Default)]
struct FakeStore {
    sessions: BTreeMap<SessionId, crate::session::Session>,
    questions: BTreeMap<QuestionId, Question>,
    citizens: BTreeMap<CitizenId, Citizen>,
    outbox: BTreeMap<OutboxId, OutboxMessage>,
    counters: Option<crate::state::Counters>,
    departments: BTreeMap<u64, crate::staff::Department>,
    summaries: BTreeMap<SessionId, crate::summary::Summary>,
    mails: BTreeMap<u64, crate::staff_mail::StaffMail>,
}

impl FakeStore {
    fn apply(&mut self, changes: &[Change]) {
        for change in changes.iter().cloned() {
            match change {
                Change::Session(s) => {
                    self.sessions.insert(s.id, s);
                }
                Change::Question(q) => {
                    self.questions.insert(q.id, q);
                }
                Change::Citizen(c) => {
                    self.citizens.insert(c.id, c);
                }
                Change::Outbox(m) => {
                    self.outbox.insert(m.id, m);
                }
                Change::Counters(c) => self.counters = Some(c),
                Change::ForgetCitizen(id) => {
                    self.citizens.remove(&id);
                }
                Change::ForgetQuestion(id) => {
                    self.questions.remove(&id);
                }
                Change::ForgetOutbox(id) => {
                    self.outbox.remove(&id);
                }
                Change::Department(d) => {
                    self.departments.insert(d.id.0, d);
                }
                Change::Summary(s) => {
                    self.summaries.insert(s.session, s);
                }
                Change::Mail(m) => {
                    self.mails.insert(m.id.0, m);
                }
                Change::ForgetMail(id) => {
                    self.mails.remove(&id.0);
                }
            }
        }
    }

    fn load(&self) -> Snapshot {
        Snapshot {
            sessions: self.sessions.values().cloned().collect(),
            questions: self.questions.values().cloned().collect(),
            citizens: self.citizens.values().cloned().collect(),
            outbox: self.outbox.values().cloned().collect(),
            counters: self.counters,
            departments: self.departments.values().cloned().collect(),
            summaries: self.summaries.values().cloned().collect(),
            mails: self.mails.values().cloned().collect(),
        }
    }
}

/// Everything a reader of the state can ask, for comparing two states.
fn view(state: &OfficeState, now: Timestamp) -> String {
    let mut out = format!("{:#?}\n", dump(state));
    for q in state.questions() {
        out += &format!(
            "{}: position {:?}, by reference {:?}\n",
            q.reference,
            state.queue_position(q.id),
            state.question_by_reference(q.reference).map(|r| r.id),
        );
    }
    for s in state.sessions() {
        let queue: Vec<QuestionId> = state.session_queue(s.id).map(|q| q.id).collect();
        out += &format!("session {}: queue {queue:?}\n", s.id);
    }
    for n in 1..=4 {
        let c = state
            .citizen_by_pseudonym(ChannelKind::Web, &web(n).pseudonym)
            .map(|c| c.id);
        let mine: Vec<QuestionId> = c
            .into_iter()
            .flat_map(|c| state.questions_of(c))
            .map(|q| q.id)
            .collect();
        let sent: Vec<OutboxId> = c
            .into_iter()
            .flat_map(|c| state.outbox_of(c))
            .map(|m| m.id)
            .collect();
        out += &format!("citizen {n}: {c:?}, questions {mine:?}, outbox {sent:?}\n");
    }
    let pending: Vec<OutboxId> = state.pending_outbox().map(|m| m.id).collect();
    out += &format!(
        "pending {pending:?}\nlive {:?}\nnext {:?}\npresubmission {:?}\ndeadline {:?}\n",
        state.live_session().map(|s| s.id),
        state.next_session(now).map(|s| s.id),
        state.presubmission_session(now).map(|s| s.id),
        state.next_clock_deadline(),
    );
    out
}

#[test]
fn a_state_rebuilt_from_the_persisted_changes_reads_the_same_after_every_step() {
    // Arrange
    let engine = engine();
    let mut state = OfficeState::default();
    let mut store = FakeStore::default();

    for step in script() {
        // Act
        let outcome = engine.handle(&mut state, step.input, at(step.now));
        store.apply(&outcome.changes);
        let rebuilt = OfficeState::from_snapshot(store.load());

        // Assert
        assert_eq!(
            view(&rebuilt, at(step.now)),
            view(&state, at(step.now)),
            "after: {}",
            step.name
        );
    }
}

#[test]
fn a_rebuilt_state_continues_exactly_like_the_original() {
    // Arrange: stop in the middle of the live session, with a queue.
    let engine = engine();
    let mut state = OfficeState::default();
    let mut store = FakeStore::default();
    let steps = script();
    let (played, rest): (Vec<_>, Vec<_>) =
        steps.into_iter().partition(|s| at(s.now) < at(SESSION_END));
    for step in played {
        store.apply(&engine.handle(&mut state, step.input, at(step.now)).changes);
    }
    let mut rebuilt = OfficeState::from_snapshot(store.load());
    assert_eq!(
        rebuilt.queue_position(QuestionId(3)),
        Some(2),
        "citizen 2 pre-submitted first"
    );
    assert_eq!(
        rebuilt.question_by_reference(Reference(1003)).map(|q| q.id),
        Some(QuestionId(3))
    );

    for step in rest {
        // Act
        let original = engine.handle(&mut state, step.input.clone(), at(step.now));
        let again = engine.handle(&mut rebuilt, step.input, at(step.now));

        // Assert
        assert_eq!(again, original, "{}", step.name);
    }
    assert_eq!(dump(&rebuilt), dump(&state));
}
