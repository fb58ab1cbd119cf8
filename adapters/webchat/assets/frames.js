// The server's frames (docs/webchat-protocol.md): the welcome with token, limits, office hours,
// privacy notice and history; a message accepted (stored), held (not stored, waiting for
// consent) or refused; an office message with choices;
// and the data export.

import { renderCounter, resendLater, resendOutbox, restoreText, showError } from './composer.js';
import { showConsent, showHeld } from './consent.js';
import { els } from './dom.js';
import { download } from './export.js';
import { addItem, findItem, renderLog, renderQuick } from './log.js';
import { acceptMessage, acceptedMessages, pendingMessages, takeMessage } from './outbox.js';
import { renderSession } from './session.js';
import { markReady } from './socket.js';
import { state } from './state.js';
import { KEY_TOKEN, store } from './storage.js';
import { STRINGS } from './strings.js';

const CLOCK_SKEW_MS = 10 * 60 * 1000;

// Whether history item `h` is the stored copy of local message `u`: same text, and not
// stored long before the browser sent it (allowing for clock skew).
function sameMessage(u, h) {
  if (u.text.trim() !== h.text.trim()) return false;
  const sent = Date.parse(u.at);
  const stored = Date.parse(h.at);
  if (Number.isNaN(sent) || Number.isNaN(stored)) return true;
  return stored >= sent - CLOCK_SKEW_MS;
}

// After a language switch the conversation shown so far stays as it was, in its order: the
// bubbles the new history does not have (commands sent with a button, office replies the
// server does not keep, such as the data overview) are kept after the bubble they followed.
function keepShown(next, shown) {
  const result = next.slice();
  const keys = new Set(result.map((i) => i.key));
  let anchor = -1;
  for (const item of shown) {
    if (keys.has(item.key)) {
      anchor = result.findIndex((i) => i.key === item.key);
      continue;
    }
    if (item.state === 'failed') continue;
    result.splice(anchor + 1, 0, item);
    anchor += 1;
    keys.add(item.key);
  }
  return result;
}

function onWelcome(f) {
  if (typeof f.token === 'string' && f.token) store.set(KEY_TOKEN, f.token);
  if (Number.isInteger(f.max_chars) && f.max_chars > 0) state.maxChars = f.max_chars;
  if (typeof f.time_zone === 'string' && f.time_zone) state.timeZone = f.time_zone;
  state.subscribed = f.subscribed === true;
  state.session = f.session && typeof f.session === 'object' ? Object.assign({ lang: f.lang }, f.session) : null;
  const greeting = typeof f.greeting === 'string' ? f.greeting : '';
  els.greeting.textContent = greeting;
  els.greeting.hidden = greeting === '';

  // History replaces the log; local messages are matched to their stored copy
  // (same text, in order) so that their bubbles stay where they are.
  const history = Array.isArray(f.history) ? f.history : [];
  const next = [];
  const { shownOffice } = state;
  shownOffice.clear();
  const unmatched = [
    ...Array.from(acceptedMessages().entries()).map(([clientId, a]) => ({ clientId, text: a.text, label: a.label, at: a.at, reference: a.reference, pending: false })),
    ...pendingMessages().map((e) => ({ clientId: e.client_id, text: e.text, label: e.label, action: e.action, at: e.at, pending: true })),
  ];
  for (const h of history) {
    if (!h || typeof h.text !== 'string') continue;
    if (h.from === 'office') {
      const id = String(h.id);
      if (shownOffice.has(id)) continue;
      shownOffice.add(id);
      next.push({ key: 'o:' + id, id, from: 'office', text: h.text, at: h.at, state: null, reference: null });
    } else {
      const idx = unmatched.findIndex((u) => u.clientId === h.id || sameMessage(u, h));
      if (idx >= 0) {
        const u = unmatched.splice(idx, 1)[0];
        next.push({ key: 'p:' + u.clientId, clientId: u.clientId, id: h.id, from: 'citizen', text: h.text, at: h.at,
          state: u.pending ? 'pending' : 'sent', reference: u.reference || null });
      } else {
        next.push({ key: 'c:' + h.id, id: h.id, from: 'citizen', text: h.text, at: h.at, state: null, reference: null });
      }
    }
  }
  for (const u of unmatched) {
    if (!u.pending) continue;
    next.push({ key: 'p:' + u.clientId, clientId: u.clientId, from: 'citizen', text: u.label || u.text, at: u.at,
      state: 'pending', reference: null, action: u.action || null });
  }
  if (state.keepLocal) {
    state.keepLocal = false;
    state.items = keepShown(next, state.items);
  } else {
    // A held message is in no history (it is not stored); while the notice is open the
    // server still holds it, so its bubble stays.
    if (typeof f.privacy_notice === 'string' && f.privacy_notice) {
      for (const held of state.items) if (held.state === 'held') next.push(held);
    }
    state.items = next;
  }
  renderQuick();
  showConsent(typeof f.privacy_notice === 'string' ? f.privacy_notice : '');
  renderSession();
  renderCounter();
  renderLog();

  markReady();
  resendOutbox();
}

function onAccepted(f) {
  const clientId = String(f.client_id);
  const reference = typeof f.reference === 'string' ? f.reference : null;
  acceptMessage(clientId, reference);
  const item = findItem('p:' + clientId);
  if (item) {
    item.state = 'sent';
    // An agreement's reference is the held question's, shown on that question's bubble.
    item.reference = item.action === 'agree' ? null : reference;
  }
  if (typeof f.subscribed === 'boolean') {
    state.subscribed = f.subscribed;
    renderQuick();
  }
  // Agreeing takes in what was held (the question, a subscription): the agreement's
  // `accepted` carries the held question's reference.
  if (reference || (item && item.action === 'agree')) {
    for (const held of state.items) {
      if (held.state !== 'held') continue;
      held.state = 'sent';
      held.reference = held.action ? null : reference;
      // Stored now: the history will have it, and its bubble is matched to it.
      if (held.clientId) acceptedMessages().set(held.clientId, { text: held.text, at: held.at, reference: held.reference });
    }
  }
  showHeld();
  renderLog();
}

// Sent before the citizen agreed: not stored, only held in the server's memory until the
// citizen answers the privacy notice. It leaves the resend outbox (the server has it).
function onHeld(f) {
  const clientId = String(f.client_id);
  takeMessage(clientId);
  const item = findItem('p:' + clientId);
  if (item) item.state = 'held';
  showHeld();
  renderLog();
}

function onMessage(f) {
  if (typeof f.text !== 'string') return;
  const id = String(f.id);
  if (state.shownOffice.has(id)) return;
  state.shownOffice.add(id);
  const choices = Array.isArray(f.choices)
    ? f.choices.filter((c) => c && typeof c.label === 'string' && typeof c.command === 'string')
    : [];
  addItem({ key: 'o:' + id, id, from: 'office', text: f.text, at: f.at, state: null, reference: null, choices });
}

function onError(f) {
  const code = typeof f.code === 'string' ? f.code : 'bad_request';
  const errors = STRINGS[state.lang].errors;
  const text = (typeof f.message === 'string' && f.message) || errors[code] || errors.bad_request;
  showError(text);
  if (typeof f.client_id !== 'string') return;
  const clientId = f.client_id;
  const item = findItem('p:' + clientId);
  if (code === 'unavailable') {
    // Nothing stored, but the message is fine: keep it and try again.
    if (item) item.state = 'retry';
    renderLog();
    resendLater();
    return;
  }
  const entry = takeMessage(clientId);
  if (entry) restoreText(entry.text);
  if (item) {
    item.state = 'failed';
    renderLog();
  }
}

// Handles one text frame from the server; anything that is not a known frame is ignored.
export function handleFrame(data) {
  let f;
  try {
    f = JSON.parse(data);
  } catch (_) {
    return;
  }
  if (!f || typeof f !== 'object') return;
  switch (f.type) {
    case 'welcome': onWelcome(f); break;
    case 'accepted': onAccepted(f); break;
    case 'held': onHeld(f); break;
    case 'message': onMessage(f); break;
    case 'error': onError(f); break;
    case 'export': download(f.data); break;
    default: break;
  }
}
