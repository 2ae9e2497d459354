import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createTransport } from 'nodemailer';
import { loadAgentConfig } from '@smtp-slots/agent';
import { loadConfig as loadCoordinatorConfig } from '@smtp-slots/coordinator';
import { describe, expect, it } from 'vitest';
import {
  composeDefaults,
  dockerfileStages,
  hasTool,
  readRepoText,
  readRepoYaml,
  repoFileExists,
  repoPath,
  stageLines,
} from './repo-files.js';

interface ComposeService {
  build?: { context: string; dockerfile: string; target?: string };
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, unknown> | string[];
  healthcheck?: { test: string[] };
  hostname?: string;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const compose = readRepoYaml<ComposeFile>('docker-compose.yml');
const services = compose.services;
const agentNames = Object.keys(services).filter((name) => /^agent-\d+$/.test(name));

/** `./deploy/x.yaml:/etc/y.yaml:ro` → { host: 'deploy/x.yaml', container: '/etc/y.yaml' } for bind mounts. */
function mounts(service: ComposeService) {
  return (service.volumes ?? []).map((spec) => {
    const [source = '', container = ''] = spec.split(':');
    return { bind: source.startsWith('./'), source: source.replace(/^\.\//, ''), container };
  });
}

/** The host file mounted at `containerPath`, or throws. */
function mountedFile(service: ComposeService, containerPath: string): string {
  const mount = mounts(service).find((m) => m.bind && m.container === containerPath);
  if (!mount) throw new Error(`nothing is mounted at ${containerPath}`);
  return mount.source;
}

/** The environment a service's process sees, with compose's `${X:-default}` defaults applied. */
function serviceEnv(service: ComposeService): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, composeDefaults(String(v))]));
}

function published(service: ComposeService) {
  return (service.ports ?? []).map((spec) => {
    const [hostIp, hostPort, containerPort] = spec.split(':');
    return { hostIp, hostPort: Number(hostPort), containerPort: Number(containerPort) };
  });
}

function healthcheckPort(service: ComposeService): number | undefined {
  const match = /http:\/\/127\.0\.0\.1:(\d+)\//.exec((service.healthcheck?.test ?? []).join(' '));
  return match ? Number(match[1]) : undefined;
}

function argAfter(command: string[] | undefined, flag: string): string | undefined {
  const index = (command ?? []).indexOf(flag);
  return index >= 0 ? command![index + 1] : undefined;
}

async function agentConfig(service: ComposeService) {
  const file = mountedFile(service, argAfter(service.command, '--config') ?? '');
  const result = loadAgentConfig(repoPath(file), serviceEnv(service));
  if (!result.ok) throw new Error(`${file}: ${result.problems.join('; ')}`);
  return result.config;
}

async function coordinatorConfig() {
  const service = services['coordinator']!;
  const file = mountedFile(service, argAfter(service.command, '--config') ?? '');
  const result = await loadCoordinatorConfig(['--config', repoPath(file)], serviceEnv(service));
  if (!result.ok) throw new Error(`${file}: ${result.problems.join('; ')}`);
  if (result.help) throw new Error('unexpected --help');
  return result.config;
}

describe('docker-compose.yml', () => {
  it('runs redis, the coordinator, three agents, the Exchange simulator and Prometheus', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['agent-1', 'agent-2', 'agent-3', 'coordinator', 'exchange-sim', 'prometheus', 'redis'].sort(),
    );
    for (const [name, service] of Object.entries(services)) {
      expect(service.build ?? service.image, `${name} has neither build nor image`).toBeDefined();
      const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      for (const dep of deps) expect(services, `${name} depends on unknown ${dep}`).toHaveProperty(dep);
    }
  });

  it('builds every image from the workspace with a Dockerfile stage that runs that package\'s built CLI', () => {
    for (const [name, service] of Object.entries(services)) {
      if (!service.build) continue;
      const { context, dockerfile, target } = service.build;
      expect(repoFileExists(context), `${name}: build context ${context}`).toBe(true);
      expect(repoFileExists(`${context}/${dockerfile}`), `${name}: ${dockerfile}`).toBe(true);
      const stages = dockerfileStages(readRepoText(`${context}/${dockerfile}`));
      expect(stages.has(target ?? ''), `${name}: stage ${target}`).toBe(true);

      // The stage copies the deploy output of one workspace package and runs its bin.
      const lines = stageLines(stages, target!);
      const copy = lines.map((l) => /^COPY\s+--from=build\s+(?:--chown=\S+\s+)?\/out\/(\S+)\s+\/app$/.exec(l)).find(Boolean);
      expect(copy, `${name}: stage ${target} copies a deployed package into /app`).toBeTruthy();
      const pkg = copy![1]!;
      const buildLines = stageLines(stages, 'build').join('\n');
      expect(buildLines).toContain(`pnpm --filter @smtp-slots/${pkg} deploy --prod --legacy /out/${pkg}`);
      const manifest = JSON.parse(readRepoText(`packages/${pkg}/package.json`)) as { name: string; bin: Record<string, string>; files: string[] };
      expect(manifest.name).toBe(`@smtp-slots/${pkg}`);
      expect(Object.values(manifest.bin)).toContain('./dist/cli.js');
      expect(manifest.files).toContain('dist');
      expect(lines.join('\n')).toContain('ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli.js"]');
    }
  });

  it('keeps node_modules and local builds out of the build context', () => {
    const ignore = readRepoText('deploy/docker/Dockerfile.dockerignore').split('\n');
    for (const entry of ['**/node_modules', '**/dist', '.git']) expect(ignore).toContain(entry);
  });

  it('mounts only files that exist and declares every named volume', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const mount of mounts(service)) {
        if (mount.bind) expect(repoFileExists(mount.source), `${name}: ${mount.source}`).toBe(true);
        else expect(compose.volumes ?? {}, `${name}: volume ${mount.source}`).toHaveProperty(mount.source);
      }
    }
  });

  it('gives each agent its own hostname (its agentId), spool volume and relay port', async () => {
    expect(agentNames).toHaveLength(3);
    const spools = new Set<string>();
    for (const name of agentNames) {
      const service = services[name]!;
      expect(service.hostname).toBe(name);
      const config = await agentConfig(service);
      expect(config.agentId, 'agentId defaults to the container hostname').not.toBe('');
      const spool = mounts(service).find((m) => m.container === config.spool.dir);
      expect(spool?.bind, `${name}: spool ${config.spool.dir} is a named volume`).toBe(false);
      spools.add(spool!.source);
    }
    expect(spools.size).toBe(agentNames.length);
  });

  it('publishes ports on 127.0.0.1 only, each host port once, onto ports the services listen on', async () => {
    const hostPorts = new Set<number>();
    for (const [name, service] of Object.entries(services)) {
      for (const port of published(service)) {
        expect(port.hostIp, `${name} publishes on ${port.hostIp}`).toBe('127.0.0.1');
        expect(hostPorts.has(port.hostPort), `host port ${port.hostPort} published twice`).toBe(false);
        hostPorts.add(port.hostPort);
      }
    }
    for (const name of agentNames) {
      const service = services[name]!;
      const config = await agentConfig(service);
      expect(published(service).map((p) => p.containerPort)).toEqual([config.relay.port]);
      expect(healthcheckPort(service)).toBe(config.metrics.port);
    }
    const coordinator = await coordinatorConfig();
    expect(published(services['coordinator']!).map((p) => p.containerPort)).toEqual([coordinator.http.port]);
    expect(healthcheckPort(services['coordinator']!)).toBe(coordinator.http.port);
    expect(coordinator.http.host, 'listens on the container network so the port can be published').toBe('0.0.0.0');
  });

  it('agent config validates against the agent schema, with AUTH on its non-loopback relay', async () => {
    for (const name of agentNames) {
      const config = await agentConfig(services[name]!);
      expect(config.relay.host).toBe('0.0.0.0');
      expect(config.relay.users.length).toBeGreaterThan(0);
      expect(config.metrics.host).toBe('0.0.0.0');
      expect('url' in config.redis && new URL(config.redis.url).hostname).toBe('redis');
      expect(config.mailboxes).toHaveLength(1);
      const mailbox = config.mailboxes[0]!;
      expect(mailbox.limit).toBe(3);
      // The upstream is the simulator service, on the port its command line gives it.
      if (mailbox.upstream.type !== 'smtp') throw new Error('compose agents send over SMTP');
      expect(mailbox.upstream.host).toBe('exchange-sim');
      expect(String(mailbox.upstream.port)).toBe(argAfter(services['exchange-sim']!.command, '--port'));
      expect(mailbox.upstream.auth?.user).toBe(mailbox.address);
    }
  });

  it('agent config refuses to start without the secrets compose passes in', () => {
    const service = services['agent-1']!;
    const result = loadAgentConfig(repoPath(mountedFile(service, '/etc/smtp-slots/agent.yaml')), {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.join('\n')).toMatch(/RELAY_PASSWORD|UPSTREAM_CLIENT_SECRET/);
  });

  it('the simulator accepts its compose command line, refuses a password, and the agents sign in with OAuth2 as compose configures them', async () => {
    const simService = services['exchange-sim']!;
    // Same flags, but on loopback and free ports: this machine is not the compose network.
    const args = (simService.command ?? []).map(composeDefaults);
    const set = (flag: string, value: string) => (args[args.indexOf(flag) + 1] = value);
    set('--port', '0');
    set('--http-port', '0');
    set('--host', '127.0.0.1');
    const sim = spawn(process.execPath, [repoPath('packages/exchange-sim/dist/cli.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(createInterface({ input: sim.stdout! }), 'line')) as [string];
      const { smtpPort, httpPort } = JSON.parse(line) as { smtpPort: number; httpPort: number };
      const mailbox = (await agentConfig(services['agent-1']!)).mailboxes[0]!;
      const auth = mailbox.upstream.type === 'smtp' ? mailbox.upstream.auth : undefined;
      if (auth?.type !== 'oauth2') throw new Error('compose agents sign in with OAuth2');
      // The compose token URL names the simulator service; here it listens on loopback.
      const tokenUrl = new URL(auth.tokenUrl!);
      expect(tokenUrl.host).toBe(`exchange-sim:${argAfter(simService.command, '--http-port')}`);
      const tokenResponse = await fetch(`http://127.0.0.1:${httpPort}${tokenUrl.pathname}`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: auth.clientId, client_secret: auth.clientSecret!, scope: auth.scope }),
      });
      expect(tokenResponse.status).toBe(200);
      const { access_token: accessToken } = (await tokenResponse.json()) as { access_token: string };
      const oauth = createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, auth: { type: 'OAuth2', user: auth.user, accessToken } });
      await expect(oauth.verify()).resolves.toBe(true);
      oauth.close();
      const password = createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, auth: { user: auth.user, pass: 'any' } });
      await expect(password.verify()).rejects.toThrow(/5\.7\.30/);
      password.close();
    } finally {
      sim.kill('SIGTERM');
      await once(sim, 'exit');
    }
  });

  it('coordinator config validates and points at the redis service', async () => {
    const config = await coordinatorConfig();
    expect('url' in config.redis && new URL(config.redis.url).hostname).toBe('redis');
    expect(config.adminToken, 'admin token comes from the environment').toBeDefined();
  });

  it('Prometheus scrapes the coordinator and every agent where they serve /metrics, with the alert rules', async () => {
    const prometheus = services['prometheus']!;
    const configFile = mountedFile(prometheus, '/etc/prometheus/prometheus.yml');
    const config = readRepoYaml<{ rule_files: string[]; scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }> }>(configFile);
    for (const rules of config.rule_files) mountedFile(prometheus, `/etc/prometheus/${rules.split(/\s/)[0]}`);
    const targets = new Map(config.scrape_configs.map((job) => [job.job_name, job.static_configs.flatMap((s) => s.targets)]));

    const agentPorts = await Promise.all(agentNames.map(async (name) => `${name}:${(await agentConfig(services[name]!)).metrics.port}`));
    expect(targets.get('smtp-slots-agent')?.sort()).toEqual(agentPorts.sort());
    const coordinator = await coordinatorConfig();
    expect(targets.get('smtp-slots-coordinator')).toEqual([`coordinator:${coordinator.http.port}`]);
  });

  it.runIf(hasTool('promtool'))('promtool accepts the Prometheus config and the alert rules pass their unit tests', () => {
    const check = spawnSync('promtool', ['check', 'config', 'prometheus.yml'], { cwd: repoPath('deploy/prometheus'), encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const test = spawnSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: repoPath('deploy/prometheus'), encoding: 'utf8' });
    expect(test.status, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toContain('SUCCESS');
  });
});
