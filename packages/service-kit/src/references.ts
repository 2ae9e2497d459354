import { readFileSync } from 'node:fs';
import { joinPath, type Problem } from './problem.js';

export interface ResolvedReferences {
  value: unknown;
  problems: Problem[];
}

/**
 * Replaces secret references in every string of a document: `${NAME}` by the environment
 * variable, `${file:/path}` by the file's content, and a whole value `file:/path` by the file's
 * content (one trailing newline trimmed). A reference that cannot be resolved is a problem at its
 * path and the value stays as written, so the schema still checks everything else.
 */
export function resolveReferences(value: unknown, env: NodeJS.ProcessEnv): ResolvedReferences {
  const problems: Problem[] = [];
  const walk = (node: unknown, path: Array<string | number>): unknown => {
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k])]));
    if (typeof node !== 'string') return node;
    let failed = false;
    const fail = (message: string): string => {
      problems.push({ path: joinPath(path), message });
      failed = true;
      return '';
    };
    const readSecretFile = (file: string): string => {
      try {
        return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch (error) {
        return fail(`cannot read secret file ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
    };
    const resolved = node.startsWith('file:')
      ? readSecretFile(node.slice('file:'.length))
      : node.replace(/\$\{([^}]+)\}/g, (_whole, ref: string) => {
          if (ref.startsWith('file:')) return readSecretFile(ref.slice('file:'.length));
          return env[ref] ?? fail(`environment variable ${ref} is not set`);
        });
    return failed ? node : resolved;
  };
  return { value: walk(value, []), problems };
}
