/* global location */
// The message search: a Message-ID or a recipient, across the fleet's trail, with every attempt.
import { searchMessages } from './api.js';
import { el } from './dom.js';
import { decodeHeaderWords, timeAgo } from './format.js';
import { viewHash } from './router.js';

const STATUSES = ['queued', 'deferred', 'sending', 'sent', 'dead', 'purged'];

/** `ctx`: `{ notice(text, isError) }`. Returns `{ show(params), hide() }`. */
export function messagesView(root, ctx) {
  const query = el('input', { id: 'message-query', type: 'search', required: true, placeholder: 'Message-ID or recipient', 'aria-label': 'Message-ID or recipient', spellcheck: 'false' });
  const status = el('select', { id: 'message-status', 'aria-label': 'status' }, el('option', { value: '' }, 'any status'), STATUSES.map((s) => el('option', { value: s }, s)));
  const results = el('div', { id: 'message-results' });
  const form = el('form', { class: 'toolbar', id: 'message-search', onsubmit: (event) => {
    event.preventDefault();
    location.hash = viewHash('messages', { q: query.value.trim(), status: status.value });
  } }, query, status, el('button', { type: 'submit' }, 'Search'));
  root.replaceChildren(form, results);

  async function search(q, wanted) {
    results.replaceChildren(el('p', { class: 'empty' }, 'Searching…'));
    try {
      const { messages } = await searchMessages({ q, status: wanted });
      results.replaceChildren(messages.length === 0
        ? el('p', { class: 'empty', id: 'message-none' }, `No message matches ${q}.`)
        : el('div', { class: 'trails' }, messages.map(renderMessage)));
    } catch (error) {
      results.replaceChildren();
      ctx.notice(`search failed: ${error.message}`, true);
    }
  }

  return {
    show(params) {
      const q = params.get('q') ?? '';
      query.value = q;
      status.value = params.get('status') ?? '';
      if (q) void search(q, status.value);
      else results.replaceChildren(el('p', { class: 'empty' }, 'Search by Message-ID (with or without <>) or by a recipient address.'));
    },
    hide() {},
  };
}

function renderMessage(m) {
  const now = Date.now();
  return el('article', { class: 'trail', 'data-message-id': m.messageId, 'data-status': m.status },
    el('header', {},
      el('code', { class: 'message-id' }, m.messageId),
      el('span', { class: `badge status-${m.status}` }, m.status),
      m.possibleDuplicate ? el('span', { class: 'badge feedback', title: 'a connection was lost after the final dot: the upstream may hold a copy' }, 'possible duplicate') : null),
    el('dl', { class: 'trail-facts' },
      fact('mailbox', m.mailbox), fact('agent', m.agentId),
      fact('accepted', el('time', { datetime: m.acceptedAt, title: m.acceptedAt }, timeAgo(m.acceptedAt, now))),
      fact('updated', el('time', { datetime: m.updatedAt, title: m.updatedAt }, timeAgo(m.updatedAt, now))),
      m.recipients?.length ? fact('recipients', m.recipients.join(', ')) : null,
      m.subject ? fact('subject', decodeHeaderWords(m.subject)) : null,
      m.queueId ? fact('upstream queue id', m.queueId) : null),
    el('ol', { class: 'attempts' }, m.attempts.map((a) => el('li', { 'data-outcome': a.outcome },
      el('time', { datetime: a.at, title: a.at }, new Date(a.at).toLocaleString()),
      el('span', { class: 'outcome' }, a.outcome),
      el('span', { class: 'reply' }, a.reply)))));
}

function fact(label, value) {
  return el('div', {}, el('dt', {}, label), el('dd', {}, value));
}
