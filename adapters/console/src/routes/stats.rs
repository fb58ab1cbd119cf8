//! Statistics over HTTP: `GET /api/v1/stats` (JSON) and `/stats.csv`. The figures are the
//! read model [`sprechstunde_core::stats`]; this file parses the query and renders.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;
use sprechstunde_core::Permission;
use sprechstunde_core::stats::{Facts, Figures};

use crate::Console;
use crate::auth::Staff;
use crate::error::ApiError;

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD`: the days (local time, both inclusive) whose questions
/// count.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Period {
    from: Option<String>,
    to: Option<String>,
}

impl Period {
    /// The period the query names.
    fn parse(&self) -> Result<sprechstunde_core::stats::Period, ApiError> {
        let day = |name: &str, text: Option<&str>| {
            text.map(|text| {
                text.parse::<jiff::civil::Date>().map_err(|_| {
                    ApiError::BadRequest(format!(
                        "{name} must be a date YYYY-MM-DD / {name} muss ein Datum JJJJ-MM-TT sein"
                    ))
                })
            })
            .transpose()
        };
        Ok(sprechstunde_core::stats::Period {
            from: day("from", self.from.as_deref())?,
            to: day("to", self.to.as_deref())?,
        })
    }
}

/// The figures of `period`; the state lock is held only to copy the facts.
async fn figures(console: &Console, period: &Period) -> Result<Vec<Figures>, ApiError> {
    let facts = console
        .office
        .read(|state, engine, _| {
            let bounds = period
                .parse()?
                .bounds(&engine.policy().calendar.zone)
                .map_err(|e| ApiError::BadRequest(e.to_string()))?;
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
        "messages_sent",
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
            f.messages_sent.to_string(),
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
            messages_sent: 4,
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
                format!("\"session\",{cell},3,1,0.5,12,\"\",4"),
                "{title:?}"
            );
        }
    }
}
