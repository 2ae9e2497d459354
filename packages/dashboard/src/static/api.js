/* global sessionStorage, URLSearchParams */
// Talks to the coordinator's JSON API. The admin token lives only in sessionStorage and in
// request headers; it is never written into the page.

const TOKEN_KEY = 'smtp-slots.adminToken';

export const adminToken = {
  get() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** An API error with the coordinator's `{ error: { code, message } }` body. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function request(method, path, body, admin = false) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (admin) {
    const token = adminToken.get();
    if (token) headers.Authorization = `Bearer ${token}`;
  }
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, data?.error?.code ?? 'HTTP_ERROR', data?.error?.message ?? `HTTP ${response.status}`);
  }
  return data;
}

const mailboxPath = (address) => `/api/mailboxes/${encodeURIComponent(address)}`;

/** Loads up to `max` mailboxes page by page; `total` tells how many exist. */
export async function listMailboxes({ q, state, max }) {
  const items = [];
  let cursor = null;
  let total = 0;
  do {
    const params = new URLSearchParams({ limit: '500' });
    if (cursor) params.set('cursor', cursor);
    if (q) params.set('q', q);
    if (state) params.set('state', state);
    const page = await request('GET', `/api/mailboxes?${params}`);
    items.push(...page.items);
    total = page.total;
    cursor = page.nextCursor;
  } while (cursor && items.length < max);
  return { items, total, complete: !cursor };
}

export const getMailbox = (address) => request('GET', mailboxPath(address));
export const listAgents = () => request('GET', '/api/agents');
export const pauseMailbox = (address) => request('POST', `${mailboxPath(address)}/pause`, { reason: 'paused from the dashboard' }, true);
export const resumeMailbox = (address) => request('POST', `${mailboxPath(address)}/resume`, undefined, true);
export const setLimit = (address, limit) => request('PUT', `${mailboxPath(address)}/config`, { limit }, true);
export const releaseSlot = (address, slot) => request('DELETE', `${mailboxPath(address)}/leases/${slot}`, undefined, true);

/** Fleet-wide dead letters, optionally of one mailbox: `{ deadLetters: [...] }`. */
export const listDeadLetters = (mailbox) => request('GET', `/api/dead-letters${mailbox ? `?${new URLSearchParams({ mailbox })}` : ''}`);
/** `selection`: `{ ids: [..] }` or `{ mailbox, all: true }`; answers `{ requested: [..], unknown: [..] }`. */
export const retryDeadLetters = (selection) => request('POST', '/api/dead-letters/retry', selection, true);
export const purgeDeadLetters = (selection) => request('POST', '/api/dead-letters/purge', selection, true);

/** The message trail by Message-ID or recipient: `{ messages: [...] }`. */
export function searchMessages({ q, mailbox, status, limit = 50 }) {
  const params = new URLSearchParams({ q, limit: String(limit) });
  if (mailbox) params.set('mailbox', mailbox);
  if (status) params.set('status', status);
  return request('GET', `/api/messages?${params}`);
}

/** Per-minute history of one mailbox, oldest first: `{ mailbox, minutes, points: [...] }`. */
export const getHistory = (address, minutes) => request('GET', `${mailboxPath(address)}/history?minutes=${minutes}`);
