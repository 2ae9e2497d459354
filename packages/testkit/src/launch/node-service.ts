import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A child process that was started by us and must be stopped by us. */
const live = new Set<ChildProcess>();
// Children run in their own process group (so that Ctrl-C reaches only the demo, which then stops
// them in order); if the demo dies abruptly they must not outlive it.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NodeServiceOptions {
  /** Shown in errors, e.g. `agent-2`. */
  name: string;
  /** The script to run with the current Node binary. */
  script: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr (the services' JSON logs) are appended here; discarded when absent. */
  logFile?: string;
  cwd?: string;
}

/**
 * A Node.js service in a child process: its own process group, logs to a file, stopped with
 * SIGTERM (graceful drain) and SIGKILL only when that takes too long.
 */
export class NodeService {
  readonly exited: Promise<ExitStatus>;
  private status: ExitStatus | undefined;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        this.status = { code, signal };
        resolve(this.status);
      });
    });
  }

  static start(options: NodeServiceOptions): NodeService {
    const output = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
    const child = spawn(process.execPath, [options.script, ...options.args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', output ? 'pipe' : 'ignore', output ? 'pipe' : 'ignore'],
    });
    if (output) {
      child.stdout?.pipe(output, { end: false });
      child.stderr?.pipe(output, { end: false });
      child.once('exit', () => setTimeout(() => output.end(), 50));
    }
    live.add(child);
    return new NodeService(options.name, child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The exit status once the process has ended, undefined while it runs. */
  get exitStatus(): ExitStatus | undefined {
    return this.status;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Resolves with how the process ended. */
  async stop(graceMs = 30_000): Promise<ExitStatus> {
    if (this.status) return this.status;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const status = await this.exited;
    clearTimeout(timer);
    return status;
  }

  /** SIGKILL at once (a crash, seen from the outside). */
  async kill(): Promise<ExitStatus> {
    if (this.status) return this.status;
    this.child.kill('SIGKILL');
    return this.exited;
  }
}

/**
 * The built CLI (`dist/cli.js`) of a workspace package that declares a `bin`, found from `from`
 * (the caller's `import.meta.url`: the package must be one of the caller's dependencies). Fails
 * with an actionable message when the package has not been built yet.
 */
export function resolvePackageCli(packageName: string, from: string): string {
  const dir = findPackageDir(packageName, dirname(fileURLToPath(from)));
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { bin?: string | Record<string, string> };
  const bin = typeof manifest.bin === 'string' ? manifest.bin : Object.values(manifest.bin ?? {})[0];
  if (!bin) throw new Error(`${packageName} declares no bin`);
  const script = join(dir, bin);
  if (!existsSync(script)) throw new Error(`${script} does not exist: build first (pnpm build)`);
  return script;
}

/** Node's lookup of `node_modules/<name>` from `start` upwards (the package's exports hide package.json). */
function findPackageDir(packageName: string, start: string): string {
  let dir = start;
  for (;;) {
    const candidate = join(dir, 'node_modules', ...packageName.split('/'));
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${packageName} from ${start}: run pnpm install`);
    dir = parent;
  }
}
