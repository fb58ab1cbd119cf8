// The page's language (German or English): applying it to every text on the page, and the
// switch button, which remembers the choice and reconnects so that the server answers in it.

import { renderCounter } from './composer.js';
import { els } from './dom.js';
import { renderLog, renderQuick } from './log.js';
import { renderSession } from './session.js';
import { hasSocket, reconnectNow, renderConnection } from './socket.js';
import { state, t } from './state.js';
import { KEY_LANG, store } from './storage.js';
import { STRINGS } from './strings.js';

export function applyLanguage() {
  const { lang } = state;
  document.documentElement.lang = lang;
  document.title = t('docTitle');
  for (const node of document.querySelectorAll('[data-i18n]')) {
    const value = STRINGS[lang][node.dataset.i18n];
    if (typeof value === 'string') node.textContent = value;
  }
  renderQuick();
  els.langSwitch.textContent = t('langSwitch');
  els.langSwitch.lang = t('langSwitchLang');
  renderConnection();
  renderCounter();
  renderSession();
  renderLog();
}

export function bindLanguageSwitch() {
  els.langSwitch.addEventListener('click', () => {
    state.lang = state.lang === 'de' ? 'en' : 'de';
    store.set(KEY_LANG, state.lang);
    applyLanguage();
    // The server answers in the new language after a new hello; the conversation shown so
    // far stays as it is, in its order.
    if (hasSocket()) {
      state.keepLocal = true;
      reconnectNow();
    }
  });
}
