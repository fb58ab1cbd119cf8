//! The HTML of the public pages.

use jiff::Timestamp;
use sprechstunde_core::{Engine, Lang, Session, SessionStatus, Summary};

/// Escapes text for HTML content and attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, main: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"de\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<link rel=\"stylesheet\" href=\"/oeffentlich/public.css\">\n\
         </head>\n<body>\n<main>\n{main}</main>\n</body>\n</html>\n",
        esc(title)
    )
}

/// Paragraphs from text with blank lines between them.
fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>\n", esc(p).replace('\n', "<br>")))
        .collect()
}

/// `/sprechstunden`: upcoming sessions and published summaries.
pub(crate) fn upcoming(
    name: &str,
    engine: &Engine,
    sessions: &[Session],
    published: &[Summary],
    now: Timestamp,
) -> String {
    let cal = &engine.policy().calendar;
    let title = format!("Sprechstunden – {name}");
    let mut main = format!("<h1>{}</h1>\n", esc(&title));
    main.push_str(
        "<p>In der digitalen Bürgersprechstunde beantworten wir Ihre Fragen per Web-Chat, \
         Telegram und Matrix. <a href=\"/\">Zum Web-Chat</a>. \
         <a href=\"/sessions.ics\">Termine als Kalender abonnieren (iCal)</a>.</p>\n",
    );
    main.push_str("<h2>Nächste Termine</h2>\n");
    if sessions.is_empty() {
        main.push_str("<p>Derzeit ist keine Sprechstunde geplant.</p>\n");
    }
    for s in sessions {
        let start = cal.format_datetime(s.starts_at, Lang::De);
        let end = cal.format_time(s.ends_at, Lang::De);
        main.push_str(&format!(
            "<section class=\"session\" aria-labelledby=\"s{id}\">\n<h3 id=\"s{id}\">{}</h3>\n\
             <p>{} bis {} · mit {}</p>\n",
            esc(&s.title),
            esc(&start),
            esc(&end),
            esc(&s.host),
            id = s.id.0,
        ));
        if !s.channels.is_empty() {
            main.push_str(&format!(
                "<p>Nur über: {}</p>\n",
                esc(&crate::channel_names(&s.channels))
            ));
        }
        if s.status == SessionStatus::Cancelled {
            main.push_str("<p class=\"live\">Abgesagt.</p>\n");
        } else if s.starts_at <= now {
            main.push_str("<p class=\"live\">Läuft gerade.</p>\n");
        }
        main.push_str(&paragraphs(&s.description));
        main.push_str("</section>\n");
    }
    main.push_str("<h2>Zusammenfassungen</h2>\n");
    if published.is_empty() {
        main.push_str("<p>Noch keine Zusammenfassungen veröffentlicht.</p>\n");
    } else {
        main.push_str("<ul>\n");
        for s in published {
            let when = cal.format_date(cal.local(s.starts_at).date(), Lang::De);
            main.push_str(&format!(
                "<li><a href=\"/zusammenfassungen/{}\">{} vom {}</a></li>\n",
                s.session.0,
                esc(&s.title),
                esc(&when)
            ));
        }
        main.push_str("</ul>\n");
    }
    page(&title, &main)
}

/// `/zusammenfassungen/{id}`.
pub(crate) fn summary(name: &str, s: &Summary, when: &str) -> String {
    let mut main = format!(
        "<h1>{}</h1>\n<p>{} · mit {}</p>\n",
        esc(&s.title),
        esc(when),
        esc(&s.host)
    );
    if s.items.is_empty() {
        main.push_str("<p>In dieser Sprechstunde wurden keine Fragen beantwortet.</p>\n");
    }
    for (i, item) in s.items.iter().enumerate() {
        main.push_str(&format!(
            "<section class=\"item\" aria-labelledby=\"f{i}\">\n<h2 id=\"f{i}\">{}</h2>\n",
            esc(&item.question)
        ));
        if item.asked_by > 1 {
            main.push_str(&format!(
                "<p class=\"note\">{} Personen fragten dies.</p>\n",
                item.asked_by
            ));
        }
        main.push_str(&paragraphs(&item.answer));
        main.push_str("</section>\n");
    }
    main.push_str(&format!(
        "<p><a href=\"/zusammenfassungen/{id}.md\">Als Markdown</a> · \
         <a href=\"/zusammenfassungen/{id}.json\">Als JSON</a> · \
         <a href=\"/sprechstunden\">Alle Sprechstunden</a></p>\n",
        id = s.session.0
    ));
    page(&format!("{} – {name}", s.title), &main)
}

/// The 404 page.
pub(crate) fn not_found() -> String {
    page(
        "Nicht gefunden",
        "<h1>Nicht gefunden</h1>\n<p>Diese Seite gibt es nicht (mehr). \
         <a href=\"/sprechstunden\">Zu den Sprechstunden</a>.</p>\n",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            esc("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(
            paragraphs("a<b\nc\n\n d "),
            "<p>a&lt;b<br>c</p>\n<p>d</p>\n"
        );
    }
}
