/**
 * Lists the documented surface of a zod (v4) config schema: every leaf key path with its type and
 * default, so that the README's configuration tables can be checked against the real schemas.
 */
export interface SchemaKey {
  /** `relay.port`, `mailboxes[].upstream.auth.user`, `redis.sentinels[]` */
  path: string;
  /** `string`, `number`, `boolean`, `enum`, `literal`, `array`, ... of the innermost type. */
  type: string;
  /** The default when the key is omitted; undefined when it has none. */
  defaultValue: unknown;
  /** True when the key may be omitted (optional or defaulted). */
  optional: boolean;
}

interface Def {
  type: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  out?: unknown;
  element?: unknown;
  options?: unknown[];
  defaultValue?: unknown;
  values?: unknown[];
  left?: unknown;
  right?: unknown;
}

const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

/** Wrapper types that do not change the documented shape. */
const WRAPPERS = new Set(['optional', 'nullable', 'readonly', 'catch', 'nonoptional', 'prefault', 'default']);

/** Walks the schema and returns every leaf key (objects are descended, unions merged). */
export function schemaKeys(schema: unknown): SchemaKey[] {
  const keys = new Map<string, SchemaKey>();
  const visit = (node: unknown, path: string, optional: boolean, defaultValue: unknown): void => {
    const def = defOf(node);
    if (def.type === 'default' || def.type === 'prefault') {
      const value = def.type === 'default' ? def.defaultValue : undefined;
      visit(def.innerType, path, true, defaultValue ?? value);
      return;
    }
    if (WRAPPERS.has(def.type)) {
      visit(def.innerType, path, optional || def.type === 'optional', defaultValue);
      return;
    }
    if (def.type === 'pipe') {
      // z.preprocess(fn, inner) is pipe(transform, inner); a transform output keeps the input's shape.
      const input = defOf(def.in);
      visit(input.type === 'transform' ? def.out : def.in, path, optional, defaultValue);
      return;
    }
    if (def.type === 'object') {
      // A default for the whole object (e.g. redis: { url }) is the default of its keys.
      const inherited = (typeof defaultValue === 'object' && defaultValue !== null ? defaultValue : {}) as Record<string, unknown>;
      for (const [key, child] of Object.entries(def.shape ?? {})) {
        visit(child, path ? `${path}.${key}` : key, optional && key in inherited, inherited[key]);
      }
      return;
    }
    if (def.type === 'union') {
      for (const option of def.options ?? []) visit(option, path, optional, defaultValue);
      return;
    }
    if (def.type === 'intersection') {
      visit(def.left, path, optional, defaultValue);
      visit(def.right, path, optional, defaultValue);
      return;
    }
    if (def.type === 'array') {
      const element = defOf(def.element);
      if (unwrapType(def.element) === 'object' || element.type === 'union') {
        visit(def.element, `${path}[]`, false, undefined);
        if (!keys.has(path)) keys.set(path, { path, type: 'array', defaultValue, optional });
        return;
      }
    }
    const existing = keys.get(path);
    keys.set(path, {
      path,
      type: existing && existing.type !== def.type ? `${existing.type}|${def.type}` : def.type,
      defaultValue: existing?.defaultValue ?? defaultValue,
      optional: (existing?.optional ?? true) && optional,
    });
  };
  visit(schema, '', false, undefined);
  return [...keys.values()];
}

function unwrapType(node: unknown): string {
  const def = defOf(node);
  if (WRAPPERS.has(def.type)) return unwrapType(def.innerType);
  if (def.type === 'pipe') return unwrapType(defOf(def.in).type === 'transform' ? def.out : def.in);
  return def.type;
}
