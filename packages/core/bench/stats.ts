import type { Cycle } from './bench-worker.js';

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Hand-off latency: each grant made while a freed slot was pending is matched to the oldest
 * pending release (the moment its holder called release()). Under a standing backlog every
 * release should be followed by a grant; the gap is what the semaphore wastes.
 */
export function handOffLatencies(cycles: Cycle[], limit: number): number[] {
  const events: Array<[time: number, kind: 0 | 1]> = [];
  for (const [, , granted, releasing] of cycles) events.push([granted, 1], [releasing, 0]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const pending: number[] = [];
  const out: number[] = [];
  let grants = 0;
  for (const [time, kind] of events) {
    if (kind === 0) pending.push(time);
    else if (++grants > limit && pending.length > 0) out.push(time - pending.shift()!);
  }
  return out;
}

/** Share of slot-time held by somebody within [from, to] (held = grant until release is called). */
export function utilisation(cycles: Cycle[], limit: number, from: number, to: number): number {
  let held = 0;
  for (const [, , granted, releasing] of cycles) held += Math.max(0, Math.min(to, releasing) - Math.max(from, granted));
  return held / (limit * (to - from));
}
