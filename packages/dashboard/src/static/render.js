import { dataTable, el } from './dom.js';
import { viewHash } from './router.js';
import { counterTotal, formatCount, formatDuration, messagesPerMinute, ratePressure, rejections, share, slotTiles } from './format.js';

const FREE_TILE_TEXT = {
  free: ['free', 'free'],
  blocked: ['cool-down', 'not granted during the 432 cool-down'],
  over: ['above limit', 'above the lowered limit: not granted again'],
};

/**
 * The slot tiles of one mailbox. `entry` is the page's record of the mailbox: `{ data,
 * fetchedAt, samples, longestExpiry }`. `actions.release(slot)` is offered on held tiles when
 * `admin` is true.
 */
export function renderTiles(entry, now, admin, actions) {
  return slotTiles(entry.data, entry.fetchedAt, now, entry.longestExpiry).map((tile) => {
    if (!tile.holder) {
      const [text, title] = FREE_TILE_TEXT[tile.state];
      return el('li', { class: `slot ${tile.state}`, 'data-slot': tile.slot, 'data-state': tile.state, title },
        el('span', { class: 'slot-no' }, `#${tile.slot}`),
        el('span', { class: 'who' }, text));
    }
    const h = tile.holder;
    return el('li', {
      class: `slot ${tile.state}`, 'data-slot': tile.slot, 'data-state': tile.state, 'data-holder': tile.label, 'data-agent': h.agent, 'data-token': h.token,
      title: `agent ${h.agent} on ${h.host} · worker ${h.worker} · pid ${h.pid} · fencing token ${h.token} · expires in ${formatDuration(tile.expiresInMs)}`,
    },
    el('span', { class: 'slot-no' }, `#${tile.slot}`),
    el('span', { class: 'agent', 'data-field': 'agent' }, h.agent),
    el('span', { class: 'who' }, tile.label),
    el('span', { class: 'for' }, tile.state === 'expiring' ? `expiring ${formatDuration(tile.expiresInMs)}` : `for ${formatDuration(tile.heldForMs)}`),
    admin ? el('button', { class: 'release', title: `force-release slot ${tile.slot}`, 'aria-label': `release slot ${tile.slot}`, onclick: () => actions.release(tile.slot) }, '×') : null);
  });
}

/** The whole card of one mailbox; `deadLetters` is its count of dead letters in the fleet. */
export function renderMailbox(entry, now, admin, actions, deadLetters = 0) {
  const m = entry.data;
  const { code432, other } = rejections(m.counters);
  const failed = counterTotal(m.counters, 'failed');
  const perMinute = messagesPerMinute(entry.samples);
  const rateNote = m.rate.nextFreeInMs > 0 ? `next in ${(m.rate.nextFreeInMs / 1000).toFixed(1)}s` : 'ready';
  const limitNote = m.effectiveLimit === m.limit ? `limit ${m.limit}` : `limit ${m.effectiveLimit} of ${m.limit} (432 cool-down)`;
  return el('article', { class: `mailbox${m.paused ? ' is-paused' : ''}`, 'data-mailbox': m.address, 'data-paused': m.paused ? 'true' : 'false' },
    el('header', {},
      el('h3', { class: 'address', title: m.address }, m.address),
      m.paused ? el('span', { class: 'badge paused', title: m.pauseReason ?? '' }, 'paused') : null,
      m.feedback ? el('span', { class: 'badge feedback', title: `ends in ${formatDuration(m.feedback.endsInMs)}` }, `432 feedback: ${m.feedback.limit}`) : null,
      deadLetters > 0 ? el('a', { class: 'badge dead', 'data-field': 'dead-letters', href: viewHash('failures', { mailbox: m.address }), title: 'messages that failed for good: open the failures view' }, `${deadLetters} dead`) : null,
      el('a', { class: 'history-link', href: viewHash('history', { mailbox: m.address }), title: `history of ${m.address}` }, 'history')),
    el('div', { class: 'limits' },
      el('span', { 'data-field': 'in-use' }, `${m.inUse} in use`), ' · ',
      el('span', { 'data-field': 'limit' }, limitNote), ' · ',
      el('span', { 'data-field': 'waiting', class: m.waiting > 0 ? 'warn' : '' }, `${m.waiting} waiting`)),
    el('ol', { class: 'slots' }, renderTiles(entry, now, admin, actions)),
    el('dl', { class: 'stats' },
      stat('msgs/min', perMinute === null ? '–' : perMinute.toFixed(1), 'msgs-per-min'),
      stat('sent', formatCount(m.counters.sent ?? 0), 'sent'),
      stat('failed', formatCount(failed), 'failed', failed > 0 ? 'warn' : ''),
      stat('432s', formatCount(code432), 'rejections-432', code432 > 0 ? 'warn' : ''),
      stat('other rejections', formatCount(other), 'rejections-other', other > 0 ? 'warn' : '')),
    bar('rate', `${m.rate.perMinute}/min · ${rateNote}`, ratePressure(m.rate)),
    bar('quota', `${formatCount(m.recipients.used24h)}/${formatCount(m.recipients.perDay)} rcpt 24h`, share(m.recipients.used24h, m.recipients.perDay)),
    admin ? renderAdminActions(m, actions) : null);
}

function stat(label, value, field, className = '') {
  return el('div', { class: className }, el('dt', {}, label), el('dd', { 'data-field': field }, value));
}

function bar(kind, label, fraction) {
  const level = fraction >= 0.9 ? 'high' : fraction >= 0.6 ? 'mid' : 'low';
  return el('div', { class: `bar ${kind} ${level}`, 'data-field': `${kind}-bar`, title: label },
    el('span', { class: 'fill', style: { width: `${(fraction * 100).toFixed(1)}%` } }),
    el('span', { class: 'bar-label' }, `${kind}: ${label}`));
}

function renderAdminActions(m, actions) {
  const limitInput = el('input', { type: 'number', min: 1, max: 1000, value: m.limit, 'aria-label': 'limit', class: 'limit-input' });
  return el('div', { class: 'admin-actions' },
    m.paused
      ? el('button', { class: 'resume', onclick: () => actions.resume() }, 'Resume')
      : el('button', { class: 'pause', onclick: () => actions.pause() }, 'Pause'),
    el('form', { class: 'limit-form', onsubmit: (event) => { event.preventDefault(); actions.setLimit(Number(limitInput.value)); } },
      limitInput, el('button', { type: 'submit' }, 'Set limit')));
}

/** The agents table. */
export function renderAgents(agents) {
  if (agents.length === 0) return el('p', { class: 'empty' }, 'No agent has sent a heartbeat yet.');
  return dataTable('agents', [
    { label: 'agent', cell: (a) => a.agentId },
    { label: 'host', cell: (a) => a.host },
    { label: 'pid', cell: (a) => String(a.pid) },
    { label: 'version', cell: (a) => a.version },
    { label: 'spool', cell: (a) => formatCount(a.spoolDepth), class: (a) => (a.spoolDepth > 0 ? 'warn' : '') },
    { label: 'mailboxes', cell: (a) => String(a.mailboxes.length), title: (a) => a.mailboxes.join(', ') },
    { label: 'last seen', cell: (a) => `${formatDuration(a.lastSeenMs)} ago` },
    { label: 'state', cell: (a) => (a.alive ? 'alive' : 'stale') },
  ], agents, (a) => ({ 'data-agent': a.agentId, class: a.alive ? '' : 'stale' }));
}
