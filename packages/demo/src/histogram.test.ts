import { describe, expect, it } from 'vitest';
import { histogramQuantile, histogramQuantileBound, mergeHistogram } from './histogram.js';
import { quantile } from './batch.js';

const agentA = `# HELP smtp_slots_slot_wait_seconds Time a worker waited for a slot.
# TYPE smtp_slots_slot_wait_seconds histogram
smtp_slots_slot_wait_seconds_bucket{le="0.1",mailbox="m@x.example",agent="a"} 2
smtp_slots_slot_wait_seconds_bucket{le="1",mailbox="m@x.example",agent="a"} 6
smtp_slots_slot_wait_seconds_bucket{le="+Inf",mailbox="m@x.example",agent="a"} 8
smtp_slots_slot_wait_seconds_sum{mailbox="m@x.example",agent="a"} 9.5
smtp_slots_slot_wait_seconds_count{mailbox="m@x.example",agent="a"} 8
smtp_slots_slot_wait_seconds_other_bucket{le="1"} 1000
`;
const agentB = `smtp_slots_slot_wait_seconds_bucket{mailbox="m@x.example",agent="b",le="0.1"} 2
smtp_slots_slot_wait_seconds_bucket{mailbox="m@x.example",agent="b",le="1"} 2
smtp_slots_slot_wait_seconds_bucket{mailbox="m@x.example",agent="b",le="+Inf"} 2
smtp_slots_slot_wait_seconds_sum{mailbox="m@x.example",agent="b"} 0.1
smtp_slots_slot_wait_seconds_count{mailbox="m@x.example",agent="b"} 2
`;

describe('mergeHistogram', () => {
  it('adds buckets, sums and counts across agents and ignores other metrics', () => {
    const merged = mergeHistogram([agentA, agentB], 'smtp_slots_slot_wait_seconds');
    expect(merged).toEqual({
      buckets: [
        { le: 0.1, count: 4 },
        { le: 1, count: 8 },
        { le: Infinity, count: 10 },
      ],
      count: 10,
      sum: 9.6,
    });
  });

  it('is undefined when no document has the metric', () => {
    expect(mergeHistogram(['up 1\n'], 'smtp_slots_slot_wait_seconds')).toBeUndefined();
  });
});

describe('histogramQuantile', () => {
  const merged = mergeHistogram([agentA, agentB], 'smtp_slots_slot_wait_seconds')!;

  it('interpolates inside the bucket like PromQL histogram_quantile', () => {
    // rank 5 of 10 lies in (0.1, 1] which holds ranks 5..8: a quarter of the way in.
    expect(histogramQuantile(0.5, merged)).toBeCloseTo(0.1 + 0.9 * (1 / 4));
    expect(histogramQuantile(0.2, merged)).toBeCloseTo(0.05);
  });

  it('reports the highest finite bound for ranks in +Inf and NaN without observations', () => {
    expect(histogramQuantile(0.99, merged)).toBe(1);
    expect(histogramQuantile(0.5, { buckets: [{ le: Infinity, count: 0 }], count: 0, sum: 0 })).toBeNaN();
  });
});

describe('histogramQuantileBound', () => {
  it('names the bucket that holds the quantile, which is all a histogram knows for sure', () => {
    const merged = mergeHistogram([agentA, agentB], 'smtp_slots_slot_wait_seconds')!;
    expect(histogramQuantileBound(0.2, merged)).toBe(0.1);
    expect(histogramQuantileBound(0.5, merged)).toBe(1);
    expect(histogramQuantileBound(0.99, merged)).toBe(Infinity);
  });
});

describe('quantile of raw samples', () => {
  it('takes the nearest rank', () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(samples, 0.5)).toBe(50);
    expect(quantile(samples, 0.99)).toBe(99);
    expect(quantile([3], 0.99)).toBe(3);
    expect(quantile([], 0.5)).toBeNaN();
  });
});
