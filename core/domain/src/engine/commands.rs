//! Citizen commands, understood on every channel.

/// A command a citizen can type (`/hilfe`, `/status`, …). German and English names both work,
/// with `/` or `!` in front; a bare word counts only when it is the whole message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Greeting (Telegram's `/start`), with an optional payload such as a session id.
    Start(Option<String>),
    /// How it works.
    Help,
    /// Where my questions stand.
    Status,
    /// Withdraw my open question, or the one with this reference.
    Withdraw(Option<String>),
    /// I agree to the privacy notice.
    Agree,
    /// I do not agree to the privacy notice.
    Decline,
    /// Send me everything you store about me.
    MyData,
    /// Erase everything about me; `true` once confirmed (`/loeschen bestaetigen`).
    Erase(bool),
    /// Subscribe to announcements of office hours.
    Subscribe,
    /// Unsubscribe from announcements.
    Unsubscribe,
}

impl Command {
    /// The names of the commands a citizen is told about, in `lang` (without `/` or `!`):
    /// every channel's help, greeting and command menu lists these.
    pub fn names(lang: crate::texts::Lang) -> &'static [&'static str] {
        match lang {
            crate::texts::Lang::De => &[
                "hilfe",
                "status",
                "zurueckziehen",
                "meinedaten",
                "loeschen",
                "abonnieren",
                "abbestellen",
            ],
            crate::texts::Lang::En => &[
                "help",
                "status",
                "withdraw",
                "mydata",
                "erase",
                "subscribe",
                "unsubscribe",
            ],
        }
    }

    /// Parses a message; `None` if it is not a command.
    pub fn parse(text: &str) -> Option<Command> {
        let text = text.trim();
        let (prefixed, body) = match text.strip_prefix(['/', '!']) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let mut parts = body.splitn(2, char::is_whitespace);
        let word = parts.next()?.to_lowercase();
        // Telegram appends the bot name in groups: /status@stadt_bot.
        let word = word.split('@').next().unwrap_or_default().to_owned();
        let arg = parts
            .next()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned);
        if !prefixed && arg.is_some() {
            return None;
        }
        match word.as_str() {
            "start" | "anfang" if prefixed => Some(Command::Start(arg)),
            "hilfe" | "help" | "?" => Some(Command::Help),
            "status" | "stand" => Some(Command::Status),
            "zurueckziehen" | "zurückziehen" | "withdraw" if prefixed => {
                Some(Command::Withdraw(arg))
            }
            // Bare words count only while the notice is pending (see `Engine::bare_consent`):
            // "Einverstanden" can also be a reply to an answer.
            "einverstanden" | "zustimmen" | "agree" if prefixed => Some(Command::Agree),
            "ablehnen" | "decline" if prefixed => Some(Command::Decline),
            "meinedaten" | "mydata" | "auskunft" if prefixed => Some(Command::MyData),
            "loeschen" | "löschen" | "erase" if prefixed => Some(Command::Erase(matches!(
                arg.as_deref().map(str::to_lowercase).as_deref(),
                Some("bestaetigen" | "bestätigen" | "confirm")
            ))),
            "abonnieren" | "subscribe" => Some(Command::Subscribe),
            "abbestellen" | "unsubscribe" => Some(Command::Unsubscribe),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_command_name_parses_with_both_prefixes_and_is_in_the_help() {
        let texts = crate::texts::Texts::builtin().expect("texts");
        for lang in [crate::texts::Lang::De, crate::texts::Lang::En] {
            let help = texts.render(lang, "help", &[]);
            for name in Command::names(lang) {
                for prefix in ['/', '!'] {
                    let command = format!("{prefix}{name}");
                    assert!(Command::parse(&command).is_some(), "{command}");
                }
                assert!(
                    help.contains(&format!("/{name}")),
                    "{lang}: {name} in {help}"
                );
            }
        }
    }

    #[test]
    fn commands_parse_in_both_languages_and_prefixes() {
        let cases: &[(&str, Option<Command>)] = &[
            ("/hilfe", Some(Command::Help)),
            ("!help", Some(Command::Help)),
            ("Hilfe", Some(Command::Help)),
            ("  /STATUS ", Some(Command::Status)),
            ("status", Some(Command::Status)),
            ("/status@stadt_bot", Some(Command::Status)),
            ("/zurueckziehen", Some(Command::Withdraw(None))),
            (
                "/zurückziehen A-1042",
                Some(Command::Withdraw(Some("A-1042".into()))),
            ),
            (
                "/withdraw 1042",
                Some(Command::Withdraw(Some("1042".into()))),
            ),
            ("/start", Some(Command::Start(None))),
            ("/start s12", Some(Command::Start(Some("s12".into())))),
            ("start", None),
            ("withdraw", None),
            ("Status meines Antrags?", None),
            ("Wann wird die Straße saniert?", None),
            ("/unbekannt", None),
            ("/einverstanden", Some(Command::Agree)),
            ("Einverstanden", None),
            ("/agree", Some(Command::Agree)),
            ("/ablehnen", Some(Command::Decline)),
            ("decline", None),
            ("!ablehnen", Some(Command::Decline)),
            ("/meinedaten", Some(Command::MyData)),
            ("/mydata", Some(Command::MyData)),
            ("meinedaten", None),
            ("/loeschen", Some(Command::Erase(false))),
            ("/erase", Some(Command::Erase(false))),
            ("/loeschen bestaetigen", Some(Command::Erase(true))),
            ("/erase confirm", Some(Command::Erase(true))),
            ("/erase now", Some(Command::Erase(false))),
            ("loeschen", None),
            ("/abonnieren", Some(Command::Subscribe)),
            ("!subscribe", Some(Command::Subscribe)),
            ("Abonnieren", Some(Command::Subscribe)),
            ("/abbestellen", Some(Command::Unsubscribe)),
            ("/unsubscribe@stadt_bot", Some(Command::Unsubscribe)),
            ("abonnieren Sie mich", None),
        ];
        for (input, want) in cases {
            assert_eq!(&Command::parse(input), want, "{input:?}");
        }
    }
}
