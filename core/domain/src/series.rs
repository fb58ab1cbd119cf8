//! Recurring office hours: a rule such as "every first Tuesday, 17:00–18:00" turned into
//! concrete sessions. Wall-clock times stay the same in the municipality's time zone, so a
//! session at 17:00 stays at 17:00 across daylight-saving changes (its UTC offset moves).

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// How a series repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Repeat {
    /// Every week on the first session's weekday.
    Weekly,
    /// Every month on the same nth weekday as the first session (e.g. the first Tuesday;
    /// a first session in the last week of its month repeats on the last such weekday).
    Monthly,
}

/// A series rule: how often, and until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesRule {
    /// The repetition.
    pub repeat: Repeat,
    /// How many sessions in all (the first included).
    #[serde(default)]
    pub count: Option<u32>,
    /// The last local date a session may fall on.
    #[serde(default)]
    pub until: Option<Date>,
}

/// A series rule that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeriesError {
    /// Neither a count nor an end date.
    #[error("a series needs a count or an end date")]
    Unbounded,
    /// More sessions than allowed at once.
    #[error("a series may have at most {max} sessions")]
    TooMany {
        /// The limit.
        max: u32,
    },
    /// The rule yields no session.
    #[error("the series has no session (count 0 or end date before the start)")]
    Empty,
    /// A date out of range.
    #[error("a date of the series is out of range")]
    OutOfRange,
}

impl SeriesRule {
    /// The most sessions one series creates.
    pub const MAX: u32 = 60;

    /// The `(start, end)` of every session of the series whose first session runs from
    /// `starts_at` to `ends_at`, computed in local time of `zone`.
    ///
    /// # Errors
    /// An unbounded, empty or too long series, or dates out of range.
    pub fn occurrences(
        &self,
        starts_at: Timestamp,
        ends_at: Timestamp,
        zone: &TimeZone,
    ) -> Result<Vec<(Timestamp, Timestamp)>, SeriesError> {
        if self.count.is_none() && self.until.is_none() {
            return Err(SeriesError::Unbounded);
        }
        if self.count.is_some_and(|c| c > Self::MAX) {
            return Err(SeriesError::TooMany { max: Self::MAX });
        }
        let start = starts_at.to_zoned(zone.clone());
        let end = ends_at.to_zoned(zone.clone());
        let first = start.date();
        let days_to_end = i64::from((end.date() - first).get_days());
        let nth = nth_of_month(first);
        let mut out = Vec::new();
        for k in 0..=Self::MAX {
            let date = match self.repeat {
                Repeat::Weekly => first
                    .checked_add((i64::from(k) * 7).days())
                    .map_err(|_| SeriesError::OutOfRange)?,
                Repeat::Monthly => {
                    let month = first
                        .first_of_month()
                        .checked_add(i64::from(k).months())
                        .map_err(|_| SeriesError::OutOfRange)?;
                    month
                        .nth_weekday_of_month(nth, first.weekday())
                        .map_err(|_| SeriesError::OutOfRange)?
                }
            };
            if self.until.is_some_and(|u| date > u)
                || self.count.is_some_and(|c| out.len() >= c as usize)
            {
                break;
            }
            if out.len() >= Self::MAX as usize {
                return Err(SeriesError::TooMany { max: Self::MAX });
            }
            let end_date = date
                .checked_add(days_to_end.days())
                .map_err(|_| SeriesError::OutOfRange)?;
            let s = local(date, start.datetime(), zone)?;
            let e = local(end_date, end.datetime(), zone)?;
            out.push((s, e));
        }
        if out.is_empty() {
            return Err(SeriesError::Empty);
        }
        Ok(out)
    }
}

/// Which weekday of its month `date` is: 1–4 from the start, or -1 for the last.
fn nth_of_month(date: Date) -> i8 {
    let n = (date.day() - 1) / 7 + 1;
    if n >= 5
        || (n == 4
            && date
                .checked_add(7.days())
                .is_ok_and(|d| d.month() != date.month()))
    {
        -1
    } else {
        n
    }
}

fn local(date: Date, time_of: DateTime, zone: &TimeZone) -> Result<Timestamp, SeriesError> {
    date.to_datetime(time_of.time())
        .to_zoned(zone.clone())
        .map(|z| z.timestamp())
        .map_err(|_| SeriesError::OutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Calendar;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn a_weekly_series_keeps_local_time_across_the_dst_change() {
        // Tuesday 20 October 2026, 17:00–18:00 CEST (UTC+2); summer time ends 25 October.
        let cal = Calendar::berlin();
        let rule = SeriesRule {
            repeat: Repeat::Weekly,
            count: Some(3),
            until: None,
        };
        let got = rule
            .occurrences(
                at("2026-10-20T15:00:00Z"),
                at("2026-10-20T16:00:00Z"),
                &cal.zone,
            )
            .expect("series");
        let want = [
            ("2026-10-20T15:00:00Z", "2026-10-20T16:00:00Z"),
            ("2026-10-27T16:00:00Z", "2026-10-27T17:00:00Z"),
            ("2026-11-03T16:00:00Z", "2026-11-03T17:00:00Z"),
        ];
        let want: Vec<_> = want.iter().map(|(s, e)| (at(s), at(e))).collect();
        assert_eq!(got, want);
        for (s, _) in got {
            assert_eq!(cal.local(s).hour(), 17);
        }
    }

    #[test]
    fn a_monthly_series_takes_the_same_nth_weekday() {
        // First Tuesday of December 2026 is the 1st; then 5 January, 2 February, 2 March,
        // and 6 April 2027 (after the change to summer time on 28 March).
        let cal = Calendar::berlin();
        let rule = SeriesRule {
            repeat: Repeat::Monthly,
            count: None,
            until: Some(jiff::civil::date(2027, 4, 30)),
        };
        let got = rule
            .occurrences(
                at("2026-12-01T16:00:00Z"),
                at("2026-12-01T17:00:00Z"),
                &cal.zone,
            )
            .expect("series");
        let starts: Vec<Timestamp> = got.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            starts,
            [
                at("2026-12-01T16:00:00Z"),
                at("2027-01-05T16:00:00Z"),
                at("2027-02-02T16:00:00Z"),
                at("2027-03-02T16:00:00Z"),
                at("2027-04-06T15:00:00Z"),
            ]
        );
    }

    #[test]
    fn a_last_weekday_stays_the_last() {
        // Tuesday 29 December 2026 is the last Tuesday; January's last is the 26th.
        let cal = Calendar::berlin();
        let rule = SeriesRule {
            repeat: Repeat::Monthly,
            count: Some(2),
            until: None,
        };
        let got = rule
            .occurrences(
                at("2026-12-29T16:00:00Z"),
                at("2026-12-29T17:00:00Z"),
                &cal.zone,
            )
            .expect("series");
        assert_eq!(got[1].0, at("2027-01-26T16:00:00Z"));
    }

    #[test]
    fn bad_rules_are_refused() {
        let zone = Calendar::berlin().zone;
        let s = at("2026-12-01T16:00:00Z");
        let e = at("2026-12-01T17:00:00Z");
        let cases = [
            (Repeat::Weekly, None, None, SeriesError::Unbounded),
            (
                Repeat::Weekly,
                Some(61),
                None,
                SeriesError::TooMany { max: 60 },
            ),
            (Repeat::Weekly, Some(0), None, SeriesError::Empty),
            (
                Repeat::Weekly,
                None,
                Some(jiff::civil::date(2026, 11, 1)),
                SeriesError::Empty,
            ),
            (
                Repeat::Weekly,
                None,
                Some(jiff::civil::date(2030, 1, 1)),
                SeriesError::TooMany { max: 60 },
            ),
        ];
        for (repeat, count, until, want) in cases {
            let rule = SeriesRule {
                repeat,
                count,
                until,
            };
            assert_eq!(rule.occurrences(s, e, &zone), Err(want), "{rule:?}");
        }
    }
}
