//! Statistics: questions per session, department and channel; answer rate; median and
//! 90th-percentile time to answer. JSON and CSV.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sprechstunde_core::{
    ChannelKind, DepartmentId, OfficeState, Permission, QuestionStatus, SessionId,
};

use crate::Console;
use crate::auth::Staff;
use crate::error::ApiError;

/// Figures of one group of questions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Figures {
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
}

#[derive(Default)]
struct Acc {
    questions: u64,
    answered: u64,
    withdrawn: u64,
    minutes: Vec<i64>,
}

impl Acc {
    fn add(&mut self, row: &Row) {
        self.questions += 1;
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
}

/// Everything the figures are computed from, taken from the state in one short hold of its
/// lock; the grouping, sorting and naming happen after the lock is released.
pub(crate) struct Facts {
    rows: Vec<Row>,
    sessions: HashMap<SessionId, String>,
    departments: HashMap<DepartmentId, String>,
}

impl Facts {
    /// Copies what the figures need from `state`: the questions that arrived within
    /// `period` (from, until exclusive), all without one.
    pub(crate) fn collect(state: &OfficeState, period: Option<(Timestamp, Timestamp)>) -> Facts {
        let rows = state
            .questions()
            .filter(|q| {
                period.is_none_or(|(from, until)| from <= q.created_at && q.created_at < until)
            })
            .map(|q| Row {
                session: q.session,
                department: q.department,
                channel: q.channel,
                withdrawn: q.status == QuestionStatus::Withdrawn,
                minutes: q
                    .answered_at()
                    .map(|at| at.duration_since(q.created_at).as_secs().max(0) / 60),
            })
            .collect();
        Facts {
            rows,
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
    pub(crate) fn figures(self) -> Vec<Figures> {
        let mut total = Acc::default();
        let mut by_session: HashMap<Option<SessionId>, Acc> = HashMap::new();
        let mut by_department: HashMap<Option<DepartmentId>, Acc> = HashMap::new();
        let mut by_channel: HashMap<ChannelKind, Acc> = HashMap::new();
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
pub(crate) fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD`: the days (local time, both inclusive) whose questions
/// count.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Period {
    from: Option<String>,
    to: Option<String>,
}

impl Period {
    /// The period as instants (from, until exclusive) in the office's time zone; `None`
    /// when neither end is given.
    fn bounds(
        &self,
        zone: &jiff::tz::TimeZone,
    ) -> Result<Option<(Timestamp, Timestamp)>, ApiError> {
        if self.from.is_none() && self.to.is_none() {
            return Ok(None);
        }
        let day = |name: &str, text: &str| {
            text.parse::<jiff::civil::Date>().map_err(|_| {
                ApiError::BadRequest(format!(
                    "{name} must be a date YYYY-MM-DD / {name} muss ein Datum JJJJ-MM-TT sein"
                ))
            })
        };
        let start = |date: jiff::civil::Date| {
            date.to_zoned(zone.clone())
                .map(|z| z.timestamp())
                .map_err(|_| ApiError::BadRequest("the date is out of range".into()))
        };
        let from = match self.from.as_deref() {
            Some(text) => start(day("from", text)?)?,
            None => Timestamp::MIN,
        };
        let until = match self.to.as_deref() {
            Some(text) => match day("to", text)?.tomorrow() {
                Ok(next) => start(next)?,
                Err(_) => Timestamp::MAX,
            },
            None => Timestamp::MAX,
        };
        if from >= until {
            return Err(ApiError::BadRequest(
                "from must not be after to / from darf nicht nach to liegen".into(),
            ));
        }
        Ok(Some((from, until)))
    }
}

/// The figures of `period`; the state lock is held only to copy the facts.
async fn figures(console: &Console, period: &Period) -> Result<Vec<Figures>, ApiError> {
    let facts = console
        .office
        .read(|state, engine, _| {
            let bounds = period.bounds(&engine.policy().calendar.zone)?;
            Ok::<_, ApiError>(Facts::collect(state, bounds))
        })
        .await?;
    Ok(facts.figures())
}

pub(crate) async fn json(
    State(console): State<Console>,
    staff: Staff,
    Query(period): Query<Period>,
) -> Result<Json<serde_json::Value>, ApiError> {
    staff.require(Permission::ReadStats)?;
    let figures = figures(&console, &period).await?;
    Ok(Json(serde_json::json!({ "stats": figures })))
}

pub(crate) async fn csv(
    State(console): State<Console>,
    staff: Staff,
    Query(period): Query<Period>,
) -> Result<impl IntoResponse, ApiError> {
    staff.require(Permission::ReadStats)?;
    let figures = figures(&console, &period).await?;
    let out = to_csv(&figures).map_err(|e| {
        tracing::error!(error = %e, "cannot write the statistics as CSV");
        ApiError::Unavailable
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"sprechstunde-statistik.csv\"",
            ),
        ],
        out,
    ))
}

/// The figures as CSV (RFC 4180, the `csv` crate). Every text cell is quoted, so a `;` in a
/// session title stays in its cell also in German spreadsheet programs, which split on `;`;
/// a cell that a spreadsheet would run as a formula is defused ([`defuse`]).
fn to_csv(figures: &[Figures]) -> Result<String, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::NonNumeric)
        .from_writer(Vec::new());
    out.write_record([
        "dimension",
        "key",
        "questions",
        "answered",
        "answer_rate",
        "median_minutes",
        "p90_minutes",
    ])?;
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    for f in figures {
        out.write_record([
            f.dimension.to_owned(),
            defuse(&f.key),
            f.questions.to_string(),
            f.answered.to_string(),
            f.answer_rate.to_string(),
            opt(f.median_minutes),
            opt(f.p90_minutes),
        ])?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with
/// `'`, so spreadsheets show it as text instead of running it as a formula (OWASP "CSV
/// injection"). The lone `-` of an unknown group stays as it is: it is no formula.
fn defuse(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s != "-" {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sprechstunde_core::{
        CitizenId, Department, Entry, EntryKind, Question, QuestionId, Queue, Reference, Session,
        SessionStatus, Snapshot, StaffId, StaffRef,
    };

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
        let period = |from: Option<&str>, to: Option<&str>| Period {
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
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
        for (from, to) in [
            (Some("30.11.2026"), None),
            (None, Some("2026-13-01")),
            (Some("2026-12-02"), Some("2026-12-01")),
        ] {
            assert!(
                matches!(period(from, to).bounds(&zone), Err(ApiError::BadRequest(_))),
                "{from:?}..{to:?}"
            );
        }
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

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused_for_german_spreadsheets() {
        let row = |key: &str| Figures {
            dimension: "session",
            key: key.to_owned(),
            questions: 3,
            answered: 1,
            answer_rate: 0.5,
            median_minutes: Some(12),
            p90_minutes: None,
        };
        // (session title, its cell)
        let cases = [
            ("a,b", "\"a,b\""),
            ("Sprechstunde; Nord", "\"Sprechstunde; Nord\""),
            ("=1+1", "\"'=1+1\""),
            ("+49 30", "\"'+49 30\""),
            ("-2+3", "\"'-2+3\""),
            ("@SUMME(A1)", "\"'@SUMME(A1)\""),
            ("\t=1", "\"'\t=1\""),
            ("\r=1", "\"'\r=1\""),
            ("-", "\"-\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ];
        for (title, cell) in cases {
            let out = to_csv(&[row(title)]).expect("csv");
            let line = out.lines().skip(1).collect::<Vec<_>>().join("\n");
            assert_eq!(
                line,
                format!("\"session\",{cell},3,1,0.5,12,\"\""),
                "{title:?}"
            );
        }
    }
}
