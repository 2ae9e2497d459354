import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveAgentConfig, type AgentConfig } from '@smtp-slots/agent';
import { parseConfig as parseCoordinatorConfig } from '@smtp-slots/coordinator';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { hasTool, readRepoText, readRepoYaml, repoPath } from './repo-files.js';

const scratch = mkdtempSync(join(tmpdir(), 'smtp-slots-deploy-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Every `${NAME}` the text references, set to a placeholder (the secrets an operator provides). */
function placeholderEnv(text: string): NodeJS.ProcessEnv {
  return Object.fromEntries([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => [m[1]!, 'placeholder-secret']));
}

/** `file:/path` secret references point at files an operator creates; collect them, read placeholders. */
function withSecretFilesReplaced(value: unknown, found: string[]): unknown {
  if (Array.isArray(value)) return value.map((item) => withSecretFilesReplaced(item, found));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withSecretFilesReplaced(v, found)]));
  if (typeof value === 'string' && value.startsWith('file:')) {
    found.push(value.slice('file:'.length));
    return 'placeholder-secret-from-file';
  }
  return value;
}

/** Validates an example agent config exactly as the agent would, with its secrets provided. */
function exampleAgentConfig(relative: string): { config: AgentConfig; secretFiles: string[] } {
  const text = readRepoText(relative);
  const secretFiles: string[] = [];
  const document = withSecretFilesReplaced(parseYaml(text), secretFiles) as Record<string, unknown>;
  const result = resolveAgentConfig(document, placeholderEnv(text));
  if (!result.ok) throw new Error(`${relative}: ${result.problems.join('; ')}`);
  return { config: result.config, secretFiles };
}

/** `Key=value` lines of a systemd unit (repeated keys keep every value). */
function unitSettings(relative: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  for (const line of readRepoText(relative).split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match) settings.set(match[1]!, [...(settings.get(match[1]!) ?? []), match[2]!]);
  }
  return settings;
}
const one = (settings: Map<string, string[]>, key: string): string => settings.get(key)?.at(-1) ?? '';
const seconds = (value: string): number => {
  const match = /^(\d+)\s*(s|sec|min)?$/.exec(value.trim());
  if (!match) throw new Error(`not a duration: ${value}`);
  return Number(match[1]) * (match[2] === 'min' ? 60 : 1);
};

function runCli(script: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [repoPath(script), ...args], { encoding: 'utf8', env: { PATH: process.env['PATH'], ...env }, timeout: 30_000 });
}

describe('example configs', () => {
  it.each(['deploy/config/agent.example.yaml', 'deploy/config/agent.oauth2.example.yaml', 'deploy/config/agent.password.example.yaml', 'deploy/windows/agent.yaml'])(
    '%s validates against the agent schema',
    (file) => {
      const { config, secretFiles } = exampleAgentConfig(file);
      expect(config.mailboxes.length).toBeGreaterThan(0);
      for (const mailbox of config.mailboxes) {
        // Production examples talk to Exchange Online the way it requires.
        expect(mailbox.upstream).toMatchObject({ host: 'smtp.office365.com', port: 587, requireTLS: true });
        expect(mailbox.limit).toBe(3);
      }
      expect(config.relay.host, 'apps on the same server only').toBe('127.0.0.1');
      for (const file of secretFiles) expect(file, 'secret files live with the config, never in the program folder').toMatch(/smtp-slots[\\/]secrets[\\/]/);
    },
  );

  it('Exchange Online examples lead with OAuth2; only the legacy example uses a password', () => {
    const types = (file: string) => exampleAgentConfig(file).config.mailboxes.map((m) => m.upstream.auth?.type);
    for (const file of ['deploy/config/agent.example.yaml', 'deploy/config/agent.oauth2.example.yaml', 'deploy/windows/agent.yaml']) {
      expect(new Set(types(file)), file).toEqual(new Set(['oauth2']));
    }
    expect(types('deploy/config/agent.password.example.yaml')).toEqual(['password']);
    expect(readRepoText('deploy/config/agent.password.example.yaml')).toMatch(/LEGACY[\s\S]*December 2026/);
  });

  it('the coordinator example validates and listens on loopback', () => {
    const result = parseCoordinatorConfig(readRepoYaml('deploy/config/coordinator.example.yaml'));
    expect(result.ok && !result.help && result.config.http.host).toBe('127.0.0.1');
  });

  it('`smtp-slots-agent --check` accepts the Linux example with its secrets set, and exits 2 without them', () => {
    const file = repoPath('deploy/config/agent.example.yaml');
    const env = placeholderEnv(readRepoText('deploy/config/agent.example.yaml'));
    const ok = runCli('packages/agent/dist/cli.js', ['--config', file, '--check'], env);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    const missing = runCli('packages/agent/dist/cli.js', ['--config', file, '--check']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('REPORTS_CLIENT_SECRET');
  });

  it('`smtp-slots-coordinator --check` accepts the example, and exits 2 naming a misspelt nested key', () => {
    const ok = runCli('packages/coordinator/dist/cli.js', ['--config', repoPath('deploy/config/coordinator.example.yaml'), '--check']);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('configuration is valid: redis redis://redis.internal:6379');
    const typo = join(scratch, 'coordinator-typo.yaml');
    writeFileSync(typo, 'http:\n  hots: 1\n');
    const bad = runCli('packages/coordinator/dist/cli.js', ['--config', typo, '--check']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('  - http.hots: unknown key\n');
  });
});

describe('systemd units', () => {
  const agent = unitSettings('deploy/systemd/smtp-slots-agent.service');
  const coordinator = unitSettings('deploy/systemd/smtp-slots-coordinator.service');

  it('run hardened, unprivileged, restart on failure but not on a bad config, and stop with SIGTERM', () => {
    for (const unit of [agent, coordinator]) {
      expect(one(unit, 'DynamicUser')).toBe('yes');
      expect(one(unit, 'Restart')).toBe('on-failure');
      expect(one(unit, 'KillSignal')).toBe('SIGTERM');
      expect(one(unit, 'NoNewPrivileges')).toBe('yes');
      expect(one(unit, 'ProtectSystem')).toBe('strict');
      expect(one(unit, 'CapabilityBoundingSet')).toBe('');
      expect(one(unit, 'RestartPreventExitStatus')).toBe('2');
    }
  });

  it('exit code 2 really is "bad config" for both services', () => {
    const bad = join(scratch, 'bad.yaml');
    writeFileSync(bad, 'relay:\n  port: not-a-port\n');
    expect(runCli('packages/agent/dist/cli.js', ['--config', bad]).status).toBe(2);
    expect(runCli('packages/coordinator/dist/cli.js', ['--config', bad]).status).toBe(2);
  });

  it('agent: validates first, keeps its spool in the StateDirectory, and gives draining time to finish', () => {
    const configPath = '/etc/smtp-slots/agent.yaml';
    expect(one(agent, 'ExecStart')).toBe(`/usr/bin/node /opt/smtp-slots/agent/dist/cli.js --config ${configPath}`);
    expect(one(agent, 'ExecStartPre')).toBe(`${one(agent, 'ExecStart')} --check`);
    const spoolDir = `/var/lib/${one(agent, 'StateDirectory')}/spool`;
    expect(agent.get('Environment')).toContain(`SMTP_SLOTS_SPOOL_DIR=${spoolDir}`);
    const { config } = exampleAgentConfig('deploy/config/agent.example.yaml');
    expect(config.spool.dir).toBe(spoolDir);
    expect(seconds(one(agent, 'TimeoutStopSec'))).toBeGreaterThanOrEqual(config.shutdownTimeoutMs / 1000 + 30);
  });

  it('coordinator: reads the example config path and the admin token from its environment file', () => {
    expect(one(coordinator, 'ExecStart')).toBe('/usr/bin/node /opt/smtp-slots/coordinator/dist/cli.js --config /etc/smtp-slots/coordinator.yaml');
    expect(one(coordinator, 'EnvironmentFile')).toBe('-/etc/smtp-slots/coordinator.env');
  });

  it.runIf(hasTool('systemd-analyze'))('pass systemd-analyze verify', () => {
    const files = readdirSync(repoPath('deploy/systemd')).filter((f) => f.endsWith('.service')).map((f) => repoPath(`deploy/systemd/${f}`));
    const result = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8' });
    const complaints = result.stderr.split('\n').filter((line) => /Unknown|Failed|Invalid|not valid|Ignoring/i.test(line));
    expect(complaints).toEqual([]);
  });
});

describe('Windows service files', () => {
  const xml = readRepoText('deploy/windows/smtp-slots-agent.xml');
  const script = readRepoText('deploy/windows/install-agent.ps1');
  const { config } = exampleAgentConfig('deploy/windows/agent.yaml');

  it('the WinSW definition is balanced XML that runs the agent CLI with the config the installer writes', () => {
    const stack: string[] = [];
    for (const tag of xml.replace(/<!--[\s\S]*?-->/g, '').matchAll(/<(\/?)([A-Za-z]+)[^>]*?(\/?)>/g)) {
      if (tag[3] === '/') continue;
      if (tag[1] === '/') expect(stack.pop()).toBe(tag[2]);
      else stack.push(tag[2]!);
    }
    expect(stack).toEqual([]);
    expect(xml).toContain('<argument>%BASE%\\agent\\dist\\cli.js</argument>');
    expect(xml).toContain('<argument>%ProgramData%\\smtp-slots\\agent.yaml</argument>');
    expect(script).toContain("$config = Join-Path $DataDir 'agent.yaml'");
    expect(config.spool.dir.toLowerCase()).toBe('c:\\programdata\\smtp-slots\\spool');
    expect(script).toContain('"$DataDir\\spool"');
  });

  it('both wrappers wait for the agent to drain before they kill it', () => {
    const winsw = /<stoptimeout>(\d+) sec<\/stoptimeout>/.exec(xml);
    expect(Number(winsw?.[1])).toBeGreaterThan(config.shutdownTimeoutMs / 1000);
    const nssm = /AppStopMethodConsole (\d+)/.exec(script);
    expect(Number(nssm?.[1])).toBeGreaterThan(config.shutdownTimeoutMs);
  });

  it('the installer copies only files that exist next to it and never downloads anything', () => {
    for (const match of script.matchAll(/Join-Path \$PSScriptRoot '([^']+)'/g)) {
      expect(readdirSync(repoPath('deploy/windows'))).toContain(match[1]);
    }
    expect(script).not.toMatch(/Invoke-WebRequest|DownloadFile|Start-BitsTransfer|curl /i);
  });
});
