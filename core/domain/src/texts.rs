//! Texts to citizens, in German (default) and English, from Fluent resources.

use std::fmt;
use std::str::FromStr;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};
use unic_langid::langid;

/// A language citizens can be addressed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// German, formal "Sie" (default).
    #[default]
    De,
    /// English.
    En,
}

impl Lang {
    /// ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    /// Picks a language from a tag such as `en-GB` or `de`; anything else is German.
    pub fn from_tag(tag: &str) -> Lang {
        if tag.trim().to_ascii_lowercase().starts_with("en") {
            Lang::En
        } else {
            Lang::De
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "de" => Ok(Lang::De),
            "en" => Ok(Lang::En),
            other => Err(format!("unknown language {other:?} (known: de, en)")),
        }
    }
}

/// A Fluent resource that failed to load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("text catalogue {lang}: {problem}")]
pub struct TextsError {
    /// Which catalogue.
    pub lang: Lang,
    /// What is wrong.
    pub problem: String,
}

/// The text catalogues.
pub struct Texts {
    de: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

impl fmt::Debug for Texts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Texts")
    }
}

/// Arguments of a text: name and value.
pub type Args<'a> = [(&'a str, Arg<'a>)];

/// One argument value.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    /// A string, inserted as is.
    Str(&'a str),
    /// A number.
    Num(u64),
}

impl Texts {
    /// The built-in catalogues.
    ///
    /// # Errors
    /// Only if the built-in resources are broken, which the unit tests rule out.
    pub fn builtin() -> Result<Self, TextsError> {
        Self::from_sources(
            include_str!("../locales/de.ftl"),
            include_str!("../locales/en.ftl"),
        )
    }

    /// Catalogues from Fluent sources (for municipalities that adapt the wording).
    ///
    /// # Errors
    /// A syntax error, or a message missing in one language.
    pub fn from_sources(de: &str, en: &str) -> Result<Self, TextsError> {
        let texts = Texts {
            de: bundle(Lang::De, de)?,
            en: bundle(Lang::En, en)?,
        };
        for key in REQUIRED_KEYS {
            for lang in [Lang::De, Lang::En] {
                if !texts.bundle(lang).has_message(key) {
                    return Err(TextsError {
                        lang,
                        problem: format!("message {key:?} is missing"),
                    });
                }
            }
        }
        Ok(texts)
    }

    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        match lang {
            Lang::De => &self.de,
            Lang::En => &self.en,
        }
    }

    /// Renders a message. An unknown key renders as the key itself, so a mistake shows
    /// instead of silently dropping a message to a citizen.
    pub fn render(&self, lang: Lang, key: &str, args: &Args<'_>) -> String {
        let bundle = self.bundle(lang);
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            return key.to_owned();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            match *value {
                Arg::Str(s) => fluent_args.set(*name, FluentValue::from(s)),
                Arg::Num(n) => fluent_args.set(*name, FluentValue::from(n.to_string())),
            }
        }
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors)
            .into_owned()
    }
}

impl Texts {
    /// German, then English, for chats whose language is not known.
    pub fn bilingual(&self, key: &str, args: &Args<'_>) -> String {
        bilingual(
            &self.render(Lang::De, key, args),
            &self.render(Lang::En, key, args),
        )
    }
}

/// Joins a German and an English text the way bilingual notices read.
pub fn bilingual(de: &str, en: &str) -> String {
    format!("{de}\n\n— English —\n{en}")
}

fn bundle(lang: Lang, source: &str) -> Result<FluentBundle<FluentResource>, TextsError> {
    let resource =
        FluentResource::try_new(source.to_owned()).map_err(|(_, errors)| TextsError {
            lang,
            problem: format!(
                "{} syntax error(s), first: {:?}",
                errors.len(),
                errors.first()
            ),
        })?;
    let id = match lang {
        Lang::De => langid!("de"),
        Lang::En => langid!("en"),
    };
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Unicode isolation marks would end up in chat messages as invisible characters.
    bundle.set_use_isolating(false);
    bundle.add_resource(resource).map_err(|errors| TextsError {
        lang,
        problem: format!("{errors:?}"),
    })?;
    Ok(bundle)
}

/// Every message the engine uses.
pub const REQUIRED_KEYS: &[&str] = &[
    // staff notifications by e-mail
    "mail-routed-subject",
    "mail-routed",
    "mail-assigned-subject",
    "mail-assigned",
    "mail-draft-waiting-subject",
    "mail-draft-waiting",
    "mail-digest-subject",
    "mail-digest",
    "mail-footer",
    "help",
    "ack-live",
    "ack-presubmit",
    "ack-office",
    "ack-cap",
    "ack-extended",
    "ack-follow-up",
    "answer",
    "rejected",
    "moved-session-closed",
    "moved-session-cancelled",
    "status-none",
    "status-list",
    "status-open-live",
    "status-open-office",
    "status-answered",
    "status-rejected",
    "status-withdrawn",
    "withdrawn",
    "withdraw-none",
    "withdraw-unknown",
    "too-long",
    "greeting-live",
    "greeting-next",
    "greeting-none",
    "error-empty",
    "error-unavailable",
    "button-status",
    "button-withdraw",
    "button-help",
    "error-bad-request",
    "group-refusal-telegram",
    "group-refusal-matrix",
    "text-only",
    "undecryptable",
    "privacy-matrix-encrypted",
    "privacy-matrix-plain",
    "greeting-matrix",
    // privacy (consent, export, erasure)
    "privacy-heading",
    "privacy-notice",
    "privacy-channel-telegram",
    "privacy-channel-matrix-encrypted",
    "privacy-channel-matrix-plain",
    "privacy-channel-threema",
    "privacy-channel-web",
    "privacy-ask",
    "privacy-held",
    "privacy-agreed",
    "privacy-already-agreed",
    "privacy-declined",
    "privacy-decline-after-consent",
    "button-agree",
    "button-decline",
    "mydata-head",
    "mydata-contact",
    "mydata-none",
    "mydata-question",
    "mydata-from-citizen",
    "mydata-from-answer",
    "mydata-from-system",
    "mydata-foot",
    "erase-confirm",
    "button-erase-confirm",
    "button-erase-cancel",
    "erased",
    // web hardening
    "flood-limit",
    // Office hours as events.
    "subscribed",
    "unsubscribed",
    "button-subscribe",
    "button-unsubscribe",
    "announce-new",
    "announce-series",
    "announce-rescheduled",
    "announce-cancelled",
    "reminder",
    "merged",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogues_load_and_hold_every_message_in_both_languages() {
        let texts = Texts::builtin().expect("catalogues load");
        let text = texts.render(
            Lang::De,
            "ack-extended",
            &[("reference", Arg::Str("A-1001"))],
        );
        assert_eq!(
            text,
            "Ihre Nachricht wurde zu Ihrem Anliegen A-1001 hinzugefügt."
        );
        let text = texts.render(Lang::En, "too-long", &[("max", Arg::Num(2000))]);
        assert!(text.contains("at most 2000 characters"), "{text}");
    }

    #[test]
    fn a_catalogue_missing_a_message_is_refused() {
        let err = Texts::from_sources("help = Hilfe", include_str!("../locales/en.ftl"))
            .expect_err("incomplete catalogue");
        assert_eq!(err.lang, Lang::De);
    }

    #[test]
    fn language_tags_map_to_supported_languages() {
        assert_eq!(Lang::from_tag("en-GB"), Lang::En);
        assert_eq!(Lang::from_tag("de-AT"), Lang::De);
        assert_eq!(Lang::from_tag("fr"), Lang::De);
    }
}
