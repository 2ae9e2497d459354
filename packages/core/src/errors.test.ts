import { describe, expect, it } from 'vitest';
import { ErrorCode, LeaseLostError, MailboxPausedError, ScriptStatus, scriptError, SlotsError } from './errors.js';

describe('error codes', () => {
  it('each code is spelled as its key, so a code in a response or a log is the one in the list', () => {
    for (const [key, code] of Object.entries(ErrorCode)) expect(code).toBe(key);
  });

  it('a code outside the list does not compile', () => {
    // @ts-expect-error: SlotsError takes an ErrorCode, not any string (the build fails if it did).
    const unknown = new SlotsError('NO_SUCH_CODE', 'never');
    expect(unknown.code).toBe('NO_SUCH_CODE');
  });

  it('script statuses become typed errors with their code', () => {
    expect(scriptError(ScriptStatus.PAUSED, { mailbox: 'm', detail: 'quota' })).toBeInstanceOf(MailboxPausedError);
    expect(scriptError(ScriptStatus.EPOCH_CHANGED, { mailbox: 'm', slot: 2 })).toMatchObject({ code: ErrorCode.LEASE_LOST, reason: 'epoch' });
    expect(scriptError(ScriptStatus.EXPIRED, { mailbox: 'm' })).toBeInstanceOf(LeaseLostError);
    expect(scriptError(-99, { mailbox: 'm' }).code).toBe(ErrorCode.SCRIPT_STATUS);
  });
});
