// Staff console of sprechstunde. Uses only the JSON API in docs/api.md.
// Plain ES2020, no dependencies. Untrusted text is only ever inserted with textContent.
'use strict';

(() => {
  const API = '/api/v1';
  const SSE_DEBOUNCE_MS = 200;
  const SSE_RETRY_MS = 5000;

  const CHANNEL = { web: 'Web-Chat', telegram: 'Telegram', matrix: 'Matrix' };
  const STATUS = { open: 'offen', answered: 'beantwortet', rejected: 'abgelehnt', withdrawn: 'zurückgezogen' };
  const QUEUE = { live: 'Live', office: 'Bürgerreferat', all: 'Alle' };
  const DELIVERY = { pending: 'ausstehend', delivered: 'zugestellt', failed: 'fehlgeschlagen' };
  const KIND = { citizen: 'Bürger/in', answer: 'Antwort', note: 'Interne Notiz', system: 'Systemnachricht' };
  const SESSION_STATUS = { scheduled: 'geplant', live: 'läuft', closed: 'beendet', cancelled: 'abgesagt' };
  const LANGS = { de: 'Deutsch', en: 'Englisch' };
  const STATUS_FILTER = { open: 'offen', answered: 'beantwortet', rejected: 'abgelehnt', withdrawn: 'zurückgezogen', all: 'alle' };

  const ERROR_TEXT = {
    0: 'Der Server ist nicht erreichbar. Bitte prüfen Sie die Verbindung und versuchen Sie es erneut.',
    400: 'Die Anfrage war fehlerhaft.',
    401: 'Ihre Anmeldung ist abgelaufen. Bitte melden Sie sich erneut an.',
    403: 'Dafür fehlt Ihnen die Berechtigung.',
    404: 'Der Eintrag wurde nicht gefunden.',
    409: 'Die Aktion ist im aktuellen Zustand nicht möglich.',
    413: 'Der Text ist zu lang.',
    422: 'Bitte prüfen Sie Ihre Eingaben.',
    429: 'Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie einige Minuten und versuchen Sie es dann erneut.',
    503: 'Der Dienst ist vorübergehend nicht verfügbar. Bitte versuchen Sie es später erneut.',
  };

  const VIEW_TITLES = {
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

  let dateTimeFmt;
  let dateFmt;
  let timeFmt;
  try {
    dateTimeFmt = new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Berlin' });
    dateFmt = new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeZone: 'UTC' });
    timeFmt = new Intl.DateTimeFormat('de-DE', { timeStyle: 'medium', timeZone: 'Europe/Berlin' });
  } catch (_) {
    dateTimeFmt = new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeStyle: 'short' });
    dateFmt = new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeZone: 'UTC' });
    timeFmt = new Intl.DateTimeFormat('de-DE', { timeStyle: 'medium' });
  }

  // ---- state ----
  let auth = null; // { staff, csrf }
  let currentView = null;
  let currentRef = null;
  let currentDetail = null;
  let editingSessionId = null;
  let sessionsById = new Map();
  let events = null;
  let eventsRetryTimer = null;
  let changeTimer = null;
  let pendingChange = null;
  let queueSeq = 0;
  let questionSeq = 0;
  let sessionsSeq = 0;
  // Triage (issue 6): departments with members, selected queue row.
  let departments = [];
  let selectedRow = -1;
  let liveSeq = 0;
  let currentLiveId = null;
  // The live answer form follows "answering now" until the host picks a question there.
  let liveAnswerTouched = false;
  // Queue pages: what is shown, for which filter, and whether the server may have more.
  const QUEUE_PAGE = 200;
  let queueQuestions = [];
  let queueKey = null;
  let queueMore = false;
  // A field to focus once the question opened by a shortcut from the queue is shown.
  let pendingFocus = null;

  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // ---- formatting ----
  function fmtDateTime(iso) {
    if (!iso) return '–';
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? String(iso) : dateTimeFmt.format(d);
  }

  function timeEl(iso, className) {
    const t = el('time', className || null, fmtDateTime(iso));
    if (iso) t.dateTime = String(iso);
    return t;
  }

  function dueDay(due) {
    if (typeof due !== 'string') return null;
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(due);
    return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
  }

  function fmtDate(due) {
    const day = dueDay(due);
    if (!day) return due ? String(due) : '–';
    const [y, m, d] = day.split('-').map(Number);
    return dateFmt.format(new Date(Date.UTC(y, m - 1, d, 12)));
  }

  function berlinParts(date) {
    const parts = {};
    const fmt = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    });
    for (const p of fmt.formatToParts(date)) parts[p.type] = p.value;
    return parts;
  }

  // RFC 3339 → value for <input type="datetime-local"> in office time (Europe/Berlin).
  function toLocalInput(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return '';
    const p = berlinParts(d);
    return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
  }

  // The server decides what is overdue (office time zone, working days); the console only shows it.
  function isOverdue(q) {
    return q.overdue === true;
  }

  function staffName(staff) {
    if (!staff || typeof staff !== 'object') return '';
    return staff.name || staff.display_name || staff.login || '';
  }

  function queueLabel(q) {
    if (q.queue === 'live') {
      return q.session && q.session.title ? `Live: ${q.session.title}` : 'Live';
    }
    if (q.queue === 'office') {
      return q.session && q.session.title ? `Bürgerreferat (${q.session.title})` : 'Bürgerreferat';
    }
    return q.queue ? String(q.queue) : '–';
  }

  function sameRef(a, b) {
    const norm = (r) => String(r).trim().toUpperCase().replace(/^A-/, '');
    return norm(a) === norm(b);
  }

  // ---- API ----
  class ApiError extends Error {
    constructor(status, code, serverMessage, data) {
      super(serverMessage || ERROR_TEXT[status] || `Fehler ${status}`);
      this.status = status;
      this.code = code || null;
      this.serverMessage = serverMessage || '';
      this.data = data || null;
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
    if (method !== 'GET') {
      headers['Content-Type'] = 'application/json';
      if (auth && auth.csrf) headers['X-CSRF-Token'] = auth.csrf;
      if (body !== undefined) init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(API + path, init);
    } catch (_) {
      throw new ApiError(0, 'network', '');
    }
    let data = null;
    if (res.status !== 204) {
      const text = await res.text().catch(() => '');
      if (text) {
        try {
          data = JSON.parse(text);
        } catch (_) {
          data = null;
        }
      }
    }
    if (!res.ok) {
      const code = data && typeof data.error === 'string' ? data.error : null;
      const message = data && typeof data.message === 'string' ? data.message : '';
      const err = new ApiError(res.status, code, message, data);
      if (res.status === 401 && path !== '/login' && path !== '/me' && path !== '/logout') {
        sessionExpired();
      }
      throw err;
    }
    return data;
  }

  // Shows an error in an alert area: a German explanation, then the server's text.
  function showError(area, err, overrides) {
    area.replaceChildren();
    if (!err) return;
    if (typeof err === 'string') {
      area.append(el('p', null, err));
      return;
    }
    const status = err.status || 0;
    const main = (overrides && overrides[status]) || ERROR_TEXT[status] || `Es ist ein Fehler aufgetreten (Status ${status}).`;
    area.append(el('p', null, main));
    if (err.serverMessage && err.serverMessage !== main) {
      area.append(el('p', 'error-detail', err.serverMessage));
    }
    const fields = err.data && (err.data.fields || err.data.errors || err.data.details);
    if (fields && typeof fields === 'object') {
      const list = el('ul', 'error-fields');
      const entries = Array.isArray(fields) ? fields.map((f) => [null, f]) : Object.entries(fields);
      for (const [k, v] of entries) {
        const text = typeof v === 'string' ? v : (v && (v.message || v.text)) || JSON.stringify(v);
        list.append(el('li', null, k ? `${k}: ${text}` : text));
      }
      if (list.children.length) area.append(list);
    }
  }

  function clearArea(area) {
    area.replaceChildren();
  }

  function flash(area, text) {
    area.textContent = text;
  }

  // ---- views ----
  const VIEWS = ['login', 'queue', 'question', 'sessions', 'live', 'summary', 'stats', 'departments', 'audit'];

  function setTitle(text) {
    $('view-title').textContent = text;
    document.title = `${text} – Mitarbeiterkonsole`;
  }

  function showView(name) {
    currentView = name;
    $('loading').hidden = true;
    for (const v of VIEWS) $(`${v}-view`).hidden = v !== name;
    const loggedIn = name !== 'login';
    $('nav').hidden = !loggedIn;
    $('user').hidden = !loggedIn;
    setTitle(VIEW_TITLES[name]);
    const links = {
      queue: $('nav-queue'),
      sessions: $('nav-sessions'),
      stats: $('nav-stats'),
      departments: $('nav-departments'),
      audit: $('nav-audit'),
    };
    for (const [key, link] of Object.entries(links)) {
      if (key === name || (key === 'queue' && name === 'question')) {
        if (key === name) link.setAttribute('aria-current', 'page');
        else link.removeAttribute('aria-current');
        link.classList.add('active');
      } else {
        link.removeAttribute('aria-current');
        link.classList.remove('active');
      }
    }
  }

  function parseHash() {
    const h = window.location.hash || '';
    const m = /^#\/questions\/([^/?#]+)$/.exec(h);
    if (m) {
      let ref = m[1];
      try {
        ref = decodeURIComponent(ref);
      } catch (_) { /* keep raw */ }
      return { view: 'question', ref };
    }
    if (h === '#/sessions') return { view: 'sessions' };
    if (h === '#/audit') return { view: 'audit' };
    if (h === '#/stats') return { view: 'stats' };
    if (h === '#/departments') return { view: 'departments' };
    const live = /^#\/sessions\/(\d+)\/live$/.exec(h);
    if (live) return { view: 'live', id: live[1] };
    const summary = /^#\/sessions\/(\d+)\/summary$/.exec(h);
    if (summary) return { view: 'summary', id: summary[1] };
    return { view: 'queue' };
  }

  function route(focus) {
    if (!auth) {
      showLogin();
      return;
    }
    let r = parseHash();
    // The data protection officer sees only the audit trail.
    if (r.view !== 'audit' && auditOnly()) {
      window.history.replaceState(null, '', '#/audit');
      r = { view: 'audit' };
    }
    if (r.view === 'queue' && window.location.hash !== '#/queue') {
      window.history.replaceState(null, '', '#/queue');
    }
    if (r.view === 'question') {
      const changed = !currentRef || !sameRef(currentRef, r.ref);
      showView('question');
      if (changed) resetQuestionView(r.ref);
      currentRef = r.ref;
      setTitle(`Anliegen ${r.ref}`);
      loadQuestion(r.ref);
    } else {
      currentRef = null;
      currentDetail = null;
      pendingFocus = null;
      showView(r.view);
      currentLiveId = r.view === 'live' || r.view === 'summary' ? r.id : null;
      if (r.view === 'live') liveAnswerTouched = false;
      if (r.view === 'queue') loadQueue();
      else if (r.view === 'audit') loadAudit();
      else if (r.view === 'stats') loadStats();
      else if (r.view === 'departments') showDepartments();
      else if (r.view === 'live') loadLive();
      else if (r.view === 'summary') loadSummary();
      else loadSessions();
    }
    if (focus) $('view-title').focus();
  }

  // ---- auth ----
  function showLogin(message) {
    showView('login');
    const area = $('login-error');
    if (message) showError(area, message);
    else clearArea(area);
  }

  function setLoggedIn(data) {
    auth = { staff: data && data.staff ? data.staff : {}, csrf: data && typeof data.csrf === 'string' ? data.csrf : null };
    $('staff-name').textContent = staffName(auth.staff) || '–';
    $('nav-audit-item').hidden = !mayViewAudit();
    for (const id of ['nav-queue', 'nav-sessions', 'nav-stats', 'nav-departments']) $(id).parentElement.hidden = auditOnly();
    if (!auditOnly()) {
      startEvents();
      loadSessionFilter();
      loadDepartments().then(() => {
        if (currentDetail && currentView === 'question') renderDetail(currentDetail);
      });
    }
  }

  function logoutLocal() {
    auth = null;
    currentRef = null;
    currentDetail = null;
    stopEvents();
    $('password').value = '';
  }

  function sessionExpired() {
    if (!auth) return;
    logoutLocal();
    showLogin(ERROR_TEXT[401]);
  }

  async function checkMe() {
    try {
      const data = await api('GET', '/me');
      setLoggedIn(data);
      route(false);
    } catch (err) {
      if (err.status === 401 || err.status === 403 || err.status === 404) showLogin();
      else {
        showLogin();
        showError($('login-error'), err);
      }
    }
  }

  async function onLogin(ev) {
    ev.preventDefault();
    const loginInput = $('login');
    const passwordInput = $('password');
    const area = $('login-error');
    const login = loginInput.value.trim();
    const password = passwordInput.value;
    loginInput.removeAttribute('aria-invalid');
    passwordInput.removeAttribute('aria-invalid');
    if (!login || !password) {
      if (!login) loginInput.setAttribute('aria-invalid', 'true');
      if (!password) passwordInput.setAttribute('aria-invalid', 'true');
      showError(area, 'Bitte geben Sie Benutzername und Passwort ein.');
      (login ? passwordInput : loginInput).focus();
      return;
    }
    const button = $('login-submit');
    button.disabled = true;
    try {
      const data = await api('POST', '/login', { login, password });
      clearArea(area);
      passwordInput.value = '';
      setLoggedIn(data);
      route(true);
    } catch (err) {
      showError(area, err, { 401: 'Benutzername oder Passwort ist falsch.', 403: 'Diese Anmeldung ist nicht zulässig.' });
      passwordInput.focus();
    } finally {
      button.disabled = false;
    }
  }

  async function onLogout() {
    try {
      await api('POST', '/logout');
    } catch (_) { /* the local state is dropped anyway */ }
    logoutLocal();
    showLogin();
    $('view-title').focus();
  }

  // ---- live updates (SSE) ----
  function setLiveStatus(state) {
    const status = $('live-status');
    const texts = {
      on: 'Live-Aktualisierung aktiv',
      connecting: 'Live-Aktualisierung wird verbunden …',
      off: 'Live-Aktualisierung unterbrochen – wird erneut versucht …',
      unsupported: 'Live-Aktualisierung nicht verfügbar',
    };
    status.dataset.state = state;
    const text = texts[state] || '';
    if (status.textContent !== text) status.textContent = text;
  }

  function startEvents() {
    stopEvents();
    if (typeof window.EventSource !== 'function') {
      setLiveStatus('unsupported');
      return;
    }
    setLiveStatus('connecting');
    let source;
    try {
      source = new EventSource(`${API}/events`, { withCredentials: true });
    } catch (_) {
      setLiveStatus('off');
      eventsRetryTimer = window.setTimeout(startEvents, SSE_RETRY_MS);
      return;
    }
    events = source;
    let wasOpen = false;
    source.addEventListener('open', () => {
      if (events !== source) return;
      setLiveStatus('on');
      // After a reconnect, catch up on what was missed.
      if (wasOpen) queueChange(null);
      wasOpen = true;
    });
    source.addEventListener('changed', (ev) => {
      if (events !== source) return;
      let data = null;
      try {
        data = JSON.parse(ev.data);
      } catch (_) {
        data = null;
      }
      queueChange(data);
    });
    source.addEventListener('error', () => {
      if (events !== source) return;
      setLiveStatus('off');
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        events = null;
        // Maybe the login ended: check, and retry while logged in.
        eventsRetryTimer = window.setTimeout(async () => {
          eventsRetryTimer = null;
          if (!auth) return;
          try {
            await api('GET', '/me');
            if (auth) startEvents();
          } catch (err) {
            if (err.status === 401) sessionExpired();
            else if (auth) startEvents();
          }
        }, SSE_RETRY_MS);
      }
    });
  }

  function stopEvents() {
    if (eventsRetryTimer) {
      window.clearTimeout(eventsRetryTimer);
      eventsRetryTimer = null;
    }
    if (events) {
      events.close();
      events = null;
    }
    setLiveStatus('off');
  }

  // Collects change notifications and refreshes the visible view once, after a short pause.
  function queueChange(data) {
    if (!pendingChange) pendingChange = { all: false, questions: new Set(), sessions: false };
    if (!data || typeof data !== 'object') {
      pendingChange.all = true;
    } else {
      if (Array.isArray(data.questions)) for (const r of data.questions) pendingChange.questions.add(String(r));
      else pendingChange.all = true;
      if (Array.isArray(data.sessions) && data.sessions.length > 0) pendingChange.sessions = true;
    }
    if (changeTimer) window.clearTimeout(changeTimer);
    changeTimer = window.setTimeout(applyChange, SSE_DEBOUNCE_MS);
  }

  function applyChange() {
    changeTimer = null;
    const change = pendingChange;
    pendingChange = null;
    if (!change || !auth) return;
    if (change.all || change.sessions) loadSessionFilter();
    if (currentView === 'queue') {
      loadQueue();
    } else if (currentView === 'question' && currentRef) {
      const concerned = change.all || Array.from(change.questions).some((r) => sameRef(r, currentRef));
      if (concerned) loadQuestion(currentRef);
    } else if (currentView === 'sessions') {
      if (change.all || change.sessions) loadSessions();
    } else if (currentView === 'live') {
      loadLive();
    }
  }

  // ---- queue ----
  function queueParams() {
    const params = new URLSearchParams({ queue: $('filter-queue').value, status: $('filter-status').value });
    for (const [id, key] of [['filter-department', 'department'], ['filter-channel', 'channel'],
      ['filter-session', 'session'], ['filter-assignee', 'assignee']]) {
      if ($(id).value) params.set(key, $(id).value);
    }
    if ($('filter-q').value.trim()) params.set('q', $('filter-q').value.trim());
    if ($('filter-overdue').checked) params.set('overdue', 'true');
    if ($('filter-draft').checked) params.set('draft', 'true');
    return params;
  }

  // One page from `offset`: the questions not yet in `known`, and whether more may follow. A
  // server without paging answers every question at once: then nothing new follows.
  async function fetchQueuePage(params, offset, known) {
    params.set('limit', String(QUEUE_PAGE));
    params.set('offset', String(offset));
    const data = await api('GET', `/questions?${params.toString()}`);
    const page = data && Array.isArray(data.questions) ? data.questions : [];
    const seen = new Set(known.map((q) => q.reference));
    const fresh = page.filter((q) => !seen.has(q.reference));
    return { fresh, more: page.length === QUEUE_PAGE && fresh.length > 0 };
  }

  // Loads the first page; a refresh of the same filter reloads as many pages as are shown.
  async function loadQueue() {
    const params = queueParams();
    const key = params.toString();
    const want = key === queueKey ? queueQuestions.length : 0;
    const seq = ++queueSeq;
    try {
      let list = [];
      let more = false;
      do {
        const page = await fetchQueuePage(params, list.length, list);
        if (seq !== queueSeq) return;
        list = list.concat(page.fresh);
        more = page.more;
      } while (more && list.length < want);
      clearArea($('queue-error'));
      queueKey = key;
      queueQuestions = list;
      queueMore = more;
      renderQueue(queueQuestions, params.get('queue'), params.get('status'));
    } catch (err) {
      if (seq !== queueSeq || err.status === 401) return;
      showError($('queue-error'), err);
    }
  }

  // Appends the next page (`offset`) and moves the focus to its first row.
  async function loadMoreQueue() {
    const params = queueParams();
    if (params.toString() !== queueKey) {
      loadQueue();
      return;
    }
    const seq = ++queueSeq;
    const button = $('queue-more');
    button.disabled = true;
    try {
      const page = await fetchQueuePage(params, queueQuestions.length, queueQuestions);
      if (seq !== queueSeq) return;
      clearArea($('queue-error'));
      const first = queueQuestions.length;
      queueQuestions = queueQuestions.concat(page.fresh);
      queueMore = page.more;
      renderQueue(queueQuestions, params.get('queue'), params.get('status'));
      // The focus moves to the first new row; with none, to the table (the button is gone).
      if (page.fresh.length > 0) selectRow(first, true);
      else $('queue-caption').closest('.table-wrap').focus();
    } catch (err) {
      if (seq !== queueSeq || err.status === 401) return;
      showError($('queue-error'), err);
    } finally {
      button.disabled = false;
    }
  }

  function renderQueue(questions, queue, status) {
    const tbody = $('queue-body');
    const rows = [];
    for (const q of questions) {
      const tr = el('tr');
      tr.dataset.reference = q.reference;
      const overdue = isOverdue(q);
      if (overdue) tr.classList.add('overdue');
      tr.classList.add(`status-${q.status}`);

      const refCell = el('td', 'ref');
      const link = el('a', null, q.reference);
      link.href = `#/questions/${encodeURIComponent(q.reference)}`;
      refCell.append(link);

      const statusCell = el('td', 'status');
      statusCell.append(el('span', `badge status-${q.status}`, STATUS[q.status] || q.status));

      const dueCell = el('td', 'due');
      dueCell.append(el('span', null, q.due ? fmtDate(q.due) : '–'));
      if (overdue) {
        dueCell.append(' ', el('strong', 'overdue-marker', 'überfällig'));
      }

      const createdCell = el('td', 'created');
      createdCell.append(timeEl(q.created_at));

      const deliveryCell = el('td', 'delivery');
      if (q.delivery) {
        deliveryCell.append(el('span', `delivery-state delivery-${q.delivery}`, DELIVERY[q.delivery] || q.delivery));
      } else {
        deliveryCell.textContent = '–';
      }

      tr.append(
        refCell,
        el('td', 'channel', CHANNEL[q.channel] || q.channel || '–'),
        statusCell,
        el('td', 'queue', queueLabel(q)),
        el('td', 'position', q.position === null || q.position === undefined ? '–' : q.position),
        createdCell,
        dueCell,
        el('td', 'preview', q.preview || ''),
        deliveryCell,
        departmentCell(q),
      );
      rows.push(tr);
    }
    if (rows.length === 0) {
      const tr = el('tr', 'empty');
      const td = el('td', null, 'Keine Anliegen gefunden.');
      td.colSpan = 10;
      tr.append(td);
      rows.push(tr);
    }
    tbody.replaceChildren(...rows);
    selectRow(Math.min(selectedRow, questions.length - 1), false);
    const overdueCount = questions.filter(isOverdue).length;
    const count = queueMore ? `${questions.length}, weitere vorhanden` : String(questions.length);
    let caption = `Anliegen – Warteschlange: ${QUEUE[queue] || queue}, Status: ${STATUS_FILTER[status] || status} (${count})`;
    if (overdueCount > 0) caption += `, davon ${overdueCount} überfällig`;
    $('queue-caption').textContent = caption;
    $('queue-updated').textContent = `Stand: ${timeFmt.format(new Date())} Uhr`;
    $('queue-more').hidden = !queueMore;
  }

  // ---- question ----
  function resetQuestionView(ref) {
    currentDetail = null;
    $('question-content').hidden = true;
    clearArea($('question-error'));
    clearArea($('action-error'));
    $('action-status').textContent = '';
    for (const id of ['answer-text', 'note-text', 'reject-reason']) {
      $(id).value = '';
      $(id).removeAttribute('aria-invalid');
    }
    setTitle(`Anliegen ${ref}`);
  }

  async function loadQuestion(ref) {
    const seq = ++questionSeq;
    try {
      const detail = await api('GET', `/questions/${encodeURIComponent(ref)}`);
      if (seq !== questionSeq || currentView !== 'question') return;
      clearArea($('question-error'));
      renderDetail(detail);
    } catch (err) {
      if (seq !== questionSeq || err.status === 401) return;
      if (err.status === 404) {
        $('question-content').hidden = true;
        showError($('question-error'), `Das Anliegen ${ref} wurde nicht gefunden.`);
      } else {
        showError($('question-error'), err);
      }
    }
  }

  function metaRow(dl, label, value) {
    const dd = el('dd');
    if (value instanceof Node) dd.append(value);
    else dd.textContent = value === null || value === undefined || value === '' ? '–' : String(value);
    dl.append(el('dt', null, label), dd);
    return dd;
  }

  function deliveryText(delivery) {
    if (!delivery || typeof delivery !== 'object') return null;
    const state = delivery.state;
    if (state === 'delivered') {
      return delivery.at ? `zugestellt am ${fmtDateTime(delivery.at)}` : 'zugestellt';
    }
    if (state === 'failed') {
      return `fehlgeschlagen: ${delivery.last_error || 'unbekannter Grund'}`;
    }
    if (state === 'pending') {
      const attempts = Number(delivery.attempts) || 0;
      const parts = [];
      parts.push(attempts === 0 ? 'noch kein Versuch' : attempts === 1 ? '1 Versuch' : `${attempts} Versuche`);
      if (delivery.last_error) parts.push(`letzter Fehler: ${delivery.last_error}`);
      return `ausstehend (${parts.join(', ')})`;
    }
    return state ? String(state) : null;
  }

  function rejectionText(rejection) {
    if (!rejection) return '';
    if (typeof rejection === 'string') return rejection;
    if (typeof rejection === 'object') return rejection.reason || rejection.text || '';
    return String(rejection);
  }

  function renderDetail(d) {
    currentDetail = d;
    const statusLabel = STATUS[d.status] || d.status;
    setTitle(`Anliegen ${d.reference} – ${statusLabel}`);
    $('question-view').dataset.reference = d.reference;
    $('question-view').dataset.status = d.status;

    const meta = $('question-meta');
    meta.replaceChildren();
    const overdue = isOverdue(d);
    const statusNode = el('span');
    statusNode.append(el('span', `badge status-${d.status}`, statusLabel));
    metaRow(meta, 'Status', statusNode);
    metaRow(meta, 'Kanal', CHANNEL[d.channel] || d.channel);
    metaRow(meta, 'Warteschlange/Sitzung', queueLabel(d));
    if (d.position !== null && d.position !== undefined) metaRow(meta, 'Position', d.position);
    metaRow(meta, 'Eingang', timeEl(d.created_at));
    metaRow(meta, 'Zuletzt geändert', timeEl(d.updated_at));
    const dueNode = el('span', null, d.due ? fmtDate(d.due) : '–');
    if (overdue) {
      const wrap = el('span');
      wrap.append(dueNode, ' ', el('strong', 'overdue-marker', 'überfällig'));
      metaRow(meta, 'Frist', wrap);
    } else {
      metaRow(meta, 'Frist', dueNode);
    }
    metaRow(meta, 'Sprache', LANGS[d.lang] || d.lang);
    metaRow(meta, 'Fachamt', d.department ? d.department.name : 'Bürgerreferat');
    if (d.suggestion) {
      const name = d.suggestion.department ? d.suggestion.department.name : '–';
      metaRow(meta, 'Vorschlag', `${name} (Regel: ${d.suggestion.rule})`);
    }
    metaRow(meta, 'Zuständig', d.assignee ? d.assignee.name : '–');
    metaRow(meta, 'Zustellung', d.delivery ? (DELIVERY[d.delivery] || d.delivery) : '–');
    meta.classList.toggle('overdue', overdue);

    const rejection = rejectionText(d.rejection);
    const rej = $('question-rejection');
    rej.replaceChildren();
    if (rejection) {
      rej.append(el('strong', null, 'Ablehnungsgrund: '), el('span', 'pre', rejection));
    }
    rej.hidden = !rejection;

    const thread = $('thread');
    const items = [];
    for (const e of Array.isArray(d.entries) ? d.entries : []) {
      const kind = KIND[e.kind] ? e.kind : 'system';
      const li = el('li', `entry ${kind}`);
      const head = el('p', 'entry-head');
      head.append(el('span', 'entry-kind', KIND[kind]));
      if (e.staff) head.append(' ', el('span', 'entry-staff', e.staff));
      head.append(' ', timeEl(e.at, 'entry-time'));
      li.append(head);
      if (kind === 'note') li.append(el('p', 'entry-internal', 'intern – für Bürger/innen nicht sichtbar'));
      li.append(el('p', 'entry-text', e.text || ''));
      const dt = deliveryText(e.delivery);
      if (dt) {
        const p = el('p', `entry-delivery delivery-${e.delivery.state}`);
        p.append(el('span', 'label', 'Zustellung: '), el('span', null, dt));
        li.append(p);
      }
      items.push(li);
    }
    if (items.length === 0) items.push(el('li', 'entry empty', 'Noch keine Einträge.'));
    thread.replaceChildren(...items);

    const open = d.status === 'open';
    $('answer-form').hidden = !open;
    $('reject-form').hidden = !open;
    renderTriage(d, open);
    $('question-content').hidden = false;
    if (pendingFocus) {
      const field = $(pendingFocus);
      pendingFocus = null;
      if (field && !field.closest('[hidden]')) field.focus();
    }
  }

  async function questionAction(form, field, path, key, emptyText, successText) {
    const input = $(field);
    const text = input.value.trim();
    const errArea = $('action-error');
    const statusArea = $('action-status');
    statusArea.textContent = '';
    input.removeAttribute('aria-invalid');
    if (!text) {
      input.setAttribute('aria-invalid', 'true');
      showError(errArea, emptyText);
      input.focus();
      return;
    }
    if (!currentDetail) return;
    const ref = currentDetail.reference;
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      const detail = await api('POST', `/questions/${encodeURIComponent(ref)}/${path}`, { [key]: text });
      clearArea(errArea);
      input.value = '';
      if (detail && currentView === 'question' && currentRef && sameRef(currentRef, ref)) renderDetail(detail);
      flash(statusArea, successText);
    } catch (err) {
      if (err.status === 401) return;
      showError(errArea, err, {
        409: 'Das Anliegen ist nicht mehr offen. Die Ansicht wurde aktualisiert.',
        404: 'Das Anliegen wurde nicht gefunden.',
      });
      if (err.status === 409) loadQuestion(ref);
    } finally {
      button.disabled = false;
      form.removeAttribute('aria-busy');
    }
  }

  // ---- triage (issue 6) ----
  function departmentCell(q) {
    const td = el('td', 'department');
    if (q.department) {
      td.textContent = q.department.name;
    } else if (q.suggestion && q.suggestion.department) {
      td.append(el('span', 'suggestion', `Vorschlag: ${q.suggestion.department.name}`));
    } else {
      td.textContent = '–';
    }
    if (q.draft) td.append(' ', el('strong', 'draft-marker', 'Freigabe ausstehend'));
    return td;
  }

  async function loadDepartments() {
    try {
      const data = await api('GET', '/departments');
      departments = data && Array.isArray(data.departments) ? data.departments : [];
    } catch (_) {
      departments = [];
    }
    const filter = $('filter-department');
    const keep = filter.value;
    const options = [el('option', null, 'alle'), el('option', null, 'nicht zugeordnet')];
    options[0].value = '';
    options[1].value = 'none';
    for (const d of departments) {
      const o = el('option', null, d.name);
      o.value = d.slug;
      options.push(o);
    }
    filter.replaceChildren(...options);
    filter.value = keep;
    fillAssigneeFilter();
  }

  // Assignee filter: me, nobody, or any member of a department the caller can see.
  function fillAssigneeFilter() {
    const select = $('filter-assignee');
    const keep = select.value;
    const me = auth && auth.staff ? auth.staff.id : null;
    const members = new Map();
    for (const d of departments) {
      for (const m of Array.isArray(d.members) ? d.members : []) {
        if (m.id !== me && !members.has(m.id)) members.set(m.id, m.name);
      }
    }
    const signature = JSON.stringify([me, Array.from(members)]);
    // Unchanged options stay, so that a refresh does not disturb someone choosing.
    if (select.dataset.signature === signature) return;
    select.dataset.signature = signature;
    const people = Array.from(members, ([id, name]) => option(String(id), name))
      .sort((a, b) => a.textContent.localeCompare(b.textContent, 'de'));
    select.replaceChildren(option('', 'alle'), option('me', 'mir zugewiesen'),
      option('none', 'niemandem zugewiesen'), ...people);
    select.value = Array.from(select.options).some((o) => o.value === keep) ? keep : '';
  }

  // Session filter: every session, newest first, named by title and start.
  async function loadSessionFilter() {
    let sessions = [];
    try {
      const data = await api('GET', '/sessions');
      sessions = data && Array.isArray(data.sessions) ? data.sessions : [];
    } catch (_) {
      sessions = [];
    }
    const select = $('filter-session');
    const keep = select.value;
    const signature = JSON.stringify(sessions.map((x) => [x.id, x.title, x.starts_at, x.status]));
    if (select.dataset.signature === signature) return;
    select.dataset.signature = signature;
    const items = sessions.slice()
      .sort((a, b) => String(b.starts_at).localeCompare(String(a.starts_at)))
      .map((x) => option(String(x.id), `${x.title} (${fmtDateTime(x.starts_at)}, ${SESSION_STATUS[x.status] || x.status})`));
    select.replaceChildren(option('', 'alle'), ...items);
    select.value = Array.from(select.options).some((o) => o.value === keep) ? keep : '';
  }

  function option(value, text) {
    const o = el('option', null, text);
    o.value = value;
    return o;
  }

  function renderTriage(d, open) {
    $('triage-box').hidden = !open;
    const route = $('route-department');
    const chosen = d.department ? d.department.slug
      : (d.suggestion && d.suggestion.department ? d.suggestion.department.slug : '');
    route.replaceChildren(option('', 'Bürgerreferat (kein Fachamt)'),
      ...departments.map((x) => option(x.slug, x.name)));
    route.value = chosen;
    const dept = departments.find((x) => d.department && x.slug === d.department.slug);
    const members = dept && Array.isArray(dept.members) ? dept.members : [];
    const assign = $('assign-staff');
    const opts = [option('', 'niemand')];
    if (auth && auth.staff) opts.push(option(String(auth.staff.id), `mir (${auth.staff.name})`));
    for (const m of members) {
      if (!auth || !auth.staff || m.id !== auth.staff.id) opts.push(option(String(m.id), m.name));
    }
    assign.replaceChildren(...opts);
    assign.value = d.assignee ? String(d.assignee.id) : '';
    $('return-submit').parentElement.hidden = !d.department;

    const box = $('draft-box');
    box.hidden = !(open && d.draft);
    if (open && d.draft) {
      $('draft-meta').textContent = `Entwurf von ${d.draft.staff}, ${fmtDateTime(d.draft.at)}. Die Bürgerin / der Bürger erhält erst den freigegebenen Text.`;
      if ($('draft-text').dataset.for !== `${d.reference}:${d.draft.at}`) {
        $('draft-text').value = d.draft.text;
        $('draft-text').dataset.for = `${d.reference}:${d.draft.at}`;
      }
    }
    loadTextModules(d.reference);
  }

  // Rebuilds the module select only when the modules changed, so that a refresh of the
  // question (live updates) does not pull the list away from someone choosing in it.
  async function loadTextModules(ref) {
    const select = $('text-module');
    let modules = [];
    try {
      const data = await api('GET', `/questions/${encodeURIComponent(ref)}/text-modules`);
      modules = data && Array.isArray(data.text_modules) ? data.text_modules : [];
    } catch (_) {
      modules = [];
    }
    if (!currentRef || !sameRef(currentRef, ref)) return;
    const signature = JSON.stringify([ref, modules]);
    if (select.dataset.signature === signature) return;
    select.dataset.signature = signature;
    select.replaceChildren(option('', '– Textbaustein wählen –'), ...modules.map((m) => {
      const o = option(m.key, m.title);
      o.dataset.text = m.text;
      return o;
    }));
    select.disabled = modules.length === 0;
  }

  function insertTextModule() {
    const select = $('text-module');
    const o = select.selectedOptions[0];
    if (!o || !o.dataset.text) return;
    const box = $('answer-text');
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? box.value.length;
    box.value = box.value.slice(0, start) + o.dataset.text + box.value.slice(end);
    select.value = '';
    box.focus();
  }

  async function triageAction(path, body, successText) {
    if (!currentDetail) return;
    const ref = currentDetail.reference;
    const errArea = $('action-error');
    const statusArea = $('action-status');
    statusArea.textContent = '';
    try {
      const detail = await api('POST', `/questions/${encodeURIComponent(ref)}/${path}`, body);
      clearArea(errArea);
      if (detail && currentView === 'question' && currentRef && sameRef(currentRef, ref)) renderDetail(detail);
      flash(statusArea, successText);
      return true;
    } catch (err) {
      if (err.status === 401) return false;
      if (err.status === 404) {
        showError(errArea, 'Das Anliegen ist für Sie nicht mehr sichtbar (an ein anderes Amt abgegeben).');
      } else {
        showError(errArea, err);
      }
      return false;
    }
  }

  function requireText(id, message) {
    const input = $(id);
    const text = input.value.trim();
    input.removeAttribute('aria-invalid');
    if (!text) {
      input.setAttribute('aria-invalid', 'true');
      showError($('action-error'), message);
      input.focus();
      return null;
    }
    return text;
  }

  function wireTriage() {
    $('text-module').addEventListener('change', insertTextModule);
    $('route-submit').addEventListener('click', () => {
      const slug = $('route-department').value;
      triageAction('route', { department: slug || null }, slug ? 'Das Anliegen wurde weitergeleitet.' : 'Das Anliegen liegt beim Bürgerreferat.');
    });
    $('assign-submit').addEventListener('click', () => {
      const id = $('assign-staff').value;
      triageAction('assign', { staff: id ? Number(id) : null }, 'Die Zuständigkeit wurde gespeichert.');
    });
    $('return-submit').addEventListener('click', async () => {
      const note = requireText('return-note', 'Bitte begründen Sie die Rückgabe.');
      if (note === null) return;
      if (await triageAction('return', { note }, 'Das Anliegen wurde an das Bürgerreferat zurückgegeben.')) {
        $('return-note').value = '';
      }
    });
    $('draft-approve').addEventListener('click', () => {
      const text = requireText('draft-text', 'Der freizugebende Text darf nicht leer sein.');
      if (text === null) return;
      triageAction('approve', { text }, 'Die Antwort wurde freigegeben und wird zugestellt.');
    });
    $('draft-send-back').addEventListener('click', async () => {
      const note = requireText('draft-note', 'Bitte geben Sie einen Hinweis für die Überarbeitung ein.');
      if (note === null) return;
      if (await triageAction('send-back', { note }, 'Der Entwurf wurde zurückgegeben.')) {
        $('draft-note').value = '';
      }
    });
    for (const id of ['filter-department', 'filter-channel', 'filter-session', 'filter-assignee', 'filter-overdue', 'filter-draft']) {
      $(id).addEventListener('change', loadQueue);
    }
    document.addEventListener('keydown', onShortcut);
    wireKeyboardActions();
  }

  function queueRows() {
    return Array.from($('queue-body').querySelectorAll('tr[data-reference]'));
  }

  function selectRow(index, focus) {
    const rows = queueRows();
    rows.forEach((r) => r.classList.remove('selected'));
    if (rows.length === 0 || index < 0) {
      selectedRow = -1;
      return;
    }
    selectedRow = Math.max(0, Math.min(index, rows.length - 1));
    const row = rows[selectedRow];
    row.classList.add('selected');
    if (focus) {
      const link = row.querySelector('a');
      if (link) link.focus();
    }
  }

  const SHORTCUT_FIELDS = { a: 'answer-text', r: 'route-department', n: 'note-text' };

  // Enter in a select presses its button; Ctrl+Enter (Cmd+Enter) in a text box sends its form.
  function wireKeyboardActions() {
    for (const [select, button] of [['route-department', 'route-submit'], ['assign-staff', 'assign-submit']]) {
      $(select).addEventListener('keydown', (ev) => {
        if (ev.key !== 'Enter' || ev.ctrlKey || ev.metaKey || ev.altKey || ev.shiftKey) return;
        ev.preventDefault();
        $(button).click();
      });
    }
    for (const [box, form] of [['answer-text', 'answer-form'], ['note-text', 'note-form'], ['live-answer-text', 'live-answer-form']]) {
      $(box).addEventListener('keydown', (ev) => {
        if (ev.key !== 'Enter' || !(ev.ctrlKey || ev.metaKey)) return;
        ev.preventDefault();
        $(form).requestSubmit();
      });
    }
  }

  function onShortcut(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || !auth) return;
    const t = ev.target;
    const typing = t instanceof HTMLElement
      && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
    if (typing) return;
    const focusField = (id) => {
      const f = $(id);
      if (f && !f.closest('[hidden]')) {
        ev.preventDefault();
        f.focus();
      }
    };
    switch (ev.key) {
      case 'j':
      case 'k':
        if (currentView === 'queue') {
          ev.preventDefault();
          selectRow(selectedRow + (ev.key === 'j' ? 1 : -1), true);
        }
        break;
      case '/':
        if (currentView !== 'queue') window.location.hash = '#/queue';
        ev.preventDefault();
        $('filter-q').focus();
        break;
      case 'a':
      case 'r':
      case 'n': {
        // a: answer box, r: department select (Enter routes), n: note box; from the queue
        // they open the selected question first.
        const field = SHORTCUT_FIELDS[ev.key];
        if (currentView === 'question') {
          focusField(field);
        } else if (currentView === 'queue' && selectedRow >= 0) {
          const row = queueRows()[selectedRow];
          if (row) {
            ev.preventDefault();
            pendingFocus = field;
            window.location.hash = `#/questions/${encodeURIComponent(row.dataset.reference)}`;
          }
        }
        break;
      }
      case '?': {
        const dialog = $('shortcut-help');
        ev.preventDefault();
        if (dialog.open) dialog.close();
        else dialog.showModal();
        break;
      }
      default:
        break;
    }
  }

  async function loadStats() {
    try {
      const data = await api('GET', '/stats');
      clearArea($('stats-error'));
      const DIM = { total: 'Gesamt', session: 'Sprechstunde', department: 'Fachamt', channel: 'Kanal' };
      const rows = (data && Array.isArray(data.stats) ? data.stats : []).map((f) => {
        const tr = el('tr');
        const key = f.dimension === 'channel' ? (CHANNEL[f.key] || f.key) : (f.key === '-' ? 'ohne' : f.key);
        tr.append(
          el('td', null, DIM[f.dimension] || f.dimension),
          el('td', null, f.dimension === 'total' ? 'alle' : key),
          el('td', null, String(f.questions)),
          el('td', null, String(f.answered)),
          el('td', null, `${Math.round(f.answer_rate * 1000) / 10} %`),
          el('td', null, f.median_minutes === null ? '–' : String(f.median_minutes)),
          el('td', null, f.p90_minutes === null ? '–' : String(f.p90_minutes)),
        );
        return tr;
      });
      $('stats-body').replaceChildren(...rows);
    } catch (err) {
      if (err.status === 401) return;
      showError($('stats-error'), err);
    }
  }

  // ---- departments (admins edit) ----
  let editingDepartment = null;

  async function showDepartments() {
    await loadDepartments();
    const isAdmin = !!(auth && auth.staff && Array.isArray(auth.staff.roles) && auth.staff.roles.includes('admin'));
    $('department-form').hidden = !isAdmin;
    const rows = departments.map((d) => {
      const tr = el('tr');
      const action = el('td');
      if (isAdmin) {
        const b = el('button', 'button-secondary department-edit', 'Bearbeiten');
        b.type = 'button';
        b.dataset.slug = d.slug;
        action.append(b);
      }
      tr.append(
        el('td', null, d.name),
        el('td', null, d.slug),
        el('td', null, (d.keywords || []).join(', ') || '–'),
        el('td', null, (d.patterns || []).join(' · ') || '–'),
        el('td', null, d.requires_approval ? 'ja' : 'nein'),
        el('td', null, (d.text_modules || []).map((m) => m.title).join(', ') || '–'),
        el('td', null, (d.members || []).map((m) => m.name).join(', ') || '–'),
        action,
      );
      return tr;
    });
    if (rows.length === 0) {
      const tr = el('tr', 'empty');
      const td = el('td', null, 'Noch keine Fachämter.');
      td.colSpan = 8;
      tr.append(td);
      rows.push(tr);
    }
    $('departments-body').replaceChildren(...rows);
  }

  function fillDepartmentForm(d) {
    editingDepartment = d ? d.slug : null;
    $('d-name').value = d ? d.name : '';
    $('d-slug').value = d ? d.slug : '';
    $('d-keywords').value = d ? (d.keywords || []).join(', ') : '';
    $('d-patterns').value = d ? (d.patterns || []).join('\n') : '';
    $('d-module-list').replaceChildren(...(d ? d.text_modules || [] : []).map(moduleBlock));
    $('d-approval').checked = d ? !!d.requires_approval : false;
    clearArea($('department-error'));
  }

  async function onDepartmentSubmit(ev) {
    ev.preventDefault();
    const lines = (v) => v.split('\n').map((x) => x.trim()).filter((x) => x);
    const modules = readModules();
    if (modules === null) return;
    const body = {
      name: $('d-name').value.trim(),
      slug: $('d-slug').value.trim(),
      keywords: $('d-keywords').value.split(',').map((x) => x.trim()).filter((x) => x),
      patterns: lines($('d-patterns').value),
      requires_approval: $('d-approval').checked,
      text_modules: modules,
    };
    try {
      if (editingDepartment) await api('PUT', `/departments/${encodeURIComponent(editingDepartment)}`, body);
      else await api('POST', '/departments', body);
      clearArea($('department-error'));
      flash($('departments-status'), `Das Fachamt ${body.name} wurde gespeichert.`);
      fillDepartmentForm(null);
      showDepartments();
    } catch (err) {
      if (err.status === 401) return;
      showError($('department-error'), err);
    }
  }

  // One block per text module: key, title and a multi-line text, with a remove button.
  let moduleSeq = 0;

  function moduleBlock(m) {
    const n = ++moduleSeq;
    const block = el('div', 'module-item');
    const grid = el('div', 'grid');
    const field = (label, control, id, wide) => {
      const wrap = el('div', wide ? 'field field-wide' : 'field');
      const l = el('label', null, label);
      control.id = id;
      l.htmlFor = id;
      wrap.append(l, control);
      return wrap;
    };
    const key = el('input', 'module-key');
    key.type = 'text';
    key.autocapitalize = 'none';
    key.spellcheck = false;
    key.value = m ? m.key : '';
    const title = el('input', 'module-title');
    title.type = 'text';
    title.value = m ? m.title : '';
    const text = el('textarea', 'module-text');
    text.rows = 4;
    text.value = m ? m.text : '';
    const remove = el('button', 'button-secondary button-small module-remove');
    remove.type = 'button';
    remove.append('Textbaustein entfernen', el('span', 'visually-hidden', m ? `: ${m.title}` : ` ${n}`));
    grid.append(
      field('Schlüssel', key, `d-module-key-${n}`),
      field('Titel', title, `d-module-title-${n}`),
      field('Text', text, `d-module-text-${n}`, true),
    );
    block.append(grid, remove);
    return block;
  }

  // The modules of the editor; blocks left empty are skipped. Null (after showing an error)
  // when a block is only partly filled.
  function readModules() {
    const modules = [];
    for (const block of $('d-module-list').querySelectorAll('.module-item')) {
      const inputs = ['.module-key', '.module-title', '.module-text'].map((c) => block.querySelector(c));
      for (const i of inputs) i.removeAttribute('aria-invalid');
      const [key, title] = inputs.slice(0, 2).map((i) => i.value.trim());
      // Keep the text's inner line breaks; only drop blank lines at either end.
      const text = inputs[2].value.replace(/^\s*\n/, '').replace(/\s+$/, '');
      if (!key && !title && !text) continue;
      const missing = inputs.filter((i, k) => ![key, title, text][k]);
      if (missing.length) {
        for (const i of missing) i.setAttribute('aria-invalid', 'true');
        showError($('department-error'), 'Bitte geben Sie für jeden Textbaustein Schlüssel, Titel und Text an (oder entfernen Sie ihn).');
        missing[0].focus();
        return null;
      }
      modules.push({ key, title, text });
    }
    return modules;
  }

  function wireDepartments() {
    $('department-form').addEventListener('submit', onDepartmentSubmit);
    $('d-module-add').addEventListener('click', () => {
      const block = moduleBlock(null);
      $('d-module-list').append(block);
      block.querySelector('.module-key').focus();
    });
    $('d-module-list').addEventListener('click', (ev) => {
      const button = ev.target instanceof Element ? ev.target.closest('button.module-remove') : null;
      if (!button) return;
      const block = button.closest('.module-item');
      const next = block.nextElementSibling || block.previousElementSibling;
      block.remove();
      // Keep the focus in the editor: on the neighbouring module, else on "add".
      (next ? next.querySelector('.module-key') : $('d-module-add')).focus();
    });
    $('department-new').addEventListener('click', () => fillDepartmentForm(null));
    $('departments-body').addEventListener('click', (ev) => {
      const button = ev.target instanceof Element ? ev.target.closest('button.department-edit') : null;
      if (!button) return;
      fillDepartmentForm(departments.find((d) => d.slug === button.dataset.slug) || null);
      $('d-name').focus();
    });
  }

  // ---- live moderation (office hours as events) ----
  async function loadLive() {
    const id = currentLiveId;
    if (!id) return;
    const seq = ++liveSeq;
    try {
      const data = await api('GET', `/sessions/${encodeURIComponent(id)}/live`);
      if (seq !== liveSeq) return;
      clearArea($('live-error'));
      renderLive(data || {});
    } catch (err) {
      if (seq !== liveSeq || err.status === 401) return;
      showError($('live-error'), err);
    }
  }

  function renderLive(data) {
    if (data.session) setTitle(`Live-Moderation: ${data.session.title}`);
    $('live-answering').textContent = data.answering
      ? `Jetzt beantwortet: ${data.answering}`
      : 'Gerade wird keine Frage beantwortet.';
    const items = [];
    for (const q of Array.isArray(data.questions) ? data.questions : []) {
      const li = el('li', `entry live-question status-${q.status}`);
      const head = el('p', 'meta');
      const link = el('a', null, q.reference);
      link.href = `#/questions/${encodeURIComponent(q.reference)}`;
      head.append(link, ` · ${CHANNEL[q.channel] || q.channel} · ${q.status === 'open' ? 'offen' : 'erledigt'}`);
      if (q.me_too > 0) head.append(` · ${q.me_too} weitere fragen das Gleiche (${q.merged.join(', ')})`);
      if (q.answering) head.append(' · wird jetzt beantwortet');
      li.append(head, el('p', 'text', q.text));
      if (q.status === 'open' && !q.answering) {
        const pick = el('button', 'button-secondary button-small live-pick');
        pick.type = 'button';
        pick.dataset.ref = q.reference;
        pick.append('Jetzt beantworten', el('span', 'visually-hidden', `: ${q.reference}`));
        li.append(pick);
      }
      if (q.status === 'open') {
        const write = el('button', 'button-secondary button-small live-write');
        write.type = 'button';
        write.dataset.answer = q.reference;
        write.append('Antwort schreiben', el('span', 'visually-hidden', `: ${q.reference}`));
        li.append(' ', write);
      }
      items.push(li);
    }
    if (items.length === 0) items.push(el('li', 'empty', 'Noch keine Fragen.'));
    $('live-questions').replaceChildren(...items);
    renderLiveAnswer(data);
  }

  // The answer form offers the open questions; it shows the one answered now unless the host
  // chose another.
  function renderLiveAnswer(data) {
    const open = (Array.isArray(data.questions) ? data.questions : []).filter((q) => q.status === 'open');
    const select = $('live-answer-ref');
    const keep = select.value;
    select.replaceChildren(...open.map((q) => {
      const text = String(q.text || '');
      const short = text.length > 60 ? `${text.slice(0, 60)} …` : text;
      const more = q.me_too > 0 ? ` (+${q.me_too} gleiche)` : '';
      return option(q.reference, `${q.reference}${more}: ${short}`);
    }));
    const has = (ref) => open.some((q) => q.reference === ref);
    if (liveAnswerTouched && has(keep)) select.value = keep;
    else if (data.answering && has(data.answering)) select.value = data.answering;
    else if (has(keep)) select.value = keep;
    $('live-answer-form').hidden = open.length === 0;
  }

  async function onLiveAnswerSubmit(ev) {
    ev.preventDefault();
    const reference = $('live-answer-ref').value;
    const input = $('live-answer-text');
    const text = input.value.trim();
    input.removeAttribute('aria-invalid');
    if (!reference || !text) {
      if (!text) input.setAttribute('aria-invalid', 'true');
      showError($('live-error'), 'Bitte wählen Sie eine Frage und geben Sie eine Antwort ein.');
      input.focus();
      return;
    }
    const button = $('live-answer-submit');
    button.disabled = true;
    try {
      await api('POST', `/questions/${encodeURIComponent(reference)}/answer`, { text });
      clearArea($('live-error'));
      input.value = '';
      liveAnswerTouched = false;
      flash($('live-status-text'), `Die Antwort auf ${reference} wurde gespeichert und wird allen Fragenden zugestellt.`);
      loadLive();
    } catch (err) {
      if (err.status === 401) return;
      showError($('live-error'), err, { 409: 'Die Frage ist nicht mehr offen.' });
      loadLive();
    } finally {
      button.disabled = false;
    }
  }

  function chooseLiveAnswer(reference) {
    liveAnswerTouched = true;
    $('live-answer-ref').value = reference;
    $('live-answer-text').focus();
  }

  async function pickLive(reference) {
    try {
      await api('POST', `/sessions/${encodeURIComponent(currentLiveId)}/answering`, { reference });
      flash($('live-status-text'), `${reference} wird jetzt beantwortet.`);
      loadLive();
    } catch (err) {
      showError($('live-error'), err);
    }
  }

  async function onMergeSubmit(ev) {
    ev.preventDefault();
    const primary = $('merge-primary').value.trim();
    const duplicates = $('merge-duplicates').value.split(',').map((r) => r.trim()).filter((r) => r);
    if (!primary || duplicates.length === 0) {
      showError($('live-error'), 'Bitte geben Sie die Hauptfrage und mindestens eine gleiche Frage an.');
      return;
    }
    try {
      await api('POST', `/questions/${encodeURIComponent(primary)}/merge`, { duplicates });
      $('merge-form').reset();
      flash($('live-status-text'), `Zusammengefasst: ${duplicates.join(', ')} mit ${primary}.`);
      loadLive();
    } catch (err) {
      showError($('live-error'), err);
    }
  }

  // ---- summary (office hours as events) ----
  async function loadSummary() {
    const id = currentLiveId;
    try {
      let data;
      try {
        data = await api('GET', `/sessions/${encodeURIComponent(id)}/summary`);
      } catch (err) {
        if (err.status !== 404) throw err;
        data = await api('POST', `/sessions/${encodeURIComponent(id)}/summary/draft`);
      }
      clearArea($('summary-error'));
      renderSummary(data || {});
    } catch (err) {
      if (err.status === 401) return;
      showError($('summary-error'), err, { 409: 'Die Sprechstunde ist noch nicht beendet.' });
    }
  }

  function renderSummary(data) {
    if (data.title) setTitle(`Zusammenfassung: ${data.title}`);
    const state = $('summary-state');
    state.replaceChildren();
    if (data.published_at) {
      const link = el('a', null, 'öffentlichen Seite');
      link.href = `/zusammenfassungen/${encodeURIComponent(data.session)}`;
      state.append('Veröffentlicht; zu sehen auf der ', link, '.');
    } else {
      state.append('Entwurf – noch nicht öffentlich.');
    }
    const blocks = [];
    (Array.isArray(data.items) ? data.items : []).forEach((item, i) => {
      const fs = el('fieldset', 'summary-item');
      fs.dataset.askedBy = String(item.asked_by || 1);
      fs.append(el('legend', null, `Frage ${i + 1}${item.asked_by > 1 ? ` (${item.asked_by} Personen)` : ''}`));
      const qLabel = el('label', null, 'Frage');
      qLabel.htmlFor = `sum-q-${i}`;
      const q = el('textarea', 'summary-question');
      q.id = `sum-q-${i}`;
      q.rows = 2;
      q.value = item.question || '';
      const aLabel = el('label', null, 'Antwort');
      aLabel.htmlFor = `sum-a-${i}`;
      const a = el('textarea', 'summary-answer');
      a.id = `sum-a-${i}`;
      a.rows = 4;
      a.value = item.answer || '';
      const remove = el('input', 'summary-remove');
      remove.type = 'checkbox';
      remove.id = `sum-r-${i}`;
      const rLabel = el('label', null, 'Diese Frage nicht veröffentlichen');
      rLabel.htmlFor = remove.id;
      fs.append(qLabel, q, aLabel, a, remove, ' ', rLabel);
      blocks.push(fs);
    });
    if (blocks.length === 0) blocks.push(el('p', 'muted', 'Keine beantworteten Fragen.'));
    $('summary-items').replaceChildren(...blocks);
  }

  function summaryItems() {
    const items = [];
    for (const fs of document.querySelectorAll('#summary-items .summary-item')) {
      if (fs.querySelector('.summary-remove').checked) continue;
      items.push({
        question: fs.querySelector('.summary-question').value,
        answer: fs.querySelector('.summary-answer').value,
        asked_by: Number(fs.dataset.askedBy) || 1,
      });
    }
    return items;
  }

  async function saveSummary(publish) {
    const id = encodeURIComponent(currentLiveId);
    try {
      await api('PUT', `/sessions/${id}/summary`, { items: summaryItems() });
      let data = await api('GET', `/sessions/${id}/summary`);
      if (publish) data = await api('POST', `/sessions/${id}/summary/publish`);
      clearArea($('summary-error'));
      renderSummary(data || {});
      flash($('summary-status'), publish ? 'Die Zusammenfassung wurde veröffentlicht.' : 'Die Änderungen wurden gespeichert.');
    } catch (err) {
      showError($('summary-error'), err, { 422: 'Bitte füllen Sie Frage und Antwort aus oder entfernen Sie die Frage.' });
    }
  }

  // ---- sessions ----
  async function loadSessions() {
    const seq = ++sessionsSeq;
    try {
      const data = await api('GET', '/sessions');
      if (seq !== sessionsSeq) return;
      clearArea($('sessions-error'));
      renderSessions(data && Array.isArray(data.sessions) ? data.sessions : []);
    } catch (err) {
      if (seq !== sessionsSeq || err.status === 401) return;
      showError($('sessions-error'), err);
    }
  }

  function renderSessions(sessions) {
    sessionsById = new Map(sessions.map((s) => [String(s.id), s]));
    const rows = [];
    for (const s of sessions) {
      const tr = el('tr');
      tr.dataset.sessionId = String(s.id);
      tr.classList.add(`status-${s.status}`);
      const startCell = el('td', 'start');
      startCell.append(timeEl(s.starts_at));
      const endCell = el('td', 'end');
      endCell.append(timeEl(s.ends_at));
      const statusCell = el('td', 'status');
      statusCell.append(el('span', `badge session-${s.status}`, SESSION_STATUS[s.status] || s.status));
      const cap = s.question_cap === null || s.question_cap === undefined ? 'unbegrenzt' : s.question_cap;
      const admitted = s.admitted === null || s.admitted === undefined ? '–' : s.admitted;

      const actions = el('td', 'actions');
      const editable = s.status === 'scheduled' || s.status === 'live';
      if (editable) {
        const edit = el('button', 'button-secondary button-small session-edit');
        edit.type = 'button';
        edit.dataset.id = String(s.id);
        edit.append('Bearbeiten', el('span', 'visually-hidden', `: ${s.title}`));
        const cancel = el('button', 'button-danger button-small session-cancel');
        cancel.type = 'button';
        cancel.dataset.id = String(s.id);
        cancel.append('Absagen', el('span', 'visually-hidden', `: ${s.title}`));
        actions.append(edit, ' ', cancel);
        if (s.status === 'live') {
          const live = el('a', 'session-live');
          live.href = `#/sessions/${encodeURIComponent(s.id)}/live`;
          live.append('Live-Moderation', el('span', 'visually-hidden', `: ${s.title}`));
          actions.append(' ', live);
        }
      } else if (s.status === 'closed') {
        const summary = el('a', 'session-summary');
        summary.href = `#/sessions/${encodeURIComponent(s.id)}/summary`;
        summary.append('Zusammenfassung', el('span', 'visually-hidden', `: ${s.title}`));
        actions.append(summary);
      } else {
        actions.textContent = '–';
      }

      tr.append(
        el('td', 'title', s.title),
        el('td', 'host', s.host),
        startCell,
        endCell,
        statusCell,
        el('td', 'cap', cap),
        el('td', 'admitted', admitted),
        actions,
      );
      rows.push(tr);
    }
    if (rows.length === 0) {
      const tr = el('tr', 'empty');
      const td = el('td', null, 'Es sind noch keine Sprechstunden angelegt.');
      td.colSpan = 8;
      tr.append(td);
      rows.push(tr);
    }
    $('sessions-body').replaceChildren(...rows);
    $('sessions-caption').textContent = `Sprechstunden (${sessions.length})`;
  }

  function resetSessionForm() {
    editingSessionId = null;
    $('session-form').reset();
    $('session-form').removeAttribute('data-editing');
    $('session-form-heading').textContent = 'Neue Sprechstunde anlegen';
    $('session-submit').textContent = 'Sprechstunde anlegen';
    $('session-new').hidden = true;
    clearArea($('session-error'));
    for (const input of $('session-form').querySelectorAll('input, textarea')) input.removeAttribute('aria-invalid');
  }

  function editSession(id) {
    const s = sessionsById.get(String(id));
    if (!s) return;
    resetSessionForm();
    editingSessionId = String(s.id);
    $('session-form').dataset.editing = editingSessionId;
    $('s-title').value = s.title || '';
    $('s-host').value = s.host || '';
    $('s-description').value = s.description || '';
    $('s-start').value = toLocalInput(s.starts_at);
    $('s-end').value = toLocalInput(s.ends_at);
    $('s-cap').value = s.question_cap === null || s.question_cap === undefined ? '' : String(s.question_cap);
    $('s-presubmit').value = s.presubmission_minutes === null || s.presubmission_minutes === undefined ? '' : String(s.presubmission_minutes);
    const channels = Array.isArray(s.channels) ? s.channels : [];
    for (const c of ['web', 'telegram', 'matrix']) $(`s-channel-${c}`).checked = channels.includes(c);
    $('session-form-heading').textContent = `Sprechstunde bearbeiten: ${s.title}`;
    $('session-submit').textContent = 'Änderungen speichern';
    $('session-new').hidden = false;
    $('sessions-status').textContent = '';
    $('session-form').scrollIntoView({ block: 'start' });
    $('s-title').focus();
  }

  async function cancelSession(id) {
    const s = sessionsById.get(String(id));
    const title = s ? s.title : id;
    if (!window.confirm(`Möchten Sie die Sprechstunde „${title}“ wirklich absagen?`)) return;
    const status = $('sessions-status');
    status.textContent = '';
    try {
      await api('POST', `/sessions/${encodeURIComponent(id)}/cancel`);
      clearArea($('sessions-error'));
      if (editingSessionId === String(id)) resetSessionForm();
      flash(status, `Die Sprechstunde „${title}“ wurde abgesagt.`);
      loadSessions();
    } catch (err) {
      if (err.status === 401) return;
      showError($('sessions-error'), err, { 409: 'Die Sprechstunde kann nicht mehr abgesagt werden.' });
    }
  }

  function readNumber(id, label, errors) {
    const input = $(id);
    input.removeAttribute('aria-invalid');
    if (input.validity && input.validity.badInput) {
      input.setAttribute('aria-invalid', 'true');
      errors.push(`${label}: Bitte geben Sie eine ganze Zahl ein.`);
      return null;
    }
    const raw = input.value.trim();
    if (raw === '') return null;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) {
      input.setAttribute('aria-invalid', 'true');
      errors.push(`${label}: Bitte geben Sie eine ganze Zahl ein.`);
      return null;
    }
    return n;
  }

  async function onSessionSubmit(ev) {
    ev.preventDefault();
    const errArea = $('session-error');
    const errors = [];
    const required = [
      ['s-title', 'Titel'],
      ['s-host', 'Gastgeber/in'],
      ['s-start', 'Beginn'],
      ['s-end', 'Ende'],
    ];
    let firstInvalid = null;
    for (const [id, label] of required) {
      const input = $(id);
      input.removeAttribute('aria-invalid');
      const bad = input.value.trim() === '' || (input.validity && input.validity.badInput);
      if (bad) {
        input.setAttribute('aria-invalid', 'true');
        errors.push(`${label}: Bitte füllen Sie dieses Feld aus.`);
        if (!firstInvalid) firstInvalid = input;
      }
    }
    const cap = readNumber('s-cap', 'Kontingent', errors);
    const presub = readNumber('s-presubmit', 'Vorab-Einreichung', errors);
    const repeat = editingSessionId ? '' : $('s-repeat').value;
    const count = readNumber('s-count', 'Anzahl Termine', errors);
    const untilInput = $('s-until');
    untilInput.removeAttribute('aria-invalid');
    const until = untilInput.value.trim();
    if (untilInput.validity && untilInput.validity.badInput) {
      untilInput.setAttribute('aria-invalid', 'true');
      errors.push('Letztes Datum: Bitte geben Sie ein gültiges Datum ein.');
    }
    // A series ends after a number of sessions or on a date: exactly one of the two.
    if (repeat && count && until) {
      $('s-count').setAttribute('aria-invalid', 'true');
      untilInput.setAttribute('aria-invalid', 'true');
      errors.push('Wiederholung: Bitte geben Sie entweder die Anzahl der Termine oder das letzte Datum an, nicht beides.');
    } else if (repeat && !count && !until) {
      $('s-count').setAttribute('aria-invalid', 'true');
      untilInput.setAttribute('aria-invalid', 'true');
      errors.push('Wiederholung: Bitte geben Sie die Anzahl der Termine oder das letzte Datum an.');
    }
    if (errors.length) {
      errArea.replaceChildren(el('p', null, 'Bitte prüfen Sie Ihre Eingaben.'));
      const ul = el('ul', 'error-fields');
      for (const e of errors) ul.append(el('li', null, e));
      errArea.append(ul);
      const focusTarget = firstInvalid || $('session-form').querySelector('[aria-invalid="true"]');
      if (focusTarget) focusTarget.focus();
      return;
    }
    const body = {
      title: $('s-title').value.trim(),
      host: $('s-host').value.trim(),
      description: $('s-description').value.trim(),
      starts_at: $('s-start').value.slice(0, 16),
      ends_at: $('s-end').value.slice(0, 16),
      question_cap: cap,
      presubmission_minutes: presub,
      channels: ['web', 'telegram', 'matrix'].filter((c) => $(`s-channel-${c}`).checked),
    };
    const editing = editingSessionId;
    const button = $('session-submit');
    button.disabled = true;
    $('session-form').setAttribute('aria-busy', 'true');
    try {
      let done = `Die Sprechstunde „${body.title}“ wurde angelegt.`;
      if (editing) {
        await api('PUT', `/sessions/${encodeURIComponent(editing)}`, body);
        done = `Die Änderungen an „${body.title}“ wurden gespeichert.`;
      } else if (repeat) {
        const series = await api('POST', '/sessions/series', until ? { ...body, repeat, until } : { ...body, repeat, count });
        const n = series && Array.isArray(series.sessions) ? series.sessions.length : 0;
        done = `Die Reihe „${body.title}“ wurde mit ${n} Terminen angelegt.`;
      } else {
        await api('POST', '/sessions', body);
      }
      resetSessionForm();
      flash($('sessions-status'), done);
      loadSessions();
    } catch (err) {
      if (err.status === 401) return;
      showError(errArea, err, { 409: 'Die Sprechstunde kann in ihrem aktuellen Zustand nicht geändert werden.' });
    } finally {
      button.disabled = false;
      $('session-form').removeAttribute('aria-busy');
    }
  }

  // ---- audit trail ----
  function roles() {
    return auth && auth.staff && Array.isArray(auth.staff.roles) ? auth.staff.roles : [];
  }

  function mayViewAudit() {
    const r = roles();
    return r.includes('admin') || r.includes('data_protection');
  }

  // Holds only the data protection role: nothing but the audit trail to show.
  function auditOnly() {
    const r = roles();
    return r.length > 0 && r.every((role) => role === 'data_protection');
  }

  let auditSeq = 0;

  async function loadAudit() {
    const params = new URLSearchParams();
    for (const key of ['login', 'object', 'action']) {
      const value = $(`audit-${key}`).value.trim();
      if (value) params.set(key, value);
    }
    params.set('limit', '500');
    const seq = ++auditSeq;
    try {
      const data = await api('GET', `/audit?${params.toString()}`);
      if (seq !== auditSeq) return;
      clearArea($('audit-error'));
      renderAudit(data && Array.isArray(data.entries) ? data.entries : []);
    } catch (err) {
      if (seq !== auditSeq || err.status === 401) return;
      showError($('audit-error'), err);
    }
  }

  function renderAudit(entries) {
    const body = $('audit-body');
    const rows = entries.slice().reverse().map((e) => {
      const tr = el('tr');
      tr.append(
        el('td', null, e.seq),
        el('td', null, fmtDateTime(e.at)),
        el('td', null, e.login),
        el('td', null, e.via),
        el('td', 'audit-action', e.action),
        el('td', null, e.object || '–'),
        el('td', null, e.outcome),
      );
      return tr;
    });
    if (rows.length === 0) {
      const tr = el('tr');
      const td = el('td', 'muted', 'Keine Einträge.');
      td.colSpan = 7;
      tr.append(td);
      rows.push(tr);
    }
    body.replaceChildren(...rows);
    $('audit-caption').textContent = `Protokolleinträge (${entries.length}, neueste zuerst)`;
  }

  async function verifyAudit() {
    const status = $('audit-verify-status');
    status.textContent = 'Die Kette wird geprüft …';
    status.className = 'muted';
    try {
      const v = await api('GET', '/audit/verify');
      if (v && v.intact) {
        status.textContent = `Die Hash-Kette ist unversehrt: ${v.checked} Einträge geprüft.`;
        status.className = 'success';
      } else {
        const detail = v && v.broken && typeof v.broken.message === 'string' ? v.broken.message : '';
        status.textContent = `Die Hash-Kette ist beschädigt (${detail}). Bitte informieren Sie die Datenschutzbeauftragte / den Datenschutzbeauftragten.`;
        status.className = 'error';
      }
    } catch (err) {
      status.textContent = '';
      if (err.status !== 401) showError($('audit-error'), err);
    }
  }

  // ---- wiring ----
  function init() {
    $('login-form').addEventListener('submit', onLogin);
    $('logout').addEventListener('click', onLogout);

    $('queue-filter').addEventListener('submit', (ev) => {
      ev.preventDefault();
      loadQueue();
    });
    $('filter-queue').addEventListener('change', loadQueue);
    $('filter-status').addEventListener('change', loadQueue);
    $('queue-more').addEventListener('click', loadMoreQueue);

    $('answer-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      questionAction($('answer-form'), 'answer-text', 'answer', 'text',
        'Bitte geben Sie einen Antworttext ein.', 'Die Antwort wurde gespeichert und wird zugestellt.');
    });
    $('note-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      questionAction($('note-form'), 'note-text', 'notes', 'text',
        'Bitte geben Sie einen Notiztext ein.', 'Die interne Notiz wurde gespeichert.');
    });
    $('reject-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      questionAction($('reject-form'), 'reject-reason', 'reject', 'reason',
        'Bitte geben Sie eine Begründung für die Ablehnung ein.', 'Das Anliegen wurde abgelehnt; die Begründung wird zugestellt.');
    });

    $('session-form').addEventListener('submit', onSessionSubmit);
    $('session-new').addEventListener('click', () => {
      resetSessionForm();
      $('s-title').focus();
    });
    $('sessions-body').addEventListener('click', (ev) => {
      const button = ev.target instanceof Element ? ev.target.closest('button') : null;
      if (!button || !button.dataset.id) return;
      if (button.classList.contains('session-edit')) editSession(button.dataset.id);
      else if (button.classList.contains('session-cancel')) cancelSession(button.dataset.id);
    });

    $('audit-filter').addEventListener('submit', (ev) => {
      ev.preventDefault();
      loadAudit();
    });
    $('audit-verify').addEventListener('click', verifyAudit);
    wireTriage();
    wireDepartments();
    $('merge-form').addEventListener('submit', onMergeSubmit);
    $('summary-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      saveSummary(false);
    });
    $('summary-publish').addEventListener('click', () => saveSummary(true));
    $('live-questions').addEventListener('click', (ev) => {
      const button = ev.target instanceof Element ? ev.target.closest('button') : null;
      if (button && button.dataset.ref) pickLive(button.dataset.ref);
      else if (button && button.dataset.answer) chooseLiveAnswer(button.dataset.answer);
    });
    $('live-answer-form').addEventListener('submit', onLiveAnswerSubmit);
    $('live-answer-ref').addEventListener('change', () => {
      liveAnswerTouched = true;
    });

    window.addEventListener('hashchange', () => route(true));
    checkMe();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
