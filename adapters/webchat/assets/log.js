// The conversation log (#log): the message bubbles with sender, time and delivery state, and
// the choice buttons under an office message. Rendering reconciles the log with
// `state.items`, reusing nodes.

import { el, els } from './dom.js';
import { formatTime } from './format.js';
import { state, t } from './state.js';
import { STRINGS } from './strings.js';

// What a choice button does with its command; main.js makes it send the command.
let choose = () => {};

export function onChoice(handler) {
  choose = handler;
}

// What a choice's command does for the page ('agree', 'subscribe', …), or null.
function choiceAction(command) {
  for (const lang of Object.keys(STRINGS)) {
    for (const [action, cmd] of Object.entries(STRINGS[lang].commands)) {
      if (cmd === command) return action;
    }
  }
  return null;
}

function stateText(item) {
  switch (item.state) {
    case 'pending': return t('statePending');
    case 'retry': return t('stateRetry');
    case 'failed': return t('stateFailed');
    case 'held': return t('stateHeld');
    case 'discarded': return t('stateDiscarded');
    case 'sent': return item.reference ? t('stateRef')(item.reference) : '';
    default: return item.reference ? t('stateRef')(item.reference) : '';
  }
}

function signature(item) {
  const choices = (item.choices || []).map((c) => c.command).join('\u0001');
  return [state.lang, item.from, item.text, item.at, item.state || '', item.reference || '', choices].join('\u0000');
}

function fillMsg(node, item) {
  node.className = 'msg ' + (item.from === 'office' ? 'office' : 'citizen');
  if (item.state === 'pending' || item.state === 'retry') node.classList.add('pending');
  if (item.state === 'failed') node.classList.add('failed');
  if (item.state === 'held' || item.state === 'discarded') node.classList.add('held');
  node.dataset.key = item.key;
  if (item.clientId) node.dataset.clientId = item.clientId;
  if (item.id) node.dataset.id = item.id;
  if (item.reference) node.dataset.reference = item.reference;
  else delete node.dataset.reference;
  const sig = signature(item);
  if (node.dataset.sig === sig) return;
  node.dataset.sig = sig;
  const meta = el('p', 'msg-meta');
  meta.append(el('span', 'msg-from', item.from === 'office' ? t('fromOffice') : t('fromCitizen')));
  const time = el('time', 'msg-time', formatTime(item.at));
  time.dateTime = item.at || '';
  meta.append(' ', time);
  const st = stateText(item);
  if (st) {
    const cls = item.state === 'failed' ? 'msg-state msg-failed'
      : (item.state === 'pending' || item.state === 'retry') ? 'msg-state' : 'msg-state msg-ref';
    meta.append(' ', el('span', cls, st));
  }
  const text = el('p', 'msg-text', item.text);
  const parts = [meta, text];
  if (item.choices && item.choices.length > 0) {
    const row = el('div', 'msg-choices');
    for (const c of item.choices) {
      const b = el('button', 'button-secondary', c.label);
      b.type = 'button';
      b.addEventListener('click', () => choose(c.command, c.label, choiceAction(c.command)));
      row.append(b);
    }
    parts.push(row);
  }
  node.replaceChildren(...parts);
}

// Reconciles #log with `state.items`, reusing nodes so that a screen reader does not
// re-announce the whole conversation after a reconnect.
export function renderLog() {
  const log = els.log;
  const existing = new Map();
  for (const node of Array.from(log.children)) existing.set(node.dataset.key, node);
  const wanted = state.items.map((item) => {
    let node = existing.get(item.key);
    if (node) existing.delete(item.key);
    else node = document.createElement('div');
    fillMsg(node, item);
    return node;
  });
  for (const node of existing.values()) node.remove();
  // An empty log takes no room (no empty box on first load) and no keyboard stop.
  if (state.items.length > 0) log.tabIndex = 0;
  else log.removeAttribute('tabindex');
  let stickToBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  let added = false;
  wanted.forEach((node, i) => {
    if (log.children[i] !== node) {
      log.insertBefore(node, log.children[i] || null);
      added = true;
    }
  });
  if (added) stickToBottom = true;
  if (stickToBottom) log.scrollTop = log.scrollHeight;
}

// Offers to subscribe or to unsubscribe, whichever fits.
export function renderQuick() {
  document.getElementById('quick-subscribe-item').hidden = state.subscribed;
  document.getElementById('quick-unsubscribe-item').hidden = !state.subscribed;
}

export function addItem(item) {
  state.items.push(item);
  renderLog();
}

export function findItem(key) {
  return state.items.find((i) => i.key === key);
}
