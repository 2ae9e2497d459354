import { el } from './dom.js';

/**
 * Asks before a destructive or fleet-wide action, in a modal `<dialog>` of the page (not the
 * browser's confirm(), which a page cannot style or label). Resolves true on "confirm".
 */
export function confirmAction(question, confirmLabel) {
  const dialog = el('dialog', { class: 'confirm', id: 'confirm' },
    el('form', { method: 'dialog' },
      el('p', {}, question),
      el('div', { class: 'confirm-buttons' },
        el('button', { value: 'cancel' }, 'Cancel'),
        el('button', { value: 'confirm', class: 'danger' }, confirmLabel))));
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'confirm');
    });
    dialog.showModal();
  });
}
