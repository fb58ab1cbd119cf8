// Citizen web chat of sprechstunde: the entry module, loaded by index.html as
// `<script type="module">`. Wires the page's controls, shows the messages still pending from
// an earlier visit and connects. Protocol: docs/webchat-protocol.md. Plain ES modules, no
// build step, no dependencies. Untrusted text is only ever inserted with textContent (dom.js).

import { bindComposer, sendText } from './composer.js';
import { bindConsent } from './consent.js';
import { bindElements } from './dom.js';
import { bindExport } from './export.js';
import { handleFrame } from './frames.js';
import { applyLanguage, bindLanguageSwitch } from './language.js';
import { onChoice } from './log.js';
import { pendingMessages } from './outbox.js';
import { connect, connectIfOffline, onFrame } from './socket.js';
import { state } from './state.js';
import { STRINGS } from './strings.js';

function init() {
  bindElements();
  onChoice(sendText);
  onFrame(handleFrame);
  bindConsent();
  bindExport();
  bindComposer();

  // A quick action sends its command; the bubble shows the button's label.
  for (const button of document.querySelectorAll('.quick-action')) {
    button.addEventListener('click', () => {
      const action = button.dataset.command;
      const command = STRINGS[state.lang].commands[action];
      if (command) sendText(command, button.textContent.trim(), action);
    });
  }

  bindLanguageSwitch();
  window.addEventListener('online', connectIfOffline);

  // Local pending messages from an earlier visit are shown until the welcome arrives.
  state.items = pendingMessages().map((e) => ({ key: 'p:' + e.client_id, clientId: e.client_id, from: 'citizen',
    text: e.label || e.text, at: e.at, state: 'pending', reference: null, action: e.action || null }));
  applyLanguage();
  connect();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
