import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliUsageError, parseCliArgs } from './cli-args.js';

describe('parseCliArgs', () => {
  it('maps every flag onto library options', () => {
    const { options } = parseCliArgs([
      '--port', '2587', '--http-port=8025', '--hostname', 'SIM01.test', '--limit', '4',
      '--rate-per-minute', '60', '--recipients-per-day', '500', '--mailbox-quota-bytes', '1000',
      '--users', 'a@x.test:p:w,b@x.test:pb', '--tokens', 'b@x.test:tok,c@x.test:tc',
      '--oauth-only', '--starttls', '--allow-any-sender', '--latency-ms', '20', '--latency-max-ms', '50',
      '--transient-rate', '0.1', '--ghost-ms', '3000', '--socket-timeout-ms', '5000', '--host', '0.0.0.0',
    ]);
    expect(options).toEqual({
      port: 2587,
      httpPort: 8025,
      hostname: 'SIM01.test',
      limit: 4,
      ratePerMinute: 60,
      recipientsPerDay: 500,
      mailboxQuotaBytes: 1000,
      users: [
        { address: 'a@x.test', password: 'p:w' },
        { address: 'b@x.test', password: 'pb', tokens: ['tok'] },
        { address: 'c@x.test', tokens: ['tc'] },
      ],
      oauthOnly: true,
      starttls: true,
      enforceSender: false,
      faults: { transientRate: 0.1, ghostMs: 3000, latencyMs: [20, 50] },
      socketTimeoutMs: 5000,
      host: '0.0.0.0',
    });
    expect(parseCliArgs(['--any-user', '--latency-ms', '7', '--http-port', 'off']).options).toEqual({
      anyUser: true,
      httpPort: false,
      faults: { latencyMs: 7 },
    });
    expect(parseCliArgs(['--help']).help).toBe(true);
  });

  it('registers apps with secrets and certificate files, and the Graph limits', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
    const certPath = join(dir, 'app.pem');
    writeFileSync(certPath, 'PEM TEXT');
    const { options } = parseCliArgs([
      '--mailboxes', 'm@x.test,N@x.test', '--apps', 'app-1:s3cret', '--app-certificates', `app-1:${certPath},app-2:${certPath}`,
      '--graph-concurrency', '2', '--graph-max-request-bytes', '1000', '--token-lifetime-seconds', '60',
    ]);
    expect(options).toEqual({
      users: [{ address: 'm@x.test' }, { address: 'n@x.test' }],
      apps: [
        { clientId: 'app-1', clientSecret: 's3cret', certificates: ['PEM TEXT'] },
        { clientId: 'app-2', certificates: ['PEM TEXT'] },
      ],
      graphConcurrency: 2,
      graphMaxRequestBytes: 1000,
      tokenLifetimeSeconds: 60,
    });
    expect(() => parseCliArgs(['--apps', 'app-1'])).toThrow('invalid value "app-1" for --apps');
    expect(() => parseCliArgs(['--apps', 'app-1:'])).toThrow(CliUsageError);
    expect(() => parseCliArgs(['--mailboxes', 'nobody'])).toThrow('invalid value "nobody" for --mailboxes');
    expect(() => parseCliArgs(['--app-certificates', 'app-1:/nonexistent.pem'])).toThrow('--app-certificates: cannot read /nonexistent.pem');
  });

  it.each([
    [['--limit', 'abc'], 'invalid value "abc" for --limit: expected an integer >= 1'],
    [['--limit', '0'], 'invalid value "0" for --limit: expected an integer >= 1'],
    [['--port', '70000'], 'invalid value "70000" for --port: expected an integer from 0 to 65535'],
    [['--latency-ms=1.5'], 'invalid value "1.5" for --latency-ms'],
    [['--transient-rate', '2'], 'invalid value "2" for --transient-rate'],
    [['--latency-ms', '50', '--latency-max-ms', '10'], 'invalid value "10" for --latency-max-ms'],
    [['--users', 'alice'], 'invalid value "alice" for --users'],
    [['--users', 'a@x.test:'], 'invalid value "a@x.test:***" for --users'],
    [['--hostname', 'bad host'], 'invalid value "bad host" for --hostname'],
    [['--http-port', 'abc'], 'invalid value "abc" for --http-port: expected an integer from 0 to 65535 or "off"'],
    [['--limit', '0', '--ghost-ms', 'x'], 'invalid value "0" for --limit: expected an integer >= 1\ninvalid value "x" for --ghost-ms'],
    [['--port'], 'missing value for --port'],
    [['--port', '--limit', '3'], 'missing value for --port'],
    [['--starttls=yes'], '--starttls takes no value'],
    [['--bogus'], 'unknown flag --bogus'],
    [['stray'], 'unexpected argument "stray"'],
  ])('%j fails with a message naming the flag and value', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(CliUsageError);
    expect(() => parseCliArgs(argv)).toThrow(message);
  });

  it('keeps secrets out of error messages', () => {
    expect(() => parseCliArgs(['--users', 'a@x.test:hunter2,broken'])).toThrow(/"broken"/);
    expect(() => parseCliArgs(['--users', 'a@x.test:hunter2,broken'])).not.toThrow(/hunter2/);
  });
});
