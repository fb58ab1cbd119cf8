//! The statistics read model: questions per session, department and channel, answer rate,
//! median and 90th-percentile time to answer, for a period of local days. Pure: the
//! adapter copies the [`Facts`] out of the state (briefly, under its lock) and computes the
//! [`Figures`] afterwards; JSON and CSV are the adapter's.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde::Serialize;

use crate::channel::ChannelKind;
use crate::ids::{DepartmentId, SessionId};
use crate::outbox::DeliveryState;
use crate::question::QuestionStatus;
use crate::state::OfficeState;

/// Figures of one group of questions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// `total`, `session`, `department` or `channel`.
    pub dimension: &'static str,
    /// The group, e.g. a session title, a department slug or a channel.
    pub key: String,
    /// Questions.
    pub questions: u64,
    /// Of them answered.
    pub answered: u64,
    /// Answered / (questions − withdrawn), 0 when nothing counts.
    pub answer_rate: f64,
    /// Median time from question to first answer, in minutes.
    pub median_minutes: Option<i64>,
    /// 90th percentile of the time to first answer, in minutes.
    pub p90_minutes: Option<i64>,
    /// Messages delivered to citizens in the period (answers, acknowledgements, notices,
    /// announcements; a long text split by the channel counts once): what channels that
    /// charge per message (Threema) bill. Messages that belong to no question count for
    /// their channel and the total only; messages forgotten right after delivery (exports,
    /// the thanks for agreeing, the last notice after an erasure) are not counted.
    pub messages_sent: u64,
}

#[derive(Default)]
struct Acc {
    questions: u64,
    answered: u64,
    withdrawn: u64,
    minutes: Vec<i64>,
    messages: u64,
}

impl Acc {
    fn add(&mut self, row: &Row) {
        self.questions += 1;
        self.messages += row.messages;
        if row.withdrawn {
            self.withdrawn += 1;
        }
        if let Some(minutes) = row.minutes {
            self.answered += 1;
            self.minutes.push(minutes);
        }
    }

    fn merge(&mut self, other: Acc) {
        self.questions += other.questions;
        self.answered += other.answered;
        self.withdrawn += other.withdrawn;
        self.minutes.extend(other.minutes);
        self.messages += other.messages;
    }

    fn figures(mut self, dimension: &'static str, key: String) -> Figures {
        self.minutes.sort_unstable();
        let counted = self.questions - self.withdrawn;
        Figures {
            dimension,
            key,
            questions: self.questions,
            answered: self.answered,
            answer_rate: if counted == 0 {
                0.0
            } else {
                (self.answered as f64 / counted as f64 * 1000.0).round() / 1000.0
            },
            median_minutes: percentile(&self.minutes, 50),
            p90_minutes: percentile(&self.minutes, 90),
            messages_sent: self.messages,
        }
    }
}

/// What the figures need of one question: a few numbers, copied under the state lock.
struct Row {
    session: Option<SessionId>,
    department: Option<DepartmentId>,
    channel: ChannelKind,
    withdrawn: bool,
    /// Minutes from question to first answer, if answered.
    minutes: Option<i64>,
    /// Messages delivered to the citizen about this question in the period.
    messages: u64,
}

/// Everything the figures are computed from, taken from the state in one short hold of its
/// lock; the grouping, sorting and naming happen after the lock is released.
pub struct Facts {
    rows: Vec<Row>,
    /// Messages delivered in the period that belong to no counted question, per channel.
    unattached: HashMap<ChannelKind, u64>,
    sessions: HashMap<SessionId, String>,
    departments: HashMap<DepartmentId, String>,
}

impl Facts {
    /// Copies what the figures need from `state`: the questions that arrived within
    /// `period` (from, until exclusive), all without one.
    pub fn collect(state: &OfficeState, period: Option<(Timestamp, Timestamp)>) -> Facts {
        let within = |t: Timestamp| period.is_none_or(|(from, until)| from <= t && t < until);
        let mut index = HashMap::new();
        let mut rows: Vec<Row> = state
            .questions()
            .filter(|q| within(q.created_at))
            .enumerate()
            .map(|(i, q)| {
                index.insert(q.id, i);
                q
            })
            .map(|q| Row {
                session: q.session,
                department: q.department,
                channel: q.channel,
                withdrawn: q.status == QuestionStatus::Withdrawn,
                minutes: q
                    .answered_at()
                    .map(|at| at.duration_since(q.created_at).as_secs().max(0) / 60),
                messages: 0,
            })
            .collect();
        let mut unattached: HashMap<ChannelKind, u64> = HashMap::new();
        for m in state.outbox() {
            let DeliveryState::Delivered { at } = m.state else {
                continue;
            };
            if !within(at) {
                continue;
            }
            match m.question.and_then(|q| index.get(&q)) {
                Some(&i) => rows[i].messages += 1,
                None => *unattached.entry(m.channel).or_default() += 1,
            }
        }
        Facts {
            rows,
            unattached,
            sessions: state
                .sessions()
                .map(|s| (s.id, format!("{} ({})", s.title, s.id)))
                .collect(),
            departments: state
                .departments()
                .map(|d| (d.id, d.slug.clone()))
                .collect(),
        }
    }

    /// All figures: the total, then per session, department and channel, each sorted by key.
    pub fn figures(self) -> Vec<Figures> {
        let mut total = Acc::default();
        let mut by_session: HashMap<Option<SessionId>, Acc> = HashMap::new();
        let mut by_department: HashMap<Option<DepartmentId>, Acc> = HashMap::new();
        let mut by_channel: HashMap<ChannelKind, Acc> = HashMap::new();
        for (channel, messages) in &self.unattached {
            total.messages += messages;
            by_channel.entry(*channel).or_default().messages += messages;
        }
        for row in &self.rows {
            total.add(row);
            by_session.entry(row.session).or_default().add(row);
            by_department.entry(row.department).or_default().add(row);
            by_channel.entry(row.channel).or_default().add(row);
        }
        // Named groups; ids without a name (deleted since) count as "-", like no id.
        let named = |groups: Vec<(Option<&String>, Acc)>| {
            let mut out: BTreeMap<String, Acc> = BTreeMap::new();
            for (name, acc) in groups {
                let key = name.cloned().unwrap_or_else(|| "-".to_owned());
                out.entry(key).or_default().merge(acc);
            }
            out
        };
        let sessions = named(
            by_session
                .into_iter()
                .map(|(id, acc)| (id.and_then(|id| self.sessions.get(&id)), acc))
                .collect(),
        );
        let departments = named(
            by_department
                .into_iter()
                .map(|(id, acc)| (id.and_then(|id| self.departments.get(&id)), acc))
                .collect(),
        );
        let channels: BTreeMap<String, Acc> = by_channel
            .into_iter()
            .map(|(c, acc)| (c.as_str().to_owned(), acc))
            .collect();
        let mut out = vec![total.figures("total", "all".into())];
        for (dimension, groups) in [
            ("session", sessions),
            ("department", departments),
            ("channel", channels),
        ] {
            out.extend(groups.into_iter().map(|(k, acc)| acc.figures(dimension, k)));
        }
        out
    }
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// The local days (both inclusive) whose questions count; an open end counts everything
/// on that side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Period {
    /// The first day.
    pub from: Option<jiff::civil::Date>,
    /// The last day.
    pub to: Option<jiff::civil::Date>,
}

/// A period that names no instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// A day cannot be placed in the time zone.
    #[error("the date is out of range")]
    OutOfRange,
    /// `from` lies after `to`.
    #[error("from must not be after to")]
    Reversed,
}

impl Period {
    /// The period as instants (from, until exclusive) in `zone`; `None` when neither end
    /// is given.
    ///
    /// # Errors
    /// [`PeriodError`].
    pub fn bounds(
        &self,
        zone: &jiff::tz::TimeZone,
    ) -> Result<Option<(Timestamp, Timestamp)>, PeriodError> {
        if self.from.is_none() && self.to.is_none() {
            return Ok(None);
        }
        let start = |date: jiff::civil::Date| {
            date.to_zoned(zone.clone())
                .map(|z| z.timestamp())
                .map_err(|_| PeriodError::OutOfRange)
        };
        let from = match self.from {
            Some(day) => start(day)?,
            None => Timestamp::MIN,
        };
        let until = match self.to {
            Some(day) => match day.tomorrow() {
                Ok(next) => start(next)?,
                Err(_) => Timestamp::MAX,
            },
            None => Timestamp::MAX,
        };
        if from >= until {
            return Err(PeriodError::Reversed);
        }
        Ok(Some((from, until)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{CitizenId, QuestionId, Reference, StaffId};
    use crate::question::{Entry, EntryKind, Question, Queue, StaffRef};
    use crate::session::{Session, SessionStatus};
    use crate::staff::Department;
    use crate::state::Snapshot;

    fn at(minutes: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_800_000_000 + minutes * 60).unwrap()
    }

    /// A question; `answered_after` minutes after it was asked, if answered.
    fn question(
        id: u64,
        channel: ChannelKind,
        session: Option<u64>,
        department: Option<u64>,
        status: QuestionStatus,
        answered_after: Option<i64>,
    ) -> Question {
        let entry = |minutes: i64, kind: EntryKind| Entry {
            at: at(minutes),
            kind,
            text: "Text".into(),
            outbox: None,
        };
        let mut entries = vec![entry(0, EntryKind::Citizen)];
        if let Some(minutes) = answered_after {
            let staff = StaffRef {
                id: StaffId(1),
                name: "S".into(),
            };
            entries.push(entry(minutes, EntryKind::Answer { staff }));
        }
        Question {
            id: QuestionId(id),
            reference: Reference(1000 + u32::try_from(id).unwrap()),
            citizen: CitizenId(id),
            channel,
            session: session.map(SessionId),
            queue: Queue::CitizensOffice,
            status,
            department: department.map(DepartmentId),
            created_at: at(0),
            updated_at: at(0),
            due: None,
            rejection: None,
            entries,
            suggestion: None,
            assignee: None,
            draft: None,
            merged_into: None,
        }
    }

    #[test]
    fn figures_group_by_session_department_and_channel_with_unknown_ids_as_dash() {
        // Arrange: department 9 and session 7 no longer exist.
        use ChannelKind::{Telegram, Web};
        use QuestionStatus::{Answered, Open, Withdrawn};
        let snapshot = Snapshot {
            sessions: vec![Session {
                id: SessionId(1),
                title: "Sprechstunde".into(),
                host: "OB".into(),
                description: String::new(),
                starts_at: at(0),
                ends_at: at(60),
                status: SessionStatus::Closed,
                question_cap: None,
                presubmission: None,
                admitted: 1,
                series: None,
                reminded: Vec::new(),
                answering: None,
                channels: Vec::new(),
                revision: 0,
            }],
            departments: vec![Department {
                id: DepartmentId(1),
                name: "Tiefbauamt".into(),
                slug: "tiefbau".into(),
                keywords: Vec::new(),
                patterns: Vec::new(),
                requires_approval: false,
                text_modules: Vec::new(),
            }],
            questions: vec![
                question(1, Web, Some(1), Some(1), Answered, Some(30)),
                question(2, Telegram, Some(7), Some(9), Withdrawn, None),
                question(3, Web, None, None, Open, None),
                question(4, Web, None, Some(1), Answered, Some(90)),
            ],
            ..Snapshot::default()
        };
        let state = OfficeState::from_snapshot(snapshot);
        // Act
        let figures = Facts::collect(&state, None).figures();
        // Assert: (dimension, key, questions, answered, rate, median, p90)
        let got: Vec<_> = figures
            .iter()
            .map(|f| {
                (
                    f.dimension,
                    f.key.as_str(),
                    f.questions,
                    f.answered,
                    f.answer_rate,
                    f.median_minutes,
                    f.p90_minutes,
                )
            })
            .collect();
        let expected = vec![
            ("total", "all", 4, 2, 0.667, Some(30), Some(90)),
            ("session", "-", 3, 1, 0.5, Some(90), Some(90)),
            ("session", "Sprechstunde (1)", 1, 1, 1.0, Some(30), Some(30)),
            ("department", "-", 2, 0, 0.0, None, None),
            ("department", "tiefbau", 2, 2, 1.0, Some(30), Some(90)),
            ("channel", "telegram", 1, 0, 0.0, None, None),
            ("channel", "web", 3, 2, 0.667, Some(30), Some(90)),
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn messages_sent_count_per_question_and_channel_and_pending_ones_do_not() {
        // Arrange: a Threema question with two delivered messages and one pending, and a
        // delivered announcement (no question) on Threema and one on the web chat.
        use ChannelKind::{Threema, Web};
        let message = |id: u64, channel: ChannelKind, question: Option<u64>, delivered: bool| {
            crate::outbox::OutboxMessage {
                id: crate::ids::OutboxId(id),
                citizen: CitizenId(1),
                channel,
                address: "a".into(),
                text: "Text".into(),
                question: question.map(QuestionId),
                created_at: at(1),
                state: if delivered {
                    DeliveryState::Delivered { at: at(5) }
                } else {
                    DeliveryState::new_pending(at(1))
                },
                choices: Vec::new(),
                ephemeral: false,
                confirmed: None,
            }
        };
        let snapshot = Snapshot {
            questions: vec![question(1, Threema, None, None, QuestionStatus::Open, None)],
            outbox: vec![
                message(1, Threema, Some(1), true),
                message(2, Threema, Some(1), true),
                message(3, Threema, Some(1), false),
                message(4, Threema, None, true),
                message(5, Web, None, true),
            ],
            ..Snapshot::default()
        };
        let state = OfficeState::from_snapshot(snapshot);

        // Act
        let figures = Facts::collect(&state, None).figures();

        // Assert: (dimension, key, messages sent)
        let got: Vec<_> = figures
            .iter()
            .map(|f| (f.dimension, f.key.as_str(), f.messages_sent))
            .collect();
        assert_eq!(
            got,
            vec![
                ("total", "all", 4),
                ("session", "-", 2),
                ("department", "-", 2),
                ("channel", "threema", 3),
                ("channel", "web", 1),
            ]
        );
    }

    #[test]
    fn a_period_counts_the_questions_of_its_local_days() {
        // Arrange: one question at 23:30 Berlin time on 30 November (22:30Z), one at 00:30
        // on 1 December (23:30Z).
        let mut late = question(1, ChannelKind::Web, None, None, QuestionStatus::Open, None);
        late.created_at = "2026-11-30T22:30:00Z".parse().unwrap();
        let mut early = question(2, ChannelKind::Web, None, None, QuestionStatus::Open, None);
        early.created_at = "2026-11-30T23:30:00Z".parse().unwrap();
        let state = OfficeState::from_snapshot(Snapshot {
            questions: vec![late, early],
            ..Snapshot::default()
        });
        let zone = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        let day = |d: Option<&str>| d.map(|d| d.parse::<jiff::civil::Date>().unwrap());
        let period = |from: Option<&str>, to: Option<&str>| Period {
            from: day(from),
            to: day(to),
        };
        let total = |p: &Period| {
            let bounds = p.bounds(&zone).unwrap();
            Facts::collect(&state, bounds).figures()[0].questions
        };
        // Act and assert: (from, to, questions counted)
        for (from, to, want) in [
            (None, None, 2),
            (Some("2026-11-30"), Some("2026-11-30"), 1),
            (Some("2026-12-01"), None, 1),
            (None, Some("2026-11-29"), 0),
            (Some("2026-11-01"), Some("2026-12-31"), 2),
        ] {
            assert_eq!(total(&period(from, to)), want, "{from:?}..{to:?}");
        }
        assert_eq!(
            period(Some("2026-12-02"), Some("2026-12-01")).bounds(&zone),
            Err(PeriodError::Reversed)
        );
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 50), Some(5));
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[1, 2, 3], 50), Some(2));
    }
}
