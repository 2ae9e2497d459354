import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoPath } from '../docs/repo-files.js';

const scratch = mkdtempSync(join(tmpdir(), 'smtp-slots-pack-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The file names inside the tarball `pnpm pack` makes of a package, as a registry would get it. */
function packedFiles(pkg: string): string[] {
  const destination = join(scratch, pkg);
  execFileSync('pnpm', ['pack', '--pack-destination', destination], { cwd: repoPath(`packages/${pkg}`), stdio: 'pipe' });
  const [tarball] = readdirSync(destination).filter((name) => name.endsWith('.tgz'));
  return execFileSync('tar', ['-tzf', join(destination, tarball!)], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

/** Test, test-helper and bench code: it belongs to the repository, not to what runs in production. */
const NOT_PRODUCTION = /(\.test\.|\/testing\/|\/test-support\/|\/bench\/|\/conformance\/)/;

describe('published packages', () => {
  // Agent and coordinator are what operators install; core, service-kit and dashboard ship inside them.
  it.each(['agent', 'coordinator', 'core', 'service-kit', 'dashboard'])('%s: the pnpm pack tarball holds production code only', (pkg) => {
    const files = packedFiles(pkg);
    expect(files).toContain('package/dist/index.js');
    expect(files.filter((file) => NOT_PRODUCTION.test(file))).toEqual([]);
  });
});
