// The live moderation view of a running session: its questions with me-too counts, "answering
// now", one answer to every asker, and merging duplicates.

import { api } from './api.js';
import { $, clearArea, el, flash, option, showError } from './dom.js';
import { CHANNEL } from './labels.js';
import { state } from './state.js';
import { setTitle } from './views.js';

let liveSeq = 0;
// The live answer form follows "answering now" until the host picks a question there.
let liveAnswerTouched = false;

// Opens the view afresh: the answer form follows "answering now" again.
export function openLive() {
  liveAnswerTouched = false;
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
    await api('POST', `/sessions/${encodeURIComponent(state.liveId)}/answering`, { reference });
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

export function wireLive() {
  $('merge-form').addEventListener('submit', onMergeSubmit);
  $('live-questions').addEventListener('click', (ev) => {
    const button = ev.target instanceof Element ? ev.target.closest('button') : null;
    if (button && button.dataset.ref) pickLive(button.dataset.ref);
    else if (button && button.dataset.answer) chooseLiveAnswer(button.dataset.answer);
  });
  $('live-answer-form').addEventListener('submit', onLiveAnswerSubmit);
  $('live-answer-ref').addEventListener('change', () => {
    liveAnswerTouched = true;
  });
}
