// The sessions view: the list of office hours with edit, cancel, live and summary links, and
// the form that creates a session or a series, or edits one.

import { api } from './api.js';
import { $, clearArea, el, flash, showError } from './dom.js';
import { timeEl, toLocalInput } from './format.js';
import { SESSION_STATUS } from './labels.js';

let sessionsSeq = 0;
let editingSessionId = null;
let sessionsById = new Map();

export async function loadSessions() {
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
  for (const c of ['web', 'telegram', 'matrix', 'threema']) $(`s-channel-${c}`).checked = channels.includes(c);
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
    channels: ['web', 'telegram', 'matrix', 'threema'].filter((c) => $(`s-channel-${c}`).checked),
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

export function wireSessions() {
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
}
