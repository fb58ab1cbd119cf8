// Logging in and out: the login form, the check of an existing login at start, and what
// happens when the server says the login has ended.

import { ERROR_TEXT, api, onLoginExpired } from './api.js';
import { loadDepartments } from './departments.js';
import { $, clearArea, showError } from './dom.js';
import { startEvents, stopEvents } from './events.js';
import { loadSessionFilter } from './filters.js';
import { staffName } from './format.js';
import { renderDetail } from './question.js';
import { route } from './router.js';
import { auditOnly, mayViewAudit, state } from './state.js';
import { showLogin } from './views.js';

// The member's own notification mails (on unless switched off; none without an address,
// which an administrator sets).
function showNotifications(notifications) {
  const box = $('notify-mail');
  const n = notifications || { notify: true, email: false };
  box.checked = Boolean(n.notify);
  box.disabled = !n.email;
  $('notify-mail-status').textContent = n.email ? '' : 'Für Sie ist keine E-Mail-Adresse hinterlegt.';
}

async function onNotifyChange() {
  const box = $('notify-mail');
  const status = $('notify-mail-status');
  box.disabled = true;
  try {
    const result = await api('PUT', '/me/notifications', { notify: box.checked });
    showNotifications(result);
    status.textContent = result.notify
      ? 'Sie erhalten wieder Benachrichtigungen per E-Mail.'
      : 'Sie erhalten keine Benachrichtigungen per E-Mail mehr.';
  } catch (err) {
    box.checked = !box.checked;
    box.disabled = false;
    showError(status, err);
  }
}

function setLoggedIn(data) {
  state.auth = { staff: data && data.staff ? data.staff : {}, csrf: data && typeof data.csrf === 'string' ? data.csrf : null };
  $('staff-name').textContent = staffName(state.auth.staff) || '–';
  showNotifications(data && data.notifications);
  $('nav-audit-item').hidden = !mayViewAudit();
  for (const id of ['nav-queue', 'nav-sessions', 'nav-stats', 'nav-departments']) $(id).parentElement.hidden = auditOnly();
  if (!auditOnly()) {
    startEvents();
    loadSessionFilter();
    loadDepartments().then(() => {
      if (state.detail && state.view === 'question') renderDetail(state.detail);
    });
  }
}

function logoutLocal() {
  state.auth = null;
  state.ref = null;
  state.detail = null;
  stopEvents();
  $('password').value = '';
}

function sessionExpired() {
  if (!state.auth) return;
  logoutLocal();
  showLogin(ERROR_TEXT[401]);
}

// Single sign-on (docs/operations.md): the server says whether it is set up and whether the
// password login stays. A console that cannot ask keeps the password form.
const signOn = { sso: false, password_login: true };

async function loadSignOn() {
  try {
    const res = await fetch('/staff/oidc/config', { credentials: 'same-origin' });
    if (res.ok) Object.assign(signOn, await res.json());
  } catch (_) { /* keep the defaults */ }
  $('sso').hidden = !signOn.sso;
  $('login-form').hidden = !signOn.password_login;
}

// At start: is there a login (cookie) already?
export async function checkMe() {
  await loadSignOn();
  try {
    const data = await api('GET', '/me');
    setLoggedIn(data);
    route(false);
  } catch (err) {
    if (err.status === 401 || err.status === 403 || err.status === 404) showLogin();
    else {
      showLogin();
      showError($('login-error'), err);
    }
  }
}

async function onLogin(ev) {
  ev.preventDefault();
  const loginInput = $('login');
  const passwordInput = $('password');
  const area = $('login-error');
  const login = loginInput.value.trim();
  const password = passwordInput.value;
  loginInput.removeAttribute('aria-invalid');
  passwordInput.removeAttribute('aria-invalid');
  if (!login || !password) {
    if (!login) loginInput.setAttribute('aria-invalid', 'true');
    if (!password) passwordInput.setAttribute('aria-invalid', 'true');
    showError(area, 'Bitte geben Sie Benutzername und Passwort ein.');
    (login ? passwordInput : loginInput).focus();
    return;
  }
  const button = $('login-submit');
  button.disabled = true;
  try {
    const data = await api('POST', '/login', { login, password });
    clearArea(area);
    passwordInput.value = '';
    setLoggedIn(data);
    route(true);
  } catch (err) {
    showError(area, err, { 401: 'Benutzername oder Passwort ist falsch.', 403: 'Diese Anmeldung ist nicht zulässig.' });
    passwordInput.focus();
  } finally {
    button.disabled = false;
  }
}

async function onLogout() {
  try {
    await api('POST', '/logout');
  } catch (_) { /* the local state is dropped anyway */ }
  logoutLocal();
  // A login through the identity provider ends there too (RP-initiated logout); the server
  // sends the browser back to the console.
  if (signOn.sso) {
    window.location.assign('/staff/oidc/logout');
    return;
  }
  showLogin();
  $('view-title').focus();
}

// Ends the member's other console logins (other browsers, a forgotten office PC); this one
// stays. API tokens are not affected.
async function onLogoutEverywhere() {
  const status = $('logout-everywhere-status');
  try {
    const result = await api('POST', '/logout/everywhere');
    const ended = result && Number.isInteger(result.ended) ? result.ended : 0;
    status.textContent = `${ended} andere Anmeldung(en) beendet.`;
  } catch (err) {
    showError(status, err);
  }
}

export function wireLogin() {
  onLoginExpired(sessionExpired);
  $('login-form').addEventListener('submit', onLogin);
  $('logout').addEventListener('click', onLogout);
  $('logout-everywhere').addEventListener('click', onLogoutEverywhere);
  $('notify-mail').addEventListener('change', onNotifyChange);
}
