/* global CSS */
import { adminToken, getMailbox, listAgents, listDeadLetters, listMailboxes, pauseMailbox, releaseSlot, resumeMailbox, setLimit } from './api.js';
import { failuresView } from './failures-view.js';
import { EXPIRING_SHARE } from './format.js';
import { historyView } from './history-view.js';
import { messagesView } from './messages-view.js';
import { notice } from './notice.js';
import { renderAgents, renderMailbox, renderTiles } from './render.js';
import { startRouter } from './router.js';

/** Mailboxes loaded at most; beyond that the search narrows the list. */
const MAX_LOADED = 2000;
/** Full refresh period: updates what no event reports (rate, quota, renewals, msgs/min). */
const REFRESH_MS = 5000;
const SAMPLE_WINDOW_MS = 60_000;

const view = {
  entries: new Map(),
  q: '',
  state: '',
  total: 0,
  complete: true,
  timers: new Map(),
  fullRefresh: null,
  /** False until the first list answer: before it, an empty list means "not known yet". */
  loaded: false,
  /** Dead letters per mailbox address, for the cards' badges. */
  deadCounts: new Map(),
};

const $ = (selector) => document.querySelector(selector);
const list = $('#mailboxes');

function isAdmin() {
  return Boolean(adminToken.get());
}

function matchesFilter(data) {
  if (view.q && !data.address.toLowerCase().includes(view.q.toLowerCase())) return false;
  if (!view.state) return true;
  const state = data.paused ? 'paused' : data.waiting > 0 ? 'waiting' : data.inUse > 0 ? 'busy' : 'idle';
  return state === view.state;
}

function remember(data) {
  const now = Date.now();
  const entry = view.entries.get(data.address) ?? { samples: [], longestExpiry: new Map() };
  entry.data = data;
  entry.fetchedAt = now;
  entry.samples.push({ at: now, sent: data.counters.sent ?? 0 });
  while (entry.samples.length > 2 && now - entry.samples[0].at > SAMPLE_WINDOW_MS) entry.samples.shift();
  const tokens = new Set();
  for (const holder of data.holders) {
    tokens.add(holder.token);
    entry.longestExpiry.set(holder.token, Math.max(entry.longestExpiry.get(holder.token) ?? 0, holder.expiresInMs));
  }
  for (const token of entry.longestExpiry.keys()) if (!tokens.has(token)) entry.longestExpiry.delete(token);
  view.entries.set(data.address, entry);
  return entry;
}

function actionsFor(address) {
  const run = (action, done) => async () => {
    try {
      await action();
      notice(`${address}: ${done}`);
      await refreshOne(address);
    } catch (error) {
      notice(`${address}: ${error.message}`, true);
      if (error.status === 401 || error.status === 403) lockAdmin();
    }
  };
  return {
    pause: run(() => pauseMailbox(address), 'paused'),
    resume: run(() => resumeMailbox(address), 'resumed'),
    setLimit: (limit) => run(() => setLimit(address, limit), `limit set to ${limit}`)(),
    release: (slot) => run(() => releaseSlot(address, slot), `slot ${slot} released`)(),
  };
}

function renderCard(entry, now, admin) {
  const address = entry.data.address;
  return renderMailbox(entry, now, admin, actionsFor(address), view.deadCounts.get(address) ?? 0);
}

function cardOf(address) {
  return list.querySelector(`article[data-mailbox="${CSS.escape(address)}"]`);
}

/** The card the operator is typing in (limit field), which redraws must leave alone. */
function focusedCard() {
  const active = document.activeElement;
  return active && active.tagName === 'INPUT' && list.contains(active) ? active.closest('article') : null;
}

function drawOne(entry) {
  const existing = cardOf(entry.data.address);
  if (!existing) return drawAll();
  if (existing === focusedCard()) return;
  existing.replaceWith(renderCard(entry, Date.now(), isAdmin()));
}

function drawAll() {
  const now = Date.now();
  const admin = isAdmin();
  const entries = [...view.entries.values()].sort((a, b) => a.data.address.localeCompare(b.data.address));
  const focused = focusedCard();
  if (focused) {
    // Redraw in place around the focused card; new mailboxes appear once the focus leaves.
    for (const entry of entries) {
      const existing = cardOf(entry.data.address);
      if (existing && existing !== focused) existing.replaceWith(renderCard(entry, now, admin));
    }
  } else {
    list.replaceChildren(...entries.map((entry) => renderCard(entry, now, admin)));
  }
  drawSummary();
}

function drawSummary() {
  let inUse = 0;
  let waiting = 0;
  let paused = 0;
  for (const { data } of view.entries.values()) {
    inUse += data.inUse;
    waiting += data.waiting;
    paused += data.paused ? 1 : 0;
  }
  const shown = view.entries.size;
  $('#loading').hidden = view.loaded;
  $('#empty').hidden = !view.loaded || shown > 0;
  $('#empty').textContent = view.q || view.state ? 'No mailbox matches.' : 'No mailbox is configured yet.';
  if (!view.loaded) {
    $('#summary-mailboxes').textContent = 'loading mailboxes…';
    return;
  }
  $('#summary-mailboxes').textContent = view.complete ? `${shown} of ${view.total} mailboxes` : `${shown} of ${view.total} mailboxes (narrow the search to see the rest)`;
  $('#summary-in-use').textContent = `${inUse} slots in use`;
  $('#summary-waiting').textContent = `${waiting} waiting`;
  $('#summary-paused').textContent = `${paused} paused`;
}

async function refreshAll() {
  try {
    const { items, total, complete } = await listMailboxes({ q: view.q, state: view.state, max: MAX_LOADED });
    const seen = new Set(items.map((item) => item.address));
    for (const address of view.entries.keys()) if (!seen.has(address)) view.entries.delete(address);
    for (const item of items) remember(item);
    view.total = total;
    view.complete = complete;
    view.loaded = true;
    drawAll();
  } catch (error) {
    notice(`could not load mailboxes: ${error.message}`, true);
  }
}

async function refreshOne(address) {
  try {
    const data = await getMailbox(address);
    if (!matchesFilter(data)) {
      view.entries.delete(address);
      cardOf(address)?.remove();
      drawSummary();
      return;
    }
    drawOne(remember(data));
    drawSummary();
  } catch (error) {
    if (error.status === 404) {
      view.entries.delete(address);
      cardOf(address)?.remove();
      drawSummary();
    }
  }
}

/** Coalesces bursts of events for one mailbox into one request. */
function scheduleRefresh(address, delayMs = 150) {
  if (view.timers.has(address)) return;
  view.timers.set(address, setTimeout(() => {
    view.timers.delete(address);
    void refreshOne(address);
  }, delayMs));
}

function scheduleFullRefresh() {
  if (view.fullRefresh) return;
  view.fullRefresh = setTimeout(() => {
    view.fullRefresh = null;
    void refreshAll();
  }, 300);
}

/** Every second: advance held-for counters locally and re-check leases that look like expiring. */
function tick() {
  const now = Date.now();
  const admin = isAdmin();
  for (const entry of view.entries.values()) {
    if (entry.data.holders.length === 0) continue;
    const slots = cardOf(entry.data.address)?.querySelector('ol.slots');
    if (slots) slots.replaceChildren(...renderTiles(entry, now, admin, actionsFor(entry.data.address)));
    const suspicious = entry.data.holders.some((h) => h.expiresInMs - (now - entry.fetchedAt) < (entry.longestExpiry.get(h.token) ?? 0) * EXPIRING_SHARE);
    if (suspicious && now - entry.fetchedAt > 1000) scheduleRefresh(entry.data.address, 0);
  }
}

async function refreshDeadLetters() {
  try {
    const { deadLetters } = await listDeadLetters();
    const counts = new Map();
    for (const letter of deadLetters) counts.set(letter.mailbox, (counts.get(letter.mailbox) ?? 0) + 1);
    const changed = counts.size !== view.deadCounts.size || [...counts].some(([address, n]) => view.deadCounts.get(address) !== n);
    view.deadCounts = counts;
    if (changed) drawAll();
    const badge = $('#nav-dead-count');
    badge.textContent = String(deadLetters.length);
    badge.hidden = deadLetters.length === 0;
    failures.render(deadLetters);
  } catch (error) {
    notice(`could not load dead letters: ${error.message}`, true);
  }
}

async function refreshAgents() {
  try {
    const { agents } = await listAgents();
    $('#agents').replaceChildren(renderAgents(agents));
    $('#summary-agents').textContent = `${agents.filter((a) => a.alive).length} agents alive`;
  } catch (error) {
    notice(`could not load agents: ${error.message}`, true);
  }
}

function connectEvents() {
  const status = $('#live');
  const events = new EventSource('/api/events');
  let wasDown = false;
  events.onopen = () => {
    status.textContent = 'live';
    status.dataset.state = 'live';
    if (wasDown) void refreshAll();
    wasDown = false;
  };
  events.onerror = () => {
    status.textContent = 'reconnecting…';
    status.dataset.state = 'down';
    wasDown = true;
  };
  events.onmessage = (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (view.entries.has(event.mailbox)) scheduleRefresh(event.mailbox);
    else if (!view.q && !view.state) scheduleFullRefresh();
  };
}

function drawAdmin() {
  const admin = isAdmin();
  $('#admin-form').hidden = admin;
  $('#admin-on').hidden = !admin;
  drawAll();
  failures.redraw();
}

function lockAdmin() {
  adminToken.clear();
  drawAdmin();
}

function wireControls() {
  let typing = null;
  $('#search').addEventListener('input', (event) => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      view.q = event.target.value.trim();
      void refreshAll();
    }, 250);
  });
  $('#state-filter').addEventListener('change', (event) => {
    view.state = event.target.value;
    void refreshAll();
  });
  $('#admin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('#admin-token');
    const token = input.value.trim();
    // The token only lives in sessionStorage; the field is emptied at once.
    input.value = '';
    if (token) adminToken.set(token);
    drawAdmin();
  });
  $('#admin-lock').addEventListener('click', lockAdmin);
}

const failures = failuresView($('#failures'), { isAdmin, lockAdmin, notice, reload: refreshDeadLetters });
const views = {
  overview: { show() {}, hide() {} },
  failures,
  messages: messagesView($('#messages'), { notice }),
  history: historyView($('#history'), { notice, mailboxes: () => [...view.entries.keys()].sort() }),
};

wireControls();
drawAdmin();
connectEvents();
await Promise.all([refreshAll(), refreshAgents(), refreshDeadLetters()]);
// After the first load, so the history view can offer the mailboxes just listed.
startRouter(views);
setInterval(() => void refreshAll(), REFRESH_MS);
setInterval(() => void refreshAgents(), REFRESH_MS);
setInterval(() => void refreshDeadLetters(), REFRESH_MS);
setInterval(tick, 1000);
