// A modal confirmation built on <dialog>: it traps focus, Escape cancels,
// and the page behind it is inert. Destructive actions (delete, rename,
// bulk delete, destroying a group) ask through it first.
import { h } from './dom.js';

/**
 * Resolves to true when the user confirms. `details` are extra lines
 * (a key name, a count); `danger` colours the confirm button.
 */
export function confirmDialog({ title, message, details = [], confirm = 'OK', danger = false }) {
  const ok = h(`button.confirm${danger ? '.danger' : ''}`, { type: 'submit', value: 'ok', textContent: confirm });
  const cancel = h('button.cancel', { type: 'submit', value: 'cancel', textContent: 'Cancel' });
  const dialog = h('dialog.confirm-dialog', { 'aria-labelledby': 'confirm-title' },
    h('form', { method: 'dialog' },
      h('h3', { id: 'confirm-title', textContent: title }),
      h('p', { textContent: message }),
      details.map((line) => h('p.detail', { textContent: line })),
      h('div.dialog-buttons', {}, cancel, ok)));
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'ok');
    });
    dialog.showModal();
    // Cancel is the safe default for Enter.
    cancel.focus();
  });
}
