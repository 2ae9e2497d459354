import { createHash } from 'node:crypto';
import type { PrivacyMode } from './trail-types.js';

const HASH_PREFIX = 'sha256:';

/**
 * The stored form of a recipient or subject. Hashes are of the lower-cased, trimmed value, so a
 * search for the plain value finds the hashed entry (searchTerms hashes the query the same way).
 * A digest hides the value from a casual reader of Redis, not from someone who guesses it.
 */
export function protect(value: string, mode: PrivacyMode): string | undefined {
  if (mode === 'off') return undefined;
  if (mode === 'plain') return value;
  return digest(value);
}

export function digest(value: string): string {
  return HASH_PREFIX + createHash('sha256').update(value.trim().toLowerCase()).digest('hex').slice(0, 32);
}

/** What a search for `query` looks up in the trail index: the value as given and its digest. */
export function searchTerms(query: string): string[] {
  const plain = query.trim().toLowerCase();
  return plain.startsWith(HASH_PREFIX) ? [plain] : [plain, digest(plain)];
}
