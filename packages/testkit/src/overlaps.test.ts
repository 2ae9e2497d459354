import { describe, expect, it } from 'vitest';
import { peakOverlap } from './counting-server.js';
import { overlapsAbove, type MeteredConnection } from './overlaps.js';

const connection = (label: string, openedAt: number, lastDataAt: number): MeteredConnection => ({ label, clientPort: 0, openedAt, lastDataAt, closedAt: undefined, writes: [] });

describe('overlapsAbove', () => {
  it('agrees with peakOverlap: names the connections of each stretch above the limit; hand-offs and connections that never wrote are no overlap', () => {
    const connections = [connection('a', 0, 10), connection('b', 5, 20), connection('c', 10, 30), connection('idle', 12, 12), connection('d', 15, 25)];
    const overlaps = overlapsAbove(connections, 2);
    expect(overlaps.map((o) => ({ from: o.from, to: o.to, peak: o.peak, labels: o.connections.map((c) => c.label) })))
      .toEqual([{ from: 15, to: 20, peak: 3, labels: ['b', 'c', 'd'] }]);
    expect(peakOverlap(connections.map((c) => [c.openedAt, c.lastDataAt]))).toBe(3);
    expect(overlapsAbove(connections, 3)).toEqual([]);
  });
});
