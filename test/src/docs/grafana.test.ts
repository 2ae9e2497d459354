import { describe, expect, inject, it } from 'vitest';
import { metricFamilies, scrapeAgent, scrapeCoordinator, type MetricFamily } from './live-metrics.js';
import { readRepoText } from './repo-files.js';

interface Panel { type: string; title: string; targets?: { expr: string }[] }
interface Dashboard { title: string; panels: Panel[]; templating: { list: { name: string; definition?: string }[] } }

const JOBS = { agent: 'smtp-slots-agent', coordinator: 'smtp-slots-coordinator' } as const;

/** Every `smtp_slots_…{…}` selector in a PromQL expression, with the job it names (if any). */
function selectors(expr: string): { metric: string; job: string | undefined }[] {
  return [...expr.matchAll(/(smtp_slots_\w+)(?:\{([^}]*)\})?/g)].map((m) => ({ metric: m[1]!, job: /job="([^"]+)"/.exec(m[2] ?? '')?.[1] }));
}

/** A family exposes its own name, and a histogram also `_bucket`, `_sum` and `_count`. */
function exposes(families: Map<string, MetricFamily>, metric: string): boolean {
  if (families.has(metric)) return true;
  const base = /^(.*)_(bucket|sum|count)$/.exec(metric)?.[1];
  return base !== undefined && families.get(base)?.type === 'histogram';
}

describe('deploy/grafana/smtp-slots.json', () => {
  const dashboard = JSON.parse(readRepoText('deploy/grafana/smtp-slots.json')) as Dashboard;
  const exprs = [
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr }))),
    ...dashboard.templating.list.filter((v) => v.definition).map((v) => ({ panel: `variable ${v.name}`, expr: v.definition! })),
  ];

  it('has the panels an operator needs: slots, waits, throughput, 432s, failures, dead letters, spool, quota', () => {
    const titles = dashboard.panels.filter((p) => p.type !== 'row').map((p) => p.title.toLowerCase()).join(' | ');
    for (const topic of ['slots in use', 'slot wait', 'sent per minute', '432', 'deferred', 'permanent failures', 'dead letters', 'spooled messages', 'recipients in 24 h', 'rate tokens', 'paused']) {
      expect(titles, topic).toContain(topic);
    }
  });

  it('every metric its queries use exists in a live agent\'s or coordinator\'s /metrics (the one its job selects)', async () => {
    const redisUrl = inject('redisUrl');
    const [agent, coordinator] = await Promise.all([scrapeAgent(redisUrl), scrapeCoordinator(redisUrl)]).then((texts) => texts.map(metricFamilies));
    const missing: string[] = [];
    let checked = 0;
    for (const { panel, expr } of exprs) {
      for (const { metric, job } of selectors(expr)) {
        checked += 1;
        const where = job === JOBS.agent ? [agent!] : job === JOBS.coordinator ? [coordinator!] : [agent!, coordinator!];
        if (job !== undefined && job !== JOBS.agent && job !== JOBS.coordinator) missing.push(`${panel}: ${metric} selects unknown job ${job}`);
        else if (!where.some((families) => exposes(families, metric))) missing.push(`${panel}: ${metric} (${job ?? 'any job'})`);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(20);
    expect(missing).toEqual([]);
  });
});
