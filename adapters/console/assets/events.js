// Live updates over server-sent events (`/api/v1/events`): the status line in the header,
// reconnecting, and refreshing the visible view once per burst of change notifications.

import { API, api, loginExpired } from './api.js';
import { $ } from './dom.js';
import { loadSessionFilter } from './filters.js';
import { sameRef } from './format.js';
import { loadLive } from './live.js';
import { loadQuestion } from './question.js';
import { loadQueue } from './queue.js';
import { loadSessions } from './sessions.js';
import { state } from './state.js';

const SSE_DEBOUNCE_MS = 200;
const SSE_RETRY_MS = 5000;

let events = null;
let eventsRetryTimer = null;
let changeTimer = null;
let pendingChange = null;

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

export function startEvents() {
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
        if (!state.auth) return;
        try {
          await api('GET', '/me');
          if (state.auth) startEvents();
        } catch (err) {
          if (err.status === 401) loginExpired();
          else if (state.auth) startEvents();
        }
      }, SSE_RETRY_MS);
    }
  });
}

export function stopEvents() {
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
  if (!change || !state.auth) return;
  if (change.all || change.sessions) loadSessionFilter();
  if (state.view === 'queue') {
    loadQueue();
  } else if (state.view === 'question' && state.ref) {
    const concerned = change.all || Array.from(change.questions).some((r) => sameRef(r, state.ref));
    if (concerned) loadQuestion(state.ref);
  } else if (state.view === 'sessions') {
    if (change.all || change.sessions) loadSessions();
  } else if (state.view === 'live') {
    loadLive();
  }
}

