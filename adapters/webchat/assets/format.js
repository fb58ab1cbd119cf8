// Dates and times for display in the page's language: message times (time only for today)
// and the office hours' start and end in office time (Europe/Berlin).

import { t } from './state.js';

export function formatTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const now = new Date();
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() &&
    d.getDate() === now.getDate();
  const opts = sameDay ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' };
  try {
    return new Intl.DateTimeFormat(t('locale'), opts).format(d);
  } catch (_) {
    return d.toLocaleString();
  }
}

export function formatSessionTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  try {
    return new Intl.DateTimeFormat(t('locale'), {
      dateStyle: 'full', timeStyle: 'short', timeZone: 'Europe/Berlin',
    }).format(d);
  } catch (_) {
    return d.toLocaleString();
  }
}
