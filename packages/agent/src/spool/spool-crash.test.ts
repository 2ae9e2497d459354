import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSpoolHeader, type SpoolHeader } from './spool-file.js';
import { Spool } from './spool.js';

// The child runs from source (testing/ is not part of the build), as the other test children do.
const agentDir = join(dirname(fileURLToPath(import.meta.url)), '../..');
const child = join(agentDir, 'src/testing/spool-crash-child.ts');

interface Journal {
  /** messageId → recipients, for messages whose accept() resolved (the client got its 250). */
  accepted: Map<string, string[]>;
  /** messageId → recipients the upstream may have taken. */
  upstream: Map<string, Set<string>>;
  crash?: string;
  steps?: number;
}

/** Runs the child scenario (or a recovery) and kills it before file step `crashAt` (0: never). */
function runChild(dir: string, journalFile: string, crashAt: number, mode: 'scenario' | 'recover'): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', child, join(dir, 'spool'), journalFile, String(crashAt), mode], {
      cwd: agentDir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    proc.once('error', reject);
    proc.once('close', (_code, signal) => resolve({ signal, stderr }));
  });
}

/** Runs `task` for 1..count, two at a time (the machine has two cores). */
async function forEachStep(count: number, task: (step: number) => Promise<void>): Promise<void> {
  let next = 1;
  const lane = async () => {
    while (next <= count) await task(next++);
  };
  await Promise.all([lane(), lane()]);
}

// tmpfs when there is one: fsync there is free, and a SIGKILL does not care about the medium.
const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const newDir = () => mkdtempSync(join(base, 'spool-crash-'));

function readJournal(file: string): Journal {
  const journal: Journal = { accepted: new Map(), upstream: new Map() };
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  for (const line of lines) {
    const [kind, a, b] = line.split(' ') as [string, string, string];
    if (kind === 'accepted') journal.accepted.set(a, b.split(','));
    if (kind === 'upstream') for (const r of b.split(',')) journal.upstream.set(a, (journal.upstream.get(a) ?? new Set()).add(r));
    if (kind === 'crash') journal.crash = line;
    if (kind === 'steps') journal.steps = Number(a);
  }
  return journal;
}

/** Every message file left after recovery, by state. */
async function spoolFiles(dir: string): Promise<Array<{ state: string; header: SpoolHeader }>> {
  const files: Array<{ state: string; header: SpoolHeader }> = [];
  for (const state of ['queued', 'sending', 'deferred', 'dead']) {
    for (const name of readdirSync(join(dir, 'spool', state))) files.push({ state, header: await readSpoolHeader(join(dir, 'spool', state, name)) });
  }
  return files;
}

/**
 * The two promises, checked after recovery: every recipient of an accepted message was taken
 * by the upstream or is still in the spool (no loss); no recipient is in two copies; a copy that
 * will go to a recipient the upstream may already have is marked as a possible duplicate.
 */
function problemsAfterRecovery(journal: Journal, files: Array<{ state: string; header: SpoolHeader }>): string[] {
  const problems: string[] = [];
  const copies = new Map<string, Array<{ state: string; header: SpoolHeader }>>();
  for (const file of files) {
    if (file.state === 'sending') problems.push(`${file.header.messageId} still in sending/ after recovery`);
    for (const r of file.header.envelope.to) {
      const key = `${file.header.messageId} ${r}`;
      copies.set(key, [...(copies.get(key) ?? []), file]);
    }
  }
  for (const [messageId, to] of journal.accepted) {
    for (const r of to) {
      const held = copies.get(`${messageId} ${r}`) ?? [];
      const taken = journal.upstream.get(messageId)?.has(r) ?? false;
      if (!taken && held.length === 0) problems.push(`lost: ${messageId} for ${r}`);
      if (held.length > 1) problems.push(`duplicated: ${messageId} for ${r} in ${held.map((c) => c.state).join(' and ')}`);
      for (const copy of held) {
        if (taken && copy.state !== 'dead' && !copy.header.possibleDuplicate) problems.push(`resent unmarked: ${messageId} for ${r} (${copy.state})`);
      }
    }
  }
  return problems;
}

async function inFlightBesideItsSplit(dir: string): Promise<boolean> {
  const inFlight = new Set(readdirSync(join(dir, 'spool', 'sending')));
  return (await spoolFiles(dir)).some((f) => f.state === 'dead' && f.header.splitFrom !== undefined && inFlight.has(f.header.splitFrom));
}

async function recoverAndCheck(dir: string, journal: Journal): Promise<string[]> {
  const { spool } = await Spool.open(join(dir, 'spool'));
  await spool.close();
  return problemsAfterRecovery(journal, await spoolFiles(dir));
}

describe('spool crash points (a real child process killed with SIGKILL before each file step)', () => {
  const clean = newDir();
  let cleanRun: { stderr: string };
  let total = 0;
  /** Steps whose crash left a message in sending/ and a split copy of it in dead/. */
  const splitCrashStates: number[] = [];
  beforeAll(async () => {
    cleanRun = await runChild(clean, join(clean, 'journal'), 0, 'scenario');
    total = readJournal(join(clean, 'journal')).steps ?? 0;
  });

  it('the scenario runs through without a crash and leaves a consistent spool', async () => {
    expect(cleanRun.stderr).toBe('');
    expect(total).toBeGreaterThan(50);
    expect(await recoverAndCheck(clean, readJournal(join(clean, 'journal')))).toEqual([]);
  });

  it('after a kill at any step, recovery loses no accepted message and duplicates only marked ones', async () => {
    const failures: string[] = [];
    await forEachStep(total, async (step) => {
      const dir = newDir();
      const run = await runChild(dir, join(dir, 'journal'), step, 'scenario');
      const journal = readJournal(join(dir, 'journal'));
      if (run.signal !== 'SIGKILL' || !journal.crash) {
        failures.push(`step ${step}: the child did not die there (${run.signal ?? 'exit'}) ${run.stderr}`);
        return;
      }
      if (await inFlightBesideItsSplit(dir)) splitCrashStates.push(step);
      for (const problem of await recoverAndCheck(dir, journal)) failures.push(`${journal.crash}: ${problem}`);
    });
    expect(failures).toEqual([]);
  }, 300_000);

  it('a kill during recovery itself is recovered by the next start', async () => {
    // A crash state that leaves recovery the most to do: a message in flight beside a split copy of it.
    const crashState = Math.min(...splitCrashStates);
    expect(crashState).toBeLessThan(Infinity);
    const crashed = newDir();
    await runChild(crashed, join(crashed, 'journal'), crashState, 'scenario');
    const counting = newDir();
    cpSync(crashed, counting, { recursive: true });
    await runChild(counting, join(counting, 'recovery'), 0, 'recover');
    const recoverySteps = readJournal(join(counting, 'recovery')).steps ?? 0;
    expect(recoverySteps).toBeGreaterThan(10);
    const failures: string[] = [];
    await forEachStep(recoverySteps, async (at) => {
      const dir = newDir();
      cpSync(crashed, dir, { recursive: true });
      const run = await runChild(dir, join(dir, 'recovery'), at, 'recover');
      const recovery = readJournal(join(dir, 'recovery'));
      if (run.signal !== 'SIGKILL') failures.push(`recovery step ${at}: the child did not die there`);
      for (const problem of await recoverAndCheck(dir, readJournal(join(dir, 'journal')))) failures.push(`${recovery.crash}: ${problem}`);
    });
    expect(failures).toEqual([]);
  }, 300_000);
});
