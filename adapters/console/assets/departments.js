// The departments view (Fachämter): the list with rules, text modules and members, and the
// editor admins use to create or change a department and its text modules (membership:
// members.js).

import { api } from './api.js';
import { $, clearArea, el, flash, showError } from './dom.js';
import { fillAssigneeFilter, fillDepartmentFilter } from './filters.js';
import { showMembers, wireMembers } from './members.js';
import { state } from './state.js';

// Fetches the departments (with members) for the filters, the triage box and this view.
export async function loadDepartments() {
  try {
    const data = await api('GET', '/departments');
    state.departments = data && Array.isArray(data.departments) ? data.departments : [];
  } catch (_) {
    state.departments = [];
  }
  fillDepartmentFilter();
  fillAssigneeFilter();
}

let editingDepartment = null;

export async function showDepartments() {
  await loadDepartments();
  const { auth } = state;
  const isAdmin = !!(auth && auth.staff && Array.isArray(auth.staff.roles) && auth.staff.roles.includes('admin'));
  $('department-form').hidden = !isAdmin;
  const rows = state.departments.map((d) => {
    const tr = el('tr');
    const action = el('td');
    if (isAdmin) {
      const b = el('button', 'button-secondary department-edit', 'Bearbeiten');
      b.type = 'button';
      b.dataset.slug = d.slug;
      action.append(b);
    }
    tr.append(
      el('td', null, d.name),
      el('td', null, d.slug),
      el('td', null, (d.keywords || []).join(', ') || '–'),
      el('td', null, (d.patterns || []).join(' · ') || '–'),
      el('td', null, d.requires_approval ? 'ja' : 'nein'),
      el('td', null, (d.text_modules || []).map((m) => m.title).join(', ') || '–'),
      el('td', null, (d.members || []).map((m) => m.name).join(', ') || '–'),
      action,
    );
    return tr;
  });
  if (rows.length === 0) {
    const tr = el('tr', 'empty');
    const td = el('td', null, 'Noch keine Fachämter.');
    td.colSpan = 8;
    tr.append(td);
    rows.push(tr);
  }
  $('departments-body').replaceChildren(...rows);
  await showMembers(isAdmin);
}

function fillDepartmentForm(d) {
  editingDepartment = d ? d.slug : null;
  $('d-name').value = d ? d.name : '';
  $('d-slug').value = d ? d.slug : '';
  $('d-keywords').value = d ? (d.keywords || []).join(', ') : '';
  $('d-patterns').value = d ? (d.patterns || []).join('\n') : '';
  $('d-module-list').replaceChildren(...(d ? d.text_modules || [] : []).map(moduleBlock));
  $('d-approval').checked = d ? !!d.requires_approval : false;
  clearArea($('department-error'));
}

async function onDepartmentSubmit(ev) {
  ev.preventDefault();
  const lines = (v) => v.split('\n').map((x) => x.trim()).filter((x) => x);
  const modules = readModules();
  if (modules === null) return;
  const body = {
    name: $('d-name').value.trim(),
    slug: $('d-slug').value.trim(),
    keywords: $('d-keywords').value.split(',').map((x) => x.trim()).filter((x) => x),
    patterns: lines($('d-patterns').value),
    requires_approval: $('d-approval').checked,
    text_modules: modules,
  };
  try {
    if (editingDepartment) await api('PUT', `/departments/${encodeURIComponent(editingDepartment)}`, body);
    else await api('POST', '/departments', body);
    clearArea($('department-error'));
    flash($('departments-status'), `Das Fachamt ${body.name} wurde gespeichert.`);
    fillDepartmentForm(null);
    showDepartments();
  } catch (err) {
    if (err.status === 401) return;
    showError($('department-error'), err);
  }
}

// One block per text module: key, title and a multi-line text, with a remove button.
let moduleSeq = 0;

function moduleBlock(m) {
  const n = ++moduleSeq;
  const block = el('div', 'module-item');
  const grid = el('div', 'grid');
  const field = (label, control, id, wide) => {
    const wrap = el('div', wide ? 'field field-wide' : 'field');
    const l = el('label', null, label);
    control.id = id;
    l.htmlFor = id;
    wrap.append(l, control);
    return wrap;
  };
  const key = el('input', 'module-key');
  key.type = 'text';
  key.autocapitalize = 'none';
  key.spellcheck = false;
  key.value = m ? m.key : '';
  const title = el('input', 'module-title');
  title.type = 'text';
  title.value = m ? m.title : '';
  const text = el('textarea', 'module-text');
  text.rows = 4;
  text.value = m ? m.text : '';
  const remove = el('button', 'button-secondary button-small module-remove');
  remove.type = 'button';
  remove.append('Textbaustein entfernen', el('span', 'visually-hidden', m ? `: ${m.title}` : ` ${n}`));
  grid.append(
    field('Schlüssel', key, `d-module-key-${n}`),
    field('Titel', title, `d-module-title-${n}`),
    field('Text', text, `d-module-text-${n}`, true),
  );
  block.append(grid, remove);
  return block;
}

// The modules of the editor; blocks left empty are skipped. Null (after showing an error)
// when a block is only partly filled.
function readModules() {
  const modules = [];
  for (const block of $('d-module-list').querySelectorAll('.module-item')) {
    const inputs = ['.module-key', '.module-title', '.module-text'].map((c) => block.querySelector(c));
    for (const i of inputs) i.removeAttribute('aria-invalid');
    const [key, title] = inputs.slice(0, 2).map((i) => i.value.trim());
    // Keep the text's inner line breaks; only drop blank lines at either end.
    const text = inputs[2].value.replace(/^\s*\n/, '').replace(/\s+$/, '');
    if (!key && !title && !text) continue;
    const missing = inputs.filter((i, k) => ![key, title, text][k]);
    if (missing.length) {
      for (const i of missing) i.setAttribute('aria-invalid', 'true');
      showError($('department-error'), 'Bitte geben Sie für jeden Textbaustein Schlüssel, Titel und Text an (oder entfernen Sie ihn).');
      missing[0].focus();
      return null;
    }
    modules.push({ key, title, text });
  }
  return modules;
}

export function wireDepartments() {
  wireMembers(showDepartments);
  $('department-form').addEventListener('submit', onDepartmentSubmit);
  $('d-module-add').addEventListener('click', () => {
    const block = moduleBlock(null);
    $('d-module-list').append(block);
    block.querySelector('.module-key').focus();
  });
  $('d-module-list').addEventListener('click', (ev) => {
    const button = ev.target instanceof Element ? ev.target.closest('button.module-remove') : null;
    if (!button) return;
    const block = button.closest('.module-item');
    const next = block.nextElementSibling || block.previousElementSibling;
    block.remove();
    // Keep the focus in the editor: on the neighbouring module, else on "add".
    (next ? next.querySelector('.module-key') : $('d-module-add')).focus();
  });
  $('department-new').addEventListener('click', () => fillDepartmentForm(null));
  $('departments-body').addEventListener('click', (ev) => {
    const button = ev.target instanceof Element ? ev.target.closest('button.department-edit') : null;
    if (!button) return;
    fillDepartmentForm(state.departments.find((d) => d.slug === button.dataset.slug) || null);
    $('d-name').focus();
  });
}

