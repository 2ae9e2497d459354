import { describe, expect, it } from 'vitest';
import { InvalidMessageError } from './errors.js';
import { composeMail } from './mail-input.js';

describe('composeMail', () => {
  it('puts Cc and Bcc into the envelope, keeps Bcc out of the headers, and always has a Message-ID', async () => {
    const mail = await composeMail({ from: 'Reports <reports@contoso.example>', to: 'a@x.example', cc: 'b@x.example', bcc: 'c@x.example', subject: 's', text: 't' }, 'fe-1');
    expect(mail.envelope).toEqual({ from: 'reports@contoso.example', to: ['a@x.example', 'b@x.example', 'c@x.example'] });
    const text = mail.raw.toString();
    expect(text).not.toMatch(/^bcc:/im);
    expect(text).toContain(`Message-ID: ${mail.messageId}`);
  });

  it('keeps a given Message-ID and accepts a prebuilt raw message with an envelope', async () => {
    const built = await composeMail({ from: 'r@contoso.example', to: 'a@x.example', text: 't', messageId: '<fixed@contoso.example>' }, 'fe-1');
    expect(built.messageId).toBe('<fixed@contoso.example>');
    const raw = await composeMail({ raw: 'Subject: raw\r\n\r\nbody\r\n', envelope: { from: 'r@contoso.example', to: ['a@x.example'] } }, 'fe-1');
    expect(raw.envelope.to).toEqual(['a@x.example']);
    expect(raw.messageId).toMatch(/@fe-1>$/);
  });

  it('refuses messages it could never send', async () => {
    await expect(composeMail({ from: 'r@contoso.example', text: 't' }, 'h')).rejects.toBeInstanceOf(InvalidMessageError);
    await expect(composeMail({ from: 'nobody', to: 'a@x.example', text: 't' }, 'h')).rejects.toBeInstanceOf(InvalidMessageError);
    await expect(composeMail({ raw: 'x' }, 'h')).rejects.toThrow(/needs an envelope/);
  });
});
