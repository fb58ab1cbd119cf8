// The JSON API client (docs/api.md): fetch with the login cookie and the CSRF header, errors
// as ApiError with a German explanation per status, and a hook for an expired login.

import { state } from './state.js';

export const API = '/api/v1';

export const ERROR_TEXT = {
  0: 'Der Server ist nicht erreichbar. Bitte prüfen Sie die Verbindung und versuchen Sie es erneut.',
  400: 'Die Anfrage war fehlerhaft.',
  401: 'Ihre Anmeldung ist abgelaufen. Bitte melden Sie sich erneut an.',
  403: 'Dafür fehlt Ihnen die Berechtigung.',
  404: 'Der Eintrag wurde nicht gefunden.',
  409: 'Die Aktion ist im aktuellen Zustand nicht möglich.',
  413: 'Der Text ist zu lang.',
  422: 'Bitte prüfen Sie Ihre Eingaben.',
  429: 'Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie einige Minuten und versuchen Sie es dann erneut.',
  503: 'Der Dienst ist vorübergehend nicht verfügbar. Bitte versuchen Sie es später erneut.',
};

export class ApiError extends Error {
  constructor(status, code, serverMessage, data) {
    super(serverMessage || ERROR_TEXT[status] || `Fehler ${status}`);
    this.status = status;
    this.code = code || null;
    this.serverMessage = serverMessage || '';
    this.data = data || null;
  }
}

// Set by the login module: what to do when the server says the login has ended. A hook
// rather than an import, so that the API client depends on nothing above it.
let expired = () => {};

export function onLoginExpired(handler) {
  expired = handler;
}

export function loginExpired() {
  expired();
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    if (state.auth && state.auth.csrf) headers['X-CSRF-Token'] = state.auth.csrf;
    if (body !== undefined) init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(API + path, init);
  } catch (_) {
    throw new ApiError(0, 'network', '');
  }
  let data = null;
  if (res.status !== 204) {
    const text = await res.text().catch(() => '');
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (_) {
        data = null;
      }
    }
  }
  if (!res.ok) {
    const code = data && typeof data.error === 'string' ? data.error : null;
    const message = data && typeof data.message === 'string' ? data.message : '';
    const err = new ApiError(res.status, code, message, data);
    if (res.status === 401 && path !== '/login' && path !== '/me' && path !== '/logout') {
      loginExpired();
    }
    throw err;
  }
  return data;
}
