// German labels for the API's values (channels, states, queues, …) and the views' titles.
// The console is German only; the API speaks in English keys.

export const CHANNEL = { web: 'Web-Chat', telegram: 'Telegram', matrix: 'Matrix', threema: 'Threema' };
export const STATUS = { open: 'offen', answered: 'beantwortet', rejected: 'abgelehnt', withdrawn: 'zurückgezogen' };
export const QUEUE = { live: 'Live', office: 'Bürgerreferat', all: 'Alle' };
export const DELIVERY = { pending: 'ausstehend', delivered: 'zugestellt', failed: 'fehlgeschlagen' };
export const KIND = { citizen: 'Bürger/in', answer: 'Antwort', note: 'Interne Notiz', system: 'Systemnachricht' };
export const SESSION_STATUS = { scheduled: 'geplant', live: 'läuft', closed: 'beendet', cancelled: 'abgesagt' };
export const LANGS = { de: 'Deutsch', en: 'Englisch' };
export const STATUS_FILTER = { open: 'offen', answered: 'beantwortet', rejected: 'abgelehnt', withdrawn: 'zurückgezogen', all: 'alle' };

export const VIEW_TITLES = {
  login: 'Anmeldung',
  queue: 'Warteschlange',
  question: 'Anliegen',
  sessions: 'Sprechstunden',
  audit: 'Zugriffsprotokoll',
  stats: 'Statistik',
  departments: 'Fachämter',
  live: 'Live-Moderation',
  summary: 'Zusammenfassung',
};
