import { readdirSync, readFileSync } from 'node:fs';

/** src/lua under vitest and tsx, dist/lua once built (copied by `build:assets`). */
const LUA_DIR = new URL('../lua/', import.meta.url);
const INCLUDE = /^--- @include "([\w-]+)"\s*$/gm;

export interface LuaScript {
  /** `acquire` for `acquire-12.lua` */
  name: string;
  /** Undefined for `<command>-n.lua`: the caller passes the key count first (a variable number of keys). */
  numberOfKeys?: number;
  /** Source with includes expanded. */
  lua: string;
}

function expand(source: string, seen: Set<string>): string {
  return source.replace(INCLUDE, (_line, include: string) => {
    if (seen.has(include)) return '';
    seen.add(include);
    return expand(readFileSync(new URL(`includes/${include}.lua`, LUA_DIR), 'utf8'), seen);
  });
}

/** Every `<command>-<numKeys>.lua` (or `<command>-n.lua`) file, includes expanded. */
export function loadLuaScripts(): LuaScript[] {
  return readdirSync(LUA_DIR)
    .map((file) => /^([a-zA-Z0-9]+)-(\d+|n)\.lua$/.exec(file))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(([file, name, keys]) => ({
      name: name!,
      ...(keys === 'n' ? {} : { numberOfKeys: Number(keys) }),
      lua: expand(readFileSync(new URL(file, LUA_DIR), 'utf8'), new Set()),
    }));
}
