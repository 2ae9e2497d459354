import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseDemoArgs } from './args.js';
import { createProgress } from './progress.js';

describe('parseDemoArgs', () => {
  it('defaults to 4 agents x 3 workers for one mailbox with limit 3, kept running', () => {
    const result = parseDemoArgs([], {});
    expect(result).toMatchObject({ ok: true, options: { agents: 4, workers: 3, limit: 3, once: false, messages: 200, port: undefined } });
  });

  it('reads --once, --messages and REDIS_URL', () => {
    const result = parseDemoArgs(['--once', '--messages', '60'], { REDIS_URL: 'redis://127.0.0.1:7000' });
    expect(result).toMatchObject({ ok: true, options: { once: true, messages: 60, redisUrl: 'redis://127.0.0.1:7000' } });
  });

  it('--transport graph defaults the limit to Graph\'s 4 requests in flight; a bad transport is named', () => {
    expect(parseDemoArgs(['--transport', 'graph'], {})).toMatchObject({ ok: true, options: { transport: 'graph', limit: 4 } });
    expect(parseDemoArgs(['--transport', 'graph', '--limit', '2'], {})).toMatchObject({ ok: true, options: { transport: 'graph', limit: 2 } });
    expect(parseDemoArgs([], {})).toMatchObject({ ok: true, options: { transport: 'smtp', limit: 3 } });
    expect(parseDemoArgs(['--transport', 'ews'], {})).toEqual({ ok: false, problem: '--transport: expected smtp or graph, got "ews"' });
  });

  it('names the bad option', () => {
    expect(parseDemoArgs(['--messages', 'lots'], {})).toEqual({
      ok: false,
      problem: '--messages: expected a whole number from 1 to 100000, got "lots"',
    });
    expect(parseDemoArgs(['--bogus'], {})).toMatchObject({ ok: false });
  });
});

describe('progress without a terminal', () => {
  it('prints a plain line per 10% of delivered messages', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const progress = createProgress(out, 20);
    for (let delivered = 0; delivered <= 20; delivered++) progress.update({ accepted: 20, delivered, connections: 3 });
    progress.finish();
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(11);
    expect(lines.at(-1)).toBe('  progress: 20/20 delivered, 20 accepted, 3 upstream connections open');
    expect(text).not.toContain('\r');
  });
});
