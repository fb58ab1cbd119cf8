// The audit trail view (issue 7, admins and the data protection officer): the filtered
// entries, newest first, and the check of the hash chain.

import { api } from './api.js';
import { $, clearArea, el, showError } from './dom.js';
import { fmtDateTime } from './format.js';

let auditSeq = 0;

export async function loadAudit() {
  const params = new URLSearchParams();
  for (const key of ['login', 'object', 'action']) {
    const value = $(`audit-${key}`).value.trim();
    if (value) params.set(key, value);
  }
  params.set('limit', '500');
  const seq = ++auditSeq;
  try {
    const data = await api('GET', `/audit?${params.toString()}`);
    if (seq !== auditSeq) return;
    clearArea($('audit-error'));
    renderAudit(data && Array.isArray(data.entries) ? data.entries : []);
  } catch (err) {
    if (seq !== auditSeq || err.status === 401) return;
    showError($('audit-error'), err);
  }
}

function renderAudit(entries) {
  const body = $('audit-body');
  const rows = entries.slice().reverse().map((e) => {
    const tr = el('tr');
    tr.append(
      el('td', null, e.seq),
      el('td', null, fmtDateTime(e.at)),
      el('td', null, e.login),
      el('td', null, e.via),
      el('td', 'audit-action', e.action),
      el('td', null, e.object || '–'),
      el('td', null, e.outcome),
    );
    return tr;
  });
  if (rows.length === 0) {
    const tr = el('tr');
    const td = el('td', 'muted', 'Keine Einträge.');
    td.colSpan = 7;
    tr.append(td);
    rows.push(tr);
  }
  body.replaceChildren(...rows);
  $('audit-caption').textContent = `Protokolleinträge (${entries.length}, neueste zuerst)`;
}

async function verifyAudit() {
  const status = $('audit-verify-status');
  status.textContent = 'Die Kette wird geprüft …';
  status.className = 'muted';
  try {
    const v = await api('GET', '/audit/verify');
    if (v && v.intact) {
      status.textContent = `Die Hash-Kette ist unversehrt: ${v.checked} Einträge geprüft.`;
      status.className = 'success';
    } else {
      const detail = v && v.broken && typeof v.broken.message === 'string' ? v.broken.message : '';
      status.textContent = `Die Hash-Kette ist beschädigt (${detail}). Bitte informieren Sie die Datenschutzbeauftragte / den Datenschutzbeauftragten.`;
      status.className = 'error';
    }
  } catch (err) {
    status.textContent = '';
    if (err.status !== 401) showError($('audit-error'), err);
  }
}

export function wireAudit() {
  $('audit-filter').addEventListener('submit', (ev) => {
    ev.preventDefault();
    loadAudit();
  });
  $('audit-verify').addEventListener('click', verifyAudit);
}
