// The router: maps the location's hash (`#/queue`, `#/questions/A-1042`, `#/sessions/7/live`,
// …) to a view and loads it.

import { loadAudit } from './audit.js';
import { showDepartments } from './departments.js';
import { $ } from './dom.js';
import { sameRef } from './format.js';
import { openLive } from './live.js';
import { loadQuestion, resetQuestionView } from './question.js';
import { loadQueue } from './queue.js';
import { loadSessions } from './sessions.js';
import { auditOnly, state } from './state.js';
import { loadStats } from './stats.js';
import { loadSummary } from './summary.js';
import { setTitle, showLogin, showView } from './views.js';

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

// Shows the view the hash names; `focus` moves the focus to its heading (after navigation).
export function route(focus) {
  if (!state.auth) {
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
    const changed = !state.ref || !sameRef(state.ref, r.ref);
    showView('question');
    if (changed) resetQuestionView(r.ref);
    state.ref = r.ref;
    setTitle(`Anliegen ${r.ref}`);
    loadQuestion(r.ref);
  } else {
    state.ref = null;
    state.detail = null;
    state.pendingFocus = null;
    showView(r.view);
    state.liveId = r.view === 'live' || r.view === 'summary' ? r.id : null;
    if (r.view === 'queue') loadQueue();
    else if (r.view === 'audit') loadAudit();
    else if (r.view === 'stats') loadStats();
    else if (r.view === 'departments') showDepartments();
    else if (r.view === 'live') openLive();
    else if (r.view === 'summary') loadSummary();
    else loadSessions();
  }
  if (focus) $('view-title').focus();
}
