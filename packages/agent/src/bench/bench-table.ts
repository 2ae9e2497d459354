import { availableParallelism, loadavg } from 'node:os';

/** Prints a benchmark's rows as a two-column table, with the machine's load (other processes skew every number). */
export function printBenchTable(title: string, rows: Array<[string, string]>, loadBefore: number): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(`\n${title}`);
  console.log(`load average (1 min) ${loadBefore.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end, on ${availableParallelism()} cores`);
  console.log(`${'measure'.padEnd(width)}  result`);
  console.log(`${'-'.repeat(width)}  ${'-'.repeat(40)}`);
  for (const [key, value] of rows) console.log(`${key.padEnd(width)}  ${value}`);
}

/** Runs a benchmark's main and exits (0 after it, 1 with the error). */
export function runBench(main: () => Promise<void>): void {
  main().then(() => process.exit(0), (error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
