// Dates and times for display in the page's language, in the office's time zone (from the
// welcome; the texts of the office are written in it too): message times (time only for
// today) and the office hours' start and end.

import { state, t } from './state.js';

// The calendar day of `d` in the office's time zone, as YYYY-MM-DD.
function officeDay(d) {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: state.timeZone, year: 'numeric', month: '2-digit', day: '2-digit',
  }).format(d);
}

export function formatTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  try {
    const sameDay = officeDay(d) === officeDay(new Date());
    const opts = sameDay ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' };
    return new Intl.DateTimeFormat(t('locale'), Object.assign({ timeZone: state.timeZone }, opts)).format(d);
  } catch (_) {
    return d.toLocaleString();
  }
}

export function formatSessionTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  try {
    return new Intl.DateTimeFormat(t('locale'), {
      dateStyle: 'full', timeStyle: 'short', timeZone: state.timeZone,
    }).format(d);
  } catch (_) {
    return d.toLocaleString();
  }
}
