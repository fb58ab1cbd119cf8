// Element helpers. Untrusted text (questions, names, server messages) is only ever inserted
// with textContent, never as HTML: `el` and `option` take text, and error areas are built
// from them.

import { ERROR_TEXT } from './api.js';

export const $ = (id) => document.getElementById(id);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function option(value, text) {
  const o = el('option', null, text);
  o.value = value;
  return o;
}

// Shows an error in an alert area: a German explanation, then the server's text.
export function showError(area, err, overrides) {
  area.replaceChildren();
  if (!err) return;
  if (typeof err === 'string') {
    area.append(el('p', null, err));
    return;
  }
  const status = err.status || 0;
  const main = (overrides && overrides[status]) || ERROR_TEXT[status] || `Es ist ein Fehler aufgetreten (Status ${status}).`;
  area.append(el('p', null, main));
  if (err.serverMessage && err.serverMessage !== main) {
    area.append(el('p', 'error-detail', err.serverMessage));
  }
  const fields = err.data && (err.data.fields || err.data.errors || err.data.details);
  if (fields && typeof fields === 'object') {
    const list = el('ul', 'error-fields');
    const entries = Array.isArray(fields) ? fields.map((f) => [null, f]) : Object.entries(fields);
    for (const [k, v] of entries) {
      const text = typeof v === 'string' ? v : (v && (v.message || v.text)) || JSON.stringify(v);
      list.append(el('li', null, k ? `${k}: ${text}` : text));
    }
    if (list.children.length) area.append(list);
  }
}

export function clearArea(area) {
  area.replaceChildren();
}

export function flash(area, text) {
  area.textContent = text;
}
