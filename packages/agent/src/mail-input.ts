import type Mail from 'nodemailer/lib/mailer/index.js';
import { EMAIL_PATTERN } from './config.js';
import { InvalidMessageError } from './errors.js';
import { ensureMessageId } from './spool/message-id.js';

/**
 * A message for `agent.send`: nodemailer's message options (from, to, cc, bcc, subject, text,
 * html, attachments, headers, messageId, envelope, or a prebuilt `raw` with an `envelope`).
 */
export type MailInput = Mail.Options;

export interface ComposedMail {
  envelope: { from: string; to: string[] };
  raw: Buffer;
  messageId: string;
}

const addressOf = (value: unknown): string | undefined => {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'address' in value) return String((value as { address: unknown }).address);
  return undefined;
};

/** Builds the raw RFC 5322 message and the SMTP envelope (Bcc goes into the envelope only). */
export async function composeMail(mail: MailInput, domain: string): Promise<ComposedMail> {
  let raw: Buffer;
  let envelope: { from: string; to: string[] };
  if (mail.raw !== undefined) {
    if (!mail.envelope) throw new InvalidMessageError('a raw message needs an envelope { from, to }');
    const source = mail.raw;
    raw = Buffer.isBuffer(source) ? source : typeof source === 'string' ? Buffer.from(source) : Buffer.from(String((source as { content?: unknown }).content ?? ''));
    const to = mail.envelope.to;
    envelope = { from: addressOf(mail.envelope.from) ?? '', to: (Array.isArray(to) ? to : to ? [to] : []).map((r) => addressOf(r) ?? '') };
  } else {
    // Loaded on first use: the relay never composes, and nodemailer's MIME code costs a few MiB.
    const { default: MailComposer } = await import('nodemailer/lib/mail-composer/index.js');
    const node = new MailComposer(mail).compile();
    const computed = node.getEnvelope();
    raw = await node.build();
    const custom = mail.envelope;
    const to = custom?.to;
    envelope = {
      from: addressOf(custom?.from) ?? (computed.from || ''),
      to: to ? (Array.isArray(to) ? to : [to]).map((r) => addressOf(r) ?? '') : computed.to,
    };
  }
  if (!EMAIL_PATTERN.test(envelope.from)) throw new InvalidMessageError(`sender ${JSON.stringify(envelope.from)} is not an address`);
  if (envelope.to.length === 0) throw new InvalidMessageError('the message has no recipients');
  const bad = envelope.to.find((r) => !EMAIL_PATTERN.test(r));
  if (bad !== undefined) throw new InvalidMessageError(`recipient ${JSON.stringify(bad)} is not an address`);
  const withId = ensureMessageId(raw, domain);
  return { envelope, raw: withId.raw, messageId: withId.messageId };
}
