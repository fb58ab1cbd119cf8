// The citizen's messages not yet accepted by the server (kept in the browser, so that they
// survive a reload and are sent again after a reconnect), each with a random client_id that
// makes a resend idempotent; and the messages accepted since the page was opened.

import { KEY_OUTBOX, store } from './storage.js';

let outbox = loadOutbox();
// Messages sent from this page that were accepted (client_id -> { text, at, reference }), used
// to keep their bubbles stable when the history comes back after a reconnect.
const acceptedLocal = new Map();

function loadOutbox() {
  try {
    const raw = JSON.parse(store.get(KEY_OUTBOX) || '[]');
    if (!Array.isArray(raw)) return [];
    return raw.filter((e) => e && typeof e.client_id === 'string' && e.client_id.length > 0 &&
      e.client_id.length <= 64 && typeof e.text === 'string')
      .map((e) => ({ client_id: e.client_id, text: e.text, at: typeof e.at === 'string' ? e.at : new Date().toISOString(),
        label: typeof e.label === 'string' ? e.label : undefined, action: typeof e.action === 'string' ? e.action : undefined }));
  } catch (_) {
    return [];
  }
}

function saveOutbox() {
  store.set(KEY_OUTBOX, JSON.stringify(outbox));
}

function newClientId() {
  const c = window.crypto;
  if (c && typeof c.randomUUID === 'function') {
    try {
      return c.randomUUID();
    } catch (_) { /* not a secure context */ }
  }
  if (c && typeof c.getRandomValues === 'function') {
    const bytes = new Uint8Array(16);
    c.getRandomValues(bytes);
    return 'm-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }
  return 'm-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
}

// The messages waiting for the server's acceptance, oldest first: { client_id, text, at,
// label, action } (label and action for a button's command).
export function pendingMessages() {
  return outbox;
}

// The messages accepted since the page was opened: client_id -> { text, label, at, reference }.
export function acceptedMessages() {
  return acceptedLocal;
}

// Keeps a new message until the server accepts it; returns its entry.
export function queueMessage(text, label, action) {
  const entry = { client_id: newClientId(), text, at: new Date().toISOString(), label, action };
  outbox.push(entry);
  saveOutbox();
  return entry;
}

// Drops a message from the outbox; returns its entry, if it was there.
export function takeMessage(clientId) {
  const entry = outbox.find((e) => e.client_id === clientId);
  if (entry) {
    outbox = outbox.filter((e) => e.client_id !== clientId);
    saveOutbox();
  }
  return entry;
}

// The server stored the message: it leaves the outbox and is remembered as accepted.
export function acceptMessage(clientId, reference) {
  const entry = takeMessage(clientId);
  if (entry) acceptedLocal.set(clientId, { text: entry.text, label: entry.label, at: entry.at, reference });
}
