import { spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { agentConfigSchema, resolveAgentConfig } from '@smtp-slots/agent';
import { coordinatorConfigSchema, parseConfig as parseCoordinatorConfig } from '@smtp-slots/coordinator';
import { describe, expect, inject, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { metricFamilies, scrapeAgent, scrapeCoordinator } from './live-metrics.js';
import { codeBlocks, firstCode, headingAnchors, localLinks, markedTable } from './markdown.js';
import { readRepoText, repoFileExists, repoPath } from './repo-files.js';
import { schemaKeys, type SchemaKey } from './schema-keys.js';

const readme = readRepoText('README.md');
const docs = readdirSync(repoPath('docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
const markdownFiles = ['README.md', ...docs];

/** Checks a README configuration table against a schema: same keys, same defaults. */
function checkConfigTable(tableName: string, keys: SchemaKey[], options: { envOnly?: string[]; describedDefaults?: string[] } = {}) {
  const rows = markedTable(readme, tableName).map(([key, defaultCell, description]) => ({ key: firstCode(key)!, defaultCell: defaultCell ?? '', description }));
  const documented = rows.map((r) => r.key);
  const schemaPaths = keys.map((k) => k.path).filter((p) => !(options.envOnly ?? []).includes(p));
  // A row documents its key and everything below it (`relay.users` covers `relay.users[].user`).
  // A list of objects (`mailboxes`) is documented by the rows of its items (`mailboxes[].address`).
  const covered = (path: string) =>
    documented.some((key) => path === key || path.startsWith(`${key}.`) || path.startsWith(`${key}[]`) || key.startsWith(`${path}[].`));
  expect(schemaPaths.filter((p) => !covered(p)), 'schema keys missing from the README table').toEqual([]);
  // Rows may also name an object whose keys they describe together (`relay.tls` = `{ key, cert }`).
  const known = new Set(schemaPaths.flatMap((p) => p.split('.').map((_, i, parts) => parts.slice(0, i + 1).join('.'))));
  expect(documented.filter((key) => !known.has(key)), 'README rows naming no schema key').toEqual([]);
  expect(new Set(documented).size, 'each key once').toBe(documented.length);

  for (const row of rows) {
    expect(row.description?.length ?? 0, `description of ${row.key}`).toBeGreaterThan(10);
    if ((options.describedDefaults ?? []).includes(row.key)) continue;
    const key = keys.find((k) => k.path === row.key);
    const shown = firstCode(row.defaultCell);
    if (!key) {
      expect(shown, `${row.key} is an object; its keys carry the defaults`).toBeUndefined();
      continue;
    }
    const actual = key.defaultValue === undefined ? undefined : Array.isArray(key.defaultValue) ? JSON.stringify(key.defaultValue) : String(key.defaultValue);
    expect(shown, `default of ${row.key}`).toBe(actual);
  }
}

/** Every `${NAME}` in the text, set to a placeholder. */
const placeholderEnv = (text: string): NodeJS.ProcessEnv =>
  Object.fromEntries([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => [m[1]!, 'placeholder']));

/** Replaces `file:` secret references by placeholders (the files are the operator's). */
function withoutSecretFiles(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => withoutSecretFiles(v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutSecretFiles(v, k)]));
  if (typeof value !== 'string' || !value.startsWith('file:')) return value;
  // The schema checks that a private key file holds a PEM key.
  return key === 'privateKey' ? '-----BEGIN PRIVATE KEY-----\nplaceholder\n-----END PRIVATE KEY-----' : 'placeholder';
}

function cliHelp(script: string): string {
  const result = spawnSync(process.execPath, [repoPath(script), '--help'], { encoding: 'utf8', timeout: 30_000 });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

describe('README', () => {
  it('quick start is exactly the two commands, and both scripts exist and are executable', () => {
    const quickStart = readme.slice(readme.indexOf('## Quick start'));
    const block = codeBlocks(quickStart)[0]!;
    expect(block.lang).toBe('sh');
    expect(block.code.split('\n').filter(Boolean).map((line) => line.split(/\s+/)[0])).toEqual(['./scripts/demo.sh', './scripts/test.sh']);
    for (const script of ['scripts/demo.sh', 'scripts/test.sh']) accessSync(repoPath(script), constants.X_OK);
    expect(readRepoText('scripts/demo.sh')).toContain('node packages/demo/dist/cli.js');
  });

  it('the agent configuration table lists every key of the agent schema with its real default', () => {
    checkConfigTable('agent-config-table', schemaKeys(agentConfigSchema), { describedDefaults: ['agentId', 'mailboxes[].upstream.appLimit.key'] });
  });

  it('the coordinator configuration table lists every key of the coordinator schema with its real default', () => {
    checkConfigTable('coordinator-config-table', schemaKeys(coordinatorConfigSchema), { envOnly: ['adminToken'] });
    expect(readme).toContain('SMTP_SLOTS_ADMIN_TOKEN');
  });

  it('every YAML config example in the README and docs/ validates against the real schemas', () => {
    let checked = 0;
    for (const file of markdownFiles) {
      for (const block of codeBlocks(readRepoText(file)).filter((b) => b.lang === 'yaml')) {
        const document = withoutSecretFiles(parseYaml(block.code)) as Record<string, unknown>;
        const where = `${file}:\n${block.code}`;
        if ('http' in document) {
          const result = parseCoordinatorConfig(document);
          expect(result.ok, where).toBe(true);
        } else {
          // Fragments (just `redis:` or just `mailboxes:`) are checked inside a minimal agent config.
          const full = { mailboxes: [{ address: 'fragment@contoso.example', upstream: { host: 'smtp.office365.com' } }], ...document };
          const result = resolveAgentConfig(full, placeholderEnv(block.code));
          expect(result.ok ? [] : result.problems, where).toEqual([]);
        }
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(5);
  });

  it('the TypeScript examples are the type-checked files in test/src/docs/examples', () => {
    const examplesDir = 'test/src/docs/examples';
    const examples = new Map(readdirSync(repoPath(examplesDir)).map((f) => [f, readRepoText(`${examplesDir}/${f}`).trimEnd()]));
    const blocks = codeBlocks(readme).filter((b) => b.lang === 'ts').map((b) => b.code.trimEnd());
    for (const block of blocks) expect([...examples.values()], `README block not backed by an example file:\n${block}`).toContain(block);
    for (const [file, code] of examples) expect(blocks, `${file} is not shown in the README`).toContain(code);
  });

  it('the metrics table lists exactly the metrics a real coordinator and a real agent export', async () => {
    const redisUrl = inject('redisUrl');
    const coordinator = metricFamilies(await scrapeCoordinator(redisUrl));
    const agent = metricFamilies(await scrapeAgent(redisUrl));
    const runtime = (name: string) => /^smtp_slots_coordinator_(process|nodejs)_/.test(name);
    const live = new Map<string, { type: string; from: string }>();
    for (const [name, family] of coordinator) if (!runtime(name)) live.set(name, { type: family.type, from: 'coordinator' });
    for (const [name, family] of agent) {
      const seen = live.get(name);
      expect(seen === undefined || seen.type === family.type, `${name} has one type everywhere`).toBe(true);
      live.set(name, { type: family.type, from: seen ? 'both' : 'agent' });
    }
    const rows = markedTable(readme, 'metrics-table').map(([metric, type, from]) => ({ name: firstCode(metric)!, type, from }));
    expect(Object.fromEntries(rows.map((r) => [r.name, { type: r.type, from: r.from }]))).toEqual(Object.fromEntries(live));
  });

  it('the alert rules use only metrics that exist', async () => {
    const names = new Set(markedTable(readme, 'metrics-table').map(([metric]) => firstCode(metric)));
    const rules = readRepoText('deploy/prometheus/alerts.yml');
    const used = new Set([...rules.matchAll(/\b(smtp_slots_\w+)/g)].map((m) => m[1]));
    expect([...used].filter((name) => !names.has(name))).toEqual([]);
    expect(used.size).toBeGreaterThanOrEqual(6);
  });

  it('commands and flags it mentions exist in the real CLIs', () => {
    const text = markdownFiles.map(readRepoText).join('\n');
    const demoHelp = cliHelp('packages/demo/dist/cli.js');
    for (const flag of new Set([...readme.matchAll(/`(?:\.\/scripts\/demo\.sh )?(--[a-z]+)/g)].map((m) => m[1]!))) {
      if (/^--(config|check|redis|port|host)$/.test(flag)) continue; // the services' flags, checked below
      expect(demoHelp, `demo flag ${flag}`).toContain(flag);
    }
    const agentHelp = cliHelp('packages/agent/dist/cli.js');
    for (const command of ['--config', '--check', 'dead-letters list', 'dead-letters retry', 'dead-letters purge', 'dead-letters purge --all', '--spool-dir']) {
      if (text.includes(command)) expect(agentHelp, `agent ${command}`).toContain(command);
    }
    const coordinatorHelp = cliHelp('packages/coordinator/dist/cli.js');
    for (const flag of ['--config', '--check', '--redis', '--port', '--host']) expect(coordinatorHelp).toContain(flag);
    // vitest project names listed under Development
    const projectName = (file: string) => /workspaceProject\('([^']+)'/.exec(readRepoText(file))?.[1];
    const projects = readdirSync(repoPath('packages'))
      .filter((dir) => repoFileExists(`packages/${dir}/vitest.config.ts`))
      .map((dir) => projectName(`packages/${dir}/vitest.config.ts`))
      .concat(projectName('test/vitest.config.ts'));
    expect(projects).not.toContain(undefined);
    const listed = /one package's tests \(([^)]*)\)/.exec(readme.replace(/\n\s*#\s*/g, ' '))?.[1] ?? '';
    expect(listed.split(/,\s*/).map((s) => s.trim()).sort()).toEqual(projects.sort());
  });

  it('links between the README and docs/ point at files and headings that exist', () => {
    for (const file of markdownFiles) {
      for (const link of localLinks(readRepoText(file))) {
        const [target = '', anchor] = link.split('#');
        const resolved = target === '' ? file : normalize(join(dirname(file), target));
        expect(repoFileExists(resolved), `${file} links to ${link}`).toBe(true);
        if (anchor) expect(headingAnchors(readRepoText(resolved)).has(anchor), `${file} links to #${anchor} in ${resolved}`).toBe(true);
      }
    }
  });
});
