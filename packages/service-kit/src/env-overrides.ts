import { z } from 'zod';
import type { Problem } from './problem.js';

/** Environment variables that override config keys: `SMTP_SLOTS_RELAY_PORT` sets `relay.port`. */
export const ENV_PREFIX = 'SMTP_SLOTS_';

/** The part of a JSON Schema the override names are matched against. */
interface KeyNode {
  type?: string | string[];
  properties?: Record<string, KeyNode>;
  items?: KeyNode;
  anyOf?: KeyNode[];
  oneOf?: KeyNode[];
}

// The schema's published JSON Schema (zod's own export) is the map of its keys: no zod internals.
const keyTrees = new WeakMap<z.ZodType, KeyNode>();
function keyTree(schema: z.ZodType): KeyNode {
  let tree = keyTrees.get(schema);
  if (!tree) {
    tree = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as KeyNode;
    keyTrees.set(schema, tree);
  }
  return tree;
}

/** The object or array forms a node can take (a union has several). */
const forms = (node: KeyNode): KeyNode[] => [node, ...[...(node.anyOf ?? []), ...(node.oneOf ?? [])].flatMap(forms)];

const toEnvWord = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

type Found = { path: Array<string | number>; leaf: KeyNode };

/**
 * Turns `RELAY_MAX_MESSAGE_BYTES` into `['relay', 'maxMessageBytes']` by matching the schema's own
 * key names level by level (array levels take an index: `MAILBOXES_0_UPSTREAM_AUTH_PASS`).
 */
function findKey(schema: z.ZodType, rest: string): Found | undefined {
  const walk = (node: KeyNode, remaining: string): Found | undefined => {
    if (remaining === '') return { path: [], leaf: node };
    for (const form of forms(node)) {
      if (form.items) {
        const match = /^(\d+)(?:_|$)/.exec(remaining);
        const tail = match ? walk(form.items, remaining.slice(match[0].length)) : undefined;
        if (tail) return { path: [Number(match![1]), ...tail.path], leaf: tail.leaf };
      }
      const keys = Object.keys(form.properties ?? {}).sort((a, b) => b.length - a.length);
      for (const key of keys) {
        const word = toEnvWord(key);
        const child = form.properties![key]!;
        if (remaining === word) return { path: [key], leaf: child };
        if (remaining.startsWith(`${word}_`)) {
          const tail = walk(child, remaining.slice(word.length + 1));
          if (tail) return { path: [key, ...tail.path], leaf: tail.leaf };
        }
      }
    }
    return undefined;
  };
  return walk(keyTree(schema), rest);
}

/** The config path a variable name (without the prefix) sets, or undefined when it names none. */
export function envNameToPath(schema: z.ZodType, rest: string): Array<string | number> | undefined {
  return findKey(schema, rest)?.path;
}

/** A variable's text as the key's type: numbers and booleans are written as text in the environment. */
function typedValue(leaf: KeyNode, text: string): unknown {
  const types = new Set(forms(leaf).flatMap((form) => (form.type === undefined ? [] : [form.type].flat())));
  if (types.has('string') || types.size === 0) return text;
  if ((types.has('integer') || types.has('number')) && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (types.has('boolean') && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

export interface EnvOverrideOptions {
  /** `agent`, `coordinator`: names the service in "does not name an agent config key". */
  service: string;
  prefix?: string;
}

/**
 * Sets every key that a `SMTP_SLOTS_*` variable names, in place. An empty variable counts as
 * unset (compose's `${X:-}` passes empty strings). A variable whose first word is one of this
 * service's top-level keys but that names no key is a problem; others (another service's, such as
 * the coordinator's SMTP_SLOTS_ADMIN_TOKEN in an agent's environment) are left alone.
 */
export function applyEnvOverrides(document: Record<string, unknown>, schema: z.ZodType, env: NodeJS.ProcessEnv, options: EnvOverrideOptions): Problem[] {
  const prefix = options.prefix ?? ENV_PREFIX;
  const ownWords = Object.keys(keyTree(schema).properties ?? {}).map((key) => toEnvWord(key).split('_')[0]!);
  const problems: Problem[] = [];
  for (const [name, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!name.startsWith(prefix) || value === undefined || value === '') continue;
    const rest = name.slice(prefix.length);
    const found = findKey(schema, rest);
    if (!found) {
      if (ownWords.some((word) => rest === word || rest.startsWith(`${word}_`))) problems.push({ path: name, message: `does not name ${/^[aeiou]/i.test(options.service) ? 'an' : 'a'} ${options.service} config key` });
      continue;
    }
    setAt(document, found.path, typedValue(found.leaf, value));
  }
  return problems;
}

function setAt(target: Record<string | number, unknown>, path: Array<string | number>, value: unknown): void {
  let node = target;
  for (const [i, key] of path.entries()) {
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = typeof path[i + 1] === 'number' ? [] : {};
    node = node[key] as Record<string | number, unknown>;
  }
}
