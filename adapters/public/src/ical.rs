//! The iCalendar feed (RFC 5545) of upcoming and running office hours.
//!
//! Times are written in UTC (`…Z`), so no `VTIMEZONE` is needed and calendar programs show
//! them in the reader's local time. Text values are escaped (§3.3.11) and lines folded at
//! 75 octets without splitting a UTF-8 character (§3.1).

use jiff::Timestamp;
use sprechstunde_core::{Lang, Session, SessionStatus};

/// The feed of `sessions`, stamped `now`, named after the municipality, in `lang`.
pub fn feed(name: &str, host: &str, sessions: &[&Session], now: Timestamp, lang: Lang) -> String {
    let (calendar, with, channels) = match lang {
        Lang::De => ("Sprechstunden", "Mit", "Kanäle"),
        Lang::En => ("Office hours", "With", "Channels"),
    };
    let mut out = String::new();
    let mut line = |l: String| {
        out.push_str(&fold(&l));
        out.push_str("\r\n");
    };
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//sprechstunde//Buergersprechstunde//DE".into());
    line("CALSCALE:GREGORIAN".into());
    line("METHOD:PUBLISH".into());
    line(format!(
        "X-WR-CALNAME:{}",
        escape(&format!("{calendar} – {name}"))
    ));
    for s in sessions {
        line("BEGIN:VEVENT".into());
        line(format!("UID:session-{}@{}", s.id.0, escape(host)));
        line(format!("DTSTAMP:{}", utc(now)));
        // Rescheduled or cancelled: a higher sequence makes calendar programs replace the
        // version they have (RFC 5545 §3.8.7.4).
        line(format!("SEQUENCE:{}", s.revision));
        line(format!("DTSTART:{}", utc(s.starts_at)));
        line(format!("DTEND:{}", utc(s.ends_at)));
        line(format!("SUMMARY:{}", escape(&s.title)));
        let mut description = format!("{with} {}", s.host);
        if !s.channels.is_empty() {
            description.push_str(&format!(
                "\n{channels}: {}",
                crate::pages::channel_names(&s.channels, lang)
            ));
        }
        if !s.description.is_empty() {
            description.push_str("\n\n");
            description.push_str(&s.description);
        }
        line(format!("DESCRIPTION:{}", escape(&description)));
        let status = if s.status == SessionStatus::Cancelled {
            "CANCELLED"
        } else {
            "CONFIRMED"
        };
        line(format!("STATUS:{status}"));
        line("END:VEVENT".into());
    }
    line("END:VCALENDAR".into());
    out
}

/// `20261201T160000Z`.
fn utc(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value: backslash, semicolon, comma and line breaks.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line into pieces of at most 75 octets, continuation lines starting with
/// a space (which counts towards their 75).
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3);
    let mut used = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if used + len > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("Bau; Straße, Brücke\\Weg\r\nNeu\u{7}"),
            "Bau\\; Straße\\, Brücke\\\\Weg\\nNeu"
        );
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let line = format!("SUMMARY:{}", "ä".repeat(100));
        let folded = fold(&line);
        for piece in folded.split("\r\n") {
            assert!(piece.len() <= 75, "{} octets: {piece:?}", piece.len());
        }
        assert_eq!(folded.replace("\r\n ", ""), line);
        assert_eq!(fold("SHORT:x"), "SHORT:x");
    }
}
