// Department membership in the departments view (administration only): per department its
// members with a button to remove one, and a select to add a staff member (which moves them
// out of their current department). Members with the department role can be moved but not
// removed: without a department they would see no questions (the server refuses it too).

import { api } from './api.js';
import { $, clearArea, el, flash, option, showError } from './dom.js';
import { state } from './state.js';

// The staff list of the last load (GET /staff), for names in messages.
let staff = [];

// Shows or hides the members section and, for admins, fills it from GET /staff and the
// departments already loaded into the state.
export async function showMembers(isAdmin) {
  const section = $('members-section');
  section.hidden = !isAdmin;
  if (!isAdmin) return;
  try {
    const data = await api('GET', '/staff');
    staff = data && Array.isArray(data.staff) ? data.staff : [];
    clearArea($('members-error'));
  } catch (err) {
    staff = [];
    if (err.status !== 401) showError($('members-error'), err);
  }
  const groups = state.departments.map(group);
  if (groups.length === 0) groups.push(el('p', 'muted', 'Noch keine Fachämter.'));
  $('members-list').replaceChildren(...groups);
}

const isDepartmentRole = (m) => Array.isArray(m.roles) && m.roles.includes('department');
const label = (m) => `${m.name} (${m.login})`;

// One department: heading, member list, and the "add" select with its button.
function group(d) {
  const box = el('div', 'members-group');
  box.dataset.slug = d.slug;
  const heading = el('h3', null, d.name);
  heading.id = `members-${d.slug}-heading`;
  const list = el('ul', 'members');
  list.setAttribute('aria-labelledby', heading.id);
  const inside = staff.filter((m) => m.department && m.department.slug === d.slug);
  for (const m of inside) {
    const li = el('li');
    li.dataset.id = String(m.id);
    li.append(el('span', null, label(m)));
    if (isDepartmentRole(m)) {
      li.append(' ', el('span', 'muted small', '(Rolle Fachamt: nur in ein anderes Fachamt verschieben)'));
    } else {
      const remove = el('button', 'button-secondary button-small member-remove');
      remove.type = 'button';
      remove.dataset.id = String(m.id);
      remove.append('Entfernen', el('span', 'visually-hidden', `: ${m.name} aus ${d.name}`));
      li.append(' ', remove);
    }
    list.append(li);
  }
  if (inside.length === 0) list.append(el('li', 'muted', 'Noch keine Mitglieder.'));

  const field = el('div', 'field member-add-field');
  const select = el('select', 'member-select');
  select.id = `member-add-${d.slug}`;
  const caption = el('label', null, `Mitglied hinzufügen zu ${d.name}`);
  caption.htmlFor = select.id;
  select.append(option('', 'Bitte wählen …'));
  for (const m of staff) {
    if (m.disabled || (m.department && m.department.slug === d.slug)) continue;
    const from = m.department ? ` – bisher ${m.department.name}` : '';
    select.append(option(String(m.id), `${label(m)}${from}`));
  }
  const add = el('button', 'button-secondary member-add');
  add.type = 'button';
  add.dataset.slug = d.slug;
  add.append('Hinzufügen', el('span', 'visually-hidden', ` zu ${d.name}`));
  field.append(caption, select, ' ', add);
  box.append(heading, list, field);
  return box;
}

// PUT /staff/{id}/department; then the view is reloaded and the focus put back on the
// department's select.
async function setDepartment(id, slug, focusSlug, message, refresh) {
  try {
    await api('PUT', `/staff/${encodeURIComponent(id)}/department`, { department: slug });
    clearArea($('members-error'));
    flash($('departments-status'), message);
    await refresh();
    const select = $(`member-add-${focusSlug}`);
    if (select) select.focus();
  } catch (err) {
    if (err.status === 401) return;
    showError($('members-error'), err);
  }
}

// Wires the section's buttons; `refresh` reloads the departments view.
export function wireMembers(refresh) {
  $('members-list').addEventListener('click', (ev) => {
    const target = ev.target instanceof Element ? ev.target : null;
    const remove = target && target.closest('button.member-remove');
    const add = target && target.closest('button.member-add');
    if (remove) {
      const box = remove.closest('.members-group');
      const m = staff.find((s) => String(s.id) === remove.dataset.id);
      const name = m ? m.name : 'Das Mitglied';
      setDepartment(remove.dataset.id, null, box.dataset.slug, `${name} ist jetzt kein Mitglied eines Fachamts mehr.`, refresh);
    } else if (add) {
      const slug = add.dataset.slug;
      const select = $(`member-add-${slug}`);
      if (!select.value) {
        showError($('members-error'), 'Bitte wählen Sie aus, wer hinzugefügt werden soll.');
        select.focus();
        return;
      }
      const m = staff.find((s) => String(s.id) === select.value);
      const d = state.departments.find((x) => x.slug === slug);
      const name = m ? m.name : 'Das Mitglied';
      setDepartment(select.value, slug, slug, `${name} ist jetzt Mitglied im Fachamt ${d ? d.name : slug}.`, refresh);
    }
  });
}
