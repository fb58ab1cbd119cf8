// The privacy notice (#consent) the server sends until the citizen has agreed: shown with the
// welcome, and its buttons send the agree or decline command in the page's language.

import { $, els } from './dom.js';
import { sendText } from './composer.js';
import { state } from './state.js';
import { STRINGS } from './strings.js';

// Shows the notice, or hides it for an empty one.
export function showConsent(notice) {
  els.consentText.textContent = notice || '';
  els.consent.hidden = !notice;
}

export function bindConsent() {
  $('consent-agree').addEventListener('click', () => {
    if (sendText(STRINGS[state.lang].commands.agree)) showConsent('');
  });
  $('consent-decline').addEventListener('click', () => {
    if (sendText(STRINGS[state.lang].commands.decline)) showConsent('');
  });
}
