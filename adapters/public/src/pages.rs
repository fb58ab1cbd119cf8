//! The HTML of the public pages, in German or English.

use jiff::Timestamp;
use sprechstunde_core::{ChannelKind, Engine, Lang, Session, SessionStatus, Summary};

/// Picks the German or the English wording.
pub(crate) fn t<'a>(lang: Lang, de: &'a str, en: &'a str) -> &'a str {
    match lang {
        Lang::De => de,
        Lang::En => en,
    }
}

/// The link to the same page in the other language.
pub(crate) fn switch_link(lang: Lang, path: &str) -> String {
    match lang {
        Lang::De => format!("<a href=\"{path}?lang=en\" hreflang=\"en\" lang=\"en\">English</a>"),
        Lang::En => format!("<a href=\"{path}?lang=de\" hreflang=\"de\" lang=\"de\">Deutsch</a>"),
    }
}

/// The query that keeps the page's language on links to other public pages.
fn lang_query(lang: Lang) -> &'static str {
    match lang {
        Lang::De => "",
        Lang::En => "?lang=en",
    }
}

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

/// A whole page; its footer links to the accessibility statement, as on every page.
pub(crate) fn page(lang: Lang, title: &str, main: &str) -> String {
    let code = match lang {
        Lang::De => "de",
        Lang::En => "en",
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"{code}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<link rel=\"stylesheet\" href=\"/oeffentlich/public.css\">\n\
         </head>\n<body>\n<main>\n{main}</main>\n\
         <footer>\n<p><a href=\"{}{}\">{}</a></p>\n</footer>\n</body>\n</html>\n",
        esc(title),
        crate::accessibility::PATH,
        lang_query(lang),
        t(
            lang,
            "Erklärung zur Barrierefreiheit",
            "Accessibility statement"
        ),
    )
}

/// Paragraphs from text with blank lines between them.
pub(crate) fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>\n", esc(p).replace('\n', "<br>")))
        .collect()
}

/// Channel names for citizens, e.g. "Web-Chat, Telegram".
pub(crate) fn channel_names(channels: &[ChannelKind], lang: Lang) -> String {
    let names: Vec<&str> = channels
        .iter()
        .map(|c| match c {
            ChannelKind::Web => t(lang, "Web-Chat", "web chat"),
            ChannelKind::Telegram => "Telegram",
            ChannelKind::Matrix => "Matrix",
            ChannelKind::Threema => "Threema",
        })
        .collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} {} {last}", rest.join(", "), t(lang, "und", "and")),
    }
}

/// What `/sprechstunden` shows.
pub(crate) struct Upcoming<'a> {
    /// The municipality.
    pub(crate) name: &'a str,
    /// The channels this installation runs.
    pub(crate) channels: &'a [ChannelKind],
    /// Sessions not yet over.
    pub(crate) sessions: &'a [Session],
    /// Published summaries, newest first.
    pub(crate) published: &'a [Summary],
}

/// `/sprechstunden`: upcoming sessions and published summaries.
pub(crate) fn upcoming(view: &Upcoming<'_>, engine: &Engine, now: Timestamp, lang: Lang) -> String {
    let cal = &engine.policy().calendar;
    let title = format!(
        "{} – {}",
        t(lang, "Sprechstunden", "Office hours"),
        view.name
    );
    let mut main = format!(
        "<p class=\"lang\">{}</p>\n<h1>{}</h1>\n",
        switch_link(lang, "/sprechstunden"),
        esc(&title)
    );
    main.push_str(&format!(
        "<p>{} {}. <a href=\"/\">{}</a>. <a href=\"/sessions.ics\">{}</a>.</p>\n",
        t(
            lang,
            "In der digitalen Bürgersprechstunde beantworten wir Ihre Fragen per",
            "In our digital office hours we answer your questions by",
        ),
        esc(&channel_names(view.channels, lang)),
        t(lang, "Zum Web-Chat", "Open the web chat"),
        t(
            lang,
            "Termine als Kalender abonnieren (iCal)",
            "Subscribe to the dates as a calendar (iCal)",
        ),
    ));
    main.push_str(&format!(
        "<h2>{}</h2>\n",
        t(lang, "Nächste Termine", "Upcoming sessions")
    ));
    if view.sessions.is_empty() {
        main.push_str(&format!(
            "<p>{}</p>\n",
            t(
                lang,
                "Derzeit ist keine Sprechstunde geplant.",
                "No office hours are scheduled at the moment.",
            )
        ));
    }
    for s in view.sessions {
        let start = cal.format_datetime(s.starts_at, lang);
        let end = cal.format_time(s.ends_at, lang);
        main.push_str(&format!(
            "<section class=\"session\" aria-labelledby=\"s{id}\">\n<h3 id=\"s{id}\">{}</h3>\n\
             <p>{} {} {} · {} {}</p>\n",
            esc(&s.title),
            esc(&start),
            t(lang, "bis", "to"),
            esc(&end),
            t(lang, "mit", "with"),
            esc(&s.host),
            id = s.id.0,
        ));
        if !s.channels.is_empty() {
            main.push_str(&format!(
                "<p>{} {}</p>\n",
                t(lang, "Nur über:", "Only by:"),
                esc(&channel_names(&s.channels, lang))
            ));
        }
        if s.status == SessionStatus::Cancelled {
            main.push_str(&format!(
                "<p class=\"live\">{}</p>\n",
                t(lang, "Abgesagt.", "Cancelled.")
            ));
        } else if s.starts_at <= now {
            main.push_str(&format!(
                "<p class=\"live\">{}</p>\n",
                t(lang, "Läuft gerade.", "Taking place now.")
            ));
        }
        main.push_str(&paragraphs(&s.description));
        main.push_str("</section>\n");
    }
    main.push_str(&format!(
        "<h2>{}</h2>\n",
        t(lang, "Zusammenfassungen", "Summaries")
    ));
    if view.published.is_empty() {
        main.push_str(&format!(
            "<p>{}</p>\n",
            t(
                lang,
                "Noch keine Zusammenfassungen veröffentlicht.",
                "No summaries have been published yet.",
            )
        ));
    } else {
        main.push_str("<ul>\n");
        for s in view.published {
            let when = cal.format_date(cal.local(s.starts_at).date(), lang);
            main.push_str(&format!(
                "<li><a href=\"/zusammenfassungen/{}{}\">{} {} {}</a></li>\n",
                s.session.0,
                lang_query(lang),
                esc(&s.title),
                t(lang, "vom", "of"),
                esc(&when)
            ));
        }
        main.push_str("</ul>\n");
    }
    page(lang, &title, &main)
}

/// `/zusammenfassungen/{id}`.
pub(crate) fn summary(name: &str, s: &Summary, when: &str, lang: Lang) -> String {
    let mut main = format!(
        "<p class=\"lang\">{}</p>\n<h1>{}</h1>\n<p>{} · {} {}</p>\n",
        switch_link(lang, &format!("/zusammenfassungen/{}", s.session.0)),
        esc(&s.title),
        esc(when),
        t(lang, "mit", "with"),
        esc(&s.host)
    );
    if s.items.is_empty() {
        main.push_str(&format!(
            "<p>{}</p>\n",
            t(
                lang,
                "In dieser Sprechstunde wurden keine Fragen beantwortet.",
                "No questions were answered in this session.",
            )
        ));
    }
    for (i, item) in s.items.iter().enumerate() {
        main.push_str(&format!(
            "<section class=\"item\" aria-labelledby=\"f{i}\">\n<h2 id=\"f{i}\">{}</h2>\n",
            esc(&item.question)
        ));
        if item.asked_by > 1 {
            main.push_str(&format!(
                "<p class=\"note\">{} {}</p>\n",
                item.asked_by,
                t(lang, "Personen fragten dies.", "people asked this.")
            ));
        }
        main.push_str(&paragraphs(&item.answer));
        main.push_str("</section>\n");
    }
    main.push_str(&format!(
        "<p><a href=\"/zusammenfassungen/{id}.md\">{}</a> · \
         <a href=\"/zusammenfassungen/{id}.json\">{}</a> · \
         <a href=\"/sprechstunden{q}\">{}</a></p>\n",
        t(lang, "Als Markdown", "As Markdown"),
        t(lang, "Als JSON", "As JSON"),
        t(lang, "Alle Sprechstunden", "All office hours"),
        id = s.session.0,
        q = lang_query(lang),
    ));
    page(lang, &format!("{} – {name}", s.title), &main)
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
pub(crate) fn not_found(lang: Lang) -> String {
    let main = format!(
        "<h1>{}</h1>\n<p>{} <a href=\"/sprechstunden{}\">{}</a>.</p>\n",
        t(lang, "Nicht gefunden", "Not found"),
        t(
            lang,
            "Diese Seite gibt es nicht (mehr).",
            "This page does not exist (any more).",
        ),
        lang_query(lang),
        t(lang, "Zu den Sprechstunden", "To the office hours"),
    );
    page(lang, t(lang, "Nicht gefunden", "Not found"), &main)
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
            summary("Stadt", &s, "1. Dezember", Lang::De),
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
