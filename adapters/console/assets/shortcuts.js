// Keyboard shortcuts: j/k move through the queue, / searches, a/r/n go to the answer box, the
// department select and the note box, ? shows the help; Enter in a select presses its button,
// Ctrl+Enter (Cmd+Enter) in a text box sends its form.

import { $ } from './dom.js';
import { moveSelection, selectedReference } from './queue.js';
import { state } from './state.js';

const SHORTCUT_FIELDS = { a: 'answer-text', r: 'route-department', n: 'note-text' };

// Enter in a select presses its button; Ctrl+Enter (Cmd+Enter) in a text box sends its form.
function wireKeyboardActions() {
  for (const [select, button] of [['route-department', 'route-submit'], ['assign-staff', 'assign-submit']]) {
    $(select).addEventListener('keydown', (ev) => {
      if (ev.key !== 'Enter' || ev.ctrlKey || ev.metaKey || ev.altKey || ev.shiftKey) return;
      ev.preventDefault();
      $(button).click();
    });
  }
  for (const [box, form] of [['answer-text', 'answer-form'], ['note-text', 'note-form'], ['live-answer-text', 'live-answer-form']]) {
    $(box).addEventListener('keydown', (ev) => {
      if (ev.key !== 'Enter' || !(ev.ctrlKey || ev.metaKey)) return;
      ev.preventDefault();
      $(form).requestSubmit();
    });
  }
}

function onShortcut(ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || !state.auth) return;
  const t = ev.target;
  const typing = t instanceof HTMLElement
    && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
  if (typing) return;
  const focusField = (id) => {
    const f = $(id);
    if (f && !f.closest('[hidden]')) {
      ev.preventDefault();
      f.focus();
    }
  };
  switch (ev.key) {
    case 'j':
    case 'k':
      if (state.view === 'queue') {
        ev.preventDefault();
        moveSelection(ev.key === 'j' ? 1 : -1);
      }
      break;
    case '/':
      if (state.view !== 'queue') window.location.hash = '#/queue';
      ev.preventDefault();
      $('filter-q').focus();
      break;
    case 'a':
    case 'r':
    case 'n': {
      // a: answer box, r: department select (Enter routes), n: note box; from the queue
      // they open the selected question first.
      const field = SHORTCUT_FIELDS[ev.key];
      if (state.view === 'question') {
        focusField(field);
      } else if (state.view === 'queue') {
        const reference = selectedReference();
        if (reference !== null) {
          ev.preventDefault();
          state.pendingFocus = field;
          window.location.hash = `#/questions/${encodeURIComponent(reference)}`;
        }
      }
      break;
    }
    case '?': {
      const dialog = $('shortcut-help');
      ev.preventDefault();
      if (dialog.open) dialog.close();
      else dialog.showModal();
      break;
    }
    default:
      break;
  }
}

export function wireShortcuts() {
  document.addEventListener('keydown', onShortcut);
  wireKeyboardActions();
}
