// The privacy notice (#consent) the server sends until the citizen has agreed: shown with the
// welcome, and its buttons send the agree or decline command in the page's language (the
// bubble shows the button's label).

import { $, els } from './dom.js';
import { sendText } from './composer.js';
import { renderLog } from './log.js';
import { state, t } from './state.js';
import { STRINGS } from './strings.js';

// Shows the notice, or hides it for an empty one.
export function showConsent(notice) {
  els.consentText.textContent = notice || '';
  els.consent.hidden = !notice;
  showHeld();
}

// Under the notice: whether a message waits, unstored, for the citizen's answer to it.
export function showHeld() {
  els.consentHeld.hidden = els.consent.hidden || !state.items.some((i) => i.state === 'held');
}

// The citizen declined: the messages held for the answer are discarded by the server.
function discardHeld() {
  for (const item of state.items) if (item.state === 'held') item.state = 'discarded';
  renderLog();
}

export function bindConsent() {
  $('consent-agree').addEventListener('click', () => {
    if (sendText(STRINGS[state.lang].commands.agree, t('consentAgree'), 'agree')) showConsent('');
  });
  $('consent-decline').addEventListener('click', () => {
    if (sendText(STRINGS[state.lang].commands.decline, t('consentDecline'), 'decline')) {
      discardHeld();
      showConsent('');
    }
  });
}
