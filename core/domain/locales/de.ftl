# Texts to citizens, German (default). Formal "Sie".
# Placeables: $reference (A-1042), $session (title), $start (date and time), $due (date),
# $position (number), $text, $reason, $max (number), $list (pre-formatted lines).

help =
    So funktioniert die digitale Bürgersprechstunde:
    • Schreiben Sie Ihr Anliegen einfach als Nachricht. Sie erhalten eine Vorgangsnummer (z. B. A-1042).
    • /status – zeigt den Stand Ihrer Anliegen.
    • /zurueckziehen – zieht Ihr offenes Anliegen zurück (oder /zurueckziehen A-1042).
    • /hilfe – zeigt diese Hilfe.
    • /meinedaten – zeigt alle über Sie gespeicherten Daten; /loeschen – löscht sie.
    • /abonnieren – Ankündigungen der Sprechstunden und Erinnerungen (/abbestellen beendet sie).
    Außerhalb der Sprechstunde beantwortet das Bürgerreferat Ihr Anliegen.

ack-live =
    Vielen Dank! Ihr Anliegen ist unter der Nummer { $reference } eingegangen.
    Die Sprechstunde „{ $session }“ läuft gerade. Sie sind an Position { $position } der Warteschlange.

ack-presubmit =
    Vielen Dank! Ihr Anliegen ist unter der Nummer { $reference } eingegangen.
    Die Sprechstunde „{ $session }“ beginnt am { $start }. Ihr Anliegen wird dann aufgegriffen (derzeit Position { $position }).

ack-office =
    Vielen Dank! Ihr Anliegen ist unter der Nummer { $reference } eingegangen.
    Zurzeit findet keine Sprechstunde statt. Wir haben Ihr Anliegen an das Bürgerreferat weitergeleitet; Sie erhalten bis spätestens { $due } eine Antwort.

ack-cap =
    Vielen Dank! Ihr Anliegen ist unter der Nummer { $reference } eingegangen.
    Die Sprechstunde „{ $session }“ ist bereits ausgebucht. Wir haben Ihr Anliegen an das Bürgerreferat weitergeleitet; Sie erhalten bis spätestens { $due } eine Antwort.

ack-extended = Ihre Nachricht wurde zu Ihrem Anliegen { $reference } hinzugefügt.

ack-follow-up =
    Ihre Rückfrage zu Anliegen { $reference } ist eingegangen und wurde an das Bürgerreferat weitergeleitet. Sie erhalten bis spätestens { $due } eine Antwort.

answer =
    Antwort zu Ihrem Anliegen { $reference }:

    { $text }

    Sie können auf diese Nachricht antworten, wenn Sie eine Rückfrage haben.

rejected =
    Ihr Anliegen { $reference } kann leider nicht bearbeitet werden.
    Begründung: { $reason }

moved-session-closed =
    Die Sprechstunde „{ $session }“ ist beendet. Ihr Anliegen { $reference } konnte dort nicht mehr beantwortet werden. Wir haben es an das Bürgerreferat weitergeleitet; Sie erhalten bis spätestens { $due } eine Antwort.

moved-session-cancelled =
    Die Sprechstunde „{ $session }“ wurde abgesagt. Wir haben Ihr Anliegen { $reference } an das Bürgerreferat weitergeleitet; Sie erhalten bis spätestens { $due } eine Antwort.

status-none = Sie haben bisher keine Anliegen gestellt. Schreiben Sie uns einfach Ihre Frage.
status-list =
    Ihre Anliegen:
    { $list }

status-open-live = { $reference }: offen – Sprechstunde „{ $session }“, Position { $position }
status-open-office = { $reference }: offen – beim Bürgerreferat, Antwort bis { $due }
status-answered = { $reference }: beantwortet
status-rejected = { $reference }: abgelehnt
status-withdrawn = { $reference }: zurückgezogen

withdrawn = Ihr Anliegen { $reference } wurde zurückgezogen.
withdraw-none = Sie haben kein offenes Anliegen, das zurückgezogen werden könnte.
withdraw-unknown = Unter der Nummer { $reference } finden wir kein offenes Anliegen von Ihnen.

too-long = Ihre Nachricht ist zu lang. Bitte fassen Sie sich kürzer (höchstens { $max } Zeichen) oder teilen Sie sie auf mehrere Nachrichten auf.

greeting-live = Willkommen! Gerade läuft die Sprechstunde „{ $session }“ mit { $host } (bis { $end }). Schreiben Sie Ihre Frage einfach als Nachricht.
greeting-next = Willkommen! Die nächste Sprechstunde „{ $session }“ mit { $host } beginnt am { $start }. Sie können uns Ihre Frage aber jederzeit schreiben – außerhalb der Sprechstunde beantwortet sie das Bürgerreferat.
greeting-none = Willkommen! Derzeit ist keine Sprechstunde geplant. Sie können uns Ihre Frage trotzdem jederzeit schreiben – das Bürgerreferat beantwortet sie.

error-empty = Bitte geben Sie eine Nachricht ein.
error-unavailable = Ihre Nachricht konnte gerade nicht gespeichert werden. Bitte versuchen Sie es in einem Moment erneut.

button-status = Stand abfragen
button-withdraw = Zurückziehen
button-help = Hilfe

# Channel notices (adapters). Bilingual ones are sent German first, then English.
error-bad-request = Diese Nachricht wurde nicht verstanden. Bitte laden Sie die Seite neu.
group-refusal-telegram = Die digitale Bürgersprechstunde findet nur im privaten Chat statt: Bitte schreiben Sie diesem Bot direkt. In Gruppen und Kanälen beantworten wir keine Anliegen, damit Ihre Fragen vertraulich bleiben.
group-refusal-matrix = Die Bürgersprechstunde beantwortet Fragen nur im Direktchat mit einer Person. Bitte starten Sie einen Direktchat mit diesem Konto; dieser Raum wird jetzt verlassen.
text-only = Bitte schreiben Sie Ihre Frage als Text; Bilder und Dateien können wir hier nicht annehmen.
undecryptable = Ihre letzte Nachricht konnte nicht entschlüsselt werden. Bitte senden Sie sie noch einmal.
privacy-matrix-encrypted = Dieser Chat ist Ende-zu-Ende-verschlüsselt: Nur Sie und die Sprechstunde können die Nachrichten lesen, Ihr Homeserver nicht.
privacy-matrix-plain = Hinweis zum Datenschutz: Dieser Chat ist nicht Ende-zu-Ende-verschlüsselt; die Betreiber der beteiligten Homeserver können die Nachrichten lesen. Für einen verschlüsselten Chat aktivieren Sie die Verschlüsselung in Ihrem Matrix-Programm oder starten Sie einen neuen, verschlüsselten Direktchat.
greeting-matrix =
    { $session }

    { $privacy } Wir speichern Ihre Fragen unter einem Pseudonym, nicht unter Ihrer Matrix-ID. Befehle (mit ! oder /): !hilfe, !status, !zurueckziehen, !meinedaten, !loeschen, !abonnieren, !abbestellen.
## privacy (consent, export, erasure)
# $channel: web, telegram or matrix. The messengers put the heading (privacy-heading) in front;
# the web page shows it as the box's heading, with buttons and quick actions instead of commands.
privacy-heading = Datenschutzhinweis
privacy-notice =
    Bevor wir Ihre Frage speichern, brauchen wir Ihr Einverständnis. Wir speichern Ihre Nachrichten, die Antworten der Verwaltung und die Zeitpunkte unter einem Pseudonym – { $channel ->
        [web] nicht Ihren Namen und nicht den Schlüssel dieses Browsers –
       *[other] nicht Ihren Namen und nicht Ihre Kennung im Messenger im Klartext –
    }, um Ihre Frage zu beantworten. Lesen können sie nur die zuständigen Mitarbeiterinnen und Mitarbeiter der Stadtverwaltung. Beantwortete Anliegen werden nach { $answered } Tagen gelöscht, abgelehnte nach { $rejected }, zurückgezogene nach { $withdrawn } Tagen. { $channel ->
        [web] Unter „Schnellaktionen“ können Sie jederzeit alle gespeicherten Daten anzeigen, herunterladen oder löschen.
       *[other] Mit /meinedaten erhalten Sie jederzeit alle gespeicherten Daten, mit /loeschen löschen Sie sie.
    }
privacy-channel-telegram = Telegram-Chats sind nicht Ende-zu-Ende-verschlüsselt: Telegram kann die Nachrichten lesen.
privacy-channel-matrix-encrypted = Dieser Matrix-Chat ist Ende-zu-Ende-verschlüsselt.
privacy-channel-matrix-plain = Dieser Matrix-Chat ist nicht Ende-zu-Ende-verschlüsselt: Die Betreiber der beteiligten Homeserver können die Nachrichten lesen.
privacy-channel-threema = Dieser Threema-Chat ist Ende-zu-Ende-verschlüsselt: Nur Sie und die Bürgersprechstunde können die Nachrichten lesen. Der Betreiber des Threema Gateway (Threema GmbH, Schweiz) sieht nur Metadaten – wer wann an wen schreibt –, nicht den Inhalt.
privacy-channel-web = Der Web-Chat ist auf dem Transportweg verschlüsselt (HTTPS), aber nicht Ende-zu-Ende.
privacy-ask = Sind Sie einverstanden? Antworten Sie mit /einverstanden oder /ablehnen – oder einfach mit „ja“ oder „nein“.
# A message sent while the notice is still unanswered: it is held, not stored.
privacy-held = Ihre Nachricht ist noch nicht gespeichert. Wir speichern und bearbeiten sie, sobald Sie dem Datenschutzhinweis zugestimmt haben (Antwort „ja“ oder /einverstanden); lehnen Sie ab, wird sie verworfen.
privacy-agreed = Vielen Dank für Ihr Einverständnis. Schreiben Sie uns jetzt Ihre Frage.
privacy-already-agreed = Sie haben bereits zugestimmt. Schreiben Sie uns Ihre Frage einfach als Nachricht.
privacy-declined = Sie haben nicht zugestimmt. Wir haben nichts von Ihrer Nachricht gespeichert. Wenn Sie es sich anders überlegen, schreiben Sie uns einfach erneut.
privacy-decline-after-consent = Sie haben bereits zugestimmt. Mit /loeschen können Sie alle Ihre Daten löschen lassen.
button-agree = Einverstanden
button-decline = Ablehnen
mydata-head = Ihre bei uns gespeicherten Daten – Kanal: { $channel ->
        [web] Web-Chat
        [telegram] Telegram
        [matrix] Matrix
       *[other] { $channel }
    }, erster Kontakt: { $first }, Einverständnis: { $consent }.
mydata-contact =
    Antwortadresse: { $address }
    Sprache: { $lang ->
        [en] Englisch
       *[de] Deutsch
    }
    Ankündigungen der Sprechstunden: { $subscribed ->
        [yes] abonniert
       *[no] nicht abonniert
    }
mydata-none = Zu Ihnen sind keine Anliegen gespeichert.
mydata-question = Anliegen { $reference } vom { $date } ({ $status ->
        [open] offen
        [answered] beantwortet
        [rejected] abgelehnt
        [withdrawn] zurückgezogen
       *[other] { $status }
    }):
mydata-from-citizen = Sie
mydata-from-answer = Antwort
mydata-from-system = Hinweis
mydata-foot = Mit /loeschen können Sie alle diese Daten löschen lassen.
erase-confirm = Möchten Sie wirklich alle Ihre Daten bei uns löschen (Ihre Anliegen, die Antworten und Ihr Pseudonym)? Offene Anliegen werden dann nicht mehr bearbeitet. Bestätigen Sie mit /loeschen bestaetigen.
button-erase-confirm = Ja, alles löschen
button-erase-cancel = Abbrechen
erased = Alle Ihre Daten wurden gelöscht. Auch diese Nachricht wird bei uns nicht aufbewahrt.

## web hardening
# Sent once when a citizen exceeds the per-citizen message limit; $seconds until messages are taken again.
flood-limit = Sie haben in kurzer Zeit sehr viele Nachrichten geschickt. Damit alle Anliegen bearbeitet werden können, nehmen wir für kurze Zeit keine weiteren Nachrichten von Ihnen an. Bitte schreiben Sie in { $seconds } Sekunden wieder; was Sie bis dahin senden, wird nicht gespeichert.

## Office hours as events (subscriptions, announcements, reminders, merged questions)
subscribed = Sie erhalten jetzt Ankündigungen der Sprechstunden: neue Termine, Änderungen, Absagen und Erinnerungen. Abbestellen können Sie jederzeit mit /abbestellen.
unsubscribed = Sie erhalten keine Ankündigungen der Sprechstunden mehr. Wieder abonnieren können Sie mit /abonnieren.
button-subscribe = Ankündigungen abonnieren
button-unsubscribe = Ankündigungen abbestellen
announce-new = Neue Sprechstunde: „{ $session }“ mit { $host } am { $start } (bis { $end }). Sie können Ihre Frage dann einfach hier schreiben.
announce-series = Neue Sprechstunden-Reihe: „{ $session }“ mit { $host }, { $count } Termine, der erste am { $start } (bis { $end }).
announce-rescheduled = Die Sprechstunde „{ $session }“ wurde verlegt. Neuer Termin: { $start } (bis { $end }).
announce-cancelled = Die Sprechstunde „{ $session }“ am { $start } wurde abgesagt.
reminder = Erinnerung: Die Sprechstunde „{ $session }“ mit { $host } beginnt am { $start } (bis { $end }). Schreiben Sie Ihre Frage dann einfach hier.
merged = Ihr Anliegen { $reference } wurde mit einer gleichen Frage zusammengefasst. Sie erhalten die Antwort hier unter Ihrer Nummer { $reference }.

## Staff notifications by e-mail (never with the citizen's text or name)
mail-routed-subject = Anliegen { $reference } an { $department } weitergeleitet
mail-routed = Das Anliegen { $reference } wurde an { $department } weitergeleitet. Sie finden es in der Konsole: { $link }
mail-assigned-subject = Anliegen { $reference } ist Ihnen zugewiesen
mail-assigned = Das Anliegen { $reference } wurde Ihnen zugewiesen. Sie finden es in der Konsole: { $link }
mail-draft-waiting-subject = Antwortentwurf zu { $reference } wartet auf Freigabe
mail-draft-waiting = Ein Antwortentwurf zum Anliegen { $reference } wartet auf Ihre Freigabe (Vier-Augen-Prinzip). Sie finden ihn in der Konsole: { $link }
mail-digest-subject = { $department }: { $count } überfällige Anliegen am { $date }
mail-digest = Überfällige Anliegen von { $department } am { $date } ({ $count }):
    
    { $list }
mail-footer = Diese Nachricht enthält keine Inhalte von Bürgerinnen und Bürgern. Benachrichtigungen können Sie in der Konsole oder bei der Verwaltung abschalten.
