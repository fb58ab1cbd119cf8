// The queue's filter form: the options of the department, assignee and session selects (kept
// while unchanged, so that a live refresh does not disturb someone choosing), and the query
// the chosen filters make.

import { api } from './api.js';
import { $, el, option } from './dom.js';
import { fmtDateTime } from './format.js';
import { SESSION_STATUS } from './labels.js';
import { state } from './state.js';

export function queueParams() {
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

// Department filter: all, none, or one of the departments.
export function fillDepartmentFilter() {
  const filter = $('filter-department');
  const keep = filter.value;
  const options = [el('option', null, 'alle'), el('option', null, 'nicht zugeordnet')];
  options[0].value = '';
  options[1].value = 'none';
  for (const d of state.departments) {
    const o = el('option', null, d.name);
    o.value = d.slug;
    options.push(o);
  }
  filter.replaceChildren(...options);
  filter.value = keep;
}

// Assignee filter: me, nobody, or any member of a department the caller can see.
export function fillAssigneeFilter() {
  const select = $('filter-assignee');
  const keep = select.value;
  const me = state.auth && state.auth.staff ? state.auth.staff.id : null;
  const members = new Map();
  for (const d of state.departments) {
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
export async function loadSessionFilter() {
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
