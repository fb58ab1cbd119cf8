//! German public holidays per federal state (Bundesland), computed for any year.
//!
//! Moveable feasts follow Easter Sunday (Gregorian computus). Only statewide holidays are
//! listed; holidays of single municipalities (Mariä Himmelfahrt in Catholic Bavarian towns,
//! Fronleichnam in parts of Saxony and Thuringia, the Augsburg Peace Festival) and one-off
//! holidays go into the configured extra dates (`office.holidays`).

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Weekday, date};
use serde::{Deserialize, Serialize};

/// A German federal state, by its two-letter code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum GermanState {
    /// Baden-Württemberg.
    BW,
    /// Bayern.
    BY,
    /// Berlin.
    BE,
    /// Brandenburg.
    BB,
    /// Bremen.
    HB,
    /// Hamburg.
    HH,
    /// Hessen.
    HE,
    /// Mecklenburg-Vorpommern.
    MV,
    /// Niedersachsen.
    NI,
    /// Nordrhein-Westfalen.
    NW,
    /// Rheinland-Pfalz.
    RP,
    /// Saarland.
    SL,
    /// Sachsen.
    SN,
    /// Sachsen-Anhalt.
    ST,
    /// Schleswig-Holstein.
    SH,
    /// Thüringen.
    TH,
}

impl GermanState {
    /// All states.
    pub const ALL: [GermanState; 16] = [
        GermanState::BW,
        GermanState::BY,
        GermanState::BE,
        GermanState::BB,
        GermanState::HB,
        GermanState::HH,
        GermanState::HE,
        GermanState::MV,
        GermanState::NI,
        GermanState::NW,
        GermanState::RP,
        GermanState::SL,
        GermanState::SN,
        GermanState::ST,
        GermanState::SH,
        GermanState::TH,
    ];

    /// The two-letter code.
    pub fn code(self) -> &'static str {
        use GermanState::*;
        match self {
            BW => "BW",
            BY => "BY",
            BE => "BE",
            BB => "BB",
            HB => "HB",
            HH => "HH",
            HE => "HE",
            MV => "MV",
            NI => "NI",
            NW => "NW",
            RP => "RP",
            SL => "SL",
            SN => "SN",
            ST => "ST",
            SH => "SH",
            TH => "TH",
        }
    }
}

impl fmt::Display for GermanState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An unknown state code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown German state {0:?} (known: BW, BY, BE, BB, HB, HH, HE, MV, NI, NW, RP, SL, SN, ST, SH, TH)"
)]
pub struct UnknownState(pub String);

impl FromStr for GermanState {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = s.trim().to_ascii_uppercase();
        GermanState::ALL
            .into_iter()
            .find(|st| st.code() == code)
            .ok_or_else(|| UnknownState(s.to_owned()))
    }
}

impl TryFrom<String> for GermanState {
    type Error = UnknownState;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<GermanState> for String {
    fn from(s: GermanState) -> Self {
        s.code().to_owned()
    }
}

/// Easter Sunday of `year` (Gregorian calendar; anonymous Gregorian algorithm).
pub fn easter_sunday(year: i16) -> Date {
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    // month is 3 or 4 and day 1..=31 by construction.
    date(year, month as i8, day as i8)
}

/// The statewide public holidays of `state` in `year`, with their German names, in date order.
pub fn holidays(state: GermanState, year: i16) -> Vec<(Date, &'static str)> {
    use GermanState::*;
    let easter = easter_sunday(year);
    let rel = |days: i64| {
        easter
            .checked_add(jiff::Span::new().days(days))
            .unwrap_or(easter)
    };
    let mut out = vec![
        (date(year, 1, 1), "Neujahr"),
        (rel(-2), "Karfreitag"),
        (rel(1), "Ostermontag"),
        (date(year, 5, 1), "Tag der Arbeit"),
        (rel(39), "Christi Himmelfahrt"),
        (rel(50), "Pfingstmontag"),
        (date(year, 10, 3), "Tag der Deutschen Einheit"),
        (date(year, 12, 25), "1. Weihnachtstag"),
        (date(year, 12, 26), "2. Weihnachtstag"),
    ];
    if matches!(state, BW | BY | ST) {
        out.push((date(year, 1, 6), "Heilige Drei Könige"));
    }
    if (state == BE && year >= 2019) || (state == MV && year >= 2023) {
        out.push((date(year, 3, 8), "Internationaler Frauentag"));
    }
    if matches!(state, BW | BY | HE | NW | RP | SL) {
        out.push((rel(60), "Fronleichnam"));
    }
    if state == SL {
        out.push((date(year, 8, 15), "Mariä Himmelfahrt"));
    }
    if state == TH && year >= 2019 {
        out.push((date(year, 9, 20), "Weltkindertag"));
    }
    let reformation = matches!(state, BB | MV | SN | ST | TH)
        || (matches!(state, HB | HH | NI | SH) && year >= 2018)
        || year == 2017;
    if reformation {
        out.push((date(year, 10, 31), "Reformationstag"));
    }
    if matches!(state, BW | BY | NW | RP | SL) {
        out.push((date(year, 11, 1), "Allerheiligen"));
    }
    if state == SN {
        out.push((repentance_day(year), "Buß- und Bettag"));
    }
    out.sort();
    out
}

/// Buß- und Bettag: the Wednesday before 23 November.
fn repentance_day(year: i16) -> Date {
    let mut d = date(year, 11, 22);
    while d.weekday() != Weekday::Wednesday {
        d = d.yesterday().unwrap_or(d);
    }
    d
}

/// Whether `day` is a statewide public holiday in `state`.
pub fn is_holiday(state: GermanState, day: Date) -> bool {
    holidays(state, day.year()).iter().any(|(d, _)| *d == day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easter_matches_known_dates() {
        for (year, m, d) in [
            (2000, 4, 23),
            (2008, 3, 23),
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2038, 4, 25),
        ] {
            assert_eq!(easter_sunday(year), date(year, m, d), "{year}");
        }
    }

    #[test]
    fn state_holidays_table() {
        use GermanState::*;
        // (state, date, holiday?)
        let cases = [
            (NW, date(2026, 4, 3), true),    // Karfreitag
            (NW, date(2026, 4, 6), true),    // Ostermontag
            (NW, date(2026, 5, 14), true),   // Himmelfahrt
            (NW, date(2026, 5, 25), true),   // Pfingstmontag
            (NW, date(2026, 6, 4), true),    // Fronleichnam
            (BE, date(2026, 6, 4), false),   // no Fronleichnam in Berlin
            (BE, date(2026, 3, 8), true),    // Frauentag
            (NW, date(2026, 11, 1), true),   // Allerheiligen
            (NI, date(2026, 11, 1), false),  // not in Lower Saxony
            (NI, date(2026, 10, 31), true),  // Reformationstag since 2018
            (NI, date(2016, 10, 31), false), // but not before
            (NW, date(2017, 10, 31), true),  // 500 years of Reformation, nationwide
            (SN, date(2026, 11, 18), true),  // Buß- und Bettag
            (SN, date(2025, 11, 19), true),
            (BY, date(2026, 11, 18), false),
            (BY, date(2026, 1, 6), true),
            (HE, date(2026, 1, 6), false),
            (SL, date(2026, 8, 15), true),
            (TH, date(2026, 9, 20), true),
            (HH, date(2026, 10, 3), true),
            (HH, date(2026, 12, 24), false),
        ];
        for (state, day, expected) in cases {
            assert_eq!(is_holiday(state, day), expected, "{state} {day}");
        }
    }

    #[test]
    fn codes_parse_case_insensitively_and_unknown_codes_are_errors() {
        assert_eq!("nw".parse::<GermanState>(), Ok(GermanState::NW));
        assert!("XX".parse::<GermanState>().is_err());
        for s in GermanState::ALL {
            assert_eq!(s.code().parse::<GermanState>(), Ok(s));
        }
    }
}
