import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'coordinator-config-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('coordinator config', () => {
  it('applies documented defaults', async () => {
    const result = await loadConfig([], {});
    expect(result).toMatchObject({
      ok: true,
      config: { redis: { url: 'redis://127.0.0.1:6379' }, http: { host: '127.0.0.1', port: 8080 }, metrics: { maxMailboxes: 100 } },
    });
    expect(result.ok && !result.help && result.config.adminToken).toBeUndefined();
  });

  it('lets flags override the file and takes the admin token from the environment only', async () => {
    const path = file('c.yaml', 'redis:\n  url: redis://10.0.0.1:6379\nhttp:\n  port: 9000\n  host: 0.0.0.0\nmetrics:\n  maxMailboxes: 5\n');
    const result = await loadConfig(['--config', path, '--port', '9100', '--redis', 'redis://127.0.0.1:7000'], { SMTP_SLOTS_ADMIN_TOKEN: 'x'.repeat(24) });
    expect(result).toMatchObject({
      ok: true,
      config: { redis: { url: 'redis://127.0.0.1:7000' }, http: { host: '0.0.0.0', port: 9100 }, metrics: { maxMailboxes: 5 }, adminToken: 'x'.repeat(24) },
    });
  });

  it('lists every problem with its path', async () => {
    const path = file('bad.json', JSON.stringify({ redis: { url: 'http://nope' }, http: { port: 70000 }, metrics: { maxMailboxes: -1 }, surprise: true, adminToken: 'in-a-file' }));
    const result = await loadConfig(['--config', path], { SMTP_SLOTS_ADMIN_TOKEN: 'short' });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems.join('\n')).toMatch(/adminToken: set it through SMTP_SLOTS_ADMIN_TOKEN/);
    for (const path of ['redis.url', 'http.port', 'metrics.maxMailboxes', 'adminToken: must be at least 16']) {
      expect(problems.some((p) => p.startsWith(path))).toBe(true);
    }
    expect(problems.some((p) => p.includes('surprise'))).toBe(true);
  });

  it('rejects unknown flags and non-numeric ports', async () => {
    expect(await loadConfig(['--bogus'], {})).toMatchObject({ ok: false });
    expect(await loadConfig(['--port', 'eighty'], {})).toEqual({ ok: false, problems: ['--port: expected a number, got "eighty"'] });
  });

  it('CLI exits 2 and names the problems', () => {
    const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', cli, '--port', 'x', '--redis', 'mysql://db'], {
      encoding: 'utf8',
      // tsx resolves from the working directory: the package's own node_modules.
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, SMTP_SLOTS_ADMIN_TOKEN: '' },
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('invalid configuration');
    expect(run.stderr).toContain('--port: expected a number, got "x"');
    expect(run.stderr).toContain('redis.url');
  });
});
