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

/// `/zusammenfassungen/{id}.json`: the public fields only, named one by one, so that the
/// internal source of an item (question ids) never reaches the public.
pub(crate) fn summary_json(s: &Summary) -> serde_json::Value {
    let items: Vec<serde_json::Value> = s
        .items
        .iter()
        .map(|i| {
            serde_json::json!({
                "question": i.question,
                "answer": i.answer,
                "asked_by": i.asked_by,
            })
        })
        .collect();
    serde_json::json!({
        "title": s.title,
        "host": s.host,
        "starts_at": s.starts_at.to_string(),
        "published_at": s.published_at.map(|t| t.to_string()),
        "items": items,
    })
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

    #[test]
    fn no_public_form_of_a_summary_shows_where_its_items_come_from() {
        // Arrange: an item linked to questions with ids no other field contains.
        let at: jiff::Timestamp = "2026-12-01T16:00:00Z".parse().expect("time");
        let s = Summary {
            session: sprechstunde_core::SessionId(3),
            title: "Bürgersprechstunde".into(),
            host: "OB".into(),
            starts_at: at,
            items: vec![sprechstunde_core::SummaryItem {
                question: "Wann?".into(),
                answer: "Bald.".into(),
                asked_by: 2,
                source: Some(sprechstunde_core::ItemSource {
                    question: sprechstunde_core::QuestionId(987_654),
                    duplicates: vec![sprechstunde_core::QuestionId(876_543)],
                }),
            }],
            updated_at: at,
            published_at: Some(at),
        };

        // Act
        let json = summary_json(&s);
        let forms = [
            summary("Stadt", &s, "1. Dezember"),
            s.to_markdown("1. Dezember"),
            json.to_string(),
        ];

        // Assert
        let item = json["items"][0].as_object().expect("item");
        let mut fields: Vec<&str> = item.keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["answer", "asked_by", "question"]);
        for form in forms {
            for hidden in ["987654", "876543", "source", "duplicates"] {
                assert!(!form.contains(hidden), "{hidden} in {form}");
            }
        }
    }
}
