import { summaryPassed, type DemoSummary } from './batch.js';

const seconds = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(value < 10 ? 2 : 1)} s` : 'n/a');
/** A histogram bucket bound: `2.5 s`, or `+Inf`. */
const bound = (value: number): string => (value === Infinity ? '+Inf' : `${value} s`);
const row = (label: string, value: string): string => `  ${label.padEnd(30)}${value}`;

/** The summary as the terminal shows it; one fact per line so that scripts can grep it. */
export function formatSummary(summary: DemoSummary, extra: { adminTokenFile?: string; workDir?: string } = {}): string {
  const senders = summary.agents * summary.workersPerAgent;
  const graph = summary.transport === 'graph';
  const lines = [
    '',
    'Summary',
    row('mailbox', `${summary.mailbox} (limit ${summary.limit} connections, ${summary.ratePerMinute} messages/min)`),
    row('senders', `${summary.agents} agents x ${summary.workersPerAgent} workers = ${senders} competing for ${summary.limit} slots`),
    row('delivered', `${summary.delivered}/${summary.messages} (${summary.duplicates} duplicates)`),
    graph
      ? row('429 MailboxConcurrency', `${summary.rejected432} (expected 0)`)
      : row('432s seen by the upstream', `${summary.rejected432} (expected 0)`),
    graph
      ? row('peak requests in flight', `${summary.peakConcurrency} (expected <= ${summary.limit})`)
      : row('peak concurrent connections', `${summary.peakConcurrency} (expected <= ${summary.limit})`),
    row('message wait p50 / p99', `${seconds(summary.messageWait.p50)} / ${seconds(summary.messageWait.p99)} (relay 250 -> upstream 250)`),
    row(
      'slot wait p50 / p99',
      summary.slotWait
        ? `<= ${bound(summary.slotWait.p50AtMost)} / <= ${bound(summary.slotWait.p99AtMost)}, mean ${seconds(summary.slotWait.mean)} (${summary.slotWait.count} grants; connections are reused, so few)`
        : 'n/a (the agents export no smtp_slots_slot_wait_seconds)',
    ),
    row('elapsed', seconds(summary.elapsedSeconds)),
    row('dashboard', summary.dashboardUrl),
  ];
  if (extra.adminTokenFile) lines.push(row('admin token (dashboard)', `in ${extra.adminTokenFile}`));
  if (extra.workDir) lines.push(row('configs, spools, logs', extra.workDir));
  for (const failure of summary.submitFailures.slice(0, 5)) lines.push(row('not accepted', `${failure.messageId}: ${failure.error}`));
  if (summary.timedOut) lines.push(row('timed out', `${summary.accepted - summary.delivered} accepted messages not delivered yet`));
  lines.push(row('result', summaryPassed(summary) ? 'OK' : 'FAILED'));
  return `${lines.join('\n')}\n`;
}
