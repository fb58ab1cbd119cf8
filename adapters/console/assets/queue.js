// The queue view: the filtered list of questions in pages of 200, its table, and the selected
// row that the keyboard shortcuts (j/k, a/r/n) work on.

import { api } from './api.js';
import { $, clearArea, el, showError } from './dom.js';
import { queueParams } from './filters.js';
import { fmtDate, fmtNow, isOverdue, queueLabel, timeEl } from './format.js';
import { CHANNEL, DELIVERY, QUEUE, STATUS, STATUS_FILTER } from './labels.js';

// Queue pages: what is shown, for which filter, and whether the server may have more.
const QUEUE_PAGE = 200;
let queueQuestions = [];
let queueKey = null;
let queueMore = false;
// Rows asked for: those shown plus a page that "load more" is fetching. A refresh (a live
// update) during that fetch supersedes it, so it must load that page as well.
let queueWant = 0;
let queueSeq = 0;
let selectedRow = -1;

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
export async function loadQueue() {
  const params = queueParams();
  const key = params.toString();
  const want = key === queueKey ? Math.max(queueQuestions.length, queueWant) : 0;
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
    queueWant = list.length;
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
  queueWant = queueQuestions.length + QUEUE_PAGE;
  try {
    const page = await fetchQueuePage(params, queueQuestions.length, queueQuestions);
    if (seq !== queueSeq) return;
    clearArea($('queue-error'));
    const first = queueQuestions.length;
    queueQuestions = queueQuestions.concat(page.fresh);
    queueWant = queueQuestions.length;
    queueMore = page.more;
    renderQueue(queueQuestions, params.get('queue'), params.get('status'));
    // The focus moves to the first new row; with none, to the table (the button is gone).
    if (page.fresh.length > 0) selectRow(first, true);
    else $('queue-caption').closest('.table-wrap').focus();
  } catch (err) {
    if (seq !== queueSeq || err.status === 401) return;
    queueWant = queueQuestions.length;
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
  $('queue-updated').textContent = `Stand: ${fmtNow()} Uhr`;
  $('queue-more').hidden = !queueMore;
}

// Triage (issue 6): the department, or the suggested one, and whether a draft awaits approval.
function departmentCell(q) {
  const td = el('td', 'department');
  if (q.department) {
    td.textContent = q.department.name;
  } else if (q.suggestion && q.suggestion.department) {
    td.append(el('span', 'suggestion', `Vorschlag: ${q.suggestion.department.name}`));
  } else {
    // Not routed: the citizens' office has it, as the detail view says.
    td.textContent = 'Bürgerreferat';
  }
  if (q.draft) td.append(' ', el('strong', 'draft-marker', 'Freigabe ausstehend'));
  return td;
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

// Moves the selection by `delta` rows (j/k) and focuses the row's link.
export function moveSelection(delta) {
  selectRow(selectedRow + delta, true);
}

// The reference of the selected row, or null when none is selected.
export function selectedReference() {
  if (selectedRow < 0) return null;
  const row = queueRows()[selectedRow];
  return row ? row.dataset.reference : null;
}

export function wireQueue() {
  $('queue-filter').addEventListener('submit', (ev) => {
    ev.preventDefault();
    loadQueue();
  });
  $('filter-queue').addEventListener('change', loadQueue);
  $('filter-status').addEventListener('change', loadQueue);
  $('queue-more').addEventListener('click', loadMoreQueue);
  for (const id of ['filter-department', 'filter-channel', 'filter-session', 'filter-assignee', 'filter-overdue', 'filter-draft']) {
    $(id).addEventListener('change', loadQueue);
  }
}
