// Element helpers and the page's fixed elements. Untrusted text (messages, session titles,
// server errors) is only ever inserted with textContent, never as HTML: `el` takes text.

export const $ = (id) => document.getElementById(id);

// The page's fixed elements, looked up once by `bindElements` at start.
export const els = {};

export function bindElements() {
  els.langSwitch = $('lang-switch');
  els.connection = $('connection');
  els.sessionHeading = $('session-heading');
  els.sessionBody = $('session-body');
  els.greeting = $('greeting');
  els.log = $('log');
  els.compose = $('compose');
  els.message = $('message');
  els.counter = $('counter');
  els.error = $('error');
  els.consent = $('consent');
  els.consentText = $('consent-text');
  els.consentHeld = $('consent-held');
}

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}
