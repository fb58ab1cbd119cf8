// The composer (#compose): the character counter, the error area, Enter to send, and sending
// a text (typed, or a command from a button) as a pending message that is transmitted once
// the connection is ready and sent again after a reconnect or when the service was
// unavailable.

import { el, els } from './dom.js';
import { addItem } from './log.js';
import { pendingMessages, queueMessage } from './outbox.js';
import { isReady, sendFrame } from './socket.js';
import { state, t } from './state.js';

const RETRY_UNAVAILABLE_MS = 10000;

let retryTimer = null;

export function charCount(text) {
  // Unicode scalar values, like the server's character count.
  let n = 0;
  for (const _ of text) n += 1; // eslint-disable-line no-unused-vars
  return n;
}

export function renderCounter() {
  const n = charCount(els.message.value);
  const over = n > state.maxChars;
  els.counter.textContent = over ? t('counterOver')(n, state.maxChars) : t('counter')(n, state.maxChars);
  els.counter.classList.toggle('over', over);
  if (over) els.message.setAttribute('aria-invalid', 'true');
  else els.message.removeAttribute('aria-invalid');
}

export function showError(text) {
  els.error.replaceChildren();
  if (text) els.error.append(el('p', null, text));
}

function transmit(entry) {
  if (isReady()) sendFrame({ type: 'message', client_id: entry.client_id, text: entry.text });
}

// Sends `raw`; a button passes its visible `label` (shown in the bubble instead of the
// command it sends) and its `action`. Returns true when the message was queued.
export function sendText(raw, label, action) {
  const text = raw.trim();
  if (text.length === 0) {
    showError(t('errEmpty'));
    return false;
  }
  const n = charCount(text);
  if (n > state.maxChars) {
    showError(t('errTooLong')(n, state.maxChars));
    return false;
  }
  showError('');
  const entry = queueMessage(text, label, action);
  addItem({ key: 'p:' + entry.client_id, clientId: entry.client_id, from: 'citizen', text: label || text,
    at: entry.at, state: 'pending', reference: null, action: action || null });
  transmit(entry);
  return true;
}

export function resendOutbox() {
  for (const entry of pendingMessages()) transmit(entry);
}

// Sends the outbox again after a while (the service was unavailable); once for many errors.
export function resendLater() {
  if (!retryTimer) {
    retryTimer = window.setTimeout(() => {
      retryTimer = null;
      resendOutbox();
    }, RETRY_UNAVAILABLE_MS);
  }
}

// Puts the text of a refused message back into the field, unless something new is typed.
export function restoreText(text) {
  if (els.message.value.trim() === '') {
    els.message.value = text;
    renderCounter();
  }
}

export function bindComposer() {
  els.compose.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (sendText(els.message.value)) {
      els.message.value = '';
      renderCounter();
    }
    els.message.focus();
  });

  els.message.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
      ev.preventDefault();
      if (typeof els.compose.requestSubmit === 'function') els.compose.requestSubmit();
      else els.compose.dispatchEvent(new Event('submit', { cancelable: true }));
    }
  });

  els.message.addEventListener('input', renderCounter);
}
