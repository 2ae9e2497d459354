import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAgent } from './agent.js';
import { envNameToPath, loadAgentConfig } from './config-loader.js';
import { ConfigError } from './errors.js';

const dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
const write = (name: string, text: string): string => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

const minimal = `
spool: { dir: /tmp/spool }
mailboxes:
  - address: reports@contoso.com
    upstream: { host: smtp.office365.com, auth: { user: reports@contoso.com, pass: "\${EXO_PASS}" } }
`;

describe('agent config', () => {
  it('applies the documented defaults', () => {
    const result = loadAgentConfig(write('min.yaml', minimal), { EXO_PASS: 's3cret' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { config } = result;
    expect(config.relay).toMatchObject({ host: '127.0.0.1', port: 2525, users: [] });
    expect(config.mailboxes[0]).toMatchObject({ limit: 3, ratePerMinute: 30, recipientsPerDay: 10_000 });
    expect(config.mailboxes[0]!.upstream).toMatchObject({ port: 587, secure: false, auth: { type: 'password', pass: 's3cret' } });
    expect(config.sender.retry.maxLifetimeMs).toBe(2 * 86_400_000);
    expect(config.agentId.length).toBeGreaterThan(0);
  });

  it('trail: defaults of 7 days and 10,000 per mailbox; privacy modes checked by name', () => {
    const result = loadAgentConfig(write('trail.yaml', minimal), { EXO_PASS: 's3cret' });
    expect(result.ok && result.config.trail).toEqual({ enabled: true, maxAgeHours: 168, maxPerMailbox: 10_000, recipients: 'plain', subject: 'plain' });
    const bad = loadAgentConfig(write('trail-bad.yaml', `${minimal}trail: { recipients: hidden, maxPerMailbox: 5 }\n`), { EXO_PASS: 's3cret' });
    expect(bad.ok).toBe(false);
    const text = bad.ok ? '' : bad.problems.join('\n');
    expect(text).toMatch(/trail\.recipients: .*plain.*hashed.*off/);
    expect(text).toMatch(/trail\.maxPerMailbox: /);
  });

  it('reads JSON as well', () => {
    const file = write('c.json', JSON.stringify({ mailboxes: [{ address: 'a@b.example', upstream: { host: 'h' } }] }));
    expect(loadAgentConfig(file, {}).ok).toBe(true);
  });

  it('lists every problem with its path', () => {
    const file = write('bad.yaml', `
relay: { host: 0.0.0.0, port: 99999 }
mailboxes:
  - address: not-an-address
    upstream: { port: 587 }
    limit: 0
  - address: x@y.example
    upstream: { host: h, auth: { type: oauth2, user: x@y.example, clientId: c, clientSecret: "\${MISSING}" } }
`);
    const result = loadAgentConfig(file, {});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.problems.join('\n');
    expect(text).toContain('mailboxes.1.upstream.auth.clientSecret: environment variable MISSING is not set');
    // The missing secret is listed beside the schema problems; with it set, those remain.
    const second = loadAgentConfig(file, { MISSING: 'x' });
    expect(second.ok).toBe(false);
    if (second.ok) return;
    const all = second.problems.join('\n');
    expect(all).toContain('relay.port');
    expect(all).toContain('mailboxes.0.address: must be an e-mail address');
    expect(all).toContain('mailboxes.0.upstream.host');
    expect(all).toContain('mailboxes.0.limit');
    expect(all).toContain('mailboxes.1.upstream.auth');
  });

  it('refuses a relay on a non-loopback address without users (no open relay)', () => {
    const result = loadAgentConfig(write('open.yaml', minimal), { EXO_PASS: 'p', SMTP_SLOTS_RELAY_HOST: '0.0.0.0' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.join('\n')).toMatch(/relay\.users: relay\.host 0\.0\.0\.0 is not a loopback address/);
  });

  it('createAgent refuses to start a relay bound beyond loopback without relay AUTH, before it opens anything', async () => {
    const spoolDir = join(dir, 'never-created-spool');
    const started = createAgent({
      relay: { host: '0.0.0.0', port: 0 }, spool: { dir: spoolDir }, metrics: { enabled: false }, logLevel: 'silent',
      mailboxes: [{ address: 'reports@contoso.com', upstream: { host: '127.0.0.1' } }],
    });
    await expect(started).rejects.toBeInstanceOf(ConfigError);
    await expect(started).rejects.toThrow(/relay\.users: relay\.host 0\.0\.0\.0 is not a loopback address/);
    expect(existsSync(spoolDir)).toBe(false);
  });

  it('SMTP_SLOTS_* variables override nested keys, array entries included', () => {
    expect(envNameToPath('RELAY_MAX_MESSAGE_BYTES')).toEqual(['relay', 'maxMessageBytes']);
    expect(envNameToPath('MAILBOXES_0_UPSTREAM_AUTH_CLIENT_SECRET')).toEqual(['mailboxes', 0, 'upstream', 'auth', 'clientSecret']);
    expect(envNameToPath('NOPE')).toBeUndefined();
    const result = loadAgentConfig(write('env.yaml', minimal), {
      EXO_PASS: 'p',
      SMTP_SLOTS_RELAY_PORT: '2600',
      SMTP_SLOTS_AGENT_ID: 'fe-07',
      SMTP_SLOTS_MAILBOXES_0_LIMIT: '2',
      SMTP_SLOTS_MAILBOXES_0_UPSTREAM_SECURE: 'true',
      SMTP_SLOTS_ADMIN_TOKEN: 'belongs-to-the-coordinator',
    });
    expect(result.ok && result.config).toMatchObject({ agentId: 'fe-07', relay: { port: 2600 }, mailboxes: [{ limit: 2, upstream: { secure: true } }] });
  });

  it('resolves file: and ${file:} secret references', () => {
    const secret = write('secret.txt', 'from-a-file\n');
    const text = minimal.replace('"${EXO_PASS}"', `"file:${secret}"`);
    const result = loadAgentConfig(write('file.yaml', text), {});
    expect(result.ok && result.config.mailboxes[0]!.upstream.auth).toMatchObject({ pass: 'from-a-file' });
    const inline = loadAgentConfig(write('inline.yaml', minimal.replace('${EXO_PASS}', `pre-\${file:${secret}}`)), {});
    expect(inline.ok && inline.config.mailboxes[0]!.upstream.auth).toMatchObject({ pass: 'pre-from-a-file' });
    const missing = loadAgentConfig(write('missing.yaml', minimal.replace('${EXO_PASS}', 'file:/nonexistent/secret')), {});
    expect(missing.ok).toBe(false);
  });

  it('reports unreadable and unparsable files', () => {
    const none = loadAgentConfig(join(dir, 'nope.yaml'), {});
    expect(!none.ok && none.problems[0]).toMatch(/cannot read \(ENOENT\)/);
    const broken = loadAgentConfig(write('broken.json', '{ nope'), {});
    expect(!broken.ok && broken.problems[0]).toMatch(/not valid JSON/);
  });

  it('rejects duplicate mailboxes', () => {
    const file = write('dup.yaml', `
mailboxes:
  - { address: a@b.example, upstream: { host: h } }
  - { address: A@b.example, upstream: { host: h } }
`);
    const result = loadAgentConfig(file, {});
    expect(!result.ok && result.problems.join()).toContain('mailboxes.1.address: duplicate of mailboxes.0.address');
  });
});
