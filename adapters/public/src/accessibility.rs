//! The accessibility statement (*Erklärung zur Barrierefreiheit*, § 12b BGG, § 7 BITV 2.0,
//! following the model of Implementing Decision (EU) 2018/1523) at `/barrierefreiheit`, in
//! German and English. The installation configures it (`[accessibility]`): the state of
//! compliance, what is not yet accessible, the feedback contact and the arbitration body.

use serde::Deserialize;
use sprechstunde_core::Lang;

use crate::pages::{esc, page, switch_link, t};

/// How far the pages meet the requirements (WCAG 2.1 AA, EN 301 549, BITV 2.0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compliance {
    /// Fully compliant.
    Full,
    /// Partially compliant: the non-accessible content is listed.
    #[default]
    Partial,
    /// Not compliant.
    None,
}

/// `[accessibility]`: the statement of this installation. Every text has a German and an
/// English form; an empty English form falls back to the German one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessibilityStatement {
    /// The public body the statement is made by, e.g. "Stadt Musterstadt".
    pub body: String,
    /// State of compliance.
    pub compliance: Compliance,
    /// Content that is not accessible, and why (German); one paragraph per blank line.
    pub not_accessible_de: String,
    /// The same in English.
    pub not_accessible_en: String,
    /// When the statement was prepared (e.g. "2026-12-01").
    pub prepared_on: String,
    /// When it was last reviewed.
    pub reviewed_on: String,
    /// How the pages were assessed (German), e.g. "Selbstbewertung".
    pub method_de: String,
    /// The same in English.
    pub method_en: String,
    /// Who takes feedback on barriers, e.g. "Bürgerservice der Stadt Musterstadt".
    pub contact_name: String,
    /// Their e-mail address.
    pub contact_email: String,
    /// Their phone number.
    pub contact_phone: String,
    /// Their postal address.
    pub contact_address: String,
    /// The arbitration or enforcement body, e.g. the Schlichtungsstelle nach § 16 BGG or the
    /// one the state's disability equality act names for municipalities.
    pub arbitration_name: String,
    /// Its postal address.
    pub arbitration_address: String,
    /// Its phone number and e-mail address.
    pub arbitration_contact: String,
    /// Its web site.
    pub arbitration_url: String,
}

impl Default for AccessibilityStatement {
    fn default() -> Self {
        AccessibilityStatement {
            body: String::new(),
            compliance: Compliance::Partial,
            not_accessible_de: String::new(),
            not_accessible_en: String::new(),
            prepared_on: String::new(),
            reviewed_on: String::new(),
            method_de: "Selbstbewertung; alle Seiten werden bei jeder Änderung automatisch mit \
                        axe-core auf die Kriterien der WCAG 2.1 (Stufen A und AA) geprüft."
                .into(),
            method_en: "Self-assessment; every page is checked automatically with axe-core \
                        against WCAG 2.1 (levels A and AA) on every change."
                .into(),
            contact_name: String::new(),
            contact_email: String::new(),
            contact_phone: String::new(),
            contact_address: String::new(),
            arbitration_name: "Schlichtungsstelle nach dem Behindertengleichstellungsgesetz \
                               (§ 16 BGG) bei dem Beauftragten der Bundesregierung für die \
                               Belange von Menschen mit Behinderungen"
                .into(),
            arbitration_address: "Mauerstraße 53, 10117 Berlin".into(),
            arbitration_contact: "Telefon 030 18 527-2805, info@schlichtungsstelle-bgg.de".into(),
            arbitration_url: "https://www.schlichtungsstelle-bgg.de".into(),
        }
    }
}

/// The path of the statement, as every page links to it.
pub const PATH: &str = "/barrierefreiheit";

/// A definition list entry, left out when the value is empty.
fn entry(out: &mut String, term: &str, value: &str, link: Option<String>) {
    if value.trim().is_empty() {
        return;
    }
    let value = match link {
        Some(href) => format!("<a href=\"{}\">{}</a>", esc(&href), esc(value)),
        None => esc(value),
    };
    out.push_str(&format!("<dt>{}</dt><dd>{value}</dd>\n", esc(term)));
}

/// German or English text, English falling back to German.
fn pick<'a>(lang: Lang, de: &'a str, en: &'a str) -> &'a str {
    match lang {
        Lang::En if !en.trim().is_empty() => en,
        _ => de,
    }
}

/// `/barrierefreiheit`: the statement for the municipality `name`.
pub(crate) fn statement(s: &AccessibilityStatement, name: &str, lang: Lang) -> String {
    let body = if s.body.trim().is_empty() {
        name
    } else {
        s.body.as_str()
    };
    let title = t(
        lang,
        "Erklärung zur Barrierefreiheit",
        "Accessibility statement",
    );
    let mut main = format!(
        "<p class=\"lang\">{}</p>\n<h1 id=\"statement\">{title}</h1>\n<p>{}</p>\n",
        switch_link(lang, PATH),
        esc(&match lang {
            Lang::De => format!(
                "{body} ist bemüht, die digitale Bürgersprechstunde im Einklang mit dem \
                 Behindertengleichstellungsrecht und der Barrierefreie-Informationstechnik-\
                 Verordnung (BITV 2.0) barrierefrei zugänglich zu machen. Diese Erklärung gilt \
                 für den Web-Chat, die öffentlichen Seiten der Sprechstunden und die \
                 Mitarbeiterkonsole."
            ),
            Lang::En => format!(
                "{body} endeavours to make its digital citizens' office hours accessible in \
                 accordance with German disability equality law and the Accessible Information \
                 Technology Ordinance (BITV 2.0). This statement applies to the web chat, the \
                 public pages of the office hours and the staff console."
            ),
        })
    );
    main.push_str(&format!(
        "<h2>{}</h2>\n<p>{}</p>\n",
        t(
            lang,
            "Stand der Vereinbarkeit mit den Anforderungen",
            "Compliance status"
        ),
        match (s.compliance, lang) {
            (Compliance::Full, Lang::De) =>
                "Die Seiten sind mit den Anforderungen der BITV 2.0 (WCAG 2.1, Stufe AA, und \
                 EN 301 549) vollständig vereinbar.",
            (Compliance::Full, Lang::En) =>
                "The pages are fully compliant with BITV 2.0 (WCAG 2.1 level AA and EN 301 549).",
            (Compliance::Partial, Lang::De) =>
                "Die Seiten sind mit den Anforderungen der BITV 2.0 (WCAG 2.1, Stufe AA, und \
                 EN 301 549) teilweise vereinbar. Die Ausnahmen sind unten aufgeführt.",
            (Compliance::Partial, Lang::En) =>
                "The pages are partially compliant with BITV 2.0 (WCAG 2.1 level AA and \
                 EN 301 549). The exceptions are listed below.",
            (Compliance::None, Lang::De) =>
                "Die Seiten sind mit den Anforderungen der BITV 2.0 (WCAG 2.1, Stufe AA, und \
                 EN 301 549) nicht vereinbar.",
            (Compliance::None, Lang::En) =>
                "The pages are not compliant with BITV 2.0 (WCAG 2.1 level AA and EN 301 549).",
        }
    ));
    let not_accessible = pick(lang, &s.not_accessible_de, &s.not_accessible_en);
    if s.compliance != Compliance::Full {
        main.push_str(&format!(
            "<h2>{}</h2>\n",
            t(
                lang,
                "Nicht barrierefreie Inhalte",
                "Non-accessible content"
            )
        ));
        if not_accessible.trim().is_empty() {
            main.push_str(&format!(
                "<p>{}</p>\n",
                t(
                    lang,
                    "Derzeit sind keine Barrieren bekannt. Eine Prüfung durch eine unabhängige \
                     Prüfstelle steht noch aus.",
                    "No barriers are known at present. A review by an independent testing \
                     body is still outstanding.",
                )
            ));
        } else {
            main.push_str(&crate::pages::paragraphs(not_accessible));
        }
    }
    main.push_str(&format!(
        "<h2>{}</h2>\n<dl>\n",
        t(
            lang,
            "Erstellung dieser Erklärung",
            "Preparation of this statement"
        )
    ));
    entry(
        &mut main,
        t(lang, "Erstellt am", "Prepared on"),
        &s.prepared_on,
        None,
    );
    entry(
        &mut main,
        t(lang, "Zuletzt überprüft am", "Last reviewed on"),
        &s.reviewed_on,
        None,
    );
    entry(
        &mut main,
        t(lang, "Methode", "Method"),
        pick(lang, &s.method_de, &s.method_en),
        None,
    );
    main.push_str("</dl>\n");
    main.push_str(&format!(
        "<h2>{}</h2>\n<p>{}</p>\n<dl>\n",
        t(
            lang,
            "Feedback und Kontaktangaben",
            "Feedback and contact information"
        ),
        t(
            lang,
            "Sind Ihnen Mängel beim barrierefreien Zugang aufgefallen, oder benötigen Sie \
             Informationen in barrierefreier Form? Dann wenden Sie sich bitte an:",
            "Have you noticed barriers, or do you need information in an accessible form? \
             Please contact:",
        )
    ));
    entry(
        &mut main,
        t(lang, "Stelle", "Contact"),
        &s.contact_name,
        None,
    );
    entry(
        &mut main,
        t(lang, "E-Mail", "E-mail"),
        &s.contact_email,
        Some(format!("mailto:{}", s.contact_email.trim())),
    );
    entry(
        &mut main,
        t(lang, "Telefon", "Phone"),
        &s.contact_phone,
        None,
    );
    entry(
        &mut main,
        t(lang, "Anschrift", "Address"),
        &s.contact_address,
        None,
    );
    main.push_str("</dl>\n");
    main.push_str(&format!(
        "<h2>{}</h2>\n<p>{}</p>\n<dl>\n",
        t(lang, "Schlichtungsverfahren", "Arbitration procedure"),
        t(
            lang,
            "Wenn Sie auf Ihre Rückmeldung keine zufriedenstellende Antwort erhalten haben, \
             können Sie einen Antrag auf ein Schlichtungsverfahren stellen. Das Verfahren ist \
             kostenlos; Sie brauchen keinen Rechtsbeistand.",
            "If you have not received a satisfactory answer to your feedback, you can apply \
             for arbitration. The procedure is free of charge; you do not need legal \
             representation.",
        )
    ));
    entry(
        &mut main,
        t(lang, "Schlichtungsstelle", "Arbitration body"),
        &s.arbitration_name,
        None,
    );
    entry(
        &mut main,
        t(lang, "Anschrift", "Address"),
        &s.arbitration_address,
        None,
    );
    entry(
        &mut main,
        t(lang, "Kontakt", "Contact"),
        &s.arbitration_contact,
        None,
    );
    entry(
        &mut main,
        t(lang, "Internet", "Web site"),
        &s.arbitration_url,
        Some(s.arbitration_url.trim().to_owned()),
    );
    main.push_str("</dl>\n");
    page(lang, &format!("{title} – {name}"), &main)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_names_the_configured_contact_and_escapes_it() {
        let s = AccessibilityStatement {
            contact_email: "barrierefrei@musterstadt.example".into(),
            contact_name: "Bürgerservice <Rathaus>".into(),
            ..AccessibilityStatement::default()
        };

        let de = statement(&s, "Stadt Musterstadt", Lang::De);
        let en = statement(&s, "Stadt Musterstadt", Lang::En);

        assert!(de.contains("href=\"mailto:barrierefrei@musterstadt.example\""));
        assert!(de.contains("Bürgerservice &lt;Rathaus&gt;"));
        assert!(de.contains("§ 16 BGG"));
        assert!(de.contains("teilweise vereinbar"));
        assert!(en.contains("<html lang=\"en\">"));
        assert!(en.contains("partially compliant"));
        // Entries without a value are left out instead of showing an empty field.
        assert!(!de.contains("<dt>Telefon</dt>"));
    }
}
