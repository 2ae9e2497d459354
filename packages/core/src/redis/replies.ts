/**
 * The reply of every Lua script, one table per script: each shape names its fields in order,
 * exactly as the script's header comment lists them under `Output:` (replies.test.ts parses the
 * headers and compares). `status` is the leading number that tells the shapes apart; `rest`
 * names the groups that repeat to the end of the reply. decodeReply turns a raw reply into the
 * named shape, so no caller reads a reply by position.
 */
type Arg = string | number;

interface Shape {
  readonly status?: number;
  readonly fields: readonly string[];
  readonly rest?: { readonly name: string; readonly fields: readonly string[] };
}

const GRANTED = { status: 1, fields: ['slot', 'token', 'expiresAt', 'epoch', 'ticket', 'now'] } as const;
const PAUSED = { status: -1, fields: ['reason'] } as const;
const CONFIG_PAIRS = { name: 'config', fields: ['field', 'value'] } as const;

export const REPLY_SHAPES = {
  acquire: {
    granted: GRANTED,
    queued: { status: 0, fields: ['position', 'nextCheckMs', 'ticket', 'now'] },
    paused: PAUSED,
  },
  check: {
    granted: GRANTED,
    queued: { status: 0, fields: ['position', 'nextCheckMs', 'now'] },
    paused: PAUSED,
    unknownWaiter: { status: -5, fields: [] },
  },
  renew: {
    renewed: { status: 1, fields: ['expiresAt'] },
    notHolder: { status: -2, fields: [] },
    expired: { status: -3, fields: [] },
    epochChanged: { status: -4, fields: [] },
  },
  release: {
    done: { fields: ['released', 'handedOff', 'now', 'epoch'], rest: { name: 'grants', fields: ['waiterId', 'slot', 'token', 'expiresAt', 'ticket'] } },
  },
  cancel: {
    dequeued: { status: 1, fields: [] },
    released: { status: 2, fields: [] },
    unknown: { status: 0, fields: [] },
  },
  forceRelease: {
    freed: { status: 1, fields: ['token'] },
    free: { status: 0, fields: [] },
  },
  setConfig: { changed: { status: 1, fields: [], rest: CONFIG_PAIRS } },
  ensureMailbox: { config: { fields: [], rest: CONFIG_PAIRS } },
  snapshotMany: {
    snapshots: { fields: ['now'], rest: { name: 'mailboxes', fields: ['state', 'waiterIds', 'waiterDeadlines', 'waiterInfo', 'stats', 'tat', 'used24h'] } },
  },
  figuresMany: {
    figures: {
      fields: ['now'],
      rest: { name: 'mailboxes', fields: ['limit', 'effectiveLimit', 'inUse', 'waiting', 'paused', 'rateReady', 'ratePerMinute', 'used24h', 'recipientsPerDay', 'grants', 'stats'] },
    },
  },
  report432: { cut: { fields: ['effectiveLimit'] } },
  rateTake: {
    allowed: { status: 1, fields: ['retryAfterMs'] },
    notNow: { status: 0, fields: ['retryAfterMs'] },
  },
  rcptReserve: {
    reserved: { status: 1, fields: ['retryAfterMs', 'used', 'bucket'] },
    notNow: { status: 0, fields: ['retryAfterMs', 'used'] },
    overBudget: { status: -7, fields: ['used'] },
  },
  rcptReturn: { returned: { fields: ['returned', 'used'] } },
  messageTake: {
    allowed: { status: 1, fields: ['used', 'bucket'] },
    rateNotNow: { status: 0, fields: ['retryAfterMs', 'used'] },
    recipientsNotNow: { status: 2, fields: ['retryAfterMs', 'used'] },
    overBudget: { status: -7, fields: ['used'] },
  },
  trailRecord: { trimmed: { fields: ['dropped'] } },
  agentHeartbeat: { recorded: { fields: ['now'] } },
  agentList: { agents: { fields: ['now'], rest: { name: 'agents', fields: ['id', 'record'] } } },
} as const satisfies Record<string, Record<string, Shape>>;

export type ScriptName = keyof typeof REPLY_SHAPES;

type Fields<F extends readonly string[]> = { readonly [K in F[number]]: Arg };
type Decoded<S extends Shape, K extends string> = { readonly kind: K; readonly status: number } & Fields<S['fields']> &
  (S['rest'] extends { name: infer N extends string; fields: infer R extends readonly string[] } ? { readonly [P in N]: Array<Fields<R>> } : unknown);

/** The decoded reply of script `S`: a union over its shapes, told apart by `kind`. */
export type ReplyOf<S extends ScriptName> = {
  [K in keyof (typeof REPLY_SHAPES)[S] & string]: (typeof REPLY_SHAPES)[S][K] extends infer T extends Shape ? Decoded<T, K> : never;
}[keyof (typeof REPLY_SHAPES)[S] & string];

/** Thrown for a reply no shape of the script matches (a script and its table disagree). */
export class UnknownReplyError extends Error {
  constructor(script: string, reply: unknown) {
    super(`unexpected reply from ${script}.lua: ${JSON.stringify(reply)}`);
    this.name = new.target.name;
  }
}

/** Names the fields of `reply` after the shape of `script` it matches. */
export function decodeReply<S extends ScriptName>(script: S, reply: readonly Arg[]): ReplyOf<S> {
  const shapes = REPLY_SHAPES[script] as Record<string, Shape>;
  for (const [kind, shape] of Object.entries(shapes)) {
    if (shape.status !== undefined && Number(reply[0]) !== shape.status) continue;
    const offset = shape.status === undefined ? 0 : 1;
    const out: Record<string, unknown> = { kind, status: Number(reply[0]) };
    shape.fields.forEach((field, i) => (out[field] = reply[offset + i]));
    if (shape.rest) {
      const start = offset + shape.fields.length;
      const width = shape.rest.fields.length;
      const groups: Array<Record<string, Arg>> = [];
      for (let i = start; i + width <= reply.length; i += width) {
        // A plain loop: bulk reads decode one group per mailbox.
        const group: Record<string, Arg> = {};
        for (let j = 0; j < width; j++) group[shape.rest.fields[j]!] = reply[i + j]!;
        groups.push(group);
      }
      out[shape.rest.name] = groups;
    }
    return out as ReplyOf<S>;
  }
  throw new UnknownReplyError(script, reply);
}
