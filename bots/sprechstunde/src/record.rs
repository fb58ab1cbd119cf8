//! `sprechstunde privacy record`: the record of processing activities (Verzeichnis von
//! Verarbeitungstätigkeiten, Art. 30 GDPR) derived from the running configuration — the same
//! settings `serve` loads (embedded default, `--config`, environment) — and the departments
//! in the data directory when the server is stopped (module `record_departments`).
//!
//! [`ProcessingRecord::build`] collects the facts; [`ProcessingRecord::markdown`] renders them
//! for the data protection officer; `--format json` prints the same structure as JSON. The
//! document is in German, the language of the authorities it is written for.

use clap::{Subcommand, ValueEnum};
use serde::Serialize;

use crate::settings::Settings;

/// `privacy …`.
#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Print the record of processing activities (Art. 30 GDPR) for this configuration.
    Record {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Markdown)]
        format: Format,
    },
}

/// Output format of the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Markdown, for reading and for the data protection documentation.
    Markdown,
    /// JSON, for tools.
    Json,
}

/// Runs `privacy …`.
///
/// # Errors
/// The data directory is damaged, or output failed.
pub async fn run(command: PrivacyCommand, settings: &Settings) -> anyhow::Result<()> {
    let PrivacyCommand::Record { format } = command;
    let departments = crate::record_departments::load(settings).await?;
    let record = ProcessingRecord::build(settings, &departments);
    match format {
        Format::Markdown => print!("{}", record.markdown()),
        Format::Json => println!("{}", serde_json::to_string_pretty(&record)?),
    }
    Ok(())
}

/// Who is responsible.
#[derive(Debug, Clone, Serialize)]
pub struct Controller {
    /// Controller.
    pub name: String,
    /// Address.
    pub address: String,
    /// Contact.
    pub contact: String,
    /// Data protection officer.
    pub dpo_name: String,
    /// Their contact.
    pub dpo_contact: String,
}

/// A channel citizens can write through.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelEntry {
    /// `webchat`, `telegram`, `matrix`, `threema`.
    pub id: &'static str,
    /// Name.
    pub name: String,
    /// Whether enabled in this configuration.
    pub enabled: bool,
    /// End-to-end encryption: `no`, `optional` (the citizen's choice), `n/a`.
    pub end_to_end_encryption: &'static str,
    /// Transport and who else processes the messages.
    pub notes: String,
}

/// A category of personal data.
#[derive(Debug, Clone, Serialize)]
pub struct DataCategory {
    /// Whose data.
    pub subjects: String,
    /// Category.
    pub category: String,
    /// Which data items.
    pub items: Vec<String>,
}

/// Who receives or sees the data.
#[derive(Debug, Clone, Serialize)]
pub struct Recipient {
    /// Recipient.
    pub name: String,
    /// What they see.
    pub access: String,
}

/// How long something is kept.
#[derive(Debug, Clone, Serialize)]
pub struct Retention {
    /// What.
    pub data: String,
    /// How long.
    pub period: String,
    /// Where it is configured.
    pub source: String,
}

/// A technical or organisational measure (Art. 32 GDPR).
#[derive(Debug, Clone, Serialize)]
pub struct Measure {
    /// Measure.
    pub name: String,
    /// How it is implemented here.
    pub detail: String,
}

/// The record of processing activities.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessingRecord {
    /// Name of the processing activity.
    pub activity: String,
    /// The municipality (office.name).
    pub municipality: String,
    /// Art. 30 (1) (a).
    pub controller: Controller,
    /// Channels.
    pub channels: Vec<ChannelEntry>,
    /// Art. 30 (1) (b).
    pub purposes: Vec<String>,
    /// Legal basis.
    pub legal_basis: Vec<String>,
    /// Art. 30 (1) (c).
    pub data_categories: Vec<DataCategory>,
    /// Art. 30 (1) (d).
    pub recipients: Vec<Recipient>,
    /// Where the departments among the recipients come from (see
    /// [`crate::record_departments::DepartmentList::source`]).
    pub departments_source: &'static str,
    /// Art. 30 (1) (e).
    pub third_country_transfers: Vec<String>,
    /// Art. 30 (1) (f).
    pub retention: Vec<Retention>,
    /// Art. 30 (1) (g).
    pub measures: Vec<Measure>,
}

fn or_placeholder(value: &str, key: &str) -> String {
    if value.trim().is_empty() {
        format!("(nicht konfiguriert: {key})")
    } else {
        value.trim().to_owned()
    }
}

impl ProcessingRecord {
    /// The record for `settings`, with `departments` (the Fachämter questions can be routed
    /// to) as recipients.
    pub fn build(
        settings: &Settings,
        departments: &crate::record_departments::DepartmentList,
    ) -> ProcessingRecord {
        let c = &settings.privacy.controller;
        let telegram = settings.telegram.enabled;
        let matrix = settings.matrix.enabled;
        let threema = settings.threema.enabled;
        let channels = channels(settings);
        let mut data_categories = vec![DataCategory {
            subjects: "Bürgerinnen und Bürger (Web-Chat)".into(),
            category: "Anliegen und Kommunikation".into(),
            items: vec![
                "Pseudonym der Browser-Sitzung (zufälliges Token im Browser, gespeichert nur als Schlüssel-Hash)".into(),
                "Antwortadresse: die offene Web-Chat-Verbindung (nicht gespeichert)".into(),
                "Texte der Anliegen und Nachfragen".into(),
                "Zeitstempel, Referenznummer, Bearbeitungsstatus, gewählte Sprache".into(),
            ],
        }];
        if telegram {
            data_categories.push(DataCategory {
                subjects: "Bürgerinnen und Bürger (Telegram)".into(),
                category: "Anliegen und Kommunikation".into(),
                items: vec![
                    "Pseudonym der Telegram-Chat-ID (HMAC-SHA256 mit geheimem Schlüssel)".into(),
                    reply_address("die Telegram-Chat-ID", settings),
                    "Texte der Anliegen und Nachfragen".into(),
                    "Zeitstempel, Referenznummer, Bearbeitungsstatus, Sprache des Telegram-Clients"
                        .into(),
                ],
            });
        }
        if matrix {
            data_categories.push(DataCategory {
                subjects: "Bürgerinnen und Bürger (Matrix)".into(),
                category: "Anliegen und Kommunikation".into(),
                items: vec![
                    "Pseudonym der Matrix-Nutzer-ID (HMAC-SHA256 mit geheimem Schlüssel)".into(),
                    reply_address("die Raum-ID des Direktchats", settings),
                    "Texte der Anliegen und Nachfragen".into(),
                    "Zeitstempel, Referenznummer, Bearbeitungsstatus".into(),
                ],
            });
        }
        if threema {
            data_categories.push(DataCategory {
                subjects: "Bürgerinnen und Bürger (Threema)".into(),
                category: "Anliegen und Kommunikation".into(),
                items: vec![
                    "Pseudonym der Threema-ID (HMAC-SHA256 mit geheimem Schlüssel)".into(),
                    reply_address("die Threema-ID", settings),
                    "Texte der Anliegen und Nachfragen (Ende-zu-Ende-verschlüsselt übertragen)"
                        .into(),
                    "Zeitstempel, Referenznummer, Bearbeitungsstatus, Zustell- und Lesebestätigungen"
                        .into(),
                ],
            });
        }
        data_categories.push(DataCategory {
            subjects: "Beschäftigte der Verwaltung".into(),
            category: "Benutzerkonten und Protokoll".into(),
            items: vec![
                "Login-Name, Anzeigename, Rollen, Fachamt".into(),
                "Passwort nur als argon2id-Hash, API-Token nur als SHA-256-Hash".into(),
                "Antworten, Notizen und Ablehnungsgründe mit Namen der Bearbeitenden".into(),
                "Audit-Protokoll: wer wann welches Anliegen gelesen oder geändert hat (ohne Inhalte)".into(),
            ],
        });
        let mut recipients = vec![
            Recipient {
                name: "Bürgerreferat (Rolle citizens_office)".into(),
                access: "alle Anliegen: lesen, zuweisen, beantworten, ablehnen, Notizen".into(),
            },
            Recipient {
                name: "Gastgeberin/Gastgeber und Moderation der Sprechstunde (Rolle host)".into(),
                // The role reads and works the whole queue (Permission::ReadQueue), not
                // only the live session's questions.
                access: "alle Anliegen: lesen, beantworten, Notizen; Moderation laufender \
                         Sprechstunden (Live-Warteschlange)"
                    .into(),
            },
            Recipient {
                name: "Pressereferat (Rolle press_office)".into(),
                access: "Termine der Sprechstunden; in laufenden Sprechstunden die Fragen der \
                         Live-Warteschlange mit Texten (Moderation); Entwürfe der \
                         Zusammenfassungen mit Fragen und Antworten (ohne Namen und \
                         Referenznummern) zum Bearbeiten; zur Freigabe vorgelegte \
                         Antwortentwürfe mit Texten (Vier-Augen-Prinzip); Statistiken"
                    .into(),
            },
            Recipient {
                name: "Administration (Rolle admin)".into(),
                access: "alles, einschließlich Benutzerkonten und Audit-Protokoll".into(),
            },
            Recipient {
                name: "Datenschutzbeauftragte/r (Rolle data_protection)".into(),
                access: "nur das Audit-Protokoll (ohne Inhalte)".into(),
            },
        ];
        if departments.may_be_incomplete() {
            recipients.push(Recipient {
                name: "Fachämter (Rolle department)".into(),
                access: "die dem jeweiligen Fachamt zugewiesenen Anliegen; aufgeführt sind die \
                         konfigurierten Fachämter ([[departments]]), in der Konsole angelegte \
                         Fachämter sind in der Konsole aufgeführt (das Datenverzeichnis war \
                         nicht lesbar, während der Server läuft)"
                    .into(),
            });
        } else if departments.names.is_empty() {
            recipients.push(Recipient {
                name: "Fachämter (Rolle department)".into(),
                access: "zugewiesene Anliegen (keine Fachämter angelegt)".into(),
            });
        }
        for d in &departments.names {
            recipients.push(Recipient {
                name: format!("Fachamt: {d}"),
                access: "die diesem Fachamt zugewiesenen Anliegen".into(),
            });
        }
        recipients.push(Recipient {
            name: "IT-Dienstleister, der den Server betreibt (Auftragsverarbeitung, Art. 28 DSGVO)"
                .into(),
            access: "Datenverzeichnis auf dem Server".into(),
        });
        if telegram {
            recipients.push(Recipient {
                name: "Telegram (Telegram Messenger Inc. / Telegram FZ-LLC)".into(),
                access:
                    "Inhalte und Metadaten der Telegram-Chats (nicht Ende-zu-Ende-verschlüsselt)"
                        .into(),
            });
        }
        if matrix {
            recipients.push(Recipient {
                name: format!(
                    "Betreiber des Matrix-Homeservers {}",
                    or_placeholder(&settings.matrix.homeserver, "matrix.homeserver")
                ),
                access: "Metadaten; Inhalte nur bei unverschlüsselten Chats".into(),
            });
        }
        if threema {
            recipients.push(Recipient {
                name: "Threema GmbH, Schweiz, als Betreiberin des Threema Gateway \
                       (Auftragsverarbeitung, Art. 28 DSGVO)"
                    .into(),
                access: "nur Metadaten (Threema-ID, Gateway-ID, Zeitpunkt, Größe der Nachricht); \
                         Inhalte sind Ende-zu-Ende-verschlüsselt, der private Schlüssel liegt nur \
                         auf dem Server"
                    .into(),
            });
        }
        if settings.mail.enabled() {
            recipients.push(Recipient {
                name: format!(
                    "Betreiber des Mailservers {} (Benachrichtigungen an Mitarbeitende)",
                    settings.mail.host.trim()
                ),
                access: "Aktenzeichen (z. B. A-1042), Fachamt, Konsolen-Link und die \
                         E-Mail-Adressen der Mitarbeitenden; keine Inhalte und keine Daten von \
                         Bürgerinnen und Bürgern"
                    .into(),
            });
        }
        let mut third_country_transfers = Vec::new();
        if telegram {
            third_country_transfers.push(
                "Telegram: Server außerhalb der EU (Sitz in Dubai, VAE); kein Angemessenheitsbeschluss. \
                 Bürgerinnen und Bürger wählen den Kanal selbst; der Web-Chat steht als Alternative ohne Drittlandbezug bereit."
                    .into(),
            );
        }
        if threema {
            third_country_transfers.push(
                "Threema: Server in der Schweiz (Angemessenheitsbeschluss der EU-Kommission, \
                 Art. 45 DSGVO); übermittelt werden nur Metadaten, keine Inhalte."
                    .into(),
            );
        }
        if third_country_transfers.is_empty() {
            third_country_transfers
                .push("keine (nur Web-Chat und selbst betriebene Dienste konfiguriert)".into());
        }
        ProcessingRecord {
            activity: "Digitale Bürgersprechstunde (sprechstunde)".into(),
            municipality: settings.office.name.clone(),
            controller: Controller {
                name: or_placeholder(&c.name, "privacy.controller.name"),
                address: or_placeholder(&c.address, "privacy.controller.address"),
                contact: or_placeholder(&c.contact, "privacy.controller.contact"),
                dpo_name: or_placeholder(&c.dpo_name, "privacy.controller.dpo_name"),
                dpo_contact: or_placeholder(&c.dpo_contact, "privacy.controller.dpo_contact"),
            },
            channels,
            purposes: vec![
                "Entgegennahme und Beantwortung von Anliegen der Bürgerinnen und Bürger in Sprechstunden und außerhalb".into(),
                "Weiterleitung an das zuständige Fachamt".into(),
                "Ankündigung von Sprechstunden an Abonnentinnen und Abonnenten".into(),
                "Nachweis der Zugriffe von Beschäftigten (Audit-Protokoll, Art. 5 (2), Art. 32 DSGVO)".into(),
            ],
            legal_basis: vec![
                "Art. 6 (1) (e) DSGVO i. V. m. dem Landesdatenschutzgesetz: Wahrnehmung einer Aufgabe im öffentlichen Interesse".into(),
                "Art. 6 (1) (a) DSGVO: Einwilligung vor dem Speichern des ersten Anliegens".into(),
            ],
            data_categories,
            recipients,
            departments_source: departments.source,
            third_country_transfers,
            retention: retention(settings),
            measures: measures(settings),
        }
    }

    /// The record as Markdown.
    pub fn markdown(&self) -> String {
        use std::fmt::Write;
        let mut o = String::new();
        let c = &self.controller;
        let _ = writeln!(
            o,
            "# Verzeichnis von Verarbeitungstätigkeiten (Art. 30 DSGVO)\n"
        );
        let _ = writeln!(o, "**Verarbeitungstätigkeit:** {}  ", self.activity);
        let _ = writeln!(o, "**Kommune:** {}\n", self.municipality);
        let _ = writeln!(o, "## 1. Verantwortlicher (controller)\n");
        let _ = writeln!(o, "- Verantwortlicher: {}", c.name);
        let _ = writeln!(o, "- Anschrift: {}", c.address);
        let _ = writeln!(o, "- Kontakt: {}", c.contact);
        let _ = writeln!(o, "- Datenschutzbeauftragte/r: {}", c.dpo_name);
        let _ = writeln!(o, "- Kontakt Datenschutz: {}\n", c.dpo_contact);
        let _ = writeln!(o, "## 2. Kanäle (channels)\n");
        let _ = writeln!(
            o,
            "| Kanal | aktiv | Ende-zu-Ende-Verschlüsselung | Hinweise |\n|---|---|---|---|"
        );
        for ch in &self.channels {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                ch.name,
                if ch.enabled { "ja" } else { "nein" },
                match ch.end_to_end_encryption {
                    "no" => "nein",
                    "optional" => "wenn der Chat verschlüsselt ist",
                    _ => "entfällt (TLS)",
                },
                ch.notes
            );
        }
        list(&mut o, "3. Zwecke (purposes)", &self.purposes);
        list(
            &mut o,
            "4. Rechtsgrundlagen (legal basis)",
            &self.legal_basis,
        );
        let _ = writeln!(
            o,
            "\n## 5. Kategorien personenbezogener Daten (data categories)"
        );
        for d in &self.data_categories {
            let _ = writeln!(o, "\n**{}: {}**\n", d.subjects, d.category);
            for i in &d.items {
                let _ = writeln!(o, "- {i}");
            }
        }
        let _ = writeln!(o, "\n## 6. Empfänger (recipients)\n");
        let _ = writeln!(o, "| Empfänger | Zugriff |\n|---|---|");
        for r in &self.recipients {
            let _ = writeln!(o, "| {} | {} |", r.name, r.access);
        }
        list(
            &mut o,
            "7. Übermittlung in Drittländer (third countries)",
            &self.third_country_transfers,
        );
        let _ = writeln!(o, "\n## 8. Löschfristen (retention)\n");
        let _ = writeln!(o, "| Daten | Frist | Einstellung |\n|---|---|---|");
        for r in &self.retention {
            let _ = writeln!(o, "| {} | {} | {} |", r.data, r.period, r.source);
        }
        let _ = writeln!(
            o,
            "\n## 9. Technische und organisatorische Maßnahmen (Art. 32 DSGVO)\n"
        );
        for m in &self.measures {
            let _ = writeln!(o, "- **{}:** {}", m.name, m.detail);
        }
        o
    }
}

/// How long a channel's reply address is kept: with the citizen record, not only while
/// answers are due.
fn reply_address(what: &str, settings: &Settings) -> String {
    let r = &settings.privacy.retention;
    format!(
        "Antwortadresse: {what}, verschlüsselt beim Bürgerdatensatz gespeichert bis zur \
         Löschung auf Wunsch (/loeschen) oder bis kein Anliegen mehr gespeichert ist und der \
         letzte Kontakt {} Tage zurückliegt (privacy.retention.inactive_citizen_days; \
         beantwortete Anliegen werden {} Tage nach der letzten Änderung gelöscht)",
        r.inactive_citizen_days, r.answered_days
    )
}

fn list(o: &mut String, title: &str, items: &[String]) {
    use std::fmt::Write;
    let _ = writeln!(o, "\n## {title}\n");
    for i in items {
        let _ = writeln!(o, "- {i}");
    }
}

fn channels(settings: &Settings) -> Vec<ChannelEntry> {
    vec![
        ChannelEntry {
            id: "webchat",
            name: "Web-Chat".into(),
            enabled: true,
            end_to_end_encryption: "n/a",
            notes: "auf dem eigenen Server; Transportverschlüsselung über HTTPS (Reverse Proxy)"
                .into(),
        },
        ChannelEntry {
            id: "telegram",
            name: "Telegram".into(),
            enabled: settings.telegram.enabled,
            end_to_end_encryption: "no",
            notes:
                "Bot-Chats sind nicht Ende-zu-Ende-verschlüsselt; Telegram kann die Inhalte lesen"
                    .into(),
        },
        ChannelEntry {
            id: "matrix",
            name: "Matrix".into(),
            enabled: settings.matrix.enabled,
            end_to_end_encryption: "optional",
            notes: if settings.matrix.enabled {
                format!(
                    "Homeserver {}; verschlüsselte Direktchats werden unterstützt (Megolm)",
                    or_placeholder(&settings.matrix.homeserver, "matrix.homeserver")
                )
            } else {
                "verschlüsselte Direktchats werden unterstützt (Megolm)".into()
            },
        },
        ChannelEntry {
            id: "threema",
            name: "Threema".into(),
            enabled: settings.threema.enabled,
            end_to_end_encryption: "yes",
            notes: "Threema Gateway im End-to-End-Modus: Nachrichten werden auf dem Server \
                    ver- und entschlüsselt; der Gateway-Betreiber sieht nur Metadaten"
                .into(),
        },
    ]
}

fn retention(settings: &Settings) -> Vec<Retention> {
    let r = &settings.privacy.retention;
    vec![
        Retention {
            data: "Beantwortete Anliegen mit Verlauf".into(),
            period: format!("{} Tage nach der letzten Änderung", r.answered_days),
            source: "privacy.retention.answered_days".into(),
        },
        Retention {
            data: "Abgelehnte Anliegen mit Verlauf".into(),
            period: format!("{} Tage nach der letzten Änderung", r.rejected_days),
            source: "privacy.retention.rejected_days".into(),
        },
        Retention {
            data: "Zurückgezogene Anliegen mit Verlauf".into(),
            period: format!("{} Tage nach der letzten Änderung", r.withdrawn_days),
            source: "privacy.retention.withdrawn_days".into(),
        },
        Retention {
            data: "Zusammenfassungen der Sprechstunden (Fragen und Antworten, ohne Namen und Referenzen)".into(),
            period: "Entwurf: ein Eintrag entfällt mit seinem Anliegen (Fristen oben); veröffentlicht: dauerhaft als vom Pressereferat geprüftes Dokument (Einträge jederzeit entfernbar); Einträge von Personen, die /loeschen nutzen, entfallen immer".into(),
            source: "privacy.retention.*".into(),
        },
        Retention {
            data: "Pseudonym und Antwortadresse ohne verbliebene Anliegen".into(),
            period: format!(
                "{} Tage nach dem letzten Kontakt; jederzeit vorher auf Wunsch (/loeschen in jedem Kanal)",
                r.inactive_citizen_days
            ),
            source: "privacy.retention.inactive_citizen_days".into(),
        },
        Retention {
            data: "Pseudonym und Antwortadresse von Personen, die dem Datenschutzhinweis nicht zugestimmt haben".into(),
            period: format!(
                "{} Tage nach dem letzten Kontakt (eine Ablehnung löscht sofort)",
                r.unconsented_days
            ),
            source: "privacy.retention.unconsented_days".into(),
        },
        Retention {
            data: "Zustellaufträge (Outbox)".into(),
            period: format!(
                "bis zur Zustellung, höchstens {} Zustellversuche",
                settings.outbox.max_attempts
            ),
            source: "outbox.max_attempts".into(),
        },
        Retention {
            data: "Anmeldungen an der Mitarbeitenden-Konsole".into(),
            period: format!("{} Stunden", settings.server.login_hours),
            source: "server.login_hours".into(),
        },
        Retention {
            data: "Audit-Protokoll (ohne Inhalte)".into(),
            period: format!(
                "{} Tage, danach täglich gelöscht (Hash-Kette bleibt prüfbar)",
                settings.audit.retention_days
            ),
            source: "audit.retention_days".into(),
        },
        Retention {
            data: "Benutzerkonten der Beschäftigten".into(),
            period: "bis zur Deaktivierung/Löschung durch die Administration".into(),
            source: "—".into(),
        },
    ]
}

fn measures(settings: &Settings) -> Vec<Measure> {
    let key = if settings.privacy.pseudonym_key.is_some() {
        "aus der Umgebungsvariable SPRECHSTUNDE_PRIVACY__PSEUDONYM_KEY".to_owned()
    } else if settings.privacy.pseudonym_key_file.as_os_str().is_empty() {
        "in <data_dir>/pseudonym.key (nur für den Server-Benutzer lesbar)".to_owned()
    } else {
        format!(
            "in der Datei {}",
            settings.privacy.pseudonym_key_file.display()
        )
    };
    vec![
        Measure {
            name: "Pseudonymisierung".into(),
            detail: format!(
                "Kanal-Kennungen (Chat-IDs, Matrix-IDs) werden nur als HMAC-SHA256 mit geheimem Schlüssel gespeichert; Schlüssel {key}, nie im Repository"
            ),
        },
        Measure {
            name: "Verschlüsselung gespeicherter Daten".into(),
            detail: "Anliegen, Nachrichten und Antwortadressen liegen im Datenverzeichnis nur verschlüsselt (XChaCha20-Poly1305), mit einem eigenen Schlüssel je Bürgerin/Bürger bzw. Anliegen; bei Löschung wird der Schlüssel vernichtet, sodass auch alte Bytes der Datenbank unlesbar werden".into(),
        },
        Measure {
            name: "Einwilligung".into(),
            detail: if settings.privacy.require_consent {
                format!(
                    "vor dem Speichern der ersten Frage Datenschutzhinweis je Kanal mit Zustimmung (Fassung {}); ohne Zustimmung wird nichts gespeichert",
                    settings.privacy.notice_version.trim()
                )
            } else {
                "Einwilligungsabfrage abgeschaltet (privacy.require_consent = false)".into()
            },
        },
        Measure {
            name: "Transportverschlüsselung und Web-Sicherheit".into(),
            detail: format!(
                "HTTPS über Reverse Proxy{}; Anmelde-Cookies {}HttpOnly, SameSite=Strict; CSRF-Token und Origin-Prüfung bei jeder ändernden Anfrage; Content-Security-Policy ohne unsafe-inline, frame-ancestors 'none', nosniff, Referrer-Policy no-referrer; WebSocket nur von erlaubten Origins; Anmeldedrosselung mit Sperre; begrenzte Anfragegrößen; Nachrichtenlimit je Bürgerin/Bürger",
                if settings.hsts() { " mit HSTS" } else { "" },
                if settings.server.secure_cookies { "__Host-, Secure, " } else { "" }
            ),
        },
        Measure {
            name: "Zugriffskontrolle".into(),
            detail: "Rollen (citizens_office, department, host, press_office, admin, data_protection), serverseitig bei jeder Anfrage geprüft; Passwörter argon2id; API-Token nur als Hash gespeichert und widerrufbar".into(),
        },
        Measure {
            name: "Protokollierung der Zugriffe".into(),
            detail: format!(
                "jeder Lese- und Schreibzugriff von Beschäftigten auf die API und jede Verwaltungsaktion im Kommandozeilenwerkzeug wird ohne Inhalte in einer SHA-256-Hash-Kette protokolliert; Prüfung mit `sprechstunde audit verify`; Aufbewahrung {} Tage",
                settings.audit.retention_days
            ),
        },
        Measure {
            name: "Datensparsamkeit in Logs".into(),
            detail: format!(
                "keine Nachrichtentexte, Namen oder Chat-IDs im Log ab Stufe info (Stufe: {})",
                settings.log.level
            ),
        },
        Measure {
            name: "Verfügbarkeit und Integrität".into(),
            detail: format!(
                "eingebettete Datenbank im Datenverzeichnis {}; jede zugesagte Speicherung wird vor der Bestätigung auf die Platte geschrieben",
                settings.server.data_dir.display()
            ),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departments_become_recipients() {
        let settings = Settings::load(None).expect("default settings");
        let departments = crate::record_departments::DepartmentList {
            names: vec!["Tiefbauamt".into()],
            source: "store",
        };
        let record = ProcessingRecord::build(&settings, &departments);
        assert!(
            record
                .recipients
                .iter()
                .any(|r| r.name == "Fachamt: Tiefbauamt")
        );
        assert!(record.markdown().contains("Fachamt: Tiefbauamt"));
    }

    #[test]
    fn a_configured_mail_server_is_a_recipient_of_references_only() {
        let mut settings = Settings::load(None).expect("default settings");
        let departments = crate::record_departments::DepartmentList {
            names: Vec::new(),
            source: "store",
        };
        let without = ProcessingRecord::build(&settings, &departments);
        settings.mail.host = "mail.musterstadt.example".into();
        let with = ProcessingRecord::build(&settings, &departments);

        let mail = |r: &ProcessingRecord| {
            r.recipients
                .iter()
                .find(|r| r.name.contains("Mailservers mail.musterstadt.example"))
                .map(|r| r.access.clone())
        };
        assert_eq!(mail(&without), None);
        let access = mail(&with).expect("the mail server is listed");
        assert!(access.contains("keine Inhalte"), "{access}");
    }
}
