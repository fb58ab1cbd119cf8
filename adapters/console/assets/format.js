// Formatting for display: dates and times in office time (Europe/Berlin), due days, queue
// labels, staff names, and comparing references.

import { el } from './dom.js';

let dateTimeFmt;
let dateFmt;
let timeFmt;
try {
  dateTimeFmt = new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Berlin' });
  dateFmt = new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeZone: 'UTC' });
  timeFmt = new Intl.DateTimeFormat('de-DE', { timeStyle: 'medium', timeZone: 'Europe/Berlin' });
} catch (_) {
  dateTimeFmt = new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeStyle: 'short' });
  dateFmt = new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeZone: 'UTC' });
  timeFmt = new Intl.DateTimeFormat('de-DE', { timeStyle: 'medium' });
}

// The current time of day, for "Stand: …".
export function fmtNow() {
  return timeFmt.format(new Date());
}

export function fmtDateTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : dateTimeFmt.format(d);
}

export function timeEl(iso, className) {
  const t = el('time', className || null, fmtDateTime(iso));
  if (iso) t.dateTime = String(iso);
  return t;
}

function dueDay(due) {
  if (typeof due !== 'string') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(due);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

export function fmtDate(due) {
  const day = dueDay(due);
  if (!day) return due ? String(due) : '–';
  const [y, m, d] = day.split('-').map(Number);
  return dateFmt.format(new Date(Date.UTC(y, m - 1, d, 12)));
}

function berlinParts(date) {
  const parts = {};
  const fmt = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  });
  for (const p of fmt.formatToParts(date)) parts[p.type] = p.value;
  return parts;
}

// RFC 3339 → value for <input type="datetime-local"> in office time (Europe/Berlin).
export function toLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = berlinParts(d);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

// The server decides what is overdue (office time zone, working days); the console only shows it.
export function isOverdue(q) {
  return q.overdue === true;
}

export function staffName(staff) {
  if (!staff || typeof staff !== 'object') return '';
  return staff.name || staff.display_name || staff.login || '';
}

export function queueLabel(q) {
  if (q.queue === 'live') {
    return q.session && q.session.title ? `Live: ${q.session.title}` : 'Live';
  }
  if (q.queue === 'office') {
    return q.session && q.session.title ? `Bürgerreferat (${q.session.title})` : 'Bürgerreferat';
  }
  return q.queue ? String(q.queue) : '–';
}

export function sameRef(a, b) {
  const norm = (r) => String(r).trim().toUpperCase().replace(/^A-/, '');
  return norm(a) === norm(b);
}
