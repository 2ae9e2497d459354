import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { waitFor } from '@smtp-slots/testkit';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const TOKEN = 'cli-admin-token-do-not-log-4b1d';

describe('smtp-slots-coordinator CLI', () => {
  it('serves the API and the dashboard, logs JSON without secrets, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', 'src/cli.ts', '--redis', inject('redisUrl'), '--port', '0'], {
      cwd: packageDir,
      env: { ...process.env, SMTP_SLOTS_ADMIN_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit');
    try {
      const listening = await waitFor(
        () => stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { msg: string; url?: string; admin?: boolean }).find((l) => l.msg === 'coordinator listening'),
        { timeoutMs: 20_000, message: `the listening log line (stderr: ${stderr})` },
      );
      expect(listening.admin).toBe(true);
      const health = await fetch(`${listening.url}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok', redis: 'up' });
      const page = await fetch(`${listening.url}/`);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(await page.text()).toContain('<script type="module" src="app.js">');
      const script = await fetch(`${listening.url}/app.js`);
      expect(script.headers.get('content-type')).toMatch(/javascript/);
      const denied = await fetch(`${listening.url}/api/mailboxes/x%40y.test/pause`, { method: 'POST', headers: { authorization: 'Bearer wrong-token-123456' } });
      expect(denied.status).toBe(403);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await exited;
    expect(code).toBe(0);
    expect(stdout).toContain('"msg":"stopped"');
    expect(stdout + stderr).not.toContain(TOKEN);
  });
});
