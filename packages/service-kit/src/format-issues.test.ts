import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { formatIssues } from './format-issues.js';

const auth = z.union([
  z.object({ type: z.literal('oauth2'), user: z.string(), clientId: z.string() }).strict(),
  z.object({ type: z.literal('password').default('password'), user: z.string(), pass: z.string() }).strict(),
]);
const schema = z.object({ auth, http: z.object({ port: z.number().max(65_535) }).strict() }).strict();
const problems = (input: unknown, quoteInput = false) => {
  const parsed = schema.safeParse(input, { reportInput: true });
  return parsed.success ? [] : formatIssues(parsed.error.issues, { quoteInput });
};

describe('formatIssues', () => {
  it('names the allowed values when a union is told apart by a literal key', () => {
    expect(problems({ auth: { type: 'passwd', user: 'u', pass: 'p' }, http: { port: 1 } })).toEqual(['auth.type: "passwd" is not one of oauth2, password']);
  });

  it("reports the problems of the one option whose literal matched", () => {
    expect(problems({ auth: { type: 'oauth2', user: 'u' }, http: { port: 1 } })).toEqual(['auth.clientId: required']);
    expect(problems({ auth: { user: 'u' }, http: { port: 1 } })).toEqual(['auth.pass: required']);
  });

  it('names each unknown key by its full path, and says "required" for a missing value', () => {
    expect(problems({ auth: { user: 'u', pass: 'p' }, http: { hots: 'x' } })).toEqual(['http.port: required', 'http.hots: unknown key']);
  });

  it("keeps a union's own message and quotes values only when asked", () => {
    const redis = z.union([z.object({ url: z.string() }).strict(), z.object({ cluster: z.array(z.string()) }).strict()], { error: 'must be { url } or { cluster }' });
    const parsed = z.object({ redis }).safeParse({ redis: { host: 'h' } }, { reportInput: true });
    expect(parsed.success ? [] : formatIssues(parsed.error.issues)).toEqual(['redis: must be { url } or { cluster }']);
    expect(problems({ auth: { user: 'u', pass: 'hunter2' }, http: { port: 70_000 } })).toEqual([expect.not.stringContaining('70000')]);
    expect(problems({ auth: { user: 'u', pass: 'p' }, http: { port: 70_000 } }, true)).toEqual([expect.stringMatching(/^http\.port: .* \(got 70000\)$/)]);
  });
});
