/* global location */
// The failures view: every dead letter of the fleet, per mailbox, with the upstream's full final
// reply; retry and purge (admin) ask for confirmation, then go to the agent holding the file.
import { purgeDeadLetters, retryDeadLetters } from './api.js';
import { confirmAction } from './confirm.js';
import { dataTable, el } from './dom.js';
import { decodeHeaderWords, groupByMailbox, timeAgo } from './format.js';
import { viewHash } from './router.js';

const ACTIONS = {
  retry: { run: retryDeadLetters, verb: 'Retry', done: 'retry requested', question: 'Send again' },
  purge: { run: purgeDeadLetters, verb: 'Purge', done: 'purge requested', question: 'Delete for good' },
};

/** Rows drawn per mailbox; "Retry all" / "Purge all" still act on every dead letter of it. */
const ROWS_PER_MAILBOX = 200;

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * `ctx`: `{ isAdmin(), lockAdmin(), notice(text, isError), reload() }`; `reload` re-reads the
 * dead letters after an action. Returns `{ show(params), hide(), render(deadLetters) }`.
 */
export function failuresView(root, ctx) {
  const state = { mailbox: '', letters: [], loaded: false };
  const picker = el('select', { id: 'failures-mailbox', 'aria-label': 'mailbox', onchange: () => { location.hash = viewHash('failures', { mailbox: picker.value }); } });
  const summary = el('span', { class: 'muted', id: 'failures-summary' });
  const list = el('div', { id: 'failures-list' });
  root.replaceChildren(el('div', { class: 'toolbar' }, picker, summary), list);

  async function act(action, selection, what) {
    const { run, verb, done, question } = ACTIONS[action];
    if (!(await confirmAction(`${question} ${what}?`, verb))) return;
    try {
      const { requested, unknown } = await run(selection);
      const waiting = requested.filter((c) => !c.agentOnline).map((c) => c.agentId);
      const parts = [`${what}: ${done}`];
      if (waiting.length > 0) parts.push(`waiting for ${waiting.join(', ')} (offline) to come back`);
      if (unknown?.length > 0) parts.push(`not found: ${unknown.join(', ')}`);
      ctx.notice(parts.join('; '), unknown?.length > 0);
    } catch (error) {
      ctx.notice(`${what}: ${error.message}`, true);
      if (error.status === 401 || error.status === 403) ctx.lockAdmin();
    }
    await ctx.reload();
  }

  function letterRow(admin) {
    return [
      { label: 'failed', cell: (l) => el('time', { datetime: l.failedAt, title: l.failedAt }, timeAgo(l.failedAt, Date.now())) },
      { label: 'agent', cell: (l) => [l.agentId, l.agentOnline === false ? el('span', { class: 'badge offline', title: 'no recent heartbeat: commands wait for it' }, 'offline') : null] },
      { label: 'Message-ID', cell: (l) => el('code', { class: 'message-id' }, l.messageId), class: () => 'wrap' },
      { label: 'recipients', cell: (l) => (l.recipients?.length ? l.recipients.join(', ') : '–'), class: () => 'wrap' },
      { label: 'subject', cell: (l) => (l.subject ? decodeHeaderWords(l.subject) : '–'), title: (l) => l.subject, class: () => 'wrap' },
      { label: 'reason', cell: (l) => el('span', { 'data-field': 'reason' }, l.reason), class: () => 'reason wrap' },
      { label: 'attempts', cell: (l) => String(l.attempts?.length ?? 0), title: (l) => (l.attempts ?? []).map((a) => `${a.at} ${a.outcome}: ${a.reply}`).join('\n') },
      { label: 'state', cell: (l) => (l.pending ? el('span', { class: 'badge pending', title: `requested ${l.pending.requestedAt}` }, `${l.pending.action} pending`) : 'dead') },
      ...(admin ? [{ label: 'actions', cell: (l) => el('span', { class: 'row-actions' },
        el('button', { class: 'retry', onclick: () => act('retry', { ids: [l.id] }, `dead letter ${l.messageId}`) }, 'Retry'),
        el('button', { class: 'purge danger', onclick: () => act('purge', { ids: [l.id] }, `dead letter ${l.messageId}`) }, 'Purge')) }] : []),
    ];
  }

  function draw() {
    const admin = ctx.isAdmin();
    const mailboxes = [...new Set(state.letters.map((l) => l.mailbox))].sort();
    if (state.mailbox && !mailboxes.includes(state.mailbox)) mailboxes.unshift(state.mailbox);
    // Rebuilt only when its choices change: a redraw must not close the list the operator opened.
    const choices = JSON.stringify([state.mailbox, mailboxes]);
    if (picker.dataset.choices !== choices) {
      picker.dataset.choices = choices;
      picker.replaceChildren(el('option', { value: '' }, 'all mailboxes'),
        ...mailboxes.map((m) => el('option', { value: m, selected: m === state.mailbox }, m)));
    }
    const shown = state.letters.filter((l) => !state.mailbox || l.mailbox === state.mailbox);
    summary.textContent = state.loaded ? `${plural(shown.length, 'dead letter')}${admin ? '' : ' · unlock admin to retry or purge'}` : 'loading…';
    if (state.loaded && shown.length === 0) {
      list.replaceChildren(el('p', { class: 'empty', id: 'failures-empty' }, state.mailbox ? `No dead letter for ${state.mailbox}.` : 'No dead letter in the fleet.'));
      return;
    }
    list.replaceChildren(...groupByMailbox(shown).map(([mailbox, letters]) => el('section', { class: 'dl-group', 'data-mailbox': mailbox },
      el('header', {},
        el('h3', { class: 'address' }, mailbox),
        el('span', { class: 'badge dead' }, plural(letters.length, 'dead letter')),
        admin ? el('span', { class: 'group-actions' },
          el('button', { class: 'retry-all', onclick: () => act('retry', { mailbox, all: true }, `every dead letter of ${mailbox}`) }, 'Retry all'),
          el('button', { class: 'purge-all danger', onclick: () => act('purge', { mailbox, all: true }, `every dead letter of ${mailbox}`) }, 'Purge all')) : null),
      dataTable('dead-letters', letterRow(admin), letters.slice(0, ROWS_PER_MAILBOX), (l) => ({ 'data-dead-letter': l.id, 'data-agent': l.agentId })),
      letters.length > ROWS_PER_MAILBOX ? el('p', { class: 'muted' }, `The newest ${ROWS_PER_MAILBOX} of ${letters.length} are shown; "Retry all" and "Purge all" act on every one.`) : null)));
  }

  return {
    show(params) {
      state.mailbox = params.get('mailbox') ?? '';
      draw();
    },
    hide() {},
    render(deadLetters) {
      state.letters = deadLetters;
      state.loaded = true;
      draw();
    },
    redraw: draw,
  };
}
