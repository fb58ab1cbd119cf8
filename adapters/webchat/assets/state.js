// What the page shows, shared by the modules: the language, the server's limits, the office
// hours and the conversation. One shared object, so that every module sees the same state
// (imported bindings cannot be assigned to).

import { KEY_LANG, store } from './storage.js';
import { STRINGS } from './strings.js';

export const state = {
  lang: store.get(KEY_LANG) === 'en' ? 'en' : 'de',
  maxChars: 2000,
  session: undefined, // undefined: not known yet; null: none
  // Conversation model, in display order. Items:
  // { key, from: 'citizen'|'office', text, at, state: null|'pending'|'retry'|'failed'|'sent', reference }
  items: [],
  // Ids of the office messages in `items`, so that a message delivered twice is shown once.
  shownOffice: new Set(),
};

// The text `key` in the current language.
export function t(key) {
  return STRINGS[state.lang][key];
}
