// Staff console of sprechstunde: the entry module, loaded by index.html as
// `<script type="module">`. Wires every view's controls, follows the hash, and checks the
// login. Uses only the JSON API in docs/api.md; plain ES modules, no build step, no
// dependencies. Untrusted text is only ever inserted with textContent (dom.js).

import { wireAudit } from './audit.js';
import { wireDepartments } from './departments.js';
import { wireLive } from './live.js';
import { checkMe, wireLogin } from './login.js';
import { wireQuestion } from './question.js';
import { wireQueue } from './queue.js';
import { route } from './router.js';
import { wireSessions } from './sessions.js';
import { wireShortcuts } from './shortcuts.js';
import { wireSummary } from './summary.js';

function init() {
  wireLogin();
  wireQueue();
  wireQuestion();
  wireSessions();
  wireAudit();
  wireShortcuts();
  wireDepartments();
  wireLive();
  wireSummary();
  window.addEventListener('hashchange', () => route(true));
  checkMe();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
