// The live moderation board of a running session: question cards (channel, waiting time,
// "me too" count, suggested duplicates), sortable by arrival or count; merging by selecting
// cards and choosing the primary; "on stage now" apart from "write an answer"; a countdown to
// the session's end and the cap's state; the stage view's link and text.

import { api } from './api.js';
import { $, clearArea, el, flash, option, showError } from './dom.js';
import { CHANNEL } from './labels.js';
import { state } from './state.js';
import { setTitle } from './views.js';

let liveSeq = 0;
// The live answer form follows "answering now" until the host picks a question there.
let liveAnswerTouched = false;
// Cards chosen for merging, by reference; kept across redraws.
const selected = new Set();
let lastData = null;
let endsAt = null;
let clock = null;

// Opens the view afresh: the answer form follows "answering now" again.
export function openLive() {
  liveAnswerTouched = false;
  selected.clear();
  lastData = null;
  $('live-stage-link-field').hidden = true;
  loadLive();
}

export async function loadLive() {
  const id = state.liveId;
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

function minutes(ms) {
  return Math.max(0, Math.floor(ms / 60000));
}

function waited(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const m = minutes(Date.now() - t);
  return m < 1 ? 'wartet seit weniger als 1 Min.' : `wartet seit ${m} Min.`;
}

function tick() {
  const area = $('live-countdown');
  if (!area) return;
  if (!endsAt) {
    area.textContent = '';
    return;
  }
  const left = endsAt - Date.now();
  if (left <= 0) {
    area.textContent = 'Die Sprechstunde ist zu Ende.';
    return;
  }
  const total = Math.floor(left / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(h > 0 ? 2 : 1, '0');
  area.textContent = `Noch ${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')} bis zum Ende`;
}

function renderBar(data) {
  const s = data.session || {};
  endsAt = s.ends_at ? Date.parse(s.ends_at) : null;
  if (!clock) clock = setInterval(() => { if (state.view === 'live') tick(); }, 1000);
  tick();
  const admitted = Number(s.admitted || 0);
  $('live-cap').textContent = s.question_cap
    ? (admitted >= s.question_cap
      ? `Alle ${s.question_cap} Plätze vergeben – weitere Fragen gehen an das Bürgerreferat.`
      : `${admitted} von ${s.question_cap} Plätzen vergeben, noch ${s.question_cap - admitted} frei.`)
    : `${admitted} ${admitted === 1 ? 'Frage' : 'Fragen'}, ohne Begrenzung.`;
  $('live-answering').textContent = data.answering
    ? `Auf der Bühne: ${data.answering}`
    : 'Gerade wird keine Frage live beantwortet.';
}

function sorted(questions) {
  const by = $('live-sort').value;
  const list = questions.slice();
  list.sort((a, b) => {
    const doneA = a.status === 'open' ? 0 : 1;
    const doneB = b.status === 'open' ? 0 : 1;
    if (doneA !== doneB) return doneA - doneB;
    if (by === 'count' && a.me_too !== b.me_too) return b.me_too - a.me_too;
    return String(a.arrived_at).localeCompare(String(b.arrived_at));
  });
  return list;
}

function button(className, label, hidden, data) {
  const b = el('button', className);
  b.type = 'button';
  b.append(label);
  if (hidden) b.append(el('span', 'visually-hidden', hidden));
  Object.assign(b.dataset, data);
  return b;
}

function card(q, open) {
  const ref = q.reference;
  const li = el('li', `live-card status-${q.status}${q.answering ? ' is-answering' : ''}`);
  li.dataset.reference = ref;
  const head = el('div', 'live-card-head');
  if (q.status === 'open') {
    const box = el('input', 'live-select');
    box.type = 'checkbox';
    box.id = `live-select-${ref}`;
    box.dataset.select = ref;
    box.checked = selected.has(ref);
    const label = el('label', 'live-select-label');
    label.htmlFor = box.id;
    label.append('Auswählen', el('span', 'visually-hidden', `: ${ref}`));
    head.append(box, label);
  }
  const link = el('a', 'live-ref', ref);
  link.href = `#/questions/${encodeURIComponent(ref)}`;
  head.append(link);
  const meta = el('p', 'live-card-meta');
  meta.append(CHANNEL[q.channel] || q.channel);
  meta.append(' · ', q.status === 'open' ? waited(q.arrived_at) : 'erledigt');
  if (q.me_too > 0) {
    meta.append(' · ', el('strong', 'live-me-too', `${q.me_too}× „Ich auch“`));
    meta.append(` (${q.merged.join(', ')})`);
  }
  li.append(head, meta, el('p', 'live-card-text', q.text));
  if (q.answering) li.append(el('p', 'live-on-stage', 'Wird jetzt live beantwortet'));
  const suggestions = Array.isArray(q.suggested_duplicates) ? q.suggested_duplicates : [];
  if (q.status === 'open' && suggestions.length > 0) {
    const box = el('div', 'live-suggestions');
    box.append(el('p', 'live-suggestions-head', 'Sieht aus wie:'));
    const list = el('ul', 'live-suggestion-list');
    for (const s of suggestions) {
      const other = open.get(s.reference);
      const item = el('li', 'live-suggestion');
      item.append(el('span', 'live-suggestion-ref', `${s.reference} (${Math.round(s.score * 100)} %)`));
      if (other) item.append(' ', el('span', 'live-suggestion-text', `„${other.text}“`));
      item.append(' ',
        button('button-secondary button-small live-accept', 'Hierher zusammenfassen', `: ${s.reference} in ${ref}`,
          { accept: s.reference, into: ref }),
        ' ',
        button('button-link button-small live-dismiss', 'Verwerfen', `: ${s.reference} ist nicht ${ref}`,
          { dismiss: s.reference, at: ref }));
      list.append(item);
    }
    box.append(list);
    li.append(box);
  }
  if (q.status === 'open') {
    const actions = el('p', 'live-card-actions');
    if (!q.answering) {
      actions.append(button('button-stage live-pick', 'Jetzt live beantworten', `: ${ref}`, { ref }));
    }
    actions.append(button('button-link live-write', 'Schriftlich antworten', `: ${ref}`, { answer: ref }));
    const others = [...selected].filter((r) => r !== ref);
    if (others.length > 0) {
      actions.append(button('button-secondary live-merge', `${others.length} ausgewählte hierher zusammenfassen`,
        `: ${others.join(', ')} in ${ref}`, { merge: ref }));
    }
    li.append(actions);
  }
  return li;
}

function renderCards(data) {
  const questions = Array.isArray(data.questions) ? data.questions : [];
  const open = new Map(questions.filter((q) => q.status === 'open').map((q) => [q.reference, q]));
  for (const r of [...selected]) if (!open.has(r)) selected.delete(r);
  // Keep the keyboard where it was across a redraw.
  const focused = document.activeElement;
  const focusKey = focused && focused.closest && focused.closest('#live-questions')
    ? { id: focused.id, cls: focused.className, ref: focused.closest('li[data-reference]')?.dataset.reference }
    : null;
  const items = sorted(questions).map((q) => card(q, open));
  if (items.length === 0) items.push(el('li', 'empty', 'Noch keine Fragen.'));
  $('live-questions').replaceChildren(...items);
  if (focusKey) {
    const again = focusKey.id ? document.getElementById(focusKey.id)
      : [...$('live-questions').querySelectorAll(`li[data-reference] .${focusKey.cls.split(' ').pop()}`)]
        .find((n) => n.closest('li').dataset.reference === focusKey.ref);
    if (again) again.focus();
  }
  $('live-selection').textContent = selected.size > 0
    ? `${selected.size} ausgewählt: ${[...selected].join(', ')}. Wählen Sie bei der Hauptfrage „hierher zusammenfassen“.`
    : 'Zum Zusammenfassen: gleiche Fragen auswählen, dann bei der Hauptfrage „hierher zusammenfassen“.';
}

function renderLive(data) {
  lastData = data;
  if (data.session) setTitle(`Live-Moderation: ${data.session.title}`);
  renderBar(data);
  renderCards(data);
  renderLiveAnswer(data);
  renderStage(data);
}

// The stage text follows the question answered now unless the host is editing it.
let stageFor = null;
function renderStage(data) {
  const box = $('live-stage-text');
  const q = (data.questions || []).find((x) => x.answering);
  if (!q) {
    if (document.activeElement !== box) box.value = '';
    stageFor = null;
  } else if (stageFor !== q.reference) {
    stageFor = q.reference;
    box.value = q.text;
  }
  $('live-stage-apply').disabled = !q;
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
    await api('POST', `/sessions/${encodeURIComponent(state.liveId)}/answering`, { reference });
    flash($('live-status-text'), `${reference} wird jetzt live beantwortet.`);
    loadLive();
  } catch (err) {
    showError($('live-error'), err);
  }
}

async function mergeInto(primary, duplicates) {
  try {
    await api('POST', `/questions/${encodeURIComponent(primary)}/merge`, { duplicates });
    for (const d of duplicates) selected.delete(d);
    flash($('live-status-text'), `Zusammengefasst: ${duplicates.join(', ')} mit ${primary}.`);
    loadLive();
  } catch (err) {
    showError($('live-error'), err);
  }
}

async function answerSuggestion(action, reference, duplicate) {
  try {
    const data = await api('POST', `/sessions/${encodeURIComponent(state.liveId)}/suggestions/${action}`,
      { reference, duplicate });
    flash($('live-status-text'), action === 'accept'
      ? `Zusammengefasst: ${duplicate} mit ${reference}.`
      : `Vorschlag verworfen: ${duplicate} ist nicht ${reference}.`);
    selected.delete(duplicate);
    if (data) renderLive(data);
    else loadLive();
  } catch (err) {
    showError($('live-error'), err);
  }
}

async function stageLink(create) {
  try {
    const id = encodeURIComponent(state.liveId);
    if (create) {
      const data = await api('POST', `/sessions/${id}/stage-link`, {});
      $('live-stage-link').value = `${location.origin}${data.path}`;
      $('live-stage-link-field').hidden = false;
      flash($('live-status-text'), 'Der Bühnenlink ist erstellt. Ein früherer Link gilt nicht mehr.');
    } else {
      await api('DELETE', `/sessions/${id}/stage-link`);
      $('live-stage-link').value = '';
      $('live-stage-link-field').hidden = true;
      flash($('live-status-text'), 'Der Bühnenlink ist widerrufen.');
    }
  } catch (err) {
    showError($('live-error'), err, { 403: 'Den Bühnenlink erstellt und widerruft das Pressereferat.' });
  }
}

async function applyStageText() {
  try {
    const text = $('live-stage-text').value.trim();
    await api('PUT', `/sessions/${encodeURIComponent(state.liveId)}/stage-text`, { text: text || null });
    flash($('live-status-text'), 'Der Bühnentext ist übernommen.');
  } catch (err) {
    showError($('live-error'), err);
  }
}

export function wireLive() {
  $('live-questions').addEventListener('click', (ev) => {
    const b = ev.target instanceof Element ? ev.target.closest('button') : null;
    if (!b) return;
    if (b.dataset.ref) pickLive(b.dataset.ref);
    else if (b.dataset.answer) chooseLiveAnswer(b.dataset.answer);
    else if (b.dataset.merge) mergeInto(b.dataset.merge, [...selected].filter((r) => r !== b.dataset.merge));
    else if (b.dataset.accept) answerSuggestion('accept', b.dataset.into, b.dataset.accept);
    else if (b.dataset.dismiss) answerSuggestion('dismiss', b.dataset.at, b.dataset.dismiss);
  });
  $('live-questions').addEventListener('change', (ev) => {
    const box = ev.target;
    if (!(box instanceof HTMLInputElement) || !box.dataset.select) return;
    if (box.checked) selected.add(box.dataset.select);
    else selected.delete(box.dataset.select);
    if (lastData) renderCards(lastData);
  });
  $('live-sort').addEventListener('change', () => { if (lastData) renderCards(lastData); });
  $('live-answer-form').addEventListener('submit', onLiveAnswerSubmit);
  $('live-answer-ref').addEventListener('change', () => {
    liveAnswerTouched = true;
  });
  $('live-stage-create').addEventListener('click', () => stageLink(true));
  $('live-stage-revoke').addEventListener('click', () => stageLink(false));
  $('live-stage-apply').addEventListener('click', applyStageText);
}
