import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SpoolIo, type SpoolStepHook } from './spool-io.js';
import { Spool } from './spool.js';

const MAILBOX = 'reports@contoso.example';
const opened: Spool[] = [];

afterEach(async () => {
  for (const spool of opened.splice(0)) await spool.close();
});

/** One line per observable step, in order: what happened to which file or directory. */
type Event = { kind: 'renamed'; id: string } | { kind: 'dir-sync-start' | 'dir-sync-done'; dir: string; n: number } | { kind: 'resolved'; id: string };

/** Real file operations that also log renames and directory fsyncs (start and end) in order. */
class RecordingIo extends SpoolIo {
  readonly events: Event[] = [];
  private syncs = 0;

  constructor(hook: SpoolStepHook) {
    super(hook);
  }

  override async rename(from: string, to: string): Promise<void> {
    await super.rename(from, to);
    if (basename(dirname(to)) === 'queued') this.events.push({ kind: 'renamed', id: basename(to) });
  }

  override async syncDir(dir: string): Promise<void> {
    const n = (this.syncs += 1);
    this.events.push({ kind: 'dir-sync-start', dir: basename(dir), n });
    await super.syncDir(dir);
    this.events.push({ kind: 'dir-sync-done', dir: basename(dir), n });
  }
}

describe('group commit of accepts', () => {
  it('concurrent accepts share the fsync of queued/, and none resolves before a fsync that began after its own rename', async () => {
    const count = 20;
    const steps = { fsync: 0, dirFsync: 0 };
    let renamed = 0;
    let armed = false; // recovery at open fsyncs queued/ too
    let allRenamed!: () => void;
    const everyoneRenamed = new Promise<void>((resolve) => (allRenamed = resolve));
    const io = new RecordingIo(async (step, path) => {
      if (!armed) return;
      if (step === 'fsync') steps.fsync += 1;
      if (step === 'rename' && basename(dirname(path)) === 'queued' && (renamed += 1) === count) allRenamed();
      if (step === 'dir-fsync' && basename(path) === 'queued' && (steps.dirFsync += 1) === 1) {
        // Hold the first directory fsync until every message has renamed: the rest must share the next one.
        await everyoneRenamed;
      }
    });
    const { spool } = await Spool.open(mkdtempSync(join(tmpdir(), 'agent-group-commit-')), { io });
    opened.push(spool);
    armed = true;

    await Promise.all(Array.from({ length: count }, async (_, n) => {
      const raw = Buffer.from(`Message-ID: <m${n}@test>\r\nSubject: ${n}\r\n\r\nbody ${n}\r\n`);
      const header = await spool.accept({ mailbox: MAILBOX, envelope: { from: MAILBOX, to: ['a@x.example'] }, raw, messageId: `<m${n}@test>`, origin: 'relay' });
      io.events.push({ kind: 'resolved', id: header.id });
    }));

    // Data files: one fsync each (their bytes are their own); the directory: shared.
    expect(steps.fsync).toBe(count);
    expect(steps.dirFsync).toBeLessThan(count);
    expect(steps.dirFsync).toBe(2);

    // Durability: each 250 comes after a fsync of queued/ that started after its rename and ended.
    const at = (predicate: (e: Event) => boolean) => io.events.findIndex(predicate);
    const unsafe: string[] = [];
    for (const event of io.events) {
      if (event.kind !== 'resolved') continue;
      const renamedAt = at((e) => e.kind === 'renamed' && e.id === event.id);
      const resolvedAt = at((e) => e === event);
      const covered = io.events.some((start, i) => start.kind === 'dir-sync-start' && start.dir === 'queued' && i > renamedAt
        && at((done) => done.kind === 'dir-sync-done' && done.n === start.n) < resolvedAt);
      if (renamedAt < 0 || !covered) unsafe.push(event.id);
    }
    expect(unsafe).toEqual([]);
  });
});
