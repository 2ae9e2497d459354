const SHOWN_MS = 6000;
let timer = null;

/** A short status line under the header; errors are marked for the eye and for tests. */
export function notice(text, isError = false) {
  const box = document.querySelector('#notice');
  box.textContent = text;
  box.dataset.kind = isError ? 'error' : 'info';
  box.hidden = false;
  clearTimeout(timer);
  timer = setTimeout(() => {
    box.hidden = true;
  }, SHOWN_MS);
}
