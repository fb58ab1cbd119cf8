//! Statistics: questions per session, department and channel; answer rate; median and
//! 90th-percentile time to answer. JSON and CSV.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use sprechstunde_core::{OfficeState, Permission, Question, QuestionStatus};

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
    fn add(&mut self, q: &Question) {
        self.questions += 1;
        if q.status == QuestionStatus::Withdrawn {
            self.withdrawn += 1;
        }
        if let Some(at) = q.answered_at() {
            self.answered += 1;
            self.minutes
                .push(at.duration_since(q.created_at).as_secs().max(0) / 60);
        }
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

/// Nearest-rank percentile of sorted values.
pub(crate) fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// All figures: the total, then per session, department and channel.
pub(crate) fn compute(state: &OfficeState) -> Vec<Figures> {
    let mut total = Acc::default();
    let mut groups: BTreeMap<(&'static str, String), Acc> = BTreeMap::new();
    for q in state.questions() {
        total.add(q);
        let session = q
            .session
            .and_then(|s| state.session(s))
            .map_or_else(|| "-".to_owned(), |s| format!("{} ({})", s.title, s.id));
        let department = q
            .department
            .and_then(|d| state.department(d))
            .map_or_else(|| "-".to_owned(), |d| d.slug.clone());
        for key in [
            ("session", session),
            ("department", department),
            ("channel", q.channel.as_str().to_owned()),
        ] {
            groups.entry(key).or_default().add(q);
        }
    }
    let mut out = vec![total.figures("total", "all".into())];
    // Sessions, departments, channels, in that order.
    for dim in ["session", "department", "channel"] {
        let keys: Vec<_> = groups.keys().filter(|(d, _)| *d == dim).cloned().collect();
        for k in keys {
            if let Some(acc) = groups.remove(&k) {
                out.push(acc.figures(k.0, k.1));
            }
        }
    }
    out
}

pub(crate) async fn json(
    State(console): State<Console>,
    staff: Staff,
) -> Result<Json<serde_json::Value>, ApiError> {
    staff.require(Permission::ReadStats)?;
    let figures = console.office.read(|state, _, _| compute(state)).await;
    Ok(Json(serde_json::json!({ "stats": figures })))
}

pub(crate) async fn csv(
    State(console): State<Console>,
    staff: Staff,
) -> Result<impl IntoResponse, ApiError> {
    staff.require(Permission::ReadStats)?;
    let figures = console.office.read(|state, _, _| compute(state)).await;
    let mut out =
        String::from("dimension,key,questions,answered,answer_rate,median_minutes,p90_minutes\n");
    for f in figures {
        let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        out += &format!(
            "{},{},{},{},{},{},{}\n",
            f.dimension,
            csv_field(&f.key),
            f.questions,
            f.answered,
            f.answer_rate,
            opt(f.median_minutes),
            opt(f.p90_minutes)
        );
    }
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

/// Quotes a CSV field when needed; a leading `=`, `+`, `-` or `@` is prefixed with `'` so
/// spreadsheets do not run it as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) && s != "-" {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("-"), "-");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
