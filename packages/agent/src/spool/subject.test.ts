import { describe, expect, it } from 'vitest';
import { subjectOf } from './subject.js';

describe('subjectOf', () => {
  it('reads the Subject header unfolded, in any case, from CRLF or LF messages', () => {
    expect(subjectOf(Buffer.from('From: a@b\r\nSUBJECT: Invoice\r\n  for October\r\n\r\nSubject: not this'))).toBe('Invoice for October');
    expect(subjectOf(Buffer.from('From: a@b\nSubject: =?utf-8?B?w5xiZXI=?=\n\nbody'))).toBe('=?utf-8?B?w5xiZXI=?=');
  });

  it('looks only at the header block', () => {
    expect(subjectOf(Buffer.from('From: a@b\r\n\r\nSubject: in the body'))).toBeUndefined();
    expect(subjectOf(Buffer.from('From: a@b\n\nSubject: in the body'))).toBeUndefined();
  });

  it('cuts very long subjects', () => {
    expect(subjectOf(Buffer.from(`Subject: ${'x'.repeat(1000)}\r\n\r\n`))).toHaveLength(300);
  });
});
