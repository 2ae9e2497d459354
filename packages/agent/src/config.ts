import { hostname } from 'node:os';
import { redisConnectionSchema } from '@smtp-slots/core';
import { mailboxLimitsShape } from '@smtp-slots/core/mailbox-limits';
import { parseConfig, type ConfigResult } from '@smtp-slots/service-kit';
import { z } from 'zod';

// Env overrides arrive as strings: numbers and booleans accept their string spelling too.
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = () => z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());
const port = () => int(0, 65_535);

/** RFC 5321 mailbox, kept deliberately simple: local@domain, no spaces, no angle brackets. */
export const EMAIL_PATTERN = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;
const email = () => z.string().regex(EMAIL_PATTERN, 'must be an e-mail address like user@example.com');

const passwordAuth = z
  .object({
    type: z.literal('password').default('password'),
    user: z.string().min(1),
    /** Use `${ENV}` or `file:/path` rather than a literal secret. */
    pass: z.string().min(1),
  })
  .strict();

const hex = (length: number, what: string) =>
  z
    .string()
    .transform((v) => v.replace(/[\s:]/g, ''))
    .refine((v) => new RegExp(`^[0-9a-fA-F]{${length}}$`).test(v), `must be the certificate's ${what} thumbprint: ${length} hex digits`);

/** A certificate credential: the app signs a client assertion with this key (Entra ID has the certificate). */
const certificateCredential = z
  .object({
    /** PEM private key (`file:/path/key.pem`); PKCS#8 or PKCS#1, encrypted ones need `passphrase`. */
    privateKey: z.string().refine((v) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(v), 'must be a PEM private key (use file:/path/to/key.pem)'),
    passphrase: z.string().min(1).optional(),
    /** SHA-256 thumbprint of the certificate registered on the app (hex, as the Entra portal shows it). */
    thumbprintSha256: hex(64, 'SHA-256').optional(),
    /** SHA-1 thumbprint (older registrations); prefer thumbprintSha256. */
    thumbprint: hex(40, 'SHA-1').optional(),
    /** PEM certificate chain sent as `x5c` (subject name + issuer authentication). */
    x5c: z.string().min(1).optional(),
  })
  .strict()
  .refine((c) => (c.thumbprintSha256 === undefined) !== (c.thumbprint === undefined), {
    message: 'give exactly one of thumbprintSha256 or thumbprint',
    path: ['thumbprintSha256'],
  });

/** The OAuth2 client-credentials flow (Entra ID): a client secret or a certificate. */
const oauth2Fields = z
  .object({
    type: z.literal('oauth2'),
    /** The mailbox that signs in (XOAUTH2 `user=`). */
    user: z.string().min(1),
    /** Entra ID tenant (id or domain); part of the authority and the token URL. */
    tenantId: z.string().min(1).optional(),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1).optional(),
    certificate: certificateCredential.optional(),
    /** Exchange Online's scope for SMTP AUTH with client credentials. */
    scope: z.string().min(1).default('https://outlook.office365.com/.default'),
    /** Entra ID's sign-in host; national clouds use their own (login.microsoftonline.us, login.chinacloudapi.cn). */
    authorityHost: z
      .string()
      .url()
      .refine((v) => v.startsWith('https://'), 'must be an https:// URL')
      .default('https://login.microsoftonline.com'),
    /** Token endpoint; default `<authorityHost>/<tenantId>/oauth2/v2.0/token`. */
    tokenUrl: z.string().url().optional(),
    /** Fetch a new token this long before the current one expires. */
    refreshAheadMs: int(0, 3_600_000).default(300_000),
  })
  .strict();

/** The checks every client-credentials config passes: where the token comes from, and one credential. */
const withCredentialChecks = <T extends z.ZodType<{ tenantId?: string | undefined; tokenUrl?: string | undefined; clientSecret?: string | undefined; certificate?: unknown }>>(schema: T) =>
  schema
    .refine((a) => a.tenantId !== undefined || a.tokenUrl !== undefined, { message: 'needs tenantId or tokenUrl', path: ['tenantId'] })
    .refine((a) => (a.clientSecret === undefined) !== (a.certificate === undefined), {
      message: 'give exactly one credential: clientSecret or certificate',
      path: ['clientSecret'],
    });

const oauth2Auth = withCredentialChecks(oauth2Fields);
/** Graph sends as the mailbox address (no `user`); the scope defaults to the Graph host's `.default`. */
const graphAuth = withCredentialChecks(oauth2Fields.omit({ user: true }).extend({ scope: z.string().min(1).optional() }));

const smtpUpstream = z
  .object({
    /** `smtp` (SMTP AUTH submission, the default) or `graph` (Microsoft Graph sendMail). */
    type: z.literal('smtp'),
    host: z.string().min(1),
    /** 587 with STARTTLS is what Exchange Online offers for SMTP AUTH submission. */
    port: port().default(587),
    /** Implicit TLS from the first byte (port 465 style). */
    secure: bool().default(false),
    /** Refuse to continue when the server does not offer STARTTLS. */
    requireTLS: bool().default(false),
    /** Verify the server certificate (turn off only for test servers with self-signed certificates). */
    rejectUnauthorized: bool().default(true),
    auth: z.union([oauth2Auth, passwordAuth]).optional(),
    /** EHLO name; default the machine's hostname. */
    name: z.string().min(1).optional(),
    connectTimeoutMs: int(100, 300_000).default(30_000),
    /** Idle time on the socket (waiting for a reply) before the attempt counts as failed. */
    socketTimeoutMs: int(100, 600_000).default(60_000),
  })
  .strict();

/** Microsoft Graph `sendMail` with the MIME message: for tenants that turned SMTP AUTH off. */
const graphUpstream = z
  .object({
    type: z.literal('graph'),
    auth: graphAuth,
    /** Graph's host; national clouds have their own (https://graph.microsoft.us, https://microsoftgraph.chinacloudapi.cn). */
    graphUrl: z.string().url().default('https://graph.microsoft.com'),
    /** A request body (the base64 MIME) above this goes to the dead letters with a reason naming the limit (Graph: about 4 MB). */
    maxRequestBytes: int(1_024, 150 * 1024 * 1024).default(4 * 1024 * 1024),
    /** One sendMail request, from sending to the response. */
    requestTimeoutMs: int(100, 600_000).default(60_000),
    /**
     * A concurrency limit this mailbox shares with the other mailboxes of the same `key` (Graph's
     * per-app limits span mailboxes), on top of its own `limit`: a request needs a slot of both.
     */
    appLimit: z
      .object({
        /** Mailboxes with the same key share the limit. Default: `auth.clientId`. */
        key: z.string().min(1).max(200).regex(/^[^\s\p{Cc}]+$/u, 'must not contain spaces or control characters').optional(),
        /** Requests in flight across all those mailboxes and all agents. */
        limit: int(1, 1_000),
      })
      .strict()
      .optional(),
  })
  .strict();

export type SmtpUpstreamSettings = z.output<typeof smtpUpstream>;
export type GraphUpstreamSettings = z.output<typeof graphUpstream>;
type UpstreamInput = (Omit<z.input<typeof smtpUpstream>, 'type'> & { type?: 'smtp' }) | z.input<typeof graphUpstream>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// `type` may be left out for SMTP; the cast restores the input type z.preprocess widens to unknown.
const upstreamSchema = z.preprocess(
  (v) => (isRecord(v) && v['type'] === undefined ? { ...v, type: 'smtp' } : v),
  z.discriminatedUnion('type', [smtpUpstream, graphUpstream]),
) as unknown as z.ZodType<SmtpUpstreamSettings | GraphUpstreamSettings, UpstreamInput>;

// Env overrides arrive as strings, hence the coercing number type.
const limits = mailboxLimitsShape(() => z.coerce.number());

const mailboxFields = z
  .object({
    /** The envelope sender (MAIL FROM) routed to this mailbox. */
    address: email(),
    upstream: upstreamSchema,
    /** Concurrent upstream connections for this mailbox across all agents (Exchange Online: 3). */
    limit: limits.limit.default(3),
    /** Messages per minute across all agents (Exchange Online: 30). */
    ratePerMinute: limits.ratePerMinute.default(30),
    /** Recipients per rolling 24 h across all agents (Exchange Online: 10,000). */
    recipientsPerDay: limits.recipientsPerDay.default(10_000),
    /** Sender workers on this agent; each holds at most one slot. Default `sender.workers`. */
    workers: int(1, 100).optional(),
    /** Messages sent over one connection before QUIT. Default `sender.maxMessagesPerConnection`. */
    maxMessagesPerConnection: int(1, 10_000).optional(),
  })
  .strict();

/** Graph allows 4 concurrent requests per mailbox: that is a Graph mailbox's default limit. */
const GRAPH_DEFAULT_LIMIT = 4;
const mailboxSchema = z.preprocess(
  (v) => (isRecord(v) && v['limit'] === undefined && isRecord(v['upstream']) && v['upstream']['type'] === 'graph' ? { ...v, limit: GRAPH_DEFAULT_LIMIT } : v),
  mailboxFields,
) as unknown as z.ZodType<z.output<typeof mailboxFields>, z.input<typeof mailboxFields>>;

const retrySchema = z
  .object({
    /** First delay after a temporary failure; doubles (times `multiplier`) per attempt. */
    initialDelayMs: int(0, 86_400_000).default(30_000),
    maxDelayMs: int(0, 86_400_000).default(900_000),
    multiplier: z.coerce.number().min(1).max(10).default(2),
    /** ± fraction of random spread so that deferred messages do not return in lockstep. */
    jitter: z.coerce.number().min(0).max(1).default(0.2),
    /** A message still failing temporarily after this long goes to the dead letters (2 days). */
    maxLifetimeMs: int(1_000, 30 * 86_400_000).default(2 * 86_400_000),
  })
  .strict()
  .prefault({});

/** The agent's only config schema. Defaults live here and nowhere else. */
export const agentConfigSchema = z
  .object({
    /** Names this agent in leases, heartbeats and metrics. */
    agentId: z.string().min(1).max(200).default(() => hostname()),
    /** One of `{ url }`, `{ sentinels, name }` or `{ cluster }` (see @smtp-slots/core). */
    redis: redisConnectionSchema.default({ url: 'redis://127.0.0.1:6379' }),
    relay: z
      .object({
        /** Loopback by default; any other address requires `users`. */
        host: z.string().min(1).default('127.0.0.1'),
        /** 0 binds a free port; the bound one is in the `agent started` log line (`relayPort`). */
        port: port().default(2525),
        /** Local AUTH (PLAIN/LOGIN) accounts for SMTP clients. */
        users: z.array(z.object({ user: z.string().min(1), pass: z.string().min(1) }).strict()).default([]),
        /** Larger messages are refused with 552 (Exchange Online accepts 35 MB after encoding). */
        maxMessageBytes: int(1_024, 1_073_741_824).default(25 * 1024 * 1024),
        /** More recipients are refused with 452 (Exchange Online: 500 per message). */
        maxRecipients: int(1, 100_000).default(500),
        /** Connections past this many are answered `421` and closed (bounds sockets and memory). */
        maxConnections: int(1, 100_000).default(500),
        /** A client that owes input (a command, DATA bytes) and sends nothing this long is answered `421` and closed. */
        socketTimeoutMs: int(1_000, 3_600_000).default(60_000),
        /**
         * A connection lives at most this long, then gets `421 4.4.2` and is closed: a client
         * trickling one byte at a time cannot hold a connection forever. A message being stored
         * finishes first. Clients reconnect for more mail.
         */
        sessionTimeoutMs: int(1_000, 86_400_000).default(600_000),
        /** Optional STARTTLS for the relay: PEM file paths (or `file:` references). */
        tls: z.object({ key: z.string().min(1), cert: z.string().min(1) }).strict().optional(),
      })
      .strict()
      .superRefine((relay, ctx) => {
        if (!isLoopback(relay.host) && relay.users.length === 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['users'],
            message: `relay.host ${relay.host} is not a loopback address: configure relay.users so that the relay is not open`,
          });
        }
      })
      .prefault({}),
    spool: z
      .object({
        /** Messages live here from the relay's 250 until the upstream's 250 (or the dead letters). */
        dir: z.string().min(1).default('/var/spool/smtp-slots'),
      })
      .strict()
      .prefault({}),
    metrics: z
      .object({
        enabled: bool().default(true),
        host: z.string().min(1).default('127.0.0.1'),
        /** 0 binds a free port; the bound one is in the `agent started` log line (`metricsPort`). */
        port: port().default(9465),
      })
      .strict()
      .prefault({}),
    slots: z
      .object({
        /** Lease lifetime in Redis; renewed every third of it. */
        leaseTtlMs: int(1_000, 600_000).default(15_000),
        /** The socket is destroyed this long before a lease could expire unrenewed. */
        safetyMarginMs: int(100, 60_000).default(1_000),
        /**
         * On start, free leases still held by this agent's previous process when that process is
         * gone (killed): same agentId and host, pid not alive. Saves up to one lease TTL per slot.
         */
        reclaimStaleLeases: bool().default(true),
      })
      .strict()
      .prefault({}),
    sender: z
      .object({
        /** Default workers per mailbox on this agent. */
        workers: int(1, 100).default(3),
        /** Default messages per connection before QUIT (keeps slots moving between agents). */
        maxMessagesPerConnection: int(1, 10_000).default(100),
        /** Wait this long for a rate token while holding the connection; longer waits release the slot. */
        maxRateWaitMs: int(0, 600_000).default(5_000),
        /**
         * Rate tokens are spaced this fraction wider than 60 000 / ratePerMinute ms: the time from
         * a token to the upstream's end of DATA varies by a few ms per message, and without the
         * margin that jitter could put ratePerMinute + 1 messages into one minute as the server counts.
         */
        rateSafetyFraction: z.coerce.number().min(0).max(0.5).default(0.02),
        retry: retrySchema,
      })
      .strict()
      .prefault({}),
    /** The fleet-wide message trail in Redis (envelope data only; see the agent README). */
    trail: z
      .object({
        /** Record each message's life (accepted, attempts with replies, sent, dead, retried, purged). */
        enabled: bool().default(true),
        /** Entries not updated for this long are dropped (default 7 days). */
        maxAgeHours: int(1, 90 * 24).default(168),
        /** At most this many entries per mailbox; the oldest go first. */
        maxPerMailbox: int(100, 1_000_000).default(10_000),
        /** `plain`, `hashed` (SHA-256 of the lower-cased address; searches still work) or `off`. */
        recipients: z.enum(['plain', 'hashed', 'off']).default('plain'),
        /** Same choices for the Subject header. */
        subject: z.enum(['plain', 'hashed', 'off']).default('plain'),
      })
      .strict()
      .prefault({}),
    /** Heartbeat interval into the agent registry (entries live 3 intervals). */
    heartbeatMs: int(100, 300_000).default(5_000),
    /**
     * SIGTERM: the agent exits within this, even when Redis does not answer. In-flight messages get
     * it less a reserve for releasing slots (a quarter, at most 2 s); then sockets are destroyed, and
     * Redis calls still unanswered at the end are dropped (the slots expire after the lease TTL).
     */
    shutdownTimeoutMs: int(0, 600_000).default(15_000),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    mailboxes: z
      .array(mailboxSchema)
      .min(1, 'configure at least one mailbox')
      .superRefine((mailboxes, ctx) => {
        const seen = new Map<string, number>();
        const shared = new Map<string, { index: number; limit: number }>();
        mailboxes.forEach((mailbox, index) => {
          const key = mailbox.address.toLowerCase();
          const first = seen.get(key);
          if (first !== undefined) ctx.addIssue({ code: 'custom', path: [index, 'address'], message: `duplicate of mailboxes.${first}.address` });
          else seen.set(key, index);
          const app = sharedLimitOf(mailbox);
          const earlier = app && shared.get(app.name);
          if (app && earlier && earlier.limit !== app.limit) {
            ctx.addIssue({
              code: 'custom',
              path: [index, 'upstream', 'appLimit', 'limit'],
              message: `${app.limit} differs from mailboxes.${earlier.index}.upstream.appLimit.limit (${earlier.limit}) for the same app limit key: give them one limit`,
            });
          } else if (app && !earlier) shared.set(app.name, { index, limit: app.limit });
        });
      }),
  })
  .strict();

export type AgentConfig = z.infer<typeof agentConfigSchema>;
/** Config as written in a file or passed to `createAgent` (defaults not yet applied). */
export type AgentConfigInput = z.input<typeof agentConfigSchema>;
export type MailboxSettings = AgentConfig['mailboxes'][number];
/** A mailbox's upstream: SMTP submission or Graph sendMail. */
export type MailboxUpstream = MailboxSettings['upstream'];
/** The SMTP upstream's settings. */
export type UpstreamSettings = SmtpUpstreamSettings;
export type UpstreamAuth = NonNullable<UpstreamSettings['auth']>;
export type RetryPolicy = AgentConfig['sender']['retry'];

/**
 * The semaphore a mailbox shares with others (`app:<key>`, key default the client id) and its
 * limit; undefined when the mailbox has no `upstream.appLimit`.
 */
export function sharedLimitOf(mailbox: { upstream: SmtpUpstreamSettings | GraphUpstreamSettings }): { name: string; limit: number } | undefined {
  const { upstream } = mailbox;
  if (upstream.type !== 'graph' || !upstream.appLimit) return undefined;
  return { name: `app:${upstream.appLimit.key ?? upstream.auth.clientId}`, limit: upstream.appLimit.limit };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

export type ParseResult = ConfigResult<AgentConfig>;

/** Validates a config object (already merged with env and with secrets resolved) and applies defaults. */
export function parseAgentConfig(input: unknown): ParseResult {
  return parseConfig(agentConfigSchema, input);
}
