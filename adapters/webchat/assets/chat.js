// Citizen web chat of sprechstunde. Protocol: docs/webchat-protocol.md.
// Plain ES2020, no dependencies. Untrusted text is only ever inserted with textContent.
'use strict';

(() => {
  const KEY_TOKEN = 'sprechstunde.token';
  const KEY_LANG = 'sprechstunde.lang';
  const KEY_OUTBOX = 'sprechstunde.outbox';
  const BACKOFF_START_MS = 1000;
  const BACKOFF_MAX_MS = 30000;
  const RETRY_UNAVAILABLE_MS = 10000;
  const CLOCK_SKEW_MS = 10 * 60 * 1000;

  const STRINGS = {
    de: {
      docTitle: 'Digitale Bürgersprechstunde',
      title: 'Digitale Bürgersprechstunde',
      skip: 'Direkt zur Nachrichteneingabe',
      langSwitch: 'English',
      langSwitchLang: 'en',
      sessionHeading: 'Sprechstunde',
      sessionHeadingLive: 'Aktuelle Sprechstunde',
      sessionHeadingNext: 'Nächste Sprechstunde',
      sessionLoading: 'Informationen werden geladen …',
      sessionNone: 'Zurzeit ist keine Sprechstunde geplant. Sie können Ihre Frage trotzdem jederzeit stellen – das Bürgerreferat beantwortet sie.',
      sessionLive: 'läuft gerade',
      sessionHost: 'Gastgeber/in',
      sessionTime: 'Zeit',
      sessionOutside: 'Fragen außerhalb der Sprechstunde beantwortet das Bürgerreferat.',
      logHeading: 'Ihre Unterhaltung',
      messageLabel: 'Ihre Nachricht',
      composeHint: 'Mit der Eingabetaste senden, mit Umschalt + Eingabetaste eine neue Zeile beginnen.',
      send: 'Senden',
      counter: (n, max) => `${n} / ${max} Zeichen`,
      counterOver: (n, max) => `${n} / ${max} Zeichen – ${n - max} zu viel`,
      quickHeading: 'Schnellaktionen',
      quickStatus: 'Stand meines Anliegens',
      quickHelp: 'Hilfe',
      quickWithdraw: 'Anliegen zurückziehen',
      quickMyData: 'Meine Daten anzeigen',
      quickExport: 'Meine Daten herunterladen (JSON)',
      quickErase: 'Meine Daten löschen',
      consentHeading: 'Datenschutzhinweis',
      consentAgree: 'Einverstanden',
      consentDecline: 'Ablehnen',
      quickSubscribe: 'Ankündigungen abonnieren',
      quickUnsubscribe: 'Ankündigungen abbestellen',
      commands: { status: '/status', help: '/hilfe', withdraw: '/zurueckziehen', mydata: '/meinedaten', erase: '/loeschen', agree: '/einverstanden', decline: '/ablehnen', subscribe: '/abonnieren', unsubscribe: '/abbestellen' },
      privacyHeading: 'Datenschutz',
      privacyText: 'Gespeichert werden Ihre Nachrichten (verschlüsselt und unter einem Pseudonym) und ein zufälliger Schlüssel in diesem Browser, damit wir Ihre Frage beantworten können – erst, wenn Sie dem Datenschutzhinweis zugestimmt haben. Wer diesen Browser benutzt, kann die Unterhaltung sehen. Ihre Daten können Sie jederzeit herunterladen oder löschen lassen. Näheres finden Sie in der Datenschutzerklärung der Stadt.',
      footer: 'Digitale Bürgersprechstunde – Fragen außerhalb der Sprechstunden beantwortet das Bürgerreferat.',
      connConnecting: 'Verbindung wird hergestellt …',
      connConnected: 'verbunden',
      connReconnecting: 'Verbindung wird wiederhergestellt …',
      fromCitizen: 'Sie',
      fromOffice: 'Bürgerreferat',
      statePending: 'wird gesendet …',
      stateRetry: 'wird erneut versucht …',
      stateFailed: 'nicht gesendet',
      stateRef: (ref) => `Nr. ${ref}`,
      stateSent: 'gesendet',
      errEmpty: 'Bitte geben Sie eine Nachricht ein.',
      errTooLong: (n, max) => `Ihre Nachricht ist zu lang: ${n} Zeichen, erlaubt sind höchstens ${max}. Bitte kürzen Sie sie.`,
      errors: {
        too_long: 'Ihre Nachricht ist zu lang. Bitte kürzen Sie sie.',
        empty: 'Bitte geben Sie eine Nachricht ein.',
        bad_request: 'Die Nachricht konnte nicht verarbeitet werden.',
        unavailable: 'Der Dienst ist gerade nicht erreichbar. Ihre Nachricht wird erneut gesendet.',
      },
      locale: 'de-DE',
    },
    en: {
      docTitle: "Digital citizens' office hours",
      title: "Digital citizens' office hours",
      skip: 'Skip to message input',
      langSwitch: 'Deutsch',
      langSwitchLang: 'de',
      sessionHeading: 'Office hours',
      sessionHeadingLive: 'Current office hours',
      sessionHeadingNext: 'Next office hours',
      sessionLoading: 'Loading information …',
      sessionNone: "No office hours are scheduled at the moment. You can still ask your question at any time – the citizens' office will answer it.",
      sessionLive: 'live now',
      sessionHost: 'Host',
      sessionTime: 'Time',
      sessionOutside: "Questions outside office hours are answered by the citizens' office.",
      logHeading: 'Your conversation',
      messageLabel: 'Your message',
      composeHint: 'Press Enter to send, Shift + Enter to start a new line.',
      send: 'Send',
      counter: (n, max) => `${n} / ${max} characters`,
      counterOver: (n, max) => `${n} / ${max} characters – ${n - max} too many`,
      quickHeading: 'Quick actions',
      quickStatus: 'Status of my question',
      quickHelp: 'Help',
      quickWithdraw: 'Withdraw my question',
      quickMyData: 'Show my data',
      quickExport: 'Download my data (JSON)',
      quickErase: 'Delete my data',
      consentHeading: 'Privacy notice',
      consentAgree: 'I agree',
      consentDecline: 'Decline',
      quickSubscribe: 'Subscribe to announcements',
      quickUnsubscribe: 'Unsubscribe from announcements',
      commands: { status: '/status', help: '/help', withdraw: '/withdraw', mydata: '/mydata', erase: '/erase', agree: '/agree', decline: '/decline', subscribe: '/subscribe', unsubscribe: '/unsubscribe' },
      privacyHeading: 'Privacy',
      privacyText: 'We store your messages (encrypted, under a pseudonym) and a random key in this browser so that we can answer your question – only once you have agreed to the privacy notice. Anyone using this browser can see the conversation. You can download your data or have it deleted at any time. See the city’s privacy policy for details.',
      footer: "Digital citizens' office hours – questions outside office hours are answered by the citizens' office.",
      connConnecting: 'Connecting …',
      connConnected: 'connected',
      connReconnecting: 'Reconnecting …',
      fromCitizen: 'You',
      fromOffice: "Citizens' office",
      statePending: 'sending …',
      stateRetry: 'retrying …',
      stateFailed: 'not sent',
      stateRef: (ref) => `No. ${ref}`,
      stateSent: 'sent',
      errEmpty: 'Please enter a message.',
      errTooLong: (n, max) => `Your message is too long: ${n} characters, at most ${max} are allowed. Please shorten it.`,
      errors: {
        too_long: 'Your message is too long. Please shorten it.',
        empty: 'Please enter a message.',
        bad_request: 'The message could not be processed.',
        unavailable: 'The service is unavailable right now. Your message will be sent again.',
      },
      locale: 'en-GB',
    },
  };

  // ---- storage (localStorage may be unavailable, e.g. in some private modes) ----
  const memoryStore = new Map();
  const store = {
    get(key) {
      try {
        return window.localStorage.getItem(key);
      } catch (_) {
        return memoryStore.has(key) ? memoryStore.get(key) : null;
      }
    },
    set(key, value) {
      try {
        window.localStorage.setItem(key, value);
      } catch (_) {
        memoryStore.set(key, value);
      }
    },
  };

  // ---- state ----
  let lang = store.get(KEY_LANG) === 'en' ? 'en' : 'de';
  let ws = null;
  let ready = false; // welcome received on the current socket
  let connState = 'connecting';
  let backoff = BACKOFF_START_MS;
  let reconnectTimer = null;
  let retryTimer = null;
  let maxChars = 2000;
  let session; // undefined: not known yet; null: none
  let greeting = '';
  // Conversation model, in display order. Items:
  // { key, from: 'citizen'|'office', text, at, state: null|'pending'|'retry'|'failed'|'sent', reference }
  let items = [];
  const shownOffice = new Set();
  let outbox = loadOutbox();
  // Messages sent from this page that were accepted (client_id -> reference), used to keep
  // their bubbles stable when the history comes back after a reconnect.
  const acceptedLocal = new Map();

  const $ = (id) => document.getElementById(id);
  const els = {};

  function t(key) {
    return STRINGS[lang][key];
  }

  function loadOutbox() {
    try {
      const raw = JSON.parse(store.get(KEY_OUTBOX) || '[]');
      if (!Array.isArray(raw)) return [];
      return raw.filter((e) => e && typeof e.client_id === 'string' && e.client_id.length > 0 &&
        e.client_id.length <= 64 && typeof e.text === 'string')
        .map((e) => ({ client_id: e.client_id, text: e.text, at: typeof e.at === 'string' ? e.at : new Date().toISOString() }));
    } catch (_) {
      return [];
    }
  }

  function saveOutbox() {
    store.set(KEY_OUTBOX, JSON.stringify(outbox));
  }

  function newClientId() {
    const c = window.crypto;
    if (c && typeof c.randomUUID === 'function') {
      try {
        return c.randomUUID();
      } catch (_) { /* not a secure context */ }
    }
    if (c && typeof c.getRandomValues === 'function') {
      const bytes = new Uint8Array(16);
      c.getRandomValues(bytes);
      return 'm-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    }
    return 'm-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
  }

  function charCount(text) {
    // Unicode scalar values, like the server's character count.
    let n = 0;
    for (const _ of text) n += 1; // eslint-disable-line no-unused-vars
    return n;
  }

  // ---- formatting ----
  function formatTime(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return '';
    const now = new Date();
    const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() &&
      d.getDate() === now.getDate();
    const opts = sameDay ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' };
    try {
      return new Intl.DateTimeFormat(t('locale'), opts).format(d);
    } catch (_) {
      return d.toLocaleString();
    }
  }

  function formatSessionTime(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return '';
    try {
      return new Intl.DateTimeFormat(t('locale'), {
        dateStyle: 'full', timeStyle: 'short', timeZone: 'Europe/Berlin',
      }).format(d);
    } catch (_) {
      return d.toLocaleString();
    }
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // ---- static UI strings ----
  function applyLanguage() {
    document.documentElement.lang = lang;
    document.title = t('docTitle');
    for (const node of document.querySelectorAll('[data-i18n]')) {
      const value = STRINGS[lang][node.dataset.i18n];
      if (typeof value === 'string') node.textContent = value;
    }
    for (const button of document.querySelectorAll('.quick-action')) {
      const cmd = button.querySelector('.cmd');
      if (cmd) cmd.textContent = STRINGS[lang].commands[button.dataset.command] || '';
    }
    els.langSwitch.textContent = t('langSwitch');
    els.langSwitch.lang = t('langSwitchLang');
    renderConnection();
    renderCounter();
    renderSession();
    renderLog();
  }

  function renderConnection() {
    const text = connState === 'connected' ? t('connConnected')
      : connState === 'reconnecting' ? t('connReconnecting') : t('connConnecting');
    els.connection.dataset.state = connState;
    els.connection.classList.toggle('online', connState === 'connected');
    els.connection.classList.toggle('offline', connState !== 'connected');
    if (els.connection.textContent !== text) els.connection.textContent = text;
  }

  function setConnState(state) {
    connState = state;
    renderConnection();
  }

  function renderCounter() {
    const n = charCount(els.message.value);
    const over = n > maxChars;
    els.counter.textContent = over ? t('counterOver')(n, maxChars) : t('counter')(n, maxChars);
    els.counter.classList.toggle('over', over);
    if (over) els.message.setAttribute('aria-invalid', 'true');
    else els.message.removeAttribute('aria-invalid');
  }

  function renderSession() {
    const body = els.sessionBody;
    body.replaceChildren();
    if (session === undefined) {
      els.sessionHeading.textContent = t('sessionHeading');
      body.append(el('p', 'muted', t('sessionLoading')));
      return;
    }
    if (session === null) {
      els.sessionHeading.textContent = t('sessionHeading');
      body.append(el('p', 'session-none', t('sessionNone')));
      return;
    }
    els.sessionHeading.textContent = session.live ? t('sessionHeadingLive') : t('sessionHeadingNext');
    const titleLine = el('p', 'session-title');
    titleLine.append(el('span', 'session-name', session.title || ''));
    if (session.live) {
      titleLine.append(' ', el('span', 'badge live', t('sessionLive')));
    }
    body.append(titleLine);
    const dl = el('dl', 'session-facts');
    if (session.host) {
      dl.append(el('dt', null, t('sessionHost')), el('dd', null, session.host));
    }
    // The server formats starts_local in the language of the hello; after a language switch
    // (before the new welcome arrives) format it here.
    const sameLang = session.lang === lang;
    const start = sameLang && session.starts_local ? session.starts_local : formatSessionTime(session.starts_at);
    const end = sameLang && session.ends_local ? session.ends_local : formatSessionTime(session.ends_at);
    if (start) {
      const dd = el('dd');
      const tStart = el('time', null, start);
      tStart.dateTime = session.starts_at || '';
      dd.append(tStart);
      if (end) {
        const tEnd = el('time', null, end);
        tEnd.dateTime = session.ends_at || '';
        dd.append(' – ', tEnd);
      }
      dl.append(el('dt', null, t('sessionTime')), dd);
    }
    body.append(dl);
    if (session.description) body.append(el('p', 'session-description', session.description));
    if (!session.live) body.append(el('p', 'muted', t('sessionOutside')));
  }

  // ---- conversation log ----
  function stateText(item) {
    switch (item.state) {
      case 'pending': return t('statePending');
      case 'retry': return t('stateRetry');
      case 'failed': return t('stateFailed');
      case 'sent': return item.reference ? t('stateRef')(item.reference) : '';
      default: return item.reference ? t('stateRef')(item.reference) : '';
    }
  }

  function signature(item) {
    const choices = (item.choices || []).map((c) => c.command).join('\u0001');
    return [lang, item.from, item.text, item.at, item.state || '', item.reference || '', choices].join('\u0000');
  }

  function fillMsg(node, item) {
    node.className = 'msg ' + (item.from === 'office' ? 'office' : 'citizen');
    if (item.state === 'pending' || item.state === 'retry') node.classList.add('pending');
    if (item.state === 'failed') node.classList.add('failed');
    node.dataset.key = item.key;
    if (item.clientId) node.dataset.clientId = item.clientId;
    if (item.id) node.dataset.id = item.id;
    if (item.reference) node.dataset.reference = item.reference;
    else delete node.dataset.reference;
    const sig = signature(item);
    if (node.dataset.sig === sig) return;
    node.dataset.sig = sig;
    const meta = el('p', 'msg-meta');
    meta.append(el('span', 'msg-from', item.from === 'office' ? t('fromOffice') : t('fromCitizen')));
    const time = el('time', 'msg-time', formatTime(item.at));
    time.dateTime = item.at || '';
    meta.append(' ', time);
    const st = stateText(item);
    if (st) {
      const cls = item.state === 'failed' ? 'msg-state msg-failed'
        : (item.state === 'pending' || item.state === 'retry') ? 'msg-state' : 'msg-state msg-ref';
      meta.append(' ', el('span', cls, st));
    }
    const text = el('p', 'msg-text', item.text);
    const parts = [meta, text];
    if (item.choices && item.choices.length > 0) {
      const row = el('div', 'msg-choices');
      for (const c of item.choices) {
        const b = el('button', 'button-secondary', c.label);
        b.type = 'button';
        b.addEventListener('click', () => sendText(c.command));
        row.append(b);
      }
      parts.push(row);
    }
    node.replaceChildren(...parts);
  }

  // Reconciles #log with `items`, reusing nodes so that a screen reader does not
  // re-announce the whole conversation after a reconnect.
  function renderLog() {
    const log = els.log;
    const existing = new Map();
    for (const node of Array.from(log.children)) existing.set(node.dataset.key, node);
    const wanted = items.map((item) => {
      let node = existing.get(item.key);
      if (node) existing.delete(item.key);
      else node = document.createElement('div');
      fillMsg(node, item);
      return node;
    });
    for (const node of existing.values()) node.remove();
    let stickToBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    let added = false;
    wanted.forEach((node, i) => {
      if (log.children[i] !== node) {
        log.insertBefore(node, log.children[i] || null);
        added = true;
      }
    });
    if (added) stickToBottom = true;
    if (stickToBottom) log.scrollTop = log.scrollHeight;
  }

  function addItem(item) {
    items.push(item);
    renderLog();
  }

  function findItem(key) {
    return items.find((i) => i.key === key);
  }

  // ---- sending ----
  function showError(text) {
    els.error.replaceChildren();
    if (text) els.error.append(el('p', null, text));
  }

  function sendFrame(frame) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    try {
      ws.send(JSON.stringify(frame));
      return true;
    } catch (_) {
      return false;
    }
  }

  function transmit(entry) {
    if (ready) sendFrame({ type: 'message', client_id: entry.client_id, text: entry.text });
  }

  // Returns true when the message was queued.
  function sendText(raw) {
    const text = raw.trim();
    if (text.length === 0) {
      showError(t('errEmpty'));
      return false;
    }
    const n = charCount(text);
    if (n > maxChars) {
      showError(t('errTooLong')(n, maxChars));
      return false;
    }
    showError('');
    const entry = { client_id: newClientId(), text, at: new Date().toISOString() };
    outbox.push(entry);
    saveOutbox();
    addItem({ key: 'p:' + entry.client_id, clientId: entry.client_id, from: 'citizen', text, at: entry.at, state: 'pending', reference: null });
    transmit(entry);
    return true;
  }

  function resendOutbox() {
    for (const entry of outbox) transmit(entry);
  }

  // ---- frames ----
  // Whether history item `h` is the stored copy of local message `u`: same text, and not
  // stored long before the browser sent it (allowing for clock skew).
  function sameMessage(u, h) {
    if (u.text.trim() !== h.text.trim()) return false;
    const sent = Date.parse(u.at);
    const stored = Date.parse(h.at);
    if (Number.isNaN(sent) || Number.isNaN(stored)) return true;
    return stored >= sent - CLOCK_SKEW_MS;
  }

  function onWelcome(f) {
    if (typeof f.token === 'string' && f.token) store.set(KEY_TOKEN, f.token);
    if (Number.isInteger(f.max_chars) && f.max_chars > 0) maxChars = f.max_chars;
    session = f.session && typeof f.session === 'object' ? Object.assign({ lang: f.lang }, f.session) : null;
    greeting = typeof f.greeting === 'string' ? f.greeting : '';
    showConsent(typeof f.privacy_notice === 'string' ? f.privacy_notice : '');
    els.greeting.textContent = greeting;
    els.greeting.hidden = greeting === '';

    // History replaces the log; local messages are matched to their stored copy
    // (same text, in order) so that their bubbles stay where they are.
    const history = Array.isArray(f.history) ? f.history : [];
    const next = [];
    shownOffice.clear();
    const unmatched = [
      ...Array.from(acceptedLocal.entries()).map(([clientId, a]) => ({ clientId, text: a.text, at: a.at, reference: a.reference, pending: false })),
      ...outbox.map((e) => ({ clientId: e.client_id, text: e.text, at: e.at, pending: true })),
    ];
    for (const h of history) {
      if (!h || typeof h.text !== 'string') continue;
      if (h.from === 'office') {
        const id = String(h.id);
        if (shownOffice.has(id)) continue;
        shownOffice.add(id);
        next.push({ key: 'o:' + id, id, from: 'office', text: h.text, at: h.at, state: null, reference: null });
      } else {
        const idx = unmatched.findIndex((u) => u.clientId === h.id || sameMessage(u, h));
        if (idx >= 0) {
          const u = unmatched.splice(idx, 1)[0];
          next.push({ key: 'p:' + u.clientId, clientId: u.clientId, id: h.id, from: 'citizen', text: h.text, at: h.at,
            state: u.pending ? 'pending' : 'sent', reference: u.reference || null });
        } else {
          next.push({ key: 'c:' + h.id, id: h.id, from: 'citizen', text: h.text, at: h.at, state: null, reference: null });
        }
      }
    }
    for (const u of unmatched) {
      if (!u.pending) continue;
      next.push({ key: 'p:' + u.clientId, clientId: u.clientId, from: 'citizen', text: u.text, at: u.at, state: 'pending', reference: null });
    }
    items = next;
    renderSession();
    renderCounter();
    renderLog();

    ready = true;
    backoff = BACKOFF_START_MS;
    setConnState('connected');
    resendOutbox();
  }

  function showConsent(notice) {
    els.consentText.textContent = notice || '';
    els.consent.hidden = !notice;
  }

  function onExport(f) {
    const json = JSON.stringify(f.data, null, 2);
    const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'sprechstunde-meine-daten.json';
    document.body.appendChild(a);
    a.click();
    a.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function onAccepted(f) {
    const clientId = String(f.client_id);
    const reference = typeof f.reference === 'string' ? f.reference : null;
    const entry = outbox.find((e) => e.client_id === clientId);
    if (entry) {
      outbox = outbox.filter((e) => e.client_id !== clientId);
      saveOutbox();
      acceptedLocal.set(clientId, { text: entry.text, at: entry.at, reference });
    }
    const item = findItem('p:' + clientId);
    if (item) {
      item.state = 'sent';
      item.reference = reference;
      renderLog();
    }
  }

  function onMessage(f) {
    if (typeof f.text !== 'string') return;
    const id = String(f.id);
    if (shownOffice.has(id)) return;
    shownOffice.add(id);
    const choices = Array.isArray(f.choices)
      ? f.choices.filter((c) => c && typeof c.label === 'string' && typeof c.command === 'string')
      : [];
    addItem({ key: 'o:' + id, id, from: 'office', text: f.text, at: f.at, state: null, reference: null, choices });
  }

  function onError(f) {
    const code = typeof f.code === 'string' ? f.code : 'bad_request';
    const text = (typeof f.message === 'string' && f.message) || STRINGS[lang].errors[code] || STRINGS[lang].errors.bad_request;
    showError(text);
    if (typeof f.client_id !== 'string') return;
    const clientId = f.client_id;
    const entry = outbox.find((e) => e.client_id === clientId);
    const item = findItem('p:' + clientId);
    if (code === 'unavailable') {
      // Nothing stored, but the message is fine: keep it and try again.
      if (item) item.state = 'retry';
      renderLog();
      if (!retryTimer) {
        retryTimer = window.setTimeout(() => {
          retryTimer = null;
          resendOutbox();
        }, RETRY_UNAVAILABLE_MS);
      }
      return;
    }
    if (entry) {
      outbox = outbox.filter((e) => e.client_id !== clientId);
      saveOutbox();
      if (els.message.value.trim() === '') {
        els.message.value = entry.text;
        renderCounter();
      }
    }
    if (item) {
      item.state = 'failed';
      renderLog();
    }
  }

  function handleFrame(data) {
    let f;
    try {
      f = JSON.parse(data);
    } catch (_) {
      return;
    }
    if (!f || typeof f !== 'object') return;
    switch (f.type) {
      case 'welcome': onWelcome(f); break;
      case 'accepted': onAccepted(f); break;
      case 'message': onMessage(f); break;
      case 'error': onError(f); break;
      case 'export': onExport(f); break;
      default: break;
    }
  }

  // ---- connection ----
  function socketUrl() {
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${window.location.host}/ws`;
  }

  function scheduleReconnect(delay) {
    if (reconnectTimer) return;
    const wait = delay === undefined ? backoff : delay;
    if (delay === undefined) backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    reconnectTimer = window.setTimeout(() => {
      reconnectTimer = null;
      connect();
    }, wait);
  }

  function connect() {
    if (reconnectTimer) {
      window.clearTimeout(reconnectTimer);
      reconnectTimer = null;
    }
    ready = false;
    let sock;
    try {
      sock = new WebSocket(socketUrl());
    } catch (_) {
      setConnState('reconnecting');
      scheduleReconnect();
      return;
    }
    ws = sock;
    sock.addEventListener('open', () => {
      if (ws !== sock) return;
      const token = store.get(KEY_TOKEN);
      sendFrame({ type: 'hello', token: token || null, lang });
    });
    sock.addEventListener('message', (ev) => {
      if (ws !== sock) return;
      if (typeof ev.data === 'string') handleFrame(ev.data);
    });
    sock.addEventListener('close', () => {
      if (ws !== sock) return;
      ws = null;
      ready = false;
      setConnState('reconnecting');
      scheduleReconnect();
    });
  }

  // Closes the current socket and connects again at once (e.g. after a language switch,
  // so that the server answers in the new language).
  function reconnectNow() {
    const old = ws;
    ws = null;
    ready = false;
    if (old) {
      try {
        old.close(1000);
      } catch (_) { /* ignore */ }
    }
    backoff = BACKOFF_START_MS;
    connect();
  }

  // ---- wiring ----
  function init() {
    els.langSwitch = $('lang-switch');
    els.connection = $('connection');
    els.sessionHeading = $('session-heading');
    els.sessionBody = $('session-body');
    els.greeting = $('greeting');
    els.log = $('log');
    els.compose = $('compose');
    els.message = $('message');
    els.counter = $('counter');
    els.error = $('error');
    els.consent = $('consent');
    els.consentText = $('consent-text');

    $('consent-agree').addEventListener('click', () => {
      if (sendText(STRINGS[lang].commands.agree)) showConsent('');
    });
    $('consent-decline').addEventListener('click', () => {
      if (sendText(STRINGS[lang].commands.decline)) showConsent('');
    });
    $('quick-export').addEventListener('click', () => sendFrame({ type: 'export' }));

    els.compose.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (sendText(els.message.value)) {
        els.message.value = '';
        renderCounter();
      }
      els.message.focus();
    });

    els.message.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
        ev.preventDefault();
        if (typeof els.compose.requestSubmit === 'function') els.compose.requestSubmit();
        else els.compose.dispatchEvent(new Event('submit', { cancelable: true }));
      }
    });

    els.message.addEventListener('input', renderCounter);

    for (const button of document.querySelectorAll('.quick-action')) {
      button.addEventListener('click', () => {
        const command = STRINGS[lang].commands[button.dataset.command];
        if (command) sendText(command);
      });
    }

    els.langSwitch.addEventListener('click', () => {
      lang = lang === 'de' ? 'en' : 'de';
      store.set(KEY_LANG, lang);
      applyLanguage();
      if (ws) reconnectNow();
    });

    window.addEventListener('online', () => {
      if (!ws) {
        backoff = BACKOFF_START_MS;
        connect();
      }
    });

    // Local pending messages from an earlier visit are shown until the welcome arrives.
    items = outbox.map((e) => ({ key: 'p:' + e.client_id, clientId: e.client_id, from: 'citizen', text: e.text, at: e.at, state: 'pending', reference: null }));
    applyLanguage();
    connect();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
