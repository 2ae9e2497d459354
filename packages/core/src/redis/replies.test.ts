import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadLuaScripts } from './lua-loader.js';
import { decodeReply, REPLY_SHAPES } from './replies.js';

/**
 * The shapes a script's header lists under `Output:`, one per line: `name {1, a, b, ...rest}`,
 * and `...rest {c, d}` for a group that repeats to the end of the reply.
 */
function headerShapes(file: string): Map<string, string[]> {
  const source = readFileSync(new URL(`../lua/${file}`, import.meta.url), 'utf8');
  const header = source.slice(0, source.indexOf(']]'));
  const lines = header.slice(header.indexOf('Output:') + 'Output:'.length).split('\n');
  const shapes = new Map<string, string[]>();
  for (const line of lines) {
    const match = /^\s*((?:\.\.\.)?\w+) \{([^}]*)\}/.exec(line);
    if (!match) break;
    shapes.set(match[1]!, match[2]!.split(',').map((field) => field.trim()).filter(Boolean));
  }
  return shapes;
}

/** The same lines as the TS table describes them. */
function tableShapes(name: keyof typeof REPLY_SHAPES): Map<string, string[]> {
  const shapes = new Map<string, string[]>();
  for (const [kind, shape] of Object.entries(REPLY_SHAPES[name]) as Array<[string, { status?: number; fields: readonly string[]; rest?: { name: string; fields: readonly string[] } }]>) {
    const fields = [...(shape.status === undefined ? [] : [String(shape.status)]), ...shape.fields, ...(shape.rest ? [`...${shape.rest.name}`] : [])];
    shapes.set(kind, fields);
    if (shape.rest) shapes.set(`...${shape.rest.name}`, [...shape.rest.fields]);
  }
  return shapes;
}

describe('reply tables', () => {
  const scripts = loadLuaScripts();

  it('every script has a reply table and no table lacks its script', () => {
    expect(scripts.map((s) => s.name).sort()).toEqual(Object.keys(REPLY_SHAPES).sort());
  });

  it.each(scripts.map((s) => [`${s.name}-${s.numberOfKeys ?? 'n'}.lua`, s.name] as const))('%s: the header lists the fields of the TS table, in order', (file, name) => {
    const fromHeader = headerShapes(file);
    expect(fromHeader.size).toBeGreaterThan(0);
    expect(Object.fromEntries(fromHeader)).toEqual(Object.fromEntries(tableShapes(name as keyof typeof REPLY_SHAPES)));
  });

  it('decodes by status, names the fields and the repeated groups', () => {
    expect(decodeReply('acquire', [0, 2, 150, 7, 1000])).toEqual({ kind: 'queued', status: 0, position: 2, nextCheckMs: 150, ticket: 7, now: 1000 });
    expect(decodeReply('release', [1, 1, 1000, 'r-1', 'w', 2, 9, 11000, 4])).toEqual({
      kind: 'done', status: 1, released: 1, handedOff: 1, now: 1000, epoch: 'r-1',
      grants: [{ waiterId: 'w', slot: 2, token: 9, expiresAt: 11000, ticket: 4 }],
    });
    expect(() => decodeReply('renew', [7])).toThrow(/unexpected reply from renew\.lua: \[7\]/);
  });
});
