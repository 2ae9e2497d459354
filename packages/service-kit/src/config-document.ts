import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Problem } from './problem.js';

export type DocumentResult = { ok: true; document: Record<string, unknown> } | { ok: false; problems: Problem[] };

/**
 * Reads a config file: JSON when it ends in `.json`, YAML otherwise. An empty file is an empty
 * mapping; anything else at the top level, an unreadable file or bad syntax is a problem naming
 * the file.
 */
export function readConfigDocument(file: string): DocumentResult {
  const fail = (message: string): DocumentResult => ({ ok: false, problems: [{ path: file, message }] });
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return fail(`cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const json = extname(file).toLowerCase() === '.json';
  let document: unknown;
  try {
    document = json ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    return fail(`not valid ${json ? 'JSON' : 'YAML'} (${(error as Error).message.split('\n')[0]})`);
  }
  if (document === null || document === undefined) return { ok: true, document: {} };
  if (typeof document !== 'object' || Array.isArray(document)) return fail('the top level must be a mapping of keys');
  return { ok: true, document: document as Record<string, unknown> };
}
