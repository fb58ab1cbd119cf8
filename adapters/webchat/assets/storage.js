// What the page keeps in the browser: the conversation token, the chosen language and the
// messages not yet accepted by the server. localStorage may be unavailable (e.g. in some
// private modes); then the values live in memory for as long as the page is open.

export const KEY_TOKEN = 'sprechstunde.token';
export const KEY_LANG = 'sprechstunde.lang';
export const KEY_OUTBOX = 'sprechstunde.outbox';

const memoryStore = new Map();

export const store = {
  get(key) {
    try {
      return window.localStorage.getItem(key);
    } catch (_) {
      return memoryStore.has(key) ? memoryStore.get(key) : null;
    }
  },
  set(key, value) {
    try {
      window.localStorage.setItem(key, value);
    } catch (_) {
      memoryStore.set(key, value);
    }
  },
};
