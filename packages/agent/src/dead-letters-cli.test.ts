import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool } from './spool/spool.js';

/** The built CLI, as operators run it. */
const cli = join(dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');
const MAILBOX = 'reports@contoso.example';

let root: string;
let spoolDir: string;

function run(...args: string[]) {
  // No DL_PASS and no Redis: dead-letters must not need either.
  const env = { ...process.env };
  delete env.DL_PASS;
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000, env });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** One real dead letter, made the way the sender makes one: accept, claim, bury. */
async function deadLetter(n: number): Promise<string> {
  const { spool } = await Spool.open(spoolDir);
  try {
    await spool.accept({
      mailbox: MAILBOX,
      envelope: { from: MAILBOX, to: [`user${n}@fabrikam.example`] },
      raw: Buffer.from(`Message-ID: <dl${n}@test>\r\nSubject: ${n}\r\n\r\nbody\r\n`),
      messageId: `<dl${n}@test>`,
      origin: 'relay',
    });
    const message = await spool.claim(MAILBOX);
    const header = await spool.bury(message!, { at: new Date().toISOString(), kind: 'permanent', code: 554, response: '554 5.6.0 refused' }, '554 at DATA');
    return header.id;
  } finally {
    await spool.close();
  }
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'agent-dl-cli-'));
  spoolDir = join(root, 'spool');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

// Each case starts the CLI several times; a loaded machine needs far more than the default.
describe('smtp-slots-agent dead-letters', { timeout: 180_000 }, () => {
  it('lists from --spool-dir, or from --config without resolving its secrets', async () => {
    const id = await deadLetter(1);
    const byDir = run('--spool-dir', spoolDir, 'dead-letters', 'list');
    expect(byDir.stderr).toBe('');
    expect(byDir.code).toBe(0);
    expect(byDir.stdout).toContain(id);
    expect(byDir.stdout).toContain('554 5.6.0 refused');

    const config = join(root, 'agent.yaml');
    writeFileSync(
      config,
      [
        'redis: { url: "redis://127.0.0.1:1" }',
        `spool: { dir: ${JSON.stringify(spoolDir)} }`,
        'mailboxes:',
        `  - address: ${MAILBOX}`,
        '    upstream: { host: smtp.example, port: 587, auth: { user: reports, pass: "${DL_PASS}" } }',
      ].join('\n'),
    );
    const byConfig = run('--config', config, 'dead-letters', 'list', '--json');
    expect(byConfig.stderr).toBe('');
    expect(byConfig.code).toBe(0);
    expect((JSON.parse(byConfig.stdout) as Array<{ id: string }>).map((l) => l.id)).toEqual([id]);
  });

  it('refuses a folder that is missing or is not a spool, naming the path', () => {
    const missing = run('--spool-dir', join(root, 'nope'), 'dead-letters', 'list');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(join(root, 'nope'));
    expect(missing.stdout).not.toContain('no dead letters');

    const plain = join(root, 'plain');
    mkdirSync(plain);
    const notSpool = run('--spool-dir', plain, 'dead-letters', 'list');
    expect(notSpool.code).toBe(1);
    expect(notSpool.stderr).toContain(`${plain} is not a spool`);
  });

  it('purge without ids needs --all', async () => {
    const id = await deadLetter(1);
    const refused = run('--spool-dir', spoolDir, 'dead-letters', 'purge');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--all');
    expect(readdirSync(join(spoolDir, 'dead'))).toEqual([id]);

    const all = run('--spool-dir', spoolDir, 'dead-letters', 'purge', '--all');
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('purged 1 dead letter(s)');
    expect(readdirSync(join(spoolDir, 'dead'))).toEqual([]);
  });

  it('reports unknown ids and exits 1, still processing the known ones', async () => {
    const first = await deadLetter(1);
    const second = await deadLetter(2);
    const unknown = '000000000-zz-0000-zzzz';

    const retry = run('--spool-dir', spoolDir, 'dead-letters', 'retry', first, unknown);
    expect(retry.code).toBe(1);
    expect(retry.stderr).toContain(unknown);
    expect(retry.stdout).toContain(`requeued 1 dead letter(s): ${first}`);
    expect(readdirSync(join(spoolDir, 'queued'))).toEqual([first]);

    const purge = run('--spool-dir', spoolDir, 'dead-letters', 'purge', 'not-an-id', second);
    expect(purge.code).toBe(1);
    expect(purge.stderr).toContain('not-an-id');
    expect(purge.stdout).toContain('purged 1 dead letter(s)');
    expect(readdirSync(join(spoolDir, 'dead'))).toEqual([]);
  });
});
