import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
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

const MAX = Number.MAX_SAFE_INTEGER;

/** A flag's text as an integer in [min, max]; the message says what was expected. */
const integer = (min: number, max = MAX) =>
  z
    .string()
    .refine((v) => /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max, max === MAX ? `an integer >= ${min}` : `an integer from ${min} to ${max}`)
    .transform(Number);

/** Comma-separated entries from every use of a repeatable flag; a bad entry is reported on its own. */
const entries = <T>(parse: (entry: string) => T | undefined, expected: string) =>
  z.array(z.string()).transform((lists, ctx) =>
    lists.flatMap((list) =>
      list.split(',').flatMap((entry) => {
        const value = parse(entry);
        if (value !== undefined) return [value];
        ctx.issues.push({ code: 'custom', message: expected, input: entry });
        return [];
      }),
    ),
  );

/** `key:value` (the value may contain colons). */
function splitPair(entry: string): { key: string; value: string } | undefined {
  const colon = entry.indexOf(':');
  const key = colon > 0 ? entry.slice(0, colon).trim() : '';
  const value = colon > 0 ? entry.slice(colon + 1) : '';
  return key && value ? { key, value } : undefined;
}

const userPairs = entries((entry) => {
  const pair = splitPair(entry);
  return pair && pair.key.includes('@') ? { address: pair.key.toLowerCase(), secret: pair.value } : undefined;
}, 'address:secret pairs separated by commas');
const appPairs = entries(splitPair, 'clientId:value pairs separated by commas');
const addresses = entries((entry) => {
  const address = entry.trim().toLowerCase();
  return address.includes('@') ? address : undefined;
}, 'addresses separated by commas');

/** What each flag's text must be, and the value it becomes. Switches are booleans already. */
const flagsSchema = z
  .object({
    port: integer(0, 65_535).optional(),
    'http-port': z.union([z.literal('off').transform(() => false as const), integer(0, 65_535)], { error: 'an integer from 0 to 65535 or "off"' }).optional(),
    host: z.string().optional(),
    hostname: z.string().regex(/^[A-Za-z0-9.-]+$/, 'a DNS name').optional(),
    limit: integer(1).optional(),
    'rate-per-minute': integer(1).optional(),
    'recipients-per-day': integer(1).optional(),
    'mailbox-quota-bytes': integer(0).optional(),
    users: userPairs.optional(),
    mailboxes: addresses.optional(),
    tokens: userPairs.optional(),
    apps: appPairs.optional(),
    'app-certificates': appPairs.optional(),
    'token-lifetime-seconds': integer(1).optional(),
    'graph-concurrency': integer(1).optional(),
    'graph-max-request-bytes': integer(1).optional(),
    'any-user': z.boolean().optional(),
    'oauth-only': z.boolean().optional(),
    starttls: z.boolean().optional(),
    'allow-any-sender': z.boolean().optional(),
    'latency-ms': integer(0).optional(),
    'latency-max-ms': integer(0).optional(),
    'transient-rate': z
      .string()
      .refine((v) => /^\d*\.?\d+$/.test(v) && Number(v) <= 1, 'a number from 0 to 1')
      .transform(Number)
      .optional(),
    'ghost-ms': integer(0).optional(),
    'socket-timeout-ms': integer(1).optional(),
  })
  .superRefine((flags, ctx) => {
    const max = flags['latency-max-ms'];
    const min = flags['latency-ms'] ?? 0;
    if (max !== undefined && max < min) ctx.addIssue({ code: 'custom', path: ['latency-max-ms'], message: `a number >= --latency-ms (${min})`, input: String(max) });
  });

type Flags = z.output<typeof flagsSchema>;

const SWITCHES = ['any-user', 'oauth-only', 'starttls', 'allow-any-sender'] as const;
const REPEATABLE = new Set(['users', 'mailboxes', 'tokens', 'apps', 'app-certificates']);
/** Flags whose values carry secrets, kept out of error output. */
const SECRET_FLAGS = new Set(['users', 'tokens', 'apps']);
const OPTIONS = Object.fromEntries([
  ...Object.keys(flagsSchema.shape).map((name) => [
    name,
    (SWITCHES as readonly string[]).includes(name) ? { type: 'boolean' as const } : { type: 'string' as const, multiple: REPEATABLE.has(name) },
  ]),
  ['help', { type: 'boolean' as const, short: 'h' }],
]);

/** Parses `exchange-sim` arguments; throws CliUsageError naming the flag and value at fault. */
export function parseCliArgs(argv: readonly string[]): { help: boolean; options: ExchangeSimOptions } {
  // Not strict: the tokens let each mistake be named as this CLI always has, in argument order.
  const { values, tokens } = parseArgs({ args: [...argv], options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  if (values['help'] === true) return { help: true, options: {} };
  for (const token of tokens) {
    if (token.kind === 'positional') throw new CliUsageError(`unexpected argument ${JSON.stringify(token.value)}`);
    if (token.kind !== 'option') continue;
    const spec = OPTIONS[token.name];
    if (!spec) throw new CliUsageError(`unknown flag ${token.rawName}`);
    if (spec.type === 'boolean' && token.value !== undefined) throw new CliUsageError(`${token.rawName} takes no value`);
    // An option-like next argument is the next flag, not this one's value.
    if (spec.type === 'string' && (token.value === undefined || (!token.inlineValue && token.value.startsWith('--') && token.value.length > 2))) {
      throw new CliUsageError(`missing value for ${token.rawName}`);
    }
  }
  const parsed = flagsSchema.safeParse(values, { reportInput: true });
  if (!parsed.success) throw new CliUsageError(parsed.error.issues.map((issue) => invalid(issue, values)).join('\n'));
  return { help: false, options: toOptions(parsed.data) };
}

function toOptions(flags: Flags): ExchangeSimOptions {
  const options: ExchangeSimOptions = {};
  const set = <K extends keyof ExchangeSimOptions>(key: K, value: ExchangeSimOptions[K] | undefined) => {
    if (value !== undefined) options[key] = value;
  };
  set('port', flags.port);
  set('httpPort', flags['http-port']);
  set('host', flags.host);
  set('hostname', flags.hostname);
  set('limit', flags.limit);
  set('ratePerMinute', flags['rate-per-minute']);
  set('recipientsPerDay', flags['recipients-per-day']);
  set('mailboxQuotaBytes', flags['mailbox-quota-bytes']);
  set('users', users(flags));
  set('apps', apps(flags));
  set('tokenLifetimeSeconds', flags['token-lifetime-seconds']);
  set('graphConcurrency', flags['graph-concurrency']);
  set('graphMaxRequestBytes', flags['graph-max-request-bytes']);
  if (flags['any-user']) options.anyUser = true;
  if (flags['oauth-only']) options.oauthOnly = true;
  if (flags.starttls) options.starttls = true;
  if (flags['allow-any-sender']) options.enforceSender = false;
  const faults: NonNullable<ExchangeSimOptions['faults']> = {};
  if (flags['transient-rate'] !== undefined) faults.transientRate = flags['transient-rate'];
  if (flags['ghost-ms'] !== undefined) faults.ghostMs = flags['ghost-ms'];
  const latencyMax = flags['latency-max-ms'];
  if (latencyMax !== undefined) faults.latencyMs = [flags['latency-ms'] ?? 0, latencyMax];
  else if (flags['latency-ms'] !== undefined) faults.latencyMs = flags['latency-ms'];
  if (Object.keys(faults).length > 0) options.faults = faults;
  set('socketTimeoutMs', flags['socket-timeout-ms']);
  return options;
}

/** Users from `--users` (passwords) and `--tokens` (XOAUTH2), one entry per address. */
function users(flags: Flags): SimUser[] | undefined {
  const byAddress = new Map<string, SimUser>();
  const user = (address: string) => byAddress.get(address) ?? byAddress.set(address, { address }).get(address)!;
  for (const { address, secret } of flags.users ?? []) user(address).password = secret;
  for (const address of flags.mailboxes ?? []) user(address);
  for (const { address, secret } of flags.tokens ?? []) {
    const entry = user(address);
    entry.tokens = [...(entry.tokens ?? []), secret];
  }
  return byAddress.size > 0 ? [...byAddress.values()] : undefined;
}

/** App registrations from `--apps` (client secrets) and `--app-certificates` (PEM files). */
function apps(flags: Flags): SimApp[] | undefined {
  const byId = new Map<string, SimApp>();
  const app = (clientId: string) => byId.get(clientId) ?? byId.set(clientId, { clientId }).get(clientId)!;
  for (const { key, value } of flags.apps ?? []) app(key).clientSecret = value;
  for (const { key, value } of flags['app-certificates'] ?? []) {
    const entry = app(key);
    entry.certificates = [...(entry.certificates ?? []), readCertificate(value)];
  }
  return byId.size > 0 ? [...byId.values()] : undefined;
}

function readCertificate(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliUsageError(`--app-certificates: cannot read ${path}: ${(error as Error).message}`);
  }
}

function invalid(issue: z.core.$ZodIssue, values: Record<string, unknown>): string {
  const flag = String(issue.path[0]);
  const given = 'input' in issue && typeof issue.input === 'string' ? issue.input : String(values[flag]);
  const shown = SECRET_FLAGS.has(flag) ? given.replace(/:.*/, ':***') : given;
  return `invalid value ${JSON.stringify(shown)} for --${flag}: expected ${issue.message}`;
}
