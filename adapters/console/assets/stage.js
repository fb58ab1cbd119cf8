// The stage view: shows the session's title and the question answered now, and follows
// the server's event stream. A revoked link turns the page into a notice.

const secret = document.getElementById('stage').dataset.secret;
const base = `/buehne/${encodeURIComponent(secret)}`;
const question = document.getElementById('stage-question');
const title = document.getElementById('stage-title');
let seq = 0;

function show(text, idle) {
  question.textContent = text;
  question.classList.toggle('is-idle', idle);
}

async function refresh() {
  const mine = ++seq;
  let response;
  try {
    response = await fetch(`${base}/now`, { cache: 'no-store' });
  } catch {
    return; // offline for a moment: the event stream reconnects and calls again
  }
  if (mine !== seq) return;
  if (response.status === 404) {
    revoked();
    return;
  }
  if (!response.ok) return;
  const now = await response.json();
  if (mine !== seq) return;
  title.textContent = now.title || 'Sprechstunde';
  document.title = `${now.title || 'Sprechstunde'} – Bühne`;
  if (now.text) show(now.text, false);
  else show('Gleich geht es mit der nächsten Frage weiter.', true);
}

let events = null;
function revoked() {
  if (events) events.close();
  events = null;
  title.textContent = 'Sprechstunde';
  show('Dieser Link ist nicht mehr gültig.', true);
  document.getElementById('stage').dataset.revoked = 'true';
}

function listen() {
  events = new EventSource(`${base}/events`);
  events.addEventListener('changed', refresh);
  // After a reconnect something may have changed unseen; a 404 there means revoked.
  events.addEventListener('open', refresh);
  events.addEventListener('error', () => {
    refresh();
  });
}

listen();
refresh();
