import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisProcess } from '@smtp-slots/testkit';
import { agentMemory } from './agent-memory.js';
import { printBenchTable, runBench } from './bench-table.js';

/** `pnpm --filter @smtp-slots/agent bench:memory`: only the memory rows of the agent bench (runs the built dist/). */
async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'smtp-slots-agent-memory-'));
  const loadBefore = loadavg()[0]!;
  const redis = await RedisProcess.start();
  try {
    printBenchTable('@smtp-slots/agent memory', await agentMemory(root, redis), loadBefore);
  } finally {
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

runBench(main);
