import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgent } from '@smtp-slots/agent';
import { parseConfig, startCoordinator } from '@smtp-slots/coordinator';

export interface MetricFamily {
  name: string;
  type: string;
  help: string;
}

/** `# HELP` / `# TYPE` of every smtp_slots_ family in a Prometheus text exposition. */
export function metricFamilies(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  for (const line of text.split('\n')) {
    const match = /^# (HELP|TYPE) (smtp_slots_\w+) (.*)$/.exec(line);
    if (!match) continue;
    const family = families.get(match[2]!) ?? { name: match[2]!, type: '', help: '' };
    if (match[1] === 'TYPE') family.type = match[3]!;
    else family.help = match[3]!;
    families.set(family.name, family);
  }
  return families;
}

/** Scrapes a real coordinator's /metrics (against the given Redis). */
export async function scrapeCoordinator(redisUrl: string): Promise<string> {
  const parsed = parseConfig({ redis: { url: redisUrl }, http: { host: '127.0.0.1', port: 0 }, logLevel: 'silent' });
  if (!parsed.ok || parsed.help) throw new Error('coordinator config');
  const coordinator = await startCoordinator(parsed.config);
  try {
    return await (await fetch(`${coordinator.url}/metrics`)).text();
  } finally {
    await coordinator.close();
  }
}

/** Scrapes a real agent's /metrics: the library agent with its relay off, one mailbox, a scratch spool. */
export async function scrapeAgent(redisUrl: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'smtp-slots-metrics-'));
  const agent = await createAgent(
    {
      agentId: 'metrics-probe',
      redis: { url: redisUrl },
      spool: { dir },
      metrics: { host: '127.0.0.1', port: 0 },
      logLevel: 'silent',
      mailboxes: [{ address: `probe-${process.pid}@metrics.example`, upstream: { host: '127.0.0.1', port: 9 } }],
    },
    { relay: false },
  );
  try {
    return await (await fetch(`http://127.0.0.1:${agent.metricsPort}/metrics`)).text();
  } finally {
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
