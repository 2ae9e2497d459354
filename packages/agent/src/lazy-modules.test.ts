import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Every module URL a fresh Node process loads while importing the agent package's entry point. */
function modulesLoadedByImport(): string[] {
  const hook = `export async function load(url, context, next) { if (url.startsWith('file:')) process.stderr.write('LOADED ' + url + '\\n'); return next(url, context); }`;
  const script = [
    "import { register } from 'node:module';",
    `register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));`,
    `await import(${JSON.stringify(new URL('./index.ts', import.meta.url).href)});`,
  ].join('\n');
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', '--input-type=module', '-e', script], {
    cwd: new URL('..', import.meta.url).pathname,
    encoding: 'utf8',
  });
  expect(child.status, child.stderr).toBe(0);
  return child.stderr.split('\n').filter((line) => line.startsWith('LOADED ')).map((line) => line.slice('LOADED '.length));
}

describe('start-up imports', () => {
  it('loads neither MSAL nor the message composer until they are used (the relay path never does)', () => {
    const loaded = modulesLoadedByImport();
    expect(loaded.some((url) => url.includes('/sender/token-provider.'))).toBe(true);
    expect(loaded.filter((url) => url.includes('@azure/msal') || url.includes('mail-composer'))).toEqual([]);
  });
});
