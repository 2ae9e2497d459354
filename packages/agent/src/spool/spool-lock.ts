import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SpoolLockedError } from '../errors.js';

/** True when a process with this pid exists on this machine. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One process owns a spool directory: two agents sending from one spool would send every
 * message twice. The lock file holds the owner's pid; a lock whose pid is gone is stale
 * (the owner was killed) and is taken over.
 */
export class SpoolLock {
  private constructor(
    private readonly file: string,
    /** The pid of a previous owner that died without cleaning up, if any. */
    readonly stalePid: number | undefined,
  ) {}

  static async acquire(dir: string): Promise<SpoolLock> {
    const file = join(dir, 'agent.lock');
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await writeFile(file, `${process.pid}\n`, { flag: 'wx' });
        return new SpoolLock(file, undefined);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const pid = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isProcessAlive(pid)) {
        throw new SpoolLockedError(dir, pid);
      }
      // Stale: the owner is gone. Replace the file; a racing taker loses on 'wx' and retries.
      await unlink(file).catch(() => undefined);
      try {
        await writeFile(file, `${process.pid}\n`, { flag: 'wx' });
        return new SpoolLock(file, Number.isInteger(pid) && pid !== process.pid ? pid : undefined);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    throw new SpoolLockedError(dir, -1);
  }

  async release(): Promise<void> {
    const owner = Number.parseInt(await readFile(this.file, 'utf8').catch(() => ''), 10);
    if (owner === process.pid) await unlink(this.file).catch(() => undefined);
  }
}
