import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { envNameToPath } from './env-overrides.js';
import { loadConfigFile } from './load-config.js';

const dir = mkdtempSync(join(tmpdir(), 'service-kit-'));
const write = (name: string, text: string): string => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

const schema = z
  .object({
    http: z.object({ host: z.string().default('127.0.0.1'), port: z.number().int().max(65_535).default(8080) }).strict().prefault({}),
    tls: z.boolean().default(false),
    users: z.array(z.object({ name: z.string(), password: z.string().min(8) }).strict()).default([]),
    adminToken: z.string().min(16).optional(),
  })
  .strict();
const load = (file: string, env: NodeJS.ProcessEnv = {}) => loadConfigFile(file, { schema, service: 'test', env });

describe('loadConfigFile', () => {
  it('lists a missing secret beside every other problem, once per path', () => {
    const file = write('bad.yaml', 'http: { port: 70000, hots: x }\nusers:\n  - { name: a, password: "file:/nonexistent/secret" }\n  - { name: b, password: "${NOT_SET}" }\n');
    expect(load(file)).toEqual({
      ok: false,
      problems: [
        'users.0.password: cannot read secret file /nonexistent/secret (ENOENT)',
        'users.1.password: environment variable NOT_SET is not set',
        'http.port: Too big: expected number to be <=65535',
        'http.hots: unknown key',
      ],
    });
  });

  it('resolves ${ENV}, ${file:} and file: references', () => {
    const secret = write('secret.txt', 'from-a-file\n');
    const file = write('ok.yaml', `users:\n  - { name: a, password: "file:${secret}" }\n  - { name: b, password: "pre-\${file:${secret}}" }\nadminToken: "\${TOKEN}"\n`);
    expect(load(file, { TOKEN: 't'.repeat(16) })).toMatchObject({
      ok: true,
      config: { users: [{ password: 'from-a-file' }, { password: 'pre-from-a-file' }], adminToken: 't'.repeat(16) },
    });
  });

  it('SMTP_SLOTS_* variables set keys with their types; empty is unset; a stray name of ours is a problem', () => {
    expect(envNameToPath(schema, 'USERS_1_PASSWORD')).toEqual(['users', 1, 'password']);
    expect(envNameToPath(schema, 'ADMIN_TOKEN')).toEqual(['adminToken']);
    const file = write('empty.yaml', '');
    expect(load(file, { SMTP_SLOTS_HTTP_PORT: '9000', SMTP_SLOTS_TLS: 'true', SMTP_SLOTS_HTTP_HOST: '', SMTP_SLOTS_RELAY_PORT: '1' })).toEqual({
      ok: true,
      config: { http: { host: '127.0.0.1', port: 9000 }, tls: true, users: [] },
    });
    expect(load(file, { SMTP_SLOTS_HTTP_PROT: '9000' })).toEqual({ ok: false, problems: ['SMTP_SLOTS_HTTP_PROT: does not name a test config key'] });
  });

  it('names the file when it cannot be read or parsed, or is not a mapping', () => {
    expect(load(join(dir, 'none.yaml'))).toEqual({ ok: false, problems: [`${join(dir, 'none.yaml')}: cannot read (ENOENT)`] });
    expect(load(write('broken.json', '{ nope'))).toMatchObject({ ok: false, problems: [expect.stringMatching(/broken\.json: not valid JSON/)] });
    expect(load(write('list.yaml', '- a\n'))).toMatchObject({ ok: false, problems: [expect.stringMatching(/list\.yaml: the top level must be a mapping/)] });
  });
});
