import type { Cycle } from './bench-worker.js';

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The steady part of a run: from 1 s after its first grant to 1 s before its last release (no start-up, no wind-down). */
export function steadyWindow(cycles: Cycle[]): [from: number, to: number] {
  return [Math.min(...cycles.map((c) => c[2])) + 1000, Math.max(...cycles.map((c) => c[3])) - 1000];
}

/**
 * Hand-offs: in time order, each grant takes the oldest freed slot (a release call). When the
 * grantee asked before that slot was freed, it was waiting: `latency` = grant − release. When it
 * asked after, it took the slot ahead of the waiters (`barged`; impossible with FIFO hand-off).
 * Only grants within `window` are counted.
 */
export function handOffs(cycles: Cycle[], limit: number, window: [from: number, to: number] = [-Infinity, Infinity]): { latency: number[]; barged: number; matched: number } {
  const events: Array<[time: number, kind: 0 | 1, requested: number]> = [];
  for (const [, requested, granted, releasing] of cycles) events.push([granted, 1, requested], [releasing, 0, 0]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const pending: number[] = [];
  const latency: number[] = [];
  let grants = 0;
  let barged = 0;
  let matched = 0;
  for (const [time, kind, requested] of events) {
    if (kind === 0) pending.push(time);
    else if (++grants > limit && pending.length > 0) {
      const freed = pending.shift()!;
      if (time < window[0] || time > window[1]) continue;
      matched += 1;
      if (requested < freed) latency.push(time - freed);
      else barged += 1;
    }
  }
  return { latency, barged, matched };
}

/** Share of slot-time held by somebody within [from, to] (held = grant until release is called). */
export function utilisation(cycles: Cycle[], limit: number, from: number, to: number): number {
  let held = 0;
  for (const [, , granted, releasing] of cycles) held += Math.max(0, Math.min(to, releasing) - Math.max(from, granted));
  return held / (limit * (to - from));
}
