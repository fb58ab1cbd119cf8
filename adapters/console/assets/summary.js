// The summary editor of a closed session: the draft built from the answered questions, edited
// and published on the public page.

import { api } from './api.js';
import { $, clearArea, el, flash, showError } from './dom.js';
import { state } from './state.js';
import { setTitle } from './views.js';

export async function loadSummary() {
  const id = state.liveId;
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
  const id = encodeURIComponent(state.liveId);
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

export function wireSummary() {
  $('summary-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    saveSummary(false);
  });
  $('summary-publish').addEventListener('click', () => saveSummary(true));
}
