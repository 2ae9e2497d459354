import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoPath } from '../docs/repo-files.js';

const scratch = mkdtempSync(join(tmpdir(), 'smtp-slots-config-problems-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const write = (name: string, text: string): string => {
  const file = join(scratch, name);
  writeFileSync(file, text);
  return file;
};

/** Runs a built CLI with `--check` and an environment without SMTP_SLOTS_* variables. */
function check(cli: string, file: string) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SMTP_SLOTS_')));
  return spawnSync(process.execPath, [repoPath(cli), '--config', file, '--check'], { encoding: 'utf8', env, timeout: 30_000 });
}

/** The problem lines of a failed check, without their indent and list marks. */
const problemLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('  ')).map((line) => line.replace(/^\s+(- )?/, ''));

describe('a config with six schema errors and a missing secret file', () => {
  it('smtp-slots-agent --check lists all seven with their paths, and names the allowed auth types', () => {
    const file = write('agent.yaml', `
relay: { port: 99999 }
spool: { dir: ${scratch}/spool, colour: blue }
logLevel: loud
mailboxes:
  - address: not-an-address
    upstream: { host: smtp.example.com, auth: { type: passwd, user: a@b.example, pass: p } }
    limit: 0
  - address: reports@contoso.example
    upstream: { host: smtp.example.com, auth: { user: reports@contoso.example, pass: "file:/nonexistent/exo-pass" } }
`);
    const run = check('packages/agent/dist/cli.js', file);
    expect(run.status, run.stderr).toBe(2);
    const problems = problemLines(run.stderr);
    expect(problems).toHaveLength(7);
    expect(problems).toContain('mailboxes.1.upstream.auth.pass: cannot read secret file /nonexistent/exo-pass (ENOENT)');
    expect(problems).toContain('mailboxes.0.upstream.auth.type: "passwd" is not one of oauth2, password');
    expect(problems).toContain('spool.colour: unknown key');
    expect(problems).toContain('mailboxes.0.address: must be an e-mail address like user@example.com');
    for (const path of ['relay.port', 'logLevel', 'mailboxes.0.limit']) expect(problems.filter((p) => p.startsWith(`${path}: `)), path).toHaveLength(1);
  });

  it('smtp-slots-coordinator --check lists all seven with their paths', () => {
    const file = write('coordinator.yaml', `
redis: { url: http://nope }
http: { port: 70000, hots: 0.0.0.0 }
api: { defaultPageSize: 0 }
events: { heartbeatMs: 1 }
metrics: { maxMailboxes: "\${file:/nonexistent/max-mailboxes}" }
logLevel: loud
`);
    const run = check('packages/coordinator/dist/cli.js', file);
    expect(run.status, run.stderr).toBe(2);
    const problems = problemLines(run.stderr);
    expect(problems).toHaveLength(7);
    expect(problems).toContain('metrics.maxMailboxes: cannot read secret file /nonexistent/max-mailboxes (ENOENT)');
    expect(problems).toContain('http.hots: unknown key');
    expect(problems).toContain('redis.url: must be a redis:// or rediss:// URL');
    for (const path of ['http.port', 'api.defaultPageSize', 'events.heartbeatMs', 'logLevel']) expect(problems.filter((p) => p.startsWith(`${path}: `)), path).toHaveLength(1);
  });
});
