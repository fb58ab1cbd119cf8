// The question view: details and thread, answer, internal note and rejection, and the triage
// box (routing, assignment, hand-back, text modules, approving or sending back a draft).

import { api } from './api.js';
import { $, clearArea, el, flash, option, showError } from './dom.js';
import { fmtDate, fmtDateTime, isOverdue, queueLabel, sameRef, timeEl } from './format.js';
import { CHANNEL, DELIVERY, KIND, LANGS, STATUS } from './labels.js';
import { state } from './state.js';
import { setTitle } from './views.js';

let questionSeq = 0;

export function resetQuestionView(ref) {
  state.detail = null;
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

export async function loadQuestion(ref) {
  const seq = ++questionSeq;
  try {
    const detail = await api('GET', `/questions/${encodeURIComponent(ref)}`);
    if (seq !== questionSeq || state.view !== 'question') return;
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

// Delivery receipts from the citizen's app (Threema).
const RECEIPT = { received: 'auf dem Gerät empfangen', read: 'gelesen' };

function deliveryText(delivery) {
  if (!delivery || typeof delivery !== 'object') return null;
  const step = delivery.state;
  if (step === 'delivered') {
    const sent = delivery.at ? `zugestellt am ${fmtDateTime(delivery.at)}` : 'zugestellt';
    const receipt = RECEIPT[delivery.receipt];
    if (!receipt) return sent;
    return delivery.receipt_at ? `${sent}, ${receipt} am ${fmtDateTime(delivery.receipt_at)}` : `${sent}, ${receipt}`;
  }
  if (step === 'failed') {
    return `fehlgeschlagen: ${delivery.last_error || 'unbekannter Grund'}`;
  }
  if (step === 'pending') {
    const attempts = Number(delivery.attempts) || 0;
    const parts = [];
    parts.push(attempts === 0 ? 'noch kein Versuch' : attempts === 1 ? '1 Versuch' : `${attempts} Versuche`);
    if (delivery.last_error) parts.push(`letzter Fehler: ${delivery.last_error}`);
    return `ausstehend (${parts.join(', ')})`;
  }
  return step ? String(step) : null;
}

function rejectionText(rejection) {
  if (!rejection) return '';
  if (typeof rejection === 'string') return rejection;
  if (typeof rejection === 'object') return rejection.reason || rejection.text || '';
  return String(rejection);
}

export function renderDetail(d) {
  state.detail = d;
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
  if (state.pendingFocus) {
    const field = $(state.pendingFocus);
    state.pendingFocus = null;
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
  if (!state.detail) return;
  const ref = state.detail.reference;
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    const detail = await api('POST', `/questions/${encodeURIComponent(ref)}/${path}`, { [key]: text });
    clearArea(errArea);
    input.value = '';
    if (detail && state.view === 'question' && state.ref && sameRef(state.ref, ref)) renderDetail(detail);
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

// ---- triage box (issue 6) ----
function renderTriage(d, open) {
  const { auth, departments } = state;
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
  if (!state.ref || !sameRef(state.ref, ref)) return;
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
  if (!state.detail) return;
  const ref = state.detail.reference;
  const errArea = $('action-error');
  const statusArea = $('action-status');
  statusArea.textContent = '';
  try {
    const detail = await api('POST', `/questions/${encodeURIComponent(ref)}/${path}`, body);
    clearArea(errArea);
    if (detail && state.view === 'question' && state.ref && sameRef(state.ref, ref)) renderDetail(detail);
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

export function wireQuestion() {
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
}
