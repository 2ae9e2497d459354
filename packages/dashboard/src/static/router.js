/* global location, URLSearchParams */
// Views by location hash: `#failures?mailbox=…`, `#messages?q=…`, `#history?mailbox=…&range=24h`;
// anything else is the overview. Links and the back button work without reloading the page.

/** `views`: name → `{ show(params), hide() }`; sections `[data-view=name]` are shown one at a time. */
export function startRouter(views) {
  let current = null;
  function route() {
    const [name, query = ''] = location.hash.replace(/^#/, '').split('?');
    const wanted = Object.hasOwn(views, name) ? name : 'overview';
    if (current && current !== wanted) views[current].hide();
    current = wanted;
    for (const section of document.querySelectorAll('main > [data-view]')) section.hidden = section.dataset.view !== wanted;
    for (const link of document.querySelectorAll('nav.views a')) link.toggleAttribute('aria-current', link.dataset.view === wanted);
    views[wanted].show(new URLSearchParams(query));
  }
  window.addEventListener('hashchange', route);
  route();
}

/** The hash of a view, with its parameters (empty ones left out). */
export function viewHash(name, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, value]) => value)).toString();
  return `#${name}${query ? `?${query}` : ''}`;
}
