import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { printBenchTable, runBench } from './bench-table.js';
import { redisPerMessageRows } from './redis-per-message.js';

/* `pnpm --filter @smtp-slots/agent bench:per-message`: only the end-to-end Redis cost per delivered message (part of `pnpm bench`). */
async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'smtp-slots-per-message-bench-'));
  const loadBefore = loadavg()[0]!;
  try {
    printBenchTable('@smtp-slots/agent: Redis per delivered message', await redisPerMessageRows(root), loadBefore);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

runBench(main);
