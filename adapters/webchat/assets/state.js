// What the page shows, shared by the modules: the language, the server's limits, the office
// hours and the conversation. One shared object, so that every module sees the same state
// (imported bindings cannot be assigned to).

import { KEY_LANG, store } from './storage.js';
import { STRINGS } from './strings.js';

export const state = {
  lang: store.get(KEY_LANG) === 'en' ? 'en' : 'de',
  maxChars: 2000,
  session: undefined, // undefined: not known yet; null: none
  // Whether the citizen subscribed to announcements (from the server): the quick actions
  // offer to subscribe or to unsubscribe, whichever fits.
  subscribed: false,
  // The office's time zone (from the welcome): message times are shown in it, as the texts.
  timeZone: 'Europe/Berlin',
  // Set by the language switch: the next welcome keeps the bubbles shown so far in place
  // (commands, and office replies that are not kept on the server) instead of rebuilding.
  keepLocal: false,
  // Conversation model, in display order. Items:
  // { key, from: 'citizen'|'office', text (as shown: a button's label, not its command),
  //   at, state: null|'pending'|'retry'|'failed'|'sent'|'held'|'discarded', reference,
  //   action (the button's action, e.g. 'agree'), choices }
  items: [],
  // Ids of the office messages in `items`, so that a message delivered twice is shown once.
  shownOffice: new Set(),
};

// The text `key` in the current language.
export function t(key) {
  return STRINGS[state.lang][key];
}
