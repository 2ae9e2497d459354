/** One Prometheus histogram, merged over every label set (e.g. over all agents). */
export interface MergedHistogram {
  /** Cumulative counts by upper bound, ascending, ending with +Inf. */
  buckets: Array<{ le: number; count: number }>;
  count: number;
  sum: number;
}

/**
 * Reads `<name>_bucket`, `_sum` and `_count` out of Prometheus text exposition documents and adds
 * them up across label sets and documents. Returns undefined when no document has the metric.
 */
export function mergeHistogram(documents: string[], name: string): MergedHistogram | undefined {
  const byBound = new Map<number, number>();
  let count = 0;
  let sum = 0;
  let seen = false;
  const sample = new RegExp(`^${name}(_bucket|_sum|_count)(?:\\{([^}]*)\\})?\\s+(\\S+)`);
  for (const document of documents) {
    for (const line of document.split('\n')) {
      const match = sample.exec(line);
      if (!match) continue;
      seen = true;
      const value = Number(match[3]);
      if (!Number.isFinite(value)) continue;
      if (match[1] === '_sum') sum += value;
      else if (match[1] === '_count') count += value;
      else {
        const le = /(?:^|,)le="([^"]+)"/.exec(match[2] ?? '')?.[1];
        if (le === undefined) continue;
        const bound = le === '+Inf' ? Infinity : Number(le);
        byBound.set(bound, (byBound.get(bound) ?? 0) + value);
      }
    }
  }
  if (!seen) return undefined;
  const buckets = [...byBound.entries()].sort(([a], [b]) => a - b).map(([le, c]) => ({ le, count: c }));
  return { buckets, count, sum };
}

/**
 * The q-quantile of a histogram with linear interpolation inside the bucket, as PromQL's
 * histogram_quantile() does. NaN without observations; the highest finite bound when the
 * quantile falls into +Inf.
 */
export function histogramQuantile(q: number, histogram: MergedHistogram): number {
  const { buckets } = histogram;
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of buckets) {
    if (bucket.count >= rank) {
      if (bucket.le === Infinity) return lowerBound;
      const inBucket = bucket.count - lowerCount;
      if (inBucket <= 0) return bucket.le;
      return lowerBound + ((bucket.le - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return lowerBound;
}

/**
 * The upper bound of the bucket that holds the q-quantile: what a histogram can say for sure
 * ("p99 <= 2.5 s"). Infinity when it falls into +Inf, NaN without observations.
 */
export function histogramQuantileBound(q: number, histogram: MergedHistogram): number {
  const total = histogram.buckets.at(-1)?.count ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  return histogram.buckets.find((bucket) => bucket.count >= rank)?.le ?? Infinity;
}
