// The statistics view: questions, answers, answer rate and answer times per session,
// department and channel.

import { api } from './api.js';
import { $, clearArea, el, showError } from './dom.js';
import { CHANNEL } from './labels.js';

export async function loadStats() {
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
        el('td', null, String(f.messages_sent ?? 0)),
      );
      return tr;
    });
    $('stats-body').replaceChildren(...rows);
  } catch (err) {
    if (err.status === 401) return;
    showError($('stats-error'), err);
  }
}

