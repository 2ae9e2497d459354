/** Votes a majority of `size` members must cast. */
export function quorumSize(size: number): number {
  return Math.floor(size / 2) + 1;
}

/**
 * Resolves with the first `quorumSize(n)` successful results (in arrival order), without waiting
 * for slow or dead members; rejects as soon as a majority can no longer be reached.
 */
export function firstMajority<T>(calls: Array<Promise<T>>): Promise<T[]> {
  const needed = quorumSize(calls.length);
  return new Promise((resolve, reject) => {
    const results: T[] = [];
    const errors: unknown[] = [];
    for (const call of calls) {
      call.then(
        (value) => {
          results.push(value);
          if (results.length === needed) resolve(results.slice());
        },
        (error: unknown) => {
          errors.push(error);
          if (calls.length - errors.length < needed) {
            reject(new AggregateError(errors, `${errors.length} of ${calls.length} Redis masters failed; a majority of ${needed} is needed`));
          }
        },
      );
    }
  });
}
