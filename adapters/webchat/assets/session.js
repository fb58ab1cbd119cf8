// The office hours card (#session): the current or next session from the welcome frame, or
// that none is planned.

import { el, els } from './dom.js';
import { formatSessionTime } from './format.js';
import { state, t } from './state.js';

export function renderSession() {
  const { session } = state;
  const body = els.sessionBody;
  body.replaceChildren();
  if (session === undefined) {
    els.sessionHeading.textContent = t('sessionHeading');
    body.append(el('p', 'muted', t('sessionLoading')));
    return;
  }
  if (session === null) {
    els.sessionHeading.textContent = t('sessionHeading');
    body.append(el('p', 'session-none', t('sessionNone')));
    return;
  }
  els.sessionHeading.textContent = session.live ? t('sessionHeadingLive') : t('sessionHeadingNext');
  const titleLine = el('p', 'session-title');
  titleLine.append(el('span', 'session-name', session.title || ''));
  if (session.live) {
    titleLine.append(' ', el('span', 'badge live', t('sessionLive')));
  }
  body.append(titleLine);
  const dl = el('dl', 'session-facts');
  if (session.host) {
    dl.append(el('dt', null, t('sessionHost')), el('dd', null, session.host));
  }
  // The server formats starts_local in the language of the hello; after a language switch
  // (before the new welcome arrives) format it here.
  const sameLang = session.lang === state.lang;
  const start = sameLang && session.starts_local ? session.starts_local : formatSessionTime(session.starts_at);
  const end = sameLang && session.ends_local ? session.ends_local : formatSessionTime(session.ends_at);
  if (start) {
    const dd = el('dd');
    const tStart = el('time', null, start);
    tStart.dateTime = session.starts_at || '';
    dd.append(tStart);
    if (end) {
      const tEnd = el('time', null, end);
      tEnd.dateTime = session.ends_at || '';
      dd.append(' – ', tEnd);
    }
    dl.append(el('dt', null, t('sessionTime')), dd);
  }
  body.append(dl);
  if (session.description) body.append(el('p', 'session-description', session.description));
  if (!session.live) body.append(el('p', 'muted', t('sessionOutside')));
}
