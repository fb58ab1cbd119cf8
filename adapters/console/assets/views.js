// Switching between the console's views: one section per view, the heading, the document
// title, the navigation's current link, and the login form.

import { $, clearArea, showError } from './dom.js';
import { VIEW_TITLES } from './labels.js';
import { state } from './state.js';

const VIEWS = ['login', 'queue', 'question', 'sessions', 'live', 'summary', 'stats', 'departments', 'audit'];

export function setTitle(text) {
  $('view-title').textContent = text;
  document.title = `${text} – Mitarbeiterkonsole`;
}

export function showView(name) {
  state.view = name;
  $('loading').hidden = true;
  for (const v of VIEWS) $(`${v}-view`).hidden = v !== name;
  const loggedIn = name !== 'login';
  $('nav').hidden = !loggedIn;
  $('user').hidden = !loggedIn;
  setTitle(VIEW_TITLES[name]);
  const links = {
    queue: $('nav-queue'),
    sessions: $('nav-sessions'),
    stats: $('nav-stats'),
    departments: $('nav-departments'),
    audit: $('nav-audit'),
  };
  for (const [key, link] of Object.entries(links)) {
    if (key === name || (key === 'queue' && name === 'question')) {
      if (key === name) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
      link.classList.add('active');
    } else {
      link.removeAttribute('aria-current');
      link.classList.remove('active');
    }
  }
}

export function showLogin(message) {
  showView('login');
  const area = $('login-error');
  if (message) showError(area, message);
  else clearArea(area);
}
