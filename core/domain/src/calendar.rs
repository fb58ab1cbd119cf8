//! Local time: the municipality's time zone, working days and how dates read in each language.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use crate::texts::Lang;

/// The municipality's calendar: time zone and the days that are not working days.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    /// The time zone sessions and due dates are expressed in.
    pub zone: TimeZone,
    /// Public holidays (besides Saturdays and Sundays).
    pub holidays: Vec<Date>,
    /// The federal state whose statewide holidays are not working days, if any.
    pub state: Option<crate::holidays::GermanState>,
}

impl Calendar {
    /// Europe/Berlin without holidays.
    ///
    /// # Panics
    /// Never: the time zone database is bundled.
    pub fn berlin() -> Self {
        Calendar {
            #[allow(clippy::expect_used)]
            zone: TimeZone::get("Europe/Berlin").expect("bundled tzdb has Europe/Berlin"),
            holidays: Vec::new(),
            state: None,
        }
    }

    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: Date) -> bool {
        !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
            && !self.holidays.contains(&date)
            && !self
                .state
                .is_some_and(|s| crate::holidays::is_holiday(s, date))
    }

    /// The date `n` working days after the local date of `from`. The day of `from` itself
    /// does not count, so a question on Friday with `n = 1` is due Monday.
    pub fn working_days_after(&self, from: Timestamp, n: u32) -> Date {
        let mut date = from.to_zoned(self.zone.clone()).date();
        let mut left = n;
        while left > 0 {
            date = date.tomorrow().unwrap_or(date);
            if self.is_working_day(date) {
                left -= 1;
            }
        }
        date
    }

    /// `t` in local time.
    pub fn local(&self, t: Timestamp) -> Zoned {
        t.to_zoned(self.zone.clone())
    }

    /// A date as citizens read it: "Freitag, 27. November 2026" / "Friday, 27 November 2026".
    pub fn format_date(&self, date: Date, lang: Lang) -> String {
        let weekday = weekday_name(date.weekday(), lang);
        let month = month_name(date.month(), lang);
        match lang {
            Lang::De => format!("{weekday}, {}. {month} {}", date.day(), date.year()),
            Lang::En => format!("{weekday}, {} {month} {}", date.day(), date.year()),
        }
    }

    /// A point in time in local time: "Dienstag, 1. Dezember 2026, 17:00 Uhr".
    pub fn format_datetime(&self, t: Timestamp, lang: Lang) -> String {
        let local = self.local(t);
        let date = self.format_date(local.date(), lang);
        let time = format!("{:02}:{:02}", local.hour(), local.minute());
        match lang {
            Lang::De => format!("{date}, {time} Uhr"),
            Lang::En => format!("{date}, {time}"),
        }
    }

    /// A time of day in local time: "18:00 Uhr" / "18:00".
    pub fn format_time(&self, t: Timestamp, lang: Lang) -> String {
        let local = self.local(t);
        let time = format!("{:02}:{:02}", local.hour(), local.minute());
        match lang {
            Lang::De => format!("{time} Uhr"),
            Lang::En => time,
        }
    }
}

fn weekday_name(day: Weekday, lang: Lang) -> &'static str {
    let i = day.to_monday_zero_offset() as usize;
    match lang {
        Lang::De => [
            "Montag",
            "Dienstag",
            "Mittwoch",
            "Donnerstag",
            "Freitag",
            "Samstag",
            "Sonntag",
        ][i],
        Lang::En => [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ][i],
    }
}

fn month_name(month: i8, lang: Lang) -> &'static str {
    let i = usize::try_from(month.clamp(1, 12) - 1).unwrap_or(0);
    match lang {
        Lang::De => [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ][i],
        Lang::En => [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ][i],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn working_days_skip_weekends_and_holidays() {
        let mut cal = Calendar::berlin();
        // Friday 2026-11-27, 10:00 local.
        let friday = at("2026-11-27T09:00:00Z");
        assert_eq!(cal.working_days_after(friday, 1), date(2026, 11, 30));
        assert_eq!(cal.working_days_after(friday, 5), date(2026, 12, 4));
        cal.holidays.push(date(2026, 11, 30));
        assert_eq!(cal.working_days_after(friday, 1), date(2026, 12, 1));
    }

    #[test]
    fn state_holidays_are_not_working_days() {
        let mut cal = Calendar::berlin();
        // Wednesday 2026-06-03; Thursday 2026-06-04 is Fronleichnam in NW, not in Berlin.
        let wed = at("2026-06-03T08:00:00Z");
        assert_eq!(cal.working_days_after(wed, 1), date(2026, 6, 4));
        cal.state = Some(crate::holidays::GermanState::NW);
        assert_eq!(cal.working_days_after(wed, 1), date(2026, 6, 5));
        // Over the weekend and the holiday: Thu (holiday), Fri, Mon.
        assert_eq!(cal.working_days_after(wed, 2), date(2026, 6, 8));
    }

    #[test]
    fn the_local_date_decides_not_the_utc_date() {
        let cal = Calendar::berlin();
        // 23:30 UTC on Friday is already Saturday 00:30 in Berlin.
        let late = at("2026-11-27T23:30:00Z");
        assert_eq!(cal.working_days_after(late, 1), date(2026, 11, 30));
        assert_eq!(cal.local(late).date(), date(2026, 11, 28));
    }

    #[test]
    fn dates_read_naturally_in_both_languages() {
        let cal = Calendar::berlin();
        let t = at("2026-12-01T16:00:00Z");
        assert_eq!(
            cal.format_datetime(t, Lang::De),
            "Dienstag, 1. Dezember 2026, 17:00 Uhr"
        );
        assert_eq!(
            cal.format_datetime(t, Lang::En),
            "Tuesday, 1 December 2026, 17:00"
        );
        // Summer time: UTC+2.
        let summer = at("2026-07-07T15:00:00Z");
        assert_eq!(cal.format_time(summer, Lang::De), "17:00 Uhr");
    }
}
