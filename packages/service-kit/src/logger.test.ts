import { describe, expect, it } from 'vitest';
import { createServiceLogger } from './logger.js';

describe('service logger', () => {
  it('writes JSON lines and redacts secrets wherever they sit', () => {
    const lines: string[] = [];
    const log = createServiceLogger({ service: 'smtp-slots-agent', level: 'info', bindings: { agentId: 'fe-1' }, destination: { write: (line: string) => void lines.push(line) } });
    log.info({ upstream: { auth: { user: 'u', pass: 'hunter2' } }, password: 'p', nested: { deeper: { clientSecret: 's', accessToken: 't' } } }, 'hello');
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 30, msg: 'hello', agentId: 'fe-1', service: 'smtp-slots-agent', password: '[redacted]' });
    expect(lines[0]).not.toMatch(/hunter2|"s"|"t"|"p"/);
  });
});
