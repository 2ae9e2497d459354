import { readFileSync } from 'node:fs';
import type { SimApp } from './entra/app-directory.js';
import type { ExchangeSimOptions, SimUser } from './options.js';

/** A command-line mistake; the message names the flag and the offending value. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export const USAGE = `Usage: exchange-sim [options]

An Exchange Online SMTP AUTH submission double (432 at end of DATA, 30/min carry-over,
24 h recipient quota, faults) with a JSON stats/admin API.

  --port <p>                 SMTP port (default 0: a free port, printed at start)
  --http-port <p>            HTTP stats/admin port (default 0; "off" disables it)
  --host <addr>              interface to bind (default 127.0.0.1)
  --hostname <name>          server name in the greeting and [Hostname=...]
  --limit <n>                concurrent authenticated sessions per user (default 3)
  --rate-per-minute <n>      messages released per user per minute (default 30)
  --recipients-per-day <n>   recipients per user per rolling 24 h (default 10000)
  --mailbox-quota-bytes <n>  bytes a user may submit before 554 5.2.2 (default: none)
  --users <list>             address:password,... users allowed to AUTH
  --mailboxes <list>         address,... users without a password (OAuth2 and Graph only)
  --tokens <list>            address:token,... XOAUTH2 tokens accepted
  --apps <list>              clientId:secret,... app registrations for the token endpoint
  --app-certificates <list>  clientId:/path/cert.pem,... certificates that may sign client assertions
  --token-lifetime-seconds <n>  lifetime of issued access tokens (default 3599)
  --graph-concurrency <n>    Graph sendMail requests in flight per mailbox before 429 (default 4)
  --graph-max-request-bytes <n>  largest Graph request body before 413 (default 4194304)
  --any-user                 accept any user name with any password or token
  --oauth-only               refuse AUTH LOGIN/PLAIN with 550 5.7.30
  --starttls                 offer STARTTLS (self-signed certificate) and require it before AUTH
  --allow-any-sender         do not require MAIL FROM to equal the authenticated user
  --latency-ms <n>           delay before the reply to the end of DATA (default 0)
  --latency-max-ms <n>       with --latency-ms: a random delay in [latency-ms, latency-max-ms]
  --transient-rate <0..1>    share of messages answered 451 4.3.111 (default 0)
  --ghost-ms <n>             dropped sessions keep counting this long (default 0)
  --socket-timeout-ms <n>    idle timeout of an SMTP session (default 60000)
  --help                     show this text
`;

type FlagKind = 'int' | 'string' | 'switch';

interface FlagSpec {
  kind: FlagKind;
  /** Smallest and largest accepted integer. */
  range?: [number, number];
  apply(target: CliSettings, value: string): void;
}

/** Flags collected before they are turned into options. */
interface CliSettings {
  options: ExchangeSimOptions;
  users: Map<string, SimUser>;
  apps: Map<string, SimApp>;
  latencyMin?: number;
  latencyMax?: number;
}

const MAX = Number.MAX_SAFE_INTEGER;
const int = (min: number, max: number, apply: (t: CliSettings, n: number) => void): FlagSpec => ({
  kind: 'int',
  range: [min, max],
  apply: (t, v) => apply(t, Number(v)),
});
const toggle = (apply: (t: CliSettings) => void): FlagSpec => ({ kind: 'switch', apply: (t) => apply(t) });

const FLAGS: Record<string, FlagSpec> = {
  '--port': int(0, 65_535, (t, n) => (t.options.port = n)),
  '--http-port': {
    kind: 'string',
    apply: (t, v) => (t.options.httpPort = v === 'off' ? false : parseInteger('--http-port', v, 0, 65_535)),
  },
  '--host': { kind: 'string', apply: (t, v) => (t.options.host = v) },
  '--hostname': {
    kind: 'string',
    apply: (t, v) => {
      if (!/^[A-Za-z0-9.-]+$/.test(v)) throw invalid('--hostname', v, 'a DNS name');
      t.options.hostname = v;
    },
  },
  '--limit': int(1, MAX, (t, n) => (t.options.limit = n)),
  '--rate-per-minute': int(1, MAX, (t, n) => (t.options.ratePerMinute = n)),
  '--recipients-per-day': int(1, MAX, (t, n) => (t.options.recipientsPerDay = n)),
  '--mailbox-quota-bytes': int(0, MAX, (t, n) => (t.options.mailboxQuotaBytes = n)),
  '--users': { kind: 'string', apply: (t, v) => addPairs(t, '--users', v, (user, secret) => (user.password = secret)) },
  '--mailboxes': {
    kind: 'string',
    apply: (t, v) => {
      for (const entry of v.split(',')) {
        const address = entry.trim().toLowerCase();
        if (!address.includes('@')) throw invalid('--mailboxes', entry, 'addresses separated by commas');
        if (!t.users.has(address)) t.users.set(address, { address });
      }
    },
  },
  '--tokens': {
    kind: 'string',
    apply: (t, v) => addPairs(t, '--tokens', v, (user, secret) => (user.tokens = [...(user.tokens ?? []), secret])),
  },
  '--apps': { kind: 'string', apply: (t, v) => addApps(t, '--apps', v, (app, secret) => (app.clientSecret = secret)) },
  '--app-certificates': {
    kind: 'string',
    apply: (t, v) => addApps(t, '--app-certificates', v, (app, path) => (app.certificates = [...(app.certificates ?? []), readCertificate(path)])),
  },
  '--token-lifetime-seconds': int(1, MAX, (t, n) => (t.options.tokenLifetimeSeconds = n)),
  '--graph-concurrency': int(1, MAX, (t, n) => (t.options.graphConcurrency = n)),
  '--graph-max-request-bytes': int(1, MAX, (t, n) => (t.options.graphMaxRequestBytes = n)),
  '--any-user': toggle((t) => (t.options.anyUser = true)),
  '--oauth-only': toggle((t) => (t.options.oauthOnly = true)),
  '--starttls': toggle((t) => (t.options.starttls = true)),
  '--allow-any-sender': toggle((t) => (t.options.enforceSender = false)),
  '--latency-ms': int(0, MAX, (t, n) => (t.latencyMin = n)),
  '--latency-max-ms': int(0, MAX, (t, n) => (t.latencyMax = n)),
  '--transient-rate': {
    kind: 'string',
    apply: (t, v) => {
      const rate = Number(v);
      if (!/^\d*\.?\d+$/.test(v) || !(rate >= 0 && rate <= 1)) throw invalid('--transient-rate', v, 'a number from 0 to 1');
      t.options.faults = { ...t.options.faults, transientRate: rate };
    },
  },
  '--ghost-ms': int(0, MAX, (t, n) => (t.options.faults = { ...t.options.faults, ghostMs: n })),
  '--socket-timeout-ms': int(1, MAX, (t, n) => (t.options.socketTimeoutMs = n)),
};

/** Parses `exchange-sim` arguments; throws CliUsageError naming the flag and value at fault. */
export function parseCliArgs(argv: readonly string[]): { help: boolean; options: ExchangeSimOptions } {
  const settings: CliSettings = { options: {}, users: new Map(), apps: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') return { help: true, options: {} };
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const spec = FLAGS[name];
    if (!spec) throw new CliUsageError(arg.startsWith('-') ? `unknown flag ${name}` : `unexpected argument ${JSON.stringify(arg)}`);
    if (spec.kind === 'switch') {
      if (eq > 0 && arg.startsWith('--')) throw new CliUsageError(`${name} takes no value`);
      spec.apply(settings, '');
      continue;
    }
    let value: string | undefined;
    if (name !== arg) value = arg.slice(eq + 1);
    else {
      value = argv[++i];
      if (value === undefined || (value.startsWith('--') && value.length > 2)) throw new CliUsageError(`missing value for ${name}`);
    }
    if (spec.kind === 'int' && spec.range) parseInteger(name, value, spec.range[0], spec.range[1]);
    spec.apply(settings, value);
  }
  return { help: false, options: finish(settings) };
}

function finish(settings: CliSettings): ExchangeSimOptions {
  const { options, latencyMin, latencyMax } = settings;
  if (latencyMax !== undefined) {
    const min = latencyMin ?? 0;
    if (latencyMax < min) throw invalid('--latency-max-ms', String(latencyMax), `a number >= --latency-ms (${min})`);
    options.faults = { ...options.faults, latencyMs: [min, latencyMax] };
  } else if (latencyMin !== undefined) {
    options.faults = { ...options.faults, latencyMs: latencyMin };
  }
  if (settings.users.size > 0) options.users = [...settings.users.values()];
  if (settings.apps.size > 0) options.apps = [...settings.apps.values()];
  return options;
}

function addPairs(settings: CliSettings, flag: string, list: string, set: (user: SimUser, secret: string) => void): void {
  for (const entry of list.split(',')) {
    const colon = entry.indexOf(':');
    const address = colon > 0 ? entry.slice(0, colon).trim().toLowerCase() : '';
    const secret = colon > 0 ? entry.slice(colon + 1) : '';
    if (!address.includes('@') || !secret) throw invalid(flag, entry, 'address:secret pairs separated by commas');
    const user = settings.users.get(address) ?? { address };
    set(user, secret);
    settings.users.set(address, user);
  }
}

function addApps(settings: CliSettings, flag: string, list: string, set: (app: SimApp, value: string) => void): void {
  for (const entry of list.split(',')) {
    const colon = entry.indexOf(':');
    const clientId = colon > 0 ? entry.slice(0, colon).trim() : '';
    const value = colon > 0 ? entry.slice(colon + 1) : '';
    if (!clientId || !value) throw invalid(flag, entry, 'clientId:value pairs separated by commas');
    const app = settings.apps.get(clientId) ?? { clientId };
    set(app, value);
    settings.apps.set(clientId, app);
  }
}

function readCertificate(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliUsageError(`--app-certificates: cannot read ${path}: ${(error as Error).message}`);
  }
}

function parseInteger(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw invalid(flag, value, max === MAX ? `an integer >= ${min}` : `an integer from ${min} to ${max}`);
  }
  return n;
}

function invalid(flag: string, value: string, expected: string): CliUsageError {
  // Secrets in --users/--tokens stay out of error output.
  const shown = flag === '--users' || flag === '--tokens' || flag === '--apps' ? value.replace(/:.*/, ':***') : value;
  return new CliUsageError(`invalid value ${JSON.stringify(shown)} for ${flag}: expected ${expected}`);
}
