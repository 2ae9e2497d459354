import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RawSmtpClient, testMessage } from './testing/raw-smtp-client.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Runs src/cli.ts the way e2e runs dist/cli.js, through tsx so no build is needed. */
function runCli(args: string[]) {
  return spawn(process.execPath, ['--import', 'tsx', '--conditions=source', 'src/cli.ts', ...args], {
    cwd: packageDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function collect(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

describe('exchange-sim CLI', () => {
  it('exits 2 on a bad flag value, naming the flag and the value', async () => {
    const child = runCli(['--limit', 'three']);
    const [stderr, [code]] = await Promise.all([collect(child.stderr), once(child, 'exit')]);
    expect(code).toBe(2);
    expect(stderr).toContain('invalid value "three" for --limit');
  });

  it('exits 2 on an unknown flag', async () => {
    const child = runCli(['--limt', '3']);
    const [stderr, [code]] = await Promise.all([collect(child.stderr), once(child, 'exit')]);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown flag --limt');
  });

  it('starts, announces its ports as one JSON line, serves SMTP and HTTP, and stops on SIGTERM', async () => {
    const child = runCli(['--users', 'cli@contoso.test:pw', '--limit', '2', '--hostname', 'CLI01.test']);
    try {
      const lines = createInterface({ input: child.stdout });
      const [first] = (await once(lines, 'line')) as [string];
      const announced = JSON.parse(first) as { event: string; smtpPort: number; httpPort: number; hostname: string };
      expect(announced).toMatchObject({ event: 'listening', hostname: 'CLI01.test' });

      const c = await RawSmtpClient.connect(announced.smtpPort);
      expect((await c.login('cli@contoso.test', 'pw')).code).toBe(235);
      const reply = await c.sendMessage('cli@contoso.test', ['r@fabrikam.test'], testMessage('cli@contoso.test', 'r').raw);
      expect(reply.text).toContain('[Hostname=CLI01.test]');
      const stats = (await (await fetch(`http://127.0.0.1:${announced.httpPort}/stats`)).json()) as {
        users: Record<string, { accepted: number; limit: number }>;
      };
      expect(stats.users['cli@contoso.test']).toMatchObject({ accepted: 1, limit: 2 });
      await c.quit();
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
