// The WebSocket to `/ws` (docs/webchat-protocol.md): connecting with the stored token and the
// page's language, reconnecting with backoff, sending frames, and the connection status line
// (#connection). Incoming frames go to the handler set with `onFrame` (frames.js).

import { els } from './dom.js';
import { state, t } from './state.js';
import { KEY_TOKEN, store } from './storage.js';

const BACKOFF_START_MS = 1000;
const BACKOFF_MAX_MS = 30000;

let ws = null;
let ready = false; // welcome received on the current socket
let connState = 'connecting';
let backoff = BACKOFF_START_MS;
let reconnectTimer = null;
let handleFrame = () => {};

// Sets what is done with each text frame from the server.
export function onFrame(handler) {
  handleFrame = handler;
}

export function renderConnection() {
  const text = connState === 'connected' ? t('connConnected')
    : connState === 'reconnecting' ? t('connReconnecting') : t('connConnecting');
  els.connection.dataset.state = connState;
  els.connection.classList.toggle('online', connState === 'connected');
  els.connection.classList.toggle('offline', connState !== 'connected');
  if (els.connection.textContent !== text) els.connection.textContent = text;
}

function setConnState(s) {
  connState = s;
  renderConnection();
}

// Whether the welcome has arrived on the current socket, so that messages may be sent.
export function isReady() {
  return ready;
}

// Whether a socket is open or opening.
export function hasSocket() {
  return ws !== null;
}

// Called when the welcome arrived: the conversation is usable.
export function markReady() {
  ready = true;
  backoff = BACKOFF_START_MS;
  setConnState('connected');
}

export function sendFrame(frame) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  try {
    ws.send(JSON.stringify(frame));
    return true;
  } catch (_) {
    return false;
  }
}

function socketUrl() {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}/ws`;
}

function scheduleReconnect(delay) {
  if (reconnectTimer) return;
  const wait = delay === undefined ? backoff : delay;
  if (delay === undefined) backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
  reconnectTimer = window.setTimeout(() => {
    reconnectTimer = null;
    connect();
  }, wait);
}

export function connect() {
  if (reconnectTimer) {
    window.clearTimeout(reconnectTimer);
    reconnectTimer = null;
  }
  ready = false;
  let sock;
  try {
    sock = new WebSocket(socketUrl());
  } catch (_) {
    setConnState('reconnecting');
    scheduleReconnect();
    return;
  }
  ws = sock;
  sock.addEventListener('open', () => {
    if (ws !== sock) return;
    const token = store.get(KEY_TOKEN);
    sendFrame({ type: 'hello', token: token || null, lang: state.lang });
  });
  sock.addEventListener('message', (ev) => {
    if (ws !== sock) return;
    if (typeof ev.data === 'string') handleFrame(ev.data);
  });
  sock.addEventListener('close', () => {
    if (ws !== sock) return;
    ws = null;
    ready = false;
    setConnState('reconnecting');
    scheduleReconnect();
  });
}

// Closes the current socket and connects again at once (e.g. after a language switch,
// so that the server answers in the new language).
export function reconnectNow() {
  const old = ws;
  ws = null;
  ready = false;
  if (old) {
    try {
      old.close(1000);
    } catch (_) { /* ignore */ }
  }
  backoff = BACKOFF_START_MS;
  connect();
}

// When the browser is back online without a socket, connects at once instead of waiting out
// the backoff.
export function connectIfOffline() {
  if (!ws) {
    backoff = BACKOFF_START_MS;
    connect();
  }
}
