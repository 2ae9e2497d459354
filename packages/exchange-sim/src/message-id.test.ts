import { describe, expect, it } from 'vitest';
import { readMessageId } from './message-id.js';

const raw = (lines: string[]) => Buffer.from(lines.join('\r\n'));

describe('readMessageId', () => {
  it('reads the header whatever its case, and unfolds it', () => {
    expect(readMessageId(raw(['From: a@x', 'message-id:  <abc@x> ', '', 'body']))).toBe('<abc@x>');
    expect(readMessageId(raw(['From: a@x', 'Message-ID:', ' <folded@x>', 'Subject: s', '', 'body']))).toBe('<folded@x>');
  });

  it('looks only at the header section', () => {
    expect(readMessageId(raw(['From: a@x', 'Subject: s', '', 'Message-ID: <in-body@x>']))).toBeUndefined();
    expect(readMessageId(Buffer.from('From: a@x\nMessage-ID: <lf-only@x>\n\nMessage-ID: <body@x>'))).toBe('<lf-only@x>');
  });

  it('does not confuse similar headers', () => {
    expect(readMessageId(raw(['X-Original-Message-ID: <other@x>', 'In-Reply-To: <p@x>', '', '']))).toBeUndefined();
  });
});
