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

  it('takes a Sentinel or Cluster redis section with ${NAME} from the environment; --redis replaces the section', async () => {
    const path = file('ha.yaml', 'redis:\n  sentinels: ["10.0.0.11:26379", { host: 10.0.0.12, port: 26379 }]\n  name: smtp-slots\n  password: ${REDIS_PASSWORD}\n');
    expect(await loadConfig(['--config', path], { REDIS_PASSWORD: 'from-env' })).toMatchObject({
      ok: true,
      config: { redis: { sentinels: [{ host: '10.0.0.11', port: 26379 }, { host: '10.0.0.12', port: 26379 }], name: 'smtp-slots', password: 'from-env' } },
    });
    expect(await loadConfig(['--config', path], {})).toEqual({ ok: false, problems: ['redis.password: environment variable REDIS_PASSWORD is not set'] });
    const flagged = await loadConfig(['--config', path, '--redis', 'redis://127.0.0.1:7000'], { REDIS_PASSWORD: 'x' });
    expect(flagged.ok && !flagged.help && flagged.config.redis).toEqual({ url: 'redis://127.0.0.1:7000' });
    const cluster = file('cluster.json', JSON.stringify({ redis: { cluster: ['10.0.0.21:6379'], tls: true } }));
    expect(await loadConfig(['--config', cluster], {})).toMatchObject({ ok: true, config: { redis: { cluster: [{ host: '10.0.0.21', port: 6379 }], tls: true } } });
  });

  it('names the three redis shapes when a section matches none', async () => {
    const path = file('no-name.yaml', 'redis:\n  sentinels: ["10.0.0.11:26379"]\n');
    const result = await loadConfig(['--config', path], {});
    expect(result).toEqual({ ok: false, problems: [expect.stringMatching(/^redis: must be exactly one of \{ url \}, \{ sentinels, name \} or \{ cluster \}/)] });
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

  it('names a misspelt key inside a section by its full path', async () => {
    const path = file('typo.yaml', 'http:\n  hots: 0.0.0.0\nevents:\n  heartbeat: 1000\n');
    expect(await loadConfig(['--config', path], {})).toEqual({ ok: false, problems: ['http.hots: unknown key', 'events.heartbeat: unknown key'] });
  });

  it('takes SMTP_SLOTS_* overrides between the file and the flags, and file: secrets', async () => {
    const secret = file('redis-password', 'from-a-file\n');
    const path = file('env.yaml', `redis:\n  url: redis://10.0.0.1:6379\nhttp:\n  port: 9000\n  host: 0.0.0.0\n`);
    const env = { SMTP_SLOTS_HTTP_PORT: '9100', SMTP_SLOTS_HTTP_HOST: '', SMTP_SLOTS_EVENTS_HEARTBEAT_MS: '2000', SMTP_SLOTS_RELAY_PORT: '1' };
    expect(await loadConfig(['--config', path], env)).toMatchObject({ ok: true, config: { http: { host: '0.0.0.0', port: 9100 }, events: { heartbeatMs: 2000 } } });
    expect(await loadConfig(['--config', path, '--port', '9200'], env)).toMatchObject({ ok: true, config: { http: { port: 9200 } } });
    const sentinel = file('secret.yaml', `redis:\n  sentinels: ["10.0.0.11:26379"]\n  name: smtp-slots\n  password: file:${secret}\n`);
    expect(await loadConfig(['--config', sentinel], {})).toMatchObject({ ok: true, config: { redis: { password: 'from-a-file' } } });
    expect(await loadConfig([], { SMTP_SLOTS_HTTP_PROT: '1' })).toEqual({ ok: false, problems: ['SMTP_SLOTS_HTTP_PROT: does not name a coordinator config key'] });
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
