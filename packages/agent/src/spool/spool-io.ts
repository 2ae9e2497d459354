import { access, open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';

/** One durable step of the spool's state machine (every file change is one of these). */
export type SpoolStep = 'write' | 'fsync' | 'rename' | 'dir-fsync' | 'unlink' | 'read' | 'list';

/**
 * Runs before each step with the path it touches. Tests use it to stop a process exactly at a
 * step (SIGKILL), to fail a step with an injected errno (ENOSPC, EIO), or to hold a step while
 * another operation runs (races). It may throw or return a promise; it never runs in production.
 */
export type SpoolStepHook = (step: SpoolStep, path: string) => void | Promise<void>;

/**
 * Every file operation of the spool, recovery and dead letters goes through one of these, so
 * that a fault test can reach each step. Without a hook each method is the plain `fs` call.
 */
export class SpoolIo {
  constructor(private readonly hook?: SpoolStepHook) {}

  /**
   * Creates `path` (it must not exist) holding `data`, fsynced. On failure the partial file is
   * removed: a full disk must not also fill tmp/ with halves of messages.
   */
  async writeNew(path: string, data: Buffer): Promise<void> {
    if (this.hook) await this.hook('write', path);
    const handle = await open(path, 'wx');
    try {
      await handle.writeFile(data);
      if (this.hook) await this.hook('fsync', path);
      await handle.sync();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
      throw error;
    }
    await handle.close();
  }

  async rename(from: string, to: string): Promise<void> {
    if (this.hook) await this.hook('rename', to);
    await rename(from, to);
  }

  async unlink(path: string): Promise<void> {
    if (this.hook) await this.hook('unlink', path);
    await unlink(path);
  }

  /** fsyncs a directory so that renames and unlinks in it survive a power loss. */
  async syncDir(dir: string): Promise<void> {
    if (this.hook) await this.hook('dir-fsync', dir);
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async readFile(path: string): Promise<Buffer> {
    if (this.hook) await this.hook('read', path);
    return readFile(path);
  }

  /** Opens a file for reading (a header read that does not need the whole body). */
  async openRead(path: string): Promise<FileHandle> {
    if (this.hook) await this.hook('read', path);
    return open(path, 'r');
  }

  exists(path: string): Promise<boolean> {
    return access(path).then(() => true, () => false);
  }

  async list(dir: string): Promise<string[]> {
    if (this.hook) await this.hook('list', dir);
    return readdir(dir);
  }
}

/** The production instance: no hook, plain fs calls. */
export const plainSpoolIo = new SpoolIo();

/** True for errors that mean "the disk cannot take more data now" (full or over quota). */
export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** A bounded label for an I/O error (metrics): the errno name when it is a common one. */
export function ioErrorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code && KNOWN_CODES.has(code) ? code : 'other';
}
const KNOWN_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EACCES', 'EPERM', 'EMFILE', 'ENFILE', 'ENOENT']);
